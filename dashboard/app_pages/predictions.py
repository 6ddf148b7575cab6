"""Landing page: what the model sees and what it predicts, plus a model card."""
from __future__ import annotations

import streamlit as st

import viz_core as vc
from dashboard import resources, widgets

widgets.page_header(
    "Predictions",
    "The input image exactly as the model sees it (resized and centre-cropped), and the five classes "
    "it finds most probable. Every other page explains or probes this same model and image.",
    "Probabilities are the softmax of the model's logits. Preprocessing follows the model's own timm "
    "data config: shorter side resized to input/crop_pct, centre crop, then normalisation by mean and std.",
)
selection = widgets.current()
m = selection.model
with widgets.guard("predicting"):
    top = resources.predictions(selection.model_key, selection.image_key, m, selection.image, top_k=5)
    seen = (m.image01(selection.image) * 255).round().astype("uint8")

left, right = st.columns([1, 1.3])
left.plotly_chart(vc.figures.image(seen, f"Model input ({seen.shape[1]}×{seen.shape[0]})"), key="input")
right.plotly_chart(vc.figures.predictions_bar([p.label for p in top], [p.probability for p in top], f"Top-5 of {m.name}"), key="top5")
right.markdown(f"**Top-1:** {top[0].label} — {top[0].probability:.1%}")

st.subheader("Model card")
channels, height, width = m.input_size
card = {
    "Architecture": m.name,
    "Weights": m.weights,
    "Parameters": f"{m.parameter_count / 1e6:.2f} M",
    "Input size": f"{channels}×{height}×{width}",
    "Mean / std": f"{tuple(round(v, 3) for v in m.preprocessing.mean)} / {tuple(round(v, 3) for v in m.preprocessing.std)}",
    "Resize": f"{m.preprocessing.interpolation}, crop {m.preprocessing.crop_pct:.3f}",
    "Classes": str(m.num_classes),
    "Layers (modules)": str(len(m.layers())),
}
st.table({"": list(card.keys()), "value": list(card.values())})
widgets.downloads("predictions", picture=seen, params={"model": m.name, "weights": m.weights, "image": selection.image_name, "top5": [(p.label, p.probability) for p in top]})
