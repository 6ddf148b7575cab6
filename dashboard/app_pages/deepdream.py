"""DeepDream: amplify whatever a layer already sees in the input image."""
from __future__ import annotations

import streamlit as st

import viz_core as vc
from dashboard import resources, widgets

widgets.page_header(
    "DeepDream",
    "Instead of asking for one class or channel, ask the layer to respond *more* to whatever it already sees "
    "in your image, and change the image to make it so. Shallow layers add strokes and textures, deeper "
    "layers eyes, fur and animal parts. Mordvintsev, Olah & Tyka (2015).",
    "The score is ½·mean(a²) over the layer's activations a, so the gradient at the layer *is* the "
    "activation: each step adds to the image what the layer responds to. Steps are gradient ascent with the "
    "gradient divided by its mean magnitude (step size in pixel units of [0, 1]), with random jitter, "
    "repeated over octaves: first on a small copy of the image, then at larger sizes carrying the added "
    "detail up, so the patterns appear at several scales.",
)
selection = widgets.current()
m = selection.model

with st.form("deepdream"):
    top = st.columns([2, 1, 1])
    with top[0]:
        with widgets.guard("choosing a layer"):
            default_layer = vc.default_layer(m, "deepdream")
        info = widgets.layer_picker(m, "Layer", "dd-layer", kinds=("block", "conv", "activation", "norm"), default=default_layer)
    octaves = top[1].slider("Octaves", 1, 5, 3, key="dd-octaves", bind="query-params")
    steps = top[2].slider("Steps per octave", 2, 50, 10, key="dd-steps", bind="query-params")
    row = st.columns(4)
    lr = row[0].select_slider("Step size", [0.002, 0.005, 0.01, 0.02, 0.04], value=0.01, key="dd-lr", bind="query-params")
    octave_scale = row[1].select_slider("Octave scale", [1.2, 1.3, 1.4, 1.5, 1.7, 2.0], value=1.4, key="dd-scale", bind="query-params")
    jitter = row[2].slider("Jitter (px)", 0, 32, 8, key="dd-jitter", bind="query-params")
    seed = row[3].number_input("Seed", 0, 10_000, 0, key="dd-seed", bind="query-params")
    st.form_submit_button("Dream", type="primary", icon=":material/auto_awesome:")

settings = vc.Dream(octaves=octaves, steps=steps, lr=lr, octave_scale=octave_scale, jitter=jitter, seed=int(seed))
status = st.empty()
with status.container():
    on_step = widgets.progress(f"Dreaming at {info.path}", preview=True)
with widgets.guard("dreaming"):
    result = resources.deepdream(selection.model_key, selection.image_key, info.path, settings, m, selection.image, on_step)
    original = (m.image01(selection.image) * 255).round().astype("uint8")
status.empty()

widgets.random_weights_warning(m, "it amplifies random filters, not learned patterns.")
st.plotly_chart(vc.figures.image_grid([original, result.image], ["input", f"DeepDream at {info.path}"], columns=2, height_per_row=420), key="dd-pair")
left, right = st.columns([2, 1])
left.plotly_chart(vc.figures.curve(list(result.scores), "Layer score during the dream (all octaves)", "½·mean(a²)"), key="dd-curve")
before, after = result.metrics["norm_before"], result.metrics["norm_after"]
right.metric("Layer score on the input", f"{before:.3g}")
right.metric("Layer score on the dream", f"{after:.3g}", delta=f"{after / before:.1f}×" if before > 0 else None)
right.metric("Time", f"{result.seconds:.1f} s")
widgets.downloads(f"deepdream-{info.path}", result, title=f"DeepDream at {info.path}")
