"""Neural style: the content of one picture painted with the texture statistics of another."""
from __future__ import annotations

import hashlib

import streamlit as st

from dashboard import resources, widgets
import viz_core as vc

SIDEBAR = "The sidebar image"
UPLOAD = "Upload an image"
DEFAULT_STYLE = "immunohistochemistry"

widgets.page_header(
    "Style transfer",
    "A new picture that keeps the layout of the *content* image but takes its textures and colours from "
    "the *style* image. The model's deep features describe what is where; the correlations between its "
    "channels (Gram matrices) describe texture regardless of where it is. Gatys, Ecker & Bethge (2015) "
    "optimise a picture to match both.",
    "**Losses** (each relative, ~1 at a bad start): content ‖F − F_c‖² / ‖F_c‖² at the content layer; style, per "
    "style layer, mean (G − G_s)² / mean G_s² with G = F Fᵀ / positions, averaged with the layer weights; total "
    "variation, the mean squared difference of neighbouring pixels (against noise). The picture maximises "
    "−(content weight · content + style weight · style + TV weight · TV).\n\n"
    "**Default layers** come from the model's stages (timm's `feature_info`): style on up to five of them from "
    "shallow (fine texture) to deep (large motifs), as Gatys et al. used conv1_1 … conv5_1; content on the "
    "second-deepest, like their conv4_2.\n\n"
    "**Defaults that show the style**: the picture is a decorrelated Fourier image optimised by Adam while "
    "shifted by a few random pixels each step, with a strong total-variation prior. Matching raw pixels with "
    "L-BFGS (Gatys et al.'s setting, still available) drives this network's style loss down by filling the picture "
    "with high-frequency noise that only this network reads as the style: measured on Lite2, a model not used "
    "for the optimisation, the jittered Fourier picture is about twice as close to the style's Gram matrices "
    "(bench/bench_pictures.py).\n\n"
    "**SWAG** (Wang, Li & Vasconcelos 2021): a softmax over each layer's activations before the Gram matrices, "
    "proposed for networks with peaky activations. On this model it did not bring the result closer to the "
    "style on Lite2, so it is off by default.\n\n"
    "**Texture synthesis**: set the content weight to 0 and start from noise: the picture then takes only the "
    "style's statistics.\n\n"
    "Starting from the content image keeps the layout and converges sooner than starting from noise. Smaller "
    "pictures run faster.",
)
selection = widgets.current()
m = selection.model


def picker(label: str, default: str, key: str) -> tuple[str, "vc.images.Image.Image | None", str]:
    """A picture from the sidebar, the samples or an upload: (name, picture or None, content key)."""
    options = [SIDEBAR, *vc.sample_names(), UPLOAD]
    choice = st.selectbox(label, options, index=options.index(default), key=key, bind="query-params")
    if choice == SIDEBAR:
        return selection.image_name, selection.image, selection.image_key
    if choice == UPLOAD:
        upload = st.file_uploader(f"{label} file", key=f"{key}-upload")
        if upload is None:
            return "", None, ""
        data = upload.getvalue()
        with widgets.guard("reading the upload"):
            picture = resources.uploaded_image(hashlib.sha256(data).hexdigest(), data)
        return upload.name, picture, resources.digest_of(picture)
    picture = resources.sample(choice)
    return choice, picture, resources.digest_of(picture)


with widgets.guard("choosing the default layers"):
    default_content, default_style = vc.style_layers(m)
candidates = [info.path for info in m.layers() if info.layout in ("map", "tokens")]
_, height, width = m.input_size
has_tokens = any(info.layout == "tokens" for info in m.layers())

