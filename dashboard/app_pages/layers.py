"""The layer catalogue: every module with its output shape, and how size and width change with depth."""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from dashboard import widgets

widgets.page_header(
    "Layers",
    "Every module of the model with the shape of what it outputs for one image. Maps (C×H×W) can be "
    "shown as pictures; token layers (N×D, vision transformers) as a patch grid; vectors only as numbers. "
    "Use these names in every other page's layer picker.",
    "Shapes are measured by one forward pass of a blank image at the model's input size, so they are "
    "right for any architecture. Kind is a coarse class of the module: conv, activation, norm, pool, "
    "attention, linear, block (a container) or other.",
)
selection = widgets.current()
m = selection.model
with widgets.guard("listing layers"):
    layers = m.layers()

query = st.text_input("Search layers", placeholder="e.g. blocks.5 or Conv2d", key="layer-search", bind="query-params")
kinds = sorted({info.kind for info in layers})
chosen_kinds = st.multiselect("Kinds", kinds, default=kinds, key="layer-kinds", bind="query-params")
rows = [
    info
    for info in layers
    if info.kind in chosen_kinds and (not query or query.lower() in info.path.lower() or query.lower() in info.type_name.lower())
]
st.caption(f"{len(rows)} of {len(layers)} layers")
st.dataframe(
    {
        "layer": [info.path for info in rows],
        "type": [info.type_name for info in rows],
        "kind": [info.kind for info in rows],
        "output shape": ["×".join(map(str, info.shape)) for info in rows],
        "layout": [info.layout for info in rows],
        "parameters": [info.parameters for info in rows],
    },
    hide_index=True,
    width="stretch",
    height=360,
)

# Convolutions trace a CNN's pyramid; a transformer keeps one token grid, so its blocks are shown.
spatial = [info for info in layers if info.layout == "map" and info.kind == "conv"] or [
    info for info in layers if info.layout == "tokens" and info.kind == "block" and info.depth == 2
]
if spatial:
    sizes = [info.shape[1] if info.layout == "map" else info.shape[0] for info in spatial]
    channels = [info.channels for info in spatial]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=list(range(len(spatial))), y=sizes, name="spatial size (H, or tokens)", mode="lines+markers", text=[i.path for i in spatial], hovertemplate="%{text}<br>%{y}<extra>size</extra>"))
    fig.add_trace(go.Scatter(x=list(range(len(spatial))), y=channels, name="channels", mode="lines+markers", yaxis="y2", text=[i.path for i in spatial], hovertemplate="%{text}<br>%{y} channels<extra></extra>"))
    fig.update_layout(
        title="Spatial size and channels against depth",
        xaxis_title="depth (index among convolutions, or transformer blocks)",
        yaxis=dict(title="H (pixels) or tokens", rangemode="tozero"),
        yaxis2=dict(title="channels", overlaying="y", side="right", rangemode="tozero"),
        height=380,
        margin=dict(l=10, r=10, t=40, b=40),
        legend=dict(orientation="h", y=-0.25),
    )
    st.plotly_chart(fig, key="depth-chart")
widgets.downloads("layers", params=[{"layer": i.path, "type": i.type_name, "shape": list(i.shape), "kind": i.kind} for i in layers])
