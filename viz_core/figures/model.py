"""Figures about the model itself rather than one result: how its maps shrink and widen with depth."""
from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from ..layers import LayerInfo
from .base import MARGIN


def layer_depths(layers: Sequence[LayerInfo]) -> go.Figure | None:
    """Spatial size and channels against depth: convolutions trace a CNN's pyramid; a transformer
    keeps one token grid, so its blocks are shown. None when the model has neither."""
    spatial = [info for info in layers if info.layout == "map" and info.kind == "conv"] or [
        info for info in layers if info.layout == "tokens" and info.kind == "block" and info.depth == 2
    ]
    if not spatial:
        return None
    sizes = [info.spatial[0] if info.spatial else info.shape[0] for info in spatial]
    paths = [info.path for info in spatial]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=list(range(len(spatial))), y=sizes, name="spatial size (H, or tokens)", mode="lines+markers", text=paths, hovertemplate="%{text}<br>%{y}<extra>size</extra>"))
    fig.add_trace(go.Scatter(x=list(range(len(spatial))), y=[info.channels for info in spatial], name="channels", mode="lines+markers", yaxis="y2", text=paths, hovertemplate="%{text}<br>%{y} channels<extra></extra>"))
    fig.update_layout(
        title="Spatial size and channels against depth",
        xaxis_title="depth (index among convolutions, or transformer blocks)",
        yaxis=dict(title="H (pixels) or tokens", rangemode="tozero"),
        yaxis2=dict(title="channels", overlaying="y", side="right", rangemode="tozero"),
        height=380,
        margin=MARGIN,
        legend=dict(orientation="h", y=-0.25),
    )
    return fig
