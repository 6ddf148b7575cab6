"""Class model visualisation: the picture the model finds most typical of a class."""
from __future__ import annotations

import streamlit as st

import viz_core as vc
from dashboard import resources, widgets

widgets.page_header(
    "Class model",
    "Start from a grey picture and change its pixels, step by step, so that the model's score for one class "
    "goes up. What appears is what the model has learned to look for in that class — often recognisable "
    "parts (eyes, legs, textures) repeated across the picture. Simonyan, Vedaldi & Zisserman (2014).",
    "The picture *I* maximises the class logit S_c(I) (not the probability, which can also rise by pushing "
    "other classes down). Without priors, gradient ascent finds high-frequency noise; two families of priors "
    "fix this:\n\n"
    "- **Fourier** (default): the picture is parameterised in a decorrelated Fourier basis and must keep its "
    "score under random jitter, scaling and rotation (Olah, Mordvintsev & Schubert 2017).\n"
    "- **Pixels**: plain pixel ascent with the L2 decay of Simonyan et al. and the regularisers of Yosinski "
    "et al. (2015): blur every k steps, and set pixels of small norm or small contribution |x·∇| to grey.\n\n"
    "The probability is measured on the final picture exactly as the model sees it, and again after random "
    "shifts of up to 4 pixels.",
)
selection = widgets.current()
m = selection.model

with st.form("class-model"):
    top = st.columns([2, 1, 1, 1])
    with top[0]:
        class_index = widgets.class_picker(m, "Class", "cm-class", default=323 if m.num_classes == 1000 else 0)
    param = top[1].selectbox("Parameterisation", ["fourier", "pixels"], key="cm-param", help="Fourier + transforms (Olah 2017) or raw pixels with Yosinski's regularisers.", bind="query-params")
    steps = top[2].slider("Steps", 16, 512, 128, step=16, key="cm-steps", bind="query-params")
    lr = top[3].select_slider("Learning rate", [0.005, 0.01, 0.02, 0.05, 0.1, 0.2], value=0.05, key="cm-lr", bind="query-params")
    robust = st.columns(4)
    jitter = robust[0].slider("Jitter (px)", 0, 32, 8, key="cm-jitter", bind="query-params")
    rotate = robust[1].slider("Rotation (±°)", 0.0, 30.0, 5.0, step=1.0, key="cm-rotate", bind="query-params")
    scale = robust[2].slider("Scale (±)", 0.0, 0.3, 0.1, step=0.05, key="cm-scale", bind="query-params")
    seed = robust[3].number_input("Seed", 0, 10_000, 0, key="cm-seed", bind="query-params")
    st.caption("Pixel priors (used with the *pixels* parameterisation)")
    priors = st.columns(5)
    l2_decay = priors[0].slider("L2 decay", 0.0, 0.1, 0.01, step=0.005, key="cm-decay", bind="query-params")
    blur_every = priors[1].slider("Blur every k steps", 0, 16, 4, key="cm-blur-every", bind="query-params")
    blur_sigma = priors[2].slider("Blur σ (px)", 0.0, 2.0, 0.5, step=0.1, key="cm-blur-sigma", bind="query-params")
    clip_norm = priors[3].slider("Clip small norm (%)", 0, 50, 0, key="cm-clip-norm", bind="query-params")
    clip_contribution = priors[4].slider("Clip small contribution (%)", 0, 50, 0, key="cm-clip-contrib", bind="query-params")
    st.form_submit_button("Synthesise", type="primary", icon=":material/auto_awesome:")

pixel_priors = dict(l2_decay=l2_decay, blur_every=blur_every, blur_sigma=blur_sigma, clip_norm=float(clip_norm), clip_contribution=float(clip_contribution))
settings = vc.Ascent(steps=steps, lr=lr, param=param, jitter=jitter, rotate=rotate, scale=scale, seed=int(seed), **(pixel_priors if param == "pixels" else {}))
status = st.empty()
with status.container():
    on_step = widgets.progress(f"Synthesising '{m.class_names[class_index]}'", preview=True)
with widgets.guard("synthesising the class model"):
    result = resources.class_model(selection.model_key, class_index, settings, m, on_step)
status.empty()

widgets.random_weights_warning(m, "the picture shows what an untrained network amplifies, not a learned class.")
name = m.class_names[class_index].split(",")[0]  # ImageNet names list synonyms: the first fits a title
left, right = st.columns([1, 1])
left.plotly_chart(vc.figures.figure(result), key="cm-image")
with right:
    right.plotly_chart(vc.figures.synthesis_curve(result, f"logit of '{name}'"), key="cm-curve")
    cols = st.columns(3)
    cols[0].metric("Probability", f"{result.metrics['probability']:.1%}")
    cols[1].metric("After ±4 px shifts (min)", f"{result.metrics['probability_jittered']:.1%}")
    cols[2].metric("Time", f"{result.seconds:.1f} s")
    top1 = int(result.metrics["top1"])
    if top1 != class_index:
        st.info(f"The model's top class for this picture is '{m.class_names[top1]}'. More steps or a higher learning rate usually help.", icon=":material/lightbulb:")
widgets.downloads(f"class-model-{class_index}", result, title=f"Class model: {m.class_names[class_index]}")
