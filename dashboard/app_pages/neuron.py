"""Neuron / channel visualisation: the picture that excites one channel most, beside the natural patches that do."""
from __future__ import annotations

import streamlit as st

import viz_core as vc
from dashboard import resources, widgets

ONE, SEVERAL, ACCENTUATE = "One picture", "Several at once (diversity)", "Accentuate in the image"
AUTO_LR = {"maco": 0.5, "fourier": 0.05, "pixels": 0.05}

widgets.page_header(
    "Neuron",
    "Pick a layer and one of its channels; starting from a random picture, the picture is changed until that "
    "channel responds as strongly as possible. Early layers give colours and edges, middle layers textures and "
    "patterns, deep layers object parts. Beside it: the patches of real photos where the channel fires most, "
    "which people read more easily than synthetic pictures (Borowski et al. 2021). Erhan et al. (2009); "
    "Yosinski et al. (2015); Olah et al. (2017); Fel et al. (2023).",
    "The objective is the channel's mean activation over all positions (on a vision transformer: over the "
    "patch tokens), or one unit at a chosen position. Priors are the same as on the Class model page: MACO's "
    "phase-only picture with a natural spectrum, seen through a batch of random crops (default), the Fourier "
    "picture of Olah et al., or raw pixels with Yosinski's 'blur every k steps'.\n\n"
    "- **Several at once** (Olah et al. 2017): a few pictures are made together and each is penalised by the "
    "cosine similarity of its Gram matrix (its style) at the unit's layer to the others', so a unit that "
    "responds to more than one thing shows them side by side.\n"
    "- **Accentuate** (Hamblin et al. 2024): the sidebar image, changed within a small budget to raise the "
    "channel, shows what in *that* image the channel responds to.\n\n"
    "The ratio compares the channel's activation on the picture with its mean over the bundled sample photos. "
    "The natural exemplars come from one pass over the chosen collection (Top patches page).",
)
selection = widgets.current()
m = selection.model

with st.form("neuron"):
    mode = st.radio("Mode", [ONE, SEVERAL, ACCENTUATE], horizontal=True, key="nr-mode", bind="query-params")
    top = st.columns([2, 1, 1, 1])
    with top[0]:
        try:
            default_layer: str | None = vc.default_layer(m, "neuron")
        except vc.ConvlensError:  # no block of the usual kind (the digits demo): the picker's last layer
            default_layer = None
        info = widgets.layer_picker(m, "Layer", "nr-layer", kinds=("block", "conv", "activation", "norm"), default=default_layer)
    with top[1]:
        channel = widgets.channel_picker(info, "Channel", "nr-channel", default=10)
    position = top[2].selectbox("Unit", ["channel mean", "centre unit"], key="nr-position", help="The channel's mean over the map, or the one unit at the centre.", bind="query-params")
    steps = top[3].slider("Steps", 16, 512, 128, step=16, key="nr-steps", bind="query-params")
    row = st.columns(6)
    param = row[0].selectbox("Parameterisation", ["maco", "fourier", "pixels"], key="nr-param", bind="query-params")
    lr = row[1].select_slider("Learning rate", ["auto", 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0], value="auto", key="nr-lr", help="auto: 0.5 for MACO, 0.05 for Fourier and pixels, 0.02 for accentuation.", bind="query-params")
    batch = row[2].slider("Views per step", 1, 8, 4, key="nr-batch", help="Random crops seen in one batch each step (one picture); several pictures see one crop each.", bind="query-params")
    crop_area = row[3].slider("Smallest crop (%)", 0, 100, round(vc.Ascent().crop_area * 100), step=5, key="nr-crop", help="0: no crops; one jittered view instead.", bind="query-params")
    jitter = row[4].slider("Jitter (px, no crops)", 0, 32, 8, key="nr-jitter", bind="query-params")
    seed = row[5].number_input("Seed", 0, 10_000, 0, key="nr-seed", bind="query-params")
    more = st.columns(4)
    count = more[0].slider("Pictures (diversity)", 2, 6, 4, key="nr-count", bind="query-params")
    diversity = more[1].select_slider("Diversity weight", [0.1, 0.3, 1.0, 3.0, 10.0, 30.0], value=3.0, key="nr-diversity", help="Weight of the Gram-similarity penalty between the pictures.", bind="query-params")
    budget = more[2].slider("Accent budget (RMS, %)", 1, 30, 8, key="nr-budget", bind="query-params")
    blur_every = more[3].slider("Blur every k steps (pixels)", 0, 16, 4, key="nr-blur-every", bind="query-params")
    exemplars = st.checkbox("Show natural exemplars (top patches of a collection)", value=True, key="nr-exemplars", bind="query-params")
    st.form_submit_button("Visualise", type="primary", icon=":material/auto_awesome:")

