"""Occlusion: hide one square at a time and see how the class probability and the winner change."""
from __future__ import annotations

import streamlit as st

import viz_core as vc
from dashboard import resources, widgets

widgets.page_header(
    "Occlusion",
    "Slide a grey square over the image and ask the model again at every position. Where hiding the "
    "square makes the class probability drop (red), the model relied on that region; the second map shows "
    "which class wins instead. No gradients involved: this is the black-box test of Zeiler & Fergus (2014).",
    """
- For each position the square (patch × patch pixels) replaces the image with the fill: **grey**
  (pixel value 0.5), the image's **mean** colour, a **blur**red copy of the image, or **black**.
- Positions start every *stride* pixels; the last one always touches the far edge.
- **Probability drop** = p(class | image) − p(class | occluded image), drawn at each patch centre.
- **Winning class**: the most probable class for each occluded copy.
- Occluded copies run through the model in batches of 32 without gradients; a smaller stride gives a
  finer map at quadratic cost ((H − patch) / stride + 1)² copies.
""",
)
selection = widgets.current()
m = selection.model
with widgets.guard("reading the predictions"):
    top = resources.predictions(selection.model_key, selection.image_key, m, selection.image, top_k=5)
_, height, width = m.input_size
largest = min(height, width)

with st.form("occlusion-form"):
    a, b, c, d = st.columns(4)
    klass = widgets.class_picker(m, "Class", "occ-class", default=top[0].index)
    sizes = sorted({s for s in (8, 16, 24, 32, 48, 64, 96) if s <= largest} | {min(32, largest)})
    patch = a.select_slider("Patch (pixels)", sizes, value=min(32, largest), key="occ-patch", bind="query-params")
    stride = b.select_slider("Stride (pixels)", [s for s in (4, 8, 16, 24, 32, 48) if s <= largest] or [1], value=16 if largest >= 16 else 1, key="occ-stride", bind="query-params")
    fill = c.selectbox("Fill", vc.FILLS, key="occ-fill", bind="query-params")
    opacity = d.slider("Overlay opacity", 0.0, 1.0, 0.6, 0.05, key="occ-opacity", bind="query-params")
    st.form_submit_button("Run occlusion", type="primary")

if stride > patch:
    st.error(f"**The stride ({stride}) is larger than the patch ({patch}):** some pixels would never be hidden.  \nPick a stride of at most the patch size.", icon=":material/error:")
    st.stop()
with widgets.guard("occluding the image"):
    on_step = widgets.progress("Occluding")
    result = resources.occlusion_map(selection.model_key, selection.image_key, vc.class_prob(klass), patch, stride, fill, m, selection.image, _on_step=on_step)

widgets.random_weights_warning(m, "the maps show no learned evidence.")
name = m.class_names[klass]
st.markdown(f"p(**{name}**) on the whole image: **{result.base_score:.1%}** · most probable: **{result.class_names[result.base_winner]}** · {result.score.size} occluded copies")
left, right = st.columns(2)
left.plotly_chart(vc.figures.figure(result, opacity=opacity), key="occ-drop")
right.plotly_chart(vc.figures.figure(result, winner=True, opacity=opacity), key="occ-winner")
if klass != result.base_winner and result.base_score < 0.05:
    st.info(f"The model gives '{name}' only {result.base_score:.1%} here, so hiding parts of the image can hardly lower it. Pick the top class.", icon=":material/info:")
widgets.downloads("occlusion", result, title=f"Occlusion: {result.target}")
