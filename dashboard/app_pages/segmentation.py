"""Segmentation: grow the most salient pixels into an object mask with GrabCut."""
from __future__ import annotations

import streamlit as st

import viz_core as vc
from dashboard import resources, widgets

widgets.page_header(
    "Segmentation",
    "A class's saliency map marks the pixels the class score depends on most. Simonyan et al. (2014) used those "
    "pixels as seeds for GrabCut, a classic graph-cut segmenter, and got an object mask from a classifier that "
    "was never trained to segment. Green seeds are sure object, red sure background.",
    """
- **Saliency**: max over colour channels of |∂score/∂pixel| for the chosen class, from SmoothGrad
  (16 noisy copies, smoother seeds) or a single gradient; lightly blurred (σ = 2 px) before seeding.
- **Seeds**: pixels above the *foreground quantile* of saliency are sure foreground, below the
  *background quantile* sure background; the rest start as probable foreground (above the median) or
  probable background.
- **GrabCut** (Rother et al., 2004) fits colour models to both and cuts along image edges, for the given
  number of iterations. The share is the fraction of pixels in the mask.
""",
)
selection = widgets.current()
m = selection.model
with widgets.guard("reading the predictions"):
    top = resources.predictions(selection.model_key, selection.image_key, m, selection.image, top_k=5)

a, b = st.columns(2)
with a:
    klass = widgets.class_picker(m, "Class", "seg-class", default=top[0].index)
    source = st.radio("Saliency from", ["smoothgrad", "vanilla", "guided"], horizontal=True, key="seg-source", format_func={"smoothgrad": "SmoothGrad", "vanilla": "gradient", "guided": "guided backprop"}.get, bind="query-params")
with b:
    low, high = st.slider("Background / foreground quantiles", 0.05, 0.99, (0.30, 0.95), 0.01, key="seg-quantiles", bind="query-params")
    iterations = st.slider("GrabCut iterations", 1, 10, 5, key="seg-iterations", bind="query-params")
if low >= high:
    st.error("**The background quantile must be below the foreground quantile.**", icon=":material/error:")
    st.stop()

with widgets.guard("segmenting"):
    attribution, segmentation = resources.saliency_segmentation(selection.model_key, selection.image_key, vc.class_logit(klass), source, high, low, iterations, m, selection.image)

widgets.random_weights_warning(m, "the saliency reflects no learned object, so neither does the mask.")
if source == "guided" and attribution.rule_applied == 0:
    st.warning(attribution.notes[0] if attribution.notes else "Guided backprop does not apply to this model.", icon=":material/block:")
st.plotly_chart(vc.figures.figure(segmentation, title=f"{attribution.target} — foreground {segmentation.foreground_share:.0%} of the image"), key="seg-panels")
st.metric("Foreground share", f"{segmentation.foreground_share:.1%}")
widgets.downloads("segmentation", {"saliency": attribution, "segmentation": segmentation}, title=f"Segmentation: {attribution.target}")