rate = AUTO_LR[param] if lr == "auto" else float(lr)
settings = vc.Ascent(steps=steps, lr=rate, param=param, batch=batch, crop_area=crop_area / 100, jitter=jitter, seed=int(seed), blur_every=blur_every if param == "pixels" else 0)
with widgets.guard("locating the unit"):
    target = vc.centre_unit(m, info.path, channel) if position == "centre unit" else vc.unit(info.path, channel)
status = st.empty()
with status.container():
    on_step = widgets.progress(f"Visualising {info.path} channel {channel}", preview=mode == ONE)
with widgets.guard("visualising the channel"):
    if mode == ACCENTUATE:
        accent = vc.Accent(steps=steps, lr=0.02 if lr == "auto" else rate, budget=budget / 100, batch=batch, crop_area=crop_area / 100, jitter=jitter, seed=int(seed))
        result = resources.accentuate(selection.model_key, selection.image_key, target, accent, m, selection.image, on_step)
    elif mode == SEVERAL:
        result = resources.diverse(selection.model_key, target, count, float(diversity), settings, m, on_step)
    else:
        result = resources.neuron(selection.model_key, target, settings, m, on_step)
    baseline = resources.channel_mean_over_samples(selection.model_key, info.path, channel, m)
status.empty()

widgets.random_weights_warning(m, "the picture shows what an untrained channel responds to.")
st.plotly_chart(vc.figures.figure(result), key="nr-image")
left, right = st.columns([1, 1])
with left:
    if exemplars:
        with widgets.guard("finding the natural exemplars"):
            c = widgets.collection_picker(m, "nr")
            patches = resources.top_patches(selection.model_key, c.digest, info.path, (channel,), 8, 1, m, c, widgets.progress("Scanning the collection for exemplars"))
        st.plotly_chart(vc.figures.figure(patches), key="nr-patches")
        st.caption(f"The {patches.patches.shape[1]} patches of {patches.images_seen} images where channel {channel} of {info.path} responds most (receptive field {patches.rf_size[0]}×{patches.rf_size[1]} px).")
    else:
        st.plotly_chart(vc.figures.synthesis_curve(result, "objective"), key="nr-curve")
with right:
    cols = st.columns(3)
    if mode == ACCENTUATE:
        cols[0].metric("On the accentuated image", f"{result.metrics['score_after']:.3g}", f"{result.metrics['score_after'] - result.metrics['score_before']:+.3g}")
        cols[1].metric("RMS change", f"{result.metrics['rms_change']:.3f}", help=f"Budget {budget / 100:.2f} (pixel range 0–1).")
        activation = result.metrics["score_after"]
    elif mode == SEVERAL:
        cols[0].metric("On the pictures (mean)", f"{result.metrics['score_mean']:.3g}")
        cols[1].metric("Style similarity", f"{result.metrics['gram_similarity']:.2f}", help="Mean cosine similarity of the pictures' Gram matrices (1 = the same style).")
        activation = result.metrics["score_mean"]
    else:
        activation = result.metrics["activation"]
        cols[0].metric("On the picture", f"{activation:.3g}")
        cols[1].metric("Sample photos (mean)", f"{baseline:.3g}")
    cols[2].metric("Ratio to photos", f"{activation / baseline:.1f}×" if baseline > 1e-9 else "—")
    if baseline <= 1e-9:
        st.info("This channel's mean over the sample photos is not positive, so a ratio means nothing; compare the values.", icon=":material/lightbulb:")
    if exemplars:
        st.plotly_chart(vc.figures.synthesis_curve(result, "objective"), key="nr-curve")
widgets.downloads(f"neuron-{info.path}-{channel}", result, title=f"Neuron: {info.path} channel {channel}")
