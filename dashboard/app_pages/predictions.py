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
headless = m.num_classes == 0  # a backbone without a classifier head (self-supervised, masked image modelling)
with widgets.guard("predicting"):
    top = [] if headless else resources.predictions(selection.model_key, selection.image_key, m, selection.image, top_k=5)
    seen = (m.image01(selection.image) * 255).round().astype("uint8")
    output = m.output_shape

left, right = st.columns([1, 1.3])
left.plotly_chart(vc.figures.image(seen, f"Model input ({seen.shape[1]}×{seen.shape[0]})"), key="input")
if headless:
    right.info(
        f"**{m.name} has no classifier head**: its output is a {'×'.join(map(str, output))}-dimensional feature vector, "
        "not class scores, so there is nothing to rank. Pages that explain or maximise a unit of a layer (Neuron, Inversion, "
        "DeepDream, Style transfer, Filters, Top patches, Embeddings, Attention rollout) work; class-based pages say why not.",
        icon=":material/info:",
    )
else:
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
    "Classes": str(m.num_classes) if not headless else "none (no classifier head)",
    "Output": f"{'×'.join(map(str, output))} {'feature vector' if headless else 'logits'}",
    "Layers (modules)": str(len(m.layers())),
}
st.table({"": list(card.keys()), "value": list(card.values())})
widgets.downloads("predictions", picture=seen, params={"model": m.name, "weights": m.weights, "image": selection.image_name, "top5": [(p.label, p.probability) for p in top], "output_shape": list(output)})
