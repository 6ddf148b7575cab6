"""Figures of transformer attention: one head's map on the image, all heads of a block, rollout and
gradient-weighted attention.

Attention is a share of the query's probability mass, so every map is drawn on the sequential
scale from 0 and hover shows it as a percentage; the panels of one block share one scale, so a
head that looks everywhere stays pale next to one that looks at one patch.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..results import AttentionHeads, AttentionRelevance
from .base import MARGIN, cell, heatmap_overlay, panel_grid
from .dispatch import draws
from .display import SEQUENTIAL


TWO_LINES = {**MARGIN, "t": 76}  # room for a title and its smaller second line


def attention_title(result: AttentionHeads, head: int | None = None) -> str:
    """What is shown: which block, which head(s), and whose attention (class token or mean query)."""
    which = f"head {head}" if head is not None else (f"head {result.heads[0]}" if len(result.heads) == 1 else f"all {len(result.heads)} heads")
    return f"attention of {result.block}, {which}<br><sup>from the {result.query}</sup>"


def attention_overlay(result: AttentionHeads, head: int | None = None, *, opacity: float = 0.55, height: int = 420) -> go.Figure:
    """One head's attention to each patch drawn on the image (bilinear, at the input's pixels).

    `head` is a head index of the block (one of `result.heads`); None: the only head shown, or
    the mean over the shown heads.
    """
    if head is None:
        heat = result.upsampled[0] if len(result.heads) == 1 else result.upsampled.mean(axis=0)
        title = attention_title(result) if len(result.heads) == 1 else f"attention of {result.block}, mean over {len(result.heads)} heads<br><sup>from the {result.query}</sup>"
    else:
        if head not in result.heads:
            raise ValueError(f"Head {head} is not in this result (heads {list(result.heads)}).")
        heat = result.upsampled[result.heads.index(head)]
        title = attention_title(result, head)
    fig = heatmap_overlay(result.image, heat, title, opacity=opacity, unit="of the attention (interpolated)", height=height)
    return fig.update_layout(margin=TWO_LINES)


def attention_heads_grid(result: AttentionHeads, *, columns: int = 4, opacity: float = 0.6, height_per_row: int = 230) -> go.Figure:
    """Every shown head of the block on the image, one panel each, on one shared scale.

    Panel titles give the share of attention that goes to patches in brackets (the rest goes to
    the class, distillation or register tokens, which have no place on the image).
    """
    columns = max(1, min(columns, len(result.heads)))
    titles = [f"head {h} ({1 - float(share):.0%})" for h, share in zip(result.heads, result.prefix_share)]
    fig = panel_grid(titles, columns, height_per_row, attention_title(result).replace("</sup>", "; in brackets: its share on patches</sup>"))
    height_px, width_px = result.image.shape[:2]
    grid_h, grid_w = result.maps.shape[1:]
    dy, dx = height_px / grid_h, width_px / grid_w
    top = float(result.maps.max()) if result.maps.size else 1.0
    for i, heat in enumerate(result.maps):
        fig.add_trace(go.Image(z=result.image, hoverinfo="skip"), **cell(i, columns))
        fig.add_trace(
            go.Heatmap(
                z=np.asarray(heat, dtype=np.float64),
                x0=(dx - 1) / 2,
                dx=dx,
                y0=(dy - 1) / 2,
                dy=dy,
                opacity=opacity,
                coloraxis="coloraxis",
                hovertemplate=f"head {result.heads[i]}<br>patch row %{{y:.0f}} px, column %{{x:.0f}} px<br>attention %{{z:.2%}}<extra></extra>",
            ),
            **cell(i, columns),
        )
    fig.update_layout(coloraxis=dict(colorscale=SEQUENTIAL, cmin=0.0, cmax=top if top > 0 else 1.0, colorbar=dict(thickness=12, title="attention", tickformat=".2~%")))
    fig.layout.title.y, fig.layout.title.yanchor = None, None  # plotly's own placement keeps both lines in the margin
    return fig.update_layout(margin={**TWO_LINES, "t": TWO_LINES["t"] + 20})


@draws(AttentionHeads)
def attention_figure(result: AttentionHeads, **options: object) -> go.Figure:
    """One head: its map on the image; several heads: the grid of all of them."""
    if len(result.heads) == 1:
        return attention_overlay(result, **options)  # type: ignore[arg-type]
    return attention_heads_grid(result, **options)  # type: ignore[arg-type]


def relevance_title(result: AttentionRelevance) -> str:
    """Rollout names its head fusion and discard ratio; gradient-weighted attention its target."""
    span = f"{result.blocks[0]} to {result.blocks[-1]}" if len(result.blocks) > 1 else result.blocks[0]
    if result.method == "attention_rollout":
        how = f"{result.params.get('head_fusion', 'mean')} over heads, discard {float(result.params.get('discard_ratio', 0.0)):.0%}"
        return f"attention rollout ({how})<br><sup>from the {result.query}, {span}</sup>"
    return f"gradient-weighted attention, {span}<br><sup>target: {result.target}</sup>"


@draws(AttentionRelevance)
def relevance_figure(result: AttentionRelevance, *, opacity: float = 0.55, height: int = 420) -> go.Figure:
    """Rollout (Abnar & Zuidema, 2020) or gradient-weighted attention (Chefer et al., 2021) on the image.

    Both are relevances carried through every block of the chain (rows of a product of
    token-mixing matrices); only their relative size across patches is meaningful.
    """
    fig = heatmap_overlay(result.image, result.upsampled, relevance_title(result), opacity=opacity, unit="relevance (interpolated)", height=height)
    return fig.update_layout(margin=TWO_LINES)
