"""Neuron / channel visualisation: the picture that excites one channel of any layer the most."""
from __future__ import annotations

import streamlit as st

import viz_core as vc
from dashboard import resources, widgets

widgets.page_header(
    "Neuron",
    "Pick a layer and one of its channels; starting from grey, the picture is changed until that channel "
    "responds as strongly as possible. Early layers give colours and edges, middle layers textures and "
    "patterns, deep layers object parts. Erhan et al. (2009); Yosinski et al. (2015); Olah et al. (2017).",
    "The objective is the channel's mean activation over all positions (on a vision transformer: over the "
    "patch tokens), or one unit at a chosen position. Priors are the same as on the Class model page; the "
    "lecture's point that *blurring* the picture between steps works better than an L2 penalty is the "
    "*pixels* setting with 'blur every k steps'.\n\n"
    "The ratio compares the channel's activation on the picture with its mean over the bundled sample photos.",
)
selection = widgets.current()
m = selection.model

with st.form("neuron"):
    top = st.columns([2, 1, 1, 1])
    with top[0]:
        with widgets.guard("choosing a layer"):
            default_layer = vc.default_layer(m, "neuron")
        info = widgets.layer_picker(m, "Layer", "nr-layer", kinds=("block", "conv", "activation", "norm"), default=default_layer)
    with top[1]:
        channel = widgets.channel_picker(info, "Channel", "nr-channel", default=10)
    position = top[2].selectbox("Unit", ["channel mean", "centre unit"], key="nr-position", help="The channel's mean over the map, or the one unit at the centre.", bind="query-params")
    steps = top[3].slider("Steps", 16, 512, 128, step=16, key="nr-steps", bind="query-params")
    row = st.columns(5)
    param = row[0].selectbox("Parameterisation", ["fourier", "pixels"], key="nr-param", bind="query-params")
    lr = row[1].select_slider("Learning rate", [0.005, 0.01, 0.02, 0.05, 0.1, 0.2], value=0.05, key="nr-lr", bind="query-params")
    jitter = row[2].slider("Jitter (px)", 0, 32, 8, key="nr-jitter", bind="query-params")
    blur_every = row[3].slider("Blur every k steps (pixels)", 0, 16, 4, key="nr-blur-every", bind="query-params")
    seed = row[4].number_input("Seed", 0, 10_000, 0, key="nr-seed", bind="query-params")
    st.form_submit_button("Visualise", type="primary", icon=":material/auto_awesome:")

settings = vc.Ascent(steps=steps, lr=lr, param=param, jitter=jitter, seed=int(seed), blur_every=blur_every if param == "pixels" else 0)
with widgets.guard("locating the unit"):
    target = vc.centre_unit(m, info.path, channel) if position == "centre unit" else vc.unit(info.path, channel)
status = st.empty()
with status.container():
    on_step = widgets.progress(f"Visualising {info.path} channel {channel}", preview=True)
with widgets.guard("visualising the channel"):
    result = resources.neuron(selection.model_key, target, settings, m, on_step)
    baseline = resources.channel_mean_over_samples(selection.model_key, info.path, channel, m)
status.empty()

widgets.random_weights_warning(m, "the picture shows what an untrained channel responds to.")
left, right = st.columns([1, 1])
left.plotly_chart(vc.figures.figure(result), key="nr-image")
with right:
    st.plotly_chart(vc.figures.synthesis_curve(result, "objective"), key="nr-curve")
    cols = st.columns(3)
    activation = result.metrics["activation"]
    cols[0].metric("On the picture", f"{activation:.3g}")
    cols[1].metric("Sample photos (mean)", f"{baseline:.3g}")
    cols[2].metric("Ratio", f"{activation / baseline:.1f}×" if baseline > 1e-9 else "—")
    if baseline <= 1e-9:
        st.info("This channel's mean over the sample photos is not positive, so a ratio means nothing; compare the two values.", icon=":material/lightbulb:")
widgets.downloads(f"neuron-{info.path}-{channel}", result, title=f"Neuron: {info.path} channel {channel}")
