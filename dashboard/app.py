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


def sidebar() -> widgets.Selection | None:
    """Model, weights and image pickers shared by every page; returns None after showing an error."""
    st.sidebar.header("Model")
    names = resources.model_names()
    name = st.sidebar.selectbox(
        "Architecture",
        names,
        index=names.index(vc.DEFAULT_MODEL),
        key="model",
        bind="query-params",
        help="Any timm architecture; bundled and demo models are listed first. Type to search.",
    )
    sources = vc.weight_sources(name)  # a checkpoint "file" is uploaded here
    labels = {**sources, "file": "Upload a checkpoint"} if "file" in sources else sources
    weights = st.sidebar.selectbox("Weights", list(labels), format_func=labels.get, key=f"weights|{name}", bind="query-params")
    if weights == "file":
        upload = st.sidebar.file_uploader("Checkpoint (.safetensors, .pth, .pt)", type=["safetensors", "pth", "pt", "bin"], key="checkpoint")
        if upload is None:
            st.info("Upload a checkpoint in the sidebar, or pick another weights source.", icon=":material/upload_file:")
            return None
        weights = str(resources.save_upload(upload.getvalue(), Path(upload.name).suffix))

    st.sidebar.header("Input image")
    options = vc.sample_names() + [UPLOAD]
    image_choice = st.sidebar.selectbox("Image", options, key="image", bind="query-params")
    with widgets.guard("loading the model"):
        m = resources.model(name, weights)
    with widgets.guard("reading the image"):
        if image_choice == UPLOAD:
            upload = st.sidebar.file_uploader("Image file", type=None, key="image_upload")
            if upload is None:
                st.info("Upload an image in the sidebar, or pick a sample.", icon=":material/upload:")
                return None
            data = upload.getvalue()
            picture = resources.uploaded_image(hashlib.sha256(data).hexdigest(), data)
            image_name = upload.name
        else:
            picture = resources.sample(image_choice)
            image_name = image_choice
    st.sidebar.image(picture, caption=image_name, width="stretch")
    st.sidebar.caption(
        f"Runs on **{str(m.device).upper()}** · {vc.runtime_summary()}  \n"
        f"Weights: {m.weights}  \n"
        "The address bar holds the model, the image and every setting you change: copy it to share this view."
    )
    for note in m.warnings:
        st.sidebar.warning(note, icon=":material/warning:")
    model_key = f"{name}|{weights}"
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
