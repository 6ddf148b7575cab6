"""Class model visualisation: the picture the model finds most typical of a class, or the class made visible in an image."""
from __future__ import annotations

import streamlit as st

import viz_core as vc
from dashboard import resources, widgets

SYNTHESISE, ACCENTUATE = "Synthesise from scratch", "Accentuate in the image"
AUTO_LR = {"maco": 0.5, "fourier": 0.05, "pixels": 0.05}
DEFAULTS = vc.Ascent()  # the sliders start at the library's measured defaults

widgets.page_header(
    "Class model",
    "Start from a random picture and change it, step by step, so that the model's score for one class "
    "goes up. What appears is what the model has learned to look for in that class — recognisable parts "
    "(eyes, wings, textures) in natural colours. Simonyan, Vedaldi & Zisserman (2014); Fel et al. (2023). "
    "*Accentuate* instead changes the sidebar image a little, to show where and how the class would appear "
    "in it (Hamblin et al. 2024).",
    "The picture *I* maximises the class logit S_c(I) (not the probability, which can also rise by pushing "
    "other classes down). Without priors, gradient ascent finds high-frequency noise that fits one network's "
    "quirks; the priors here fix this:\n\n"
    "- **MACO** (default, Fel et al. 2023): only the Fourier *phase* of the picture is optimised; its "
    "magnitude spectrum is fixed to that of natural photos. Each step sees a batch of random crops "
    "(close-ups and wholes); the learning rate decays on a cosine. The right panel fades the picture where "
    "the class score's gradient seldom fell (MACO's importance map). Pictures made this way on Lite0 are "
    "also recognised by the independently trained Lite1 and Lite2 (bench/bench_pictures.py).\n"
    "- **Fourier** (Olah, Mordvintsev & Schubert 2017): a decorrelated Fourier basis, one jittered, scaled and "
    "rotated view per step when no crops are asked for.\n"
    "- **Pixels**: plain pixel ascent with the L2 decay of Simonyan et al. and the regularisers of Yosinski "
    "et al. (2015): blur every k steps, and set pixels of small norm or small contribution |x·∇| to grey.\n\n"
    "**Accentuation** maximises the class score minus the relative feature distance to the image at a middle "
    "layer, over a smooth change whose root-mean-square stays within a budget.\n\n"
    "The probability is measured on the final picture exactly as the model sees it, and again after random "
    "shifts of up to 4 pixels.",
)
selection = widgets.current()
m = selection.model

with st.form("class-model"):
    mode = st.radio("Mode", [SYNTHESISE, ACCENTUATE], horizontal=True, key="cm-mode", bind="query-params")
    top = st.columns([2, 1, 1, 1])
    with top[0]:
        class_index = widgets.class_picker(m, "Class", "cm-class", default=323 if m.num_classes == 1000 else 0)
    param = top[1].selectbox("Parameterisation", ["maco", "fourier", "pixels"], key="cm-param", help="MACO (phase only, natural spectrum; Fel 2023), Fourier (Olah 2017) or raw pixels with Yosinski's regularisers. Synthesis only.", bind="query-params")
    steps = top[2].slider("Steps", 16, 512, 128, step=16, key="cm-steps", bind="query-params")
    lr = top[3].select_slider("Learning rate", ["auto", 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0], value="auto", key="cm-lr", help="auto: 0.5 for MACO's phases, 0.05 for Fourier and pixels, 0.02 for accentuation.", bind="query-params")
    views = st.columns(5)
    batch = views[0].slider("Views per step", 1, 8, 4, key="cm-batch", help="Random crops of the picture seen in one batch each step.", bind="query-params")
    crop_area = views[1].slider("Smallest crop (% of picture)", 0, 100, round(DEFAULTS.crop_area * 100), step=5, key="cm-crop", help="0: no crops; one jittered, scaled, rotated view instead.", bind="query-params")
    rotate = views[2].slider("Rotation (±°)", 0.0, 30.0, float(DEFAULTS.rotate), step=1.0, key="cm-rotate", bind="query-params")
    schedule = views[3].selectbox("LR schedule", ["cosine", "constant"], key="cm-schedule", bind="query-params")
    seed = views[4].number_input("Seed", 0, 10_000, 0, key="cm-seed", bind="query-params")
    with st.expander("Without crops: jitter and scale · pixel priors · accentuation budget"):
        robust = st.columns(2)
        jitter = robust[0].slider("Jitter (px)", 0, 32, 8, key="cm-jitter", bind="query-params")
        scale = robust[1].slider("Scale (±)", 0.0, 0.3, 0.1, step=0.05, key="cm-scale", bind="query-params")
        st.caption("Pixel priors (used with the *pixels* parameterisation)")
        priors = st.columns(5)
        l2_decay = priors[0].slider("L2 decay", 0.0, 0.1, 0.01, step=0.005, key="cm-decay", bind="query-params")
        blur_every = priors[1].slider("Blur every k steps", 0, 16, 4, key="cm-blur-every", bind="query-params")
        blur_sigma = priors[2].slider("Blur σ (px)", 0.0, 2.0, 0.5, step=0.1, key="cm-blur-sigma", bind="query-params")
        clip_norm = priors[3].slider("Clip small norm (%)", 0, 50, 0, key="cm-clip-norm", bind="query-params")
        clip_contribution = priors[4].slider("Clip small contribution (%)", 0, 50, 0, key="cm-clip-contrib", bind="query-params")
        st.caption("Accentuation")
        accent_cols = st.columns(2)
        budget = accent_cols[0].slider("Change budget (RMS, % of range)", 1, 30, 8, key="cm-budget", bind="query-params")
        similarity = accent_cols[1].select_slider("Stay-close weight", [0.0, 0.3, 1.0, 3.0, 10.0], value=1.0, key="cm-similar", help="Weight of the feature distance to the image at a middle layer.", bind="query-params")
    st.form_submit_button("Synthesise" if mode == SYNTHESISE else "Accentuate", type="primary", icon=":material/auto_awesome:")

