"""Filters: a conv layer's learned weights drawn as pictures."""
from __future__ import annotations

import streamlit as st

import viz_core as vc
from dashboard import resources, widgets

widgets.page_header(
    "Filters",
    "The weights of a convolution layer, drawn as small pictures. A first layer reads pixels, so each "
    "filter shows the colour pattern it responds to: edges, stripes and colour blobs, as in AlexNet's "
    "conv1 (Krizhevsky, Sutskever & Hinton, 2012). Deeper layers weigh channels, not colours.",
    "**RGB tiles** (the first conv, or a ViT's patch embedding): filter *f* is `W[f]` with its input "
    "channels as R, G, B, mapped so that grey is 0. **Per-filter scale** stretches each filter to its own "
    "largest |weight| (shapes visible, strengths not comparable); **shared scale** uses one range for all.\n\n"
    "**Kernels** (any other conv): row *f*, column *c* is `W[f, c]`, the kernel filter *f* applies to input "
    "channel *c*; blue is negative, red positive. Depthwise convs have one input channel per filter.",
)
selection = widgets.current()
m = selection.model
with widgets.guard("listing conv layers"):
    names = vc.filter_layers(m)
if not names:
    st.error(f"{m.name} has no convolution layers, so there are no filters to draw.", icon=":material/error:")
    st.stop()

left, right = st.columns([2, 1])
with left:
    info = widgets.layer_picker(m, "Layer (convolutions only)", "filters-layer", layouts=("map",), kinds=("conv",), default=names[0])
with right:
    scale = st.radio("Colour scale", ["filter", "shared"], format_func={"filter": "per filter", "shared": "shared"}.get, horizontal=True, key="filters-scale", bind="query-params")
if info.path not in names:
    st.error(f"'{info.path}' is not a 2-D convolution; pick another layer.", icon=":material/error:")
    st.stop()
with widgets.guard("reading the weights"):
    result = resources.filters(selection.model_key, info.path, scale, m)

widgets.random_weights_warning(m, "the filters show noise, not learned patterns.")
st.caption(" ".join(result.notes))
st.plotly_chart(vc.figures.figure(result), key="filters-figure")
st.caption(f"Showing {result.shown[0]} filters" + (f" × {result.shown[1]} input channels" if result.mode == "kernels" else "") + f" of weights shaped {result.weight_shape}.")
widgets.downloads(f"filters-{info.path}", result, title=f"Filters: {info.path}")