with st.form("style-form"):
    top = st.columns(2)
    with top[0]:
        content_name, content, content_key = picker("Content image", SIDEBAR, "style-content")
    with top[1]:
        style_name, style, style_key = picker("Style image", DEFAULT_STYLE, "style-style")
    cols = st.columns(4)
    optimizer = cols[0].radio("Optimiser", ["adam", "lbfgs"], format_func={"lbfgs": "L-BFGS", "adam": "Adam"}.get, key="style-opt", bind="query-params")
    steps = int(cols[0].number_input("Steps", 5, 500, 200, 5, key="style-steps", bind="query-params"))
    param = cols[0].radio("Picture", ["fourier", "pixels"], format_func={"fourier": "Fourier (decorrelated)", "pixels": "Pixels (Gatys)"}.get, key="style-param", bind="query-params")
    style_weight = cols[1].select_slider("Style weight", [0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0], value=100.0, key="style-sw", bind="query-params")
    content_weight = cols[1].select_slider("Content weight", [0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0], value=vc.Style().content_weight, key="style-cw", bind="query-params")
    tv_weight = cols[1].select_slider("Total-variation weight", [0.0, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0], value=100.0, key="style-tv", bind="query-params")
    jitter = cols[2].slider("Jitter (px per step)", 0, 16, 4, key="style-jitter", help="A random shift each step: keeps the optimiser from matching the style with noise.", bind="query-params")
    swag = cols[2].checkbox("SWAG softmax (Wang 2021)", value=False, key="style-swag", help="Softmax over each layer's activations before the Gram matrices.", bind="query-params")
    init = cols[2].radio("Start from", ["content", "noise"], key="style-init", bind="query-params")
    seed = int(cols[2].number_input("Seed (noise start)", 0, 2**31 - 1, 0, key="style-seed", bind="query-params"))
    sizes = [height] if has_tokens else sorted({128, 160, 192, height})
    size = int(cols[3].select_slider("Picture side (px)", sizes, value=height if has_tokens else min(160, height), key="style-size", help="Smaller is faster; transformers run only at their own size.", bind="query-params"))
    content_layer = cols[3].selectbox("Content layer", candidates, index=candidates.index(default_content), key=f"style-cl|{m.name}", bind="query-params")
    style_layers = st.multiselect("Style layers", candidates, default=list(default_style), key=f"style-sl|{m.name}", bind="query-params")
    with st.expander("Weight of each style layer"):
        layer_cols = st.columns(max(len(style_layers), 1))
        layer_weights = [float(layer_cols[i].number_input(layer, 0.0, 10.0, 1.0, 0.5, key=f"style-lw|{m.name}|{layer}", bind="query-params")) for i, layer in enumerate(style_layers)]
    submitted = st.form_submit_button("Paint", type="primary", icon=":material/brush:")

st.caption(f"Defaults for {m.name}: content layer **{default_content}**, style layers **{', '.join(default_style)}** (its stage outputs).")
if content is None or style is None:
    st.info("Upload the content and style pictures (or pick samples) to start.", icon=":material/upload:")
    st.stop()
if not style_layers:
    st.error("Pick at least one style layer.", icon=":material/error:")
    st.stop()
widgets.random_weights_warning(m, "its features describe no learned textures, so the result means little.")

settings = vc.Style(
    content_layer=content_layer,
    style_layers=tuple(style_layers),
    style_weights=tuple(layer_weights),
    content_weight=float(content_weight),
    style_weight=float(style_weight),
    tv_weight=float(tv_weight),
    steps=steps,
    optimizer=optimizer,
    init=init,
    seed=seed,
    size=None if size == height else size,
    param=param,
    jitter=jitter,
    softmax=1.0 if swag else None,
)
run_key = (selection.model_key, content_key, style_key, settings)
if submitted:
    st.session_state["style-run"] = run_key
if st.session_state.get("style-run") != run_key:
    st.info(f"Press **Paint** to run {steps} steps (a few seconds to a minute on a CPU).", icon=":material/brush:")
    st.plotly_chart(vc.figures.image_grid([(m.image01(content) * 255).round().astype("uint8"), (m.image01(style) * 255).round().astype("uint8")], [f"content: {content_name}", f"style: {style_name}"], columns=2, height_per_row=300), key="style-inputs")
    st.stop()

with widgets.guard("painting"):
    result = resources.style_transfer(selection.model_key, content_key, style_key, settings, m, content, style, widgets.progress("Painting", preview=True))

st.plotly_chart(vc.figures.figure(result), key="style-result")
left, right = st.columns([1.6, 1])
left.plotly_chart(vc.figures.style_losses(result), key="style-losses")
metrics = result.metrics
right.metric("Style loss", f"{metrics['style_loss_end']:.3g}", f"{-metrics['style_drop']:.0%} from {metrics['style_loss_start']:.3g}", delta_color="inverse")
right.metric("Content loss", f"{metrics['content_loss_end']:.3g}", help="Relative distance of the content layer's features from the content image's (0 = identical, 1 = as far as a blank).")
right.metric("Time", f"{result.seconds:.1f} s")
widgets.downloads("style-transfer", result, title="Style transfer")
