"""Top patches: the image regions that excite each channel of a layer most, over a whole collection."""
from __future__ import annotations

import streamlit as st

import viz_core as vc
from dashboard import resources, widgets

widgets.page_header(
    "Top patches",
    "For each channel of a layer, the image patches of a collection where that channel responds most, "
    "best on the left: one row per channel, as in the lecture's \"pool5\" rows (Girshick et al., 2014). "
    "Each patch is the unit's receptive field, so you see everything that unit could see. Click a patch "
    "to see the whole image with the box.",
    "For channel *c*, every image's score is the channel's largest response over all positions; the k "
    "images with the highest scores are kept (streaming top-k, one pass). The patch is cut around the "
    "position of that maximum. The **receptive field** is measured: the gradient of one unit with respect "
    "to the input, with activations passing gradients through, over noise images; its non-zero support is "
    "the field. On ViT token layers after attention the field is the whole image, so the token's own patch "
    "is shown instead. *Most variable channels*: the channels whose maximum varies most across the images.",
)
selection = widgets.current()
m = selection.model
with widgets.guard("reading the collection"):
    c = widgets.collection_picker(m, "patches")
    default_layer = vc.default_layer(m, "patches")
with st.form("patches-form"):
    info = widgets.layer_picker(m, "Layer", "patches-layer", layouts=("map", "tokens"), default=default_layer)
    a, b, d = st.columns([1, 1, 2])
    k = a.slider("Patches per channel (k)", 3, 16, 9, key="patches-k", bind="query-params")
    n_channels = b.slider("Channels (most variable)", 1, 24, 8, key="patches-n", bind="query-params")
    typed = d.text_input("…or these channels", placeholder=f"e.g. 0, 5, 12  (0–{info.channels - 1})", key="patches-channels", bind="query-params")
    st.form_submit_button("Find top patches", type="primary")
try:
    channels = tuple(int(t) for t in typed.replace(";", ",").split(",") if t.strip()) or None
except ValueError:
    st.error("Channels must be whole numbers separated by commas, e.g. 0, 5, 12.", icon=":material/error:")
    st.stop()

holder = st.empty()
with widgets.guard("finding top patches"), holder.container():
    result = resources.top_patches(selection.model_key, c.digest, info.path, channels, k, n_channels, m, c, widgets.progress("Scanning the collection"))
holder.empty()

widgets.random_weights_warning(m, "its channels respond to arbitrary patterns.")
st.caption(" ".join(result.notes) + (f" {len(result.skipped)} images skipped." if result.skipped else ""))
event = st.plotly_chart(vc.figures.figure(result), on_select="rerun", selection_mode="points", key="patches-grid")
points = getattr(getattr(event, "selection", None), "points", None) or []
row, col = (int(points[0]["customdata"][0]), int(points[0]["customdata"][1])) if points and points[0].get("customdata") is not None else (0, 0)

left, right = st.columns(2)
with widgets.guard("showing the image"):
    picture = resources.collection_view(selection.model_key, c.digest, int(result.image_indices[row, col]), m, c)
left.plotly_chart(
    vc.figures.image_with_box(picture, result.boxes[row, col], f"{result.image_names[row, col]} — channel {result.channels[row]}, rank {col + 1}, response {result.values[row, col]:.3g}"),
    key="patches-context",
)
right.plotly_chart(
    vc.figures.receptive_field_figure(result.rf_gradient, result.rf_box, f"Measured receptive field of the centre unit: {result.rf_size[0]}×{result.rf_size[1]} px"),
    key="patches-rf",
)
st.caption(f"Selected: row {row + 1}, patch {col + 1} (click another patch above). Scanned {result.images_seen} images of {result.collection}.")
widgets.downloads(f"top-patches-{info.path}", result, title=f"Top patches: {info.path}")