views_settings = dict(batch=batch, crop_area=crop_area / 100, rotate=rotate, schedule=schedule, jitter=jitter, scale=scale, seed=int(seed))
name = m.class_names[class_index].split(",")[0]  # ImageNet names list synonyms: the first fits a title
status = st.empty()
if mode == ACCENTUATE:
    settings = vc.Accent(steps=steps, lr=0.02 if lr == "auto" else float(lr), budget=budget / 100, similarity_weight=float(similarity), **views_settings)
    with status.container():
        on_step = widgets.progress(f"Accentuating '{m.class_names[class_index]}' in {selection.image_name}", preview=True)
    with widgets.guard("accentuating the class"):
        result = resources.accentuate(selection.model_key, selection.image_key, class_index, settings, m, selection.image, on_step)
    status.empty()
    widgets.random_weights_warning(m, "the change shows what an untrained network amplifies, not a learned class.")
    st.plotly_chart(vc.figures.figure(result), key="cm-accent")
    cols = st.columns(4)
    metrics = result.metrics
    cols[0].metric("Probability", f"{metrics['probability_after']:.1%}", f"{metrics['probability_after'] - metrics['probability_before']:+.1%} from the image")
    cols[1].metric("Logit", f"{metrics['score_after']:.3g}", f"{metrics['score_after'] - metrics['score_before']:+.3g}")
    cols[2].metric("RMS change", f"{metrics['rms_change']:.3f}", help=f"Budget {settings.budget:.2f} (pixel range 0–1).", delta_color="off")
    cols[3].metric("Time", f"{result.seconds:.1f} s")
    widgets.downloads(f"class-accent-{class_index}", result, title=f"Accentuated: {m.class_names[class_index]}")
    st.stop()

pixel_priors = dict(l2_decay=l2_decay, blur_every=blur_every, blur_sigma=blur_sigma, clip_norm=float(clip_norm), clip_contribution=float(clip_contribution))
settings = vc.Ascent(steps=steps, lr=AUTO_LR[param] if lr == "auto" else float(lr), param=param, **views_settings, **(pixel_priors if param == "pixels" else {}))
with status.container():
    on_step = widgets.progress(f"Synthesising '{m.class_names[class_index]}'", preview=True)
with widgets.guard("synthesising the class model"):
    result = resources.class_model(selection.model_key, class_index, settings, m, on_step)
status.empty()

widgets.random_weights_warning(m, "the picture shows what an untrained network amplifies, not a learned class.")
st.plotly_chart(vc.figures.figure(result), key="cm-image")
left, right = st.columns([1.4, 1])
left.plotly_chart(vc.figures.synthesis_curve(result, f"logit of '{name}'"), key="cm-curve")
with right:
    cols = st.columns(3)
    cols[0].metric("Probability", f"{result.metrics['probability']:.1%}")
    cols[1].metric("After ±4 px shifts (min)", f"{result.metrics['probability_jittered']:.1%}")
    cols[2].metric("Time", f"{result.seconds:.1f} s")
    top1 = int(result.metrics["top1"])
    if top1 != class_index:
        st.info(f"The model's top class for this picture is '{m.class_names[top1]}'. More steps or a higher learning rate usually help.", icon=":material/lightbulb:")
widgets.downloads(f"class-model-{class_index}", result, title=f"Class model: {m.class_names[class_index]}")
