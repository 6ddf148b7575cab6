"""convlens dashboard entry point: page config, the shared sidebar (model, weights, image), navigation.

Run with `make run` (or `streamlit run dashboard/app.py`).
"""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` puts only dashboard/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

st.set_page_config(page_title="convlens", page_icon=":material/visibility:", layout="wide")

import viz_core as vc  # noqa: E402
from dashboard import resources, widgets  # noqa: E402
from dashboard.navigation import PAGES  # noqa: E402

vc.keep_freed_memory()

UPLOAD = "Upload an image"
FROM_COLLECTION = "From a collection"


def deployment_problems(config: vc.Config) -> None:
    """Each problem of the deployment file once, naming the entry and the field (the rest still loads)."""
    if config.problems:
        lines = "\n".join(f"- {problem}" for problem in config.problems)
        st.sidebar.warning(f"**{config.path or vc.config_path()}**: {len(config.problems)} entries left out.\n{lines}", icon=":material/settings_alert:")


def with_labels(m: vc.LoadedModel, model_key: str) -> tuple[vc.LoadedModel, str]:
    """An optional labels file that names an uploaded checkpoint's classes (else 'class 0…')."""
    upload = st.sidebar.file_uploader(
        "Class names (optional: one per line, a JSON list, or a JSON object index → name)", type=["txt", "json", "csv", "names"], key="labels_upload"
    )
    if upload is None:
        return m, model_key
    data = upload.getvalue()
    saved = resources.save_labels(data)
    try:
        names = vc.read_labels(saved)
    except vc.ConfigError as error:  # it names the saved copy: say the user's file name instead
        st.sidebar.error(f"{error.message.replace(str(saved), upload.name).replace(saved.name, upload.name)} {error.hint}", icon=":material/error:")
        return m, model_key
    if len(names) != m.num_classes:
        st.sidebar.error(
            f"The labels file '{upload.name}' has {len(names)} names; the model has {m.num_classes} outputs. "
            "Give exactly one name per output, in the model's output order. The model keeps its numbered classes.",
            icon=":material/error:",
        )
        return m, model_key
    digest = hashlib.sha256(data).hexdigest()[:16]
    return resources.labelled_model(model_key, digest, m, names), f"{model_key}|labels:{digest}"


def sidebar_image(m: vc.LoadedModel) -> tuple[object, str] | None:
    """The input image: a sample, an upload, or image N of a collection (so a link can name it)."""
    st.sidebar.header("Input image")
    options = vc.sample_names() + [UPLOAD, FROM_COLLECTION]
    image_choice = st.sidebar.selectbox("Image", options, key="image", bind="query-params")
    with widgets.guard("reading the image"):
        if image_choice == UPLOAD:
            upload = st.sidebar.file_uploader("Image file", type=None, key="image_upload")
            if upload is None:
                st.info("Upload an image in the sidebar, or pick a sample.", icon=":material/upload:")
                return None
            data = upload.getvalue()
            return resources.uploaded_image(hashlib.sha256(data).hexdigest(), data), upload.name
        if image_choice == FROM_COLLECTION:
            with st.sidebar:
                c = widgets.collection_picker(m, "img", per_model=False, uploads=False)  # so a link can name it
                index = int(st.number_input(f"Image number (0–{len(c) - 1})", 0, len(c) - 1, key="img-index", bind="query-params"))
            return c.load(index), f"{c.title} #{index}: {c.names[index]}"
        return resources.sample(image_choice), image_choice


def sidebar() -> widgets.Selection | None:
    """Model, weights and image pickers shared by every page; returns None after showing an error."""
    st.sidebar.header("Model")
    config = resources.deployment()
    configured = {entry.name: entry for entry in config.models}
    names = list(configured) + [n for n in resources.model_names() if n not in configured]
    name = st.sidebar.selectbox(
        "Architecture",
        names,
        index=0 if configured else names.index(vc.DEFAULT_MODEL),
        key="model",
        bind="query-params",
        format_func=lambda n: f"{n} (configured)" if n in configured else n,
        help="Your team's configured models (convlens.toml) first, then bundled and demo models, then every timm architecture. Type to search.",
    )
    deployment_problems(config)
    if name in configured:
        entry = configured[name]
        stamp = resources.entry_stamp(entry)
        with widgets.guard(f"loading the configured model '{name}'"):
            m = resources.configured_model(name, stamp, entry)
        model_key = f"config:{name}|{stamp}"
        st.sidebar.caption(f"Configured in {config.path}: {entry.architecture}" + (f", {entry.checkpoint.name}" if entry.checkpoint else ""))
    else:
        sources = vc.weight_sources(name)  # a checkpoint "file" is uploaded here
        labels = {**sources, "file": "Upload a checkpoint"} if "file" in sources else sources
        weights = st.sidebar.selectbox("Weights", list(labels), format_func=labels.get, key=f"weights|{name}", bind="query-params")
        uploaded = weights == "file"
        if uploaded:
            upload = st.sidebar.file_uploader("Checkpoint (.safetensors, .pth, .pt)", type=["safetensors", "pth", "pt", "bin"], key="checkpoint")
            if upload is None:
                st.info("Upload a checkpoint in the sidebar, or pick another weights source.", icon=":material/upload_file:")
                return None
            weights = str(resources.save_upload(upload.getvalue(), Path(upload.name).suffix))
        with widgets.guard("loading the model"):
            m = resources.model(name, weights)
        model_key = f"{name}|{weights}"
        if uploaded:
            m, model_key = with_labels(m, model_key)

    chosen = sidebar_image(m)
    if chosen is None:
        return None
    picture, image_name = chosen
    st.sidebar.image(picture, caption=image_name, width="stretch")
    st.sidebar.caption(
        f"Runs on **{str(m.device).upper()}** (device {resources.DEVICE}: CUDA, else MPS, else CPU; set CONVLENS_DEVICE) · {vc.runtime_summary()}  \n"
        f"Weights: {m.weights}  \n"
        "The address bar holds the model, the image and every setting you change: copy it to share this view."
    )
    for note in m.warnings:
        st.sidebar.warning(note, icon=":material/warning:")
    return widgets.Selection(m, model_key, picture, resources.digest_of(picture), image_name)


selection = sidebar()
if selection is not None:
    st.session_state[widgets.SELECTION_KEY] = selection
else:
    st.session_state.pop(widgets.SELECTION_KEY, None)

sections: dict[str, list[st.Page]] = {}
for spec in PAGES:
    sections.setdefault(spec.section, []).append(
        st.Page(spec.path, title=spec.title, icon=spec.icon, default=spec is PAGES[0])
    )
page = st.navigation(sections)
if selection is None:
    st.stop()
page.run()
