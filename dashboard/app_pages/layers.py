"""The layer catalogue: every module with its output shape, and how size and width change with depth."""
from __future__ import annotations

import streamlit as st

import viz_core as vc
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

depths = vc.figures.layer_depths(layers)
if depths is not None:
    st.plotly_chart(depths, key="depth-chart")
widgets.downloads("layers", params=[{"layer": i.path, "type": i.type_name, "shape": list(i.shape), "kind": i.kind} for i in layers])
