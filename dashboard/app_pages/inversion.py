"""Feature inversion: what a layer's code still knows about the image, shown as reconstructions."""
from __future__ import annotations

import streamlit as st

import viz_core as vc
from dashboard import resources, widgets

widgets.page_header(
    "Inversion",
    "Take the numbers a layer computes for the input image, then search for a picture that makes the layer "
    "compute the same numbers. Shallow layers give back almost the photo; deep layers keep only what matters "
    "for recognising it, so colours, positions and details drift. Mahendran & Vedaldi (2015).",
    "For a layer code Φ₀ = Φ(x₀), the reconstruction maximises −‖Φ(x) − Φ₀‖² / ‖Φ₀‖² − λ_TV·TV(x) − λ_α·‖x‖_α "
    "starting from grey (decorrelated Fourier parameterisation). TV, the total variation, "
    "penalises noise; the α-norm keeps pixels in range. 'penultimate' is the classifier's input (the image "
    "code every class score is computed from). The relative distance ‖Φ(x) − Φ₀‖ / ‖Φ₀‖ is measured on the "
    "final picture.",
)
selection = widgets.current()
m = selection.model

suggested = vc.spread_stages(m, 3)
choices = [info.path for info in m.layers() if info.layout in ("map", "tokens", "vector")]
with st.form("inversion"):
    layers = st.multiselect("Layers (shallow to deep)", choices, default=suggested, key=f"inv-layers|{m.name}", help="Each layer is reconstructed separately.", bind="query-params")
    penultimate = st.checkbox("Also the penultimate code", value=True, key="inv-penultimate", bind="query-params")
    row = st.columns(5)
    steps = row[0].slider("Steps per layer", 25, 500, 75, step=25, key="inv-steps", bind="query-params")
    lr = row[1].select_slider("Learning rate", [0.01, 0.02, 0.05, 0.1, 0.2], value=0.1, key="inv-lr", bind="query-params")
    tv_weight = row[2].select_slider("TV weight", [0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5], value=0.01, key="inv-tv", bind="query-params")
    alpha_weight = row[3].select_slider("α-norm weight", [0.0, 0.1, 1.0, 10.0], value=0.0, key="inv-alpha", bind="query-params")
    seed = row[4].number_input("Seed", 0, 10_000, 0, key="inv-seed", bind="query-params")
    st.form_submit_button("Reconstruct", type="primary", icon=":material/auto_awesome:")

order = {path: i for i, path in enumerate(choices)}
chosen: list[str | None] = sorted(layers, key=order.get) + ([None] if penultimate else [])
if not chosen:
    st.info("Pick at least one layer, or tick the penultimate code.", icon=":material/lightbulb:")
    st.stop()
settings = vc.Inversion(steps=steps, lr=lr, tv_weight=tv_weight, alpha_weight=alpha_weight, seed=int(seed))
status = st.empty()
with status.container():
    on_step = widgets.progress(f"Reconstructing from {len(chosen)} layer(s)", preview=True)
with widgets.guard("inverting the features"):
    results = resources.inversions(selection.model_key, selection.image_key, tuple(chosen), settings, m, selection.image, on_step)
    original = (m.image01(selection.image) * 255).round().astype("uint8")
status.empty()

widgets.random_weights_warning(m, "its codes are random projections, so what survives says little about learning.")
titles = [f"{layer or 'penultimate'} · dist {r.metrics['relative_distance']:.3f}" for layer, r in zip(chosen, results)]
st.plotly_chart(vc.figures.reconstructions(original, [r.image for r in results], titles), key="inv-grid")
st.plotly_chart(vc.figures.curve([list(r.scores) for r in results], "Score during optimisation", "score (−relative distance² − priors)", names=[layer or "penultimate" for layer in chosen]), key="inv-curves")
rows = {
    "layer": [layer or "penultimate" for layer in chosen],
    "relative code distance": [round(r.metrics["relative_distance"], 4) for r in results],
    **({} if m.num_classes == 0 else {  # a model without a classifier head predicts no class
        "top-1 of reconstruction": [m.class_names[int(r.metrics["top1"])] for r in results],
        "top-1 of original": [m.class_names[int(r.metrics["original_top1"])] for r in results],
    }),
    "seconds": [round(r.seconds, 1) for r in results],
}
st.dataframe(rows, hide_index=True, width="stretch")
widgets.downloads("inversion", {str(r.params["layer"]): r for r in results}, title="Inversion")
