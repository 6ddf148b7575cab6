"""Reusable controls and the glue every page shares: the current selection, errors, progress, downloads.

Why here: pages stay short (controls -> one cached call -> figures), and every page reports
errors, shows progress and offers downloads the same way.
"""
from __future__ import annotations

import contextvars
import hashlib
import logging
import os
import time
import traceback
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from pathlib import Path

import numpy as np
import streamlit as st
from PIL import Image

import viz_core as vc
from dashboard import resources

try:  # Streamlit's flag for "inside a cached function"; elements created under it are recorded
    from streamlit.runtime.scriptrunner_utils.script_run_context import in_cached_function as _IN_CACHED_FUNCTION
except ImportError:  # pragma: no cover - other Streamlit versions
    _IN_CACHED_FUNCTION = None

log = logging.getLogger("convlens")
SELECTION_KEY = "_convlens_selection"


@dataclass(frozen=True)
class Selection:
    """What the sidebar chose, shared by every page: the model, the input image and their cache keys."""

    model: vc.LoadedModel
    model_key: str  # "name|weights source" — identifies the model for result caches
    image: Image.Image
    image_key: str  # content digest of the image
    image_name: str


def current() -> Selection:
    """The sidebar's selection (set by app.py before the page runs)."""
    selection = st.session_state.get(SELECTION_KEY)
    if selection is None:
        st.error("No model is loaded yet.", icon=":material/error:")
        st.stop()
    return selection


@contextmanager
def guard(what: str = "") -> Iterator[None]:
    """Show expected failures as `st.error` with what to do; unexpected ones as a short message.

    Never a traceback in the page: the full one goes to the server log for us.
    """
    try:
        yield
    except vc.ConvlensError as error:
        st.error(f"**{error.message}**" + (f"  \n{error.hint}" if error.hint else ""), icon=":material/error:")
        st.stop()
    except vc.Cancelled:
        st.info("Stopped.", icon=":material/stop_circle:")
        st.stop()
    except MemoryError:
        st.error("**Out of memory.** Try a smaller image size, batch or model.", icon=":material/memory:")
        st.stop()
    except Exception as error:  # noqa: BLE001 - the page must stay usable whatever happens
        log.error("Unexpected error%s:\n%s", f" in {what}" if what else "", traceback.format_exc())
        st.error(
            f"**Something went wrong{' while ' + what if what else ''}:** {type(error).__name__}: {str(error)[:300]}  \n"
            "Try other settings; if it persists, please report it with the model and layer you used.",
            icon=":material/bug_report:",
        )
        st.stop()


def random_weights_warning(m: vc.LoadedModel, meaning: str) -> None:
    """Say what a result means when the weights are random (`meaning`: what the picture shows then)."""
    if m.is_random:
        st.warning(f"This model has random weights: {meaning}", icon=":material/warning:")


def page_header(title: str, intro: str, details: str = "") -> None:
    """Title, two or three sentences for non-experts, and the exact definition in a collapsed expander."""
    st.title(title)
    st.markdown(intro)
    if details:
        with st.expander("Details"):
            st.markdown(details)


def layer_label(info: vc.LayerInfo) -> str:
    shape = "×".join(str(s) for s in info.shape) if info.shape else "no tensor"
    return f"{info.path}  ·  {info.type_name}  ·  {shape}"


def layer_picker(
    m: vc.LoadedModel,
    label: str,
    key: str,
    *,
    layouts: Sequence[str] = ("map", "tokens"),
    kinds: Sequence[str] | None = None,
    default: str | None = None,
    help: str | None = None,
) -> vc.LayerInfo:
    """A searchable select box of catalogue layers with a given output layout (and kind)."""
    options = [info for info in m.layers() if info.layout in layouts and (kinds is None or info.kind in kinds)]
    if not options:
        st.error(f"This model has no layer of the kind this page needs ({', '.join(layouts)}).")
        st.stop()
    paths = [info.path for info in options]
    index = paths.index(default) if default in paths else len(paths) - 1
    path = st.selectbox(label, paths, index=index, key=f"{key}|{m.name}", format_func=lambda p: layer_label(options[paths.index(p)]), help=help, bind="query-params")
    return options[paths.index(path)]


def class_picker(m: vc.LoadedModel, label: str, key: str, default: int = 0, help: str | None = None) -> int:
    """A searchable select box over the model's class names; returns the class index.

    A model without a classifier head has no classes: the page says so and stops there.
    """
    if m.num_classes == 0:
        st.info(f"**{m.name} has no classifier head**, so this needs a class it cannot give. Pages that explain or maximise a unit (Neuron, Inversion, DeepDream, Style transfer, Filters, Top patches, Embeddings) work.", icon=":material/info:")
        st.stop()
    default = min(max(int(default), 0), m.num_classes - 1)
    return int(
        st.selectbox(label, range(m.num_classes), index=default, key=f"{key}|{m.name}", format_func=lambda k: f"{k}: {m.class_names[k]}", help=help, bind="query-params")
    )


def channel_picker(info: vc.LayerInfo, label: str, key: str, default: int = 0) -> int:
    """A number input limited to the layer's channels (so out-of-range is impossible in the UI)."""
    top = max(info.channels - 1, 0)
    return int(st.number_input(f"{label} (0–{top})", min_value=0, max_value=top, value=min(default, top), step=1, key=f"{key}|{info.path}", bind="query-params"))


def progress(label: str, *, preview: bool = False, preview_width: int = 280) -> vc.OnStep:
    """An `on_step` callback that drives a progress bar and, optionally, a live preview image.

    The bar appears with the first step and goes when the work is done, so a cached result shows
    no idle bar and a finished one leaves only its result.
    """
    bar = st.empty()
    picture = st.empty() if preview else None
    last = [0.0]

    def update(info: vc.StepInfo) -> None:
        if info.fraction >= 1.0:  # finished: the result replaces the bar and the preview
            bar.empty()
            if picture is not None:
                picture.empty()
            return
        text = f"{label} — {info.message}" if info.message else label
        bar.progress(max(info.fraction, 0.0), text=text)
        if picture is not None and info.image is not None:
            picture.image(info.image, caption=f"step {info.step}" if info.step is not None else None, width=preview_width)

    def on_step(info: vc.StepInfo) -> None:
        now = time.monotonic()
        if info.fraction < 1.0 and now - last[0] < 0.15:
            return  # keep the websocket quiet on fast loops
        last[0] = now
        # Progress is called from inside st.cache_data functions. Mark the update as outside the
        # cached call so the cache does not record these transient elements for replay (a later
        # cache hit in another run would replay them into a container that no longer exists).
        context = contextvars.copy_context()
        if _IN_CACHED_FUNCTION is not None:
            context.run(_IN_CACHED_FUNCTION.set, False)
        context.run(update, info)

    return on_step


REPORT_KEY = "_convlens_report"


def report_items() -> list[vc.ReportItem]:
    """The report kept in this session (the Report page reorders, captions and downloads it)."""
    return st.session_state.setdefault(REPORT_KEY, [])


def share_url() -> str | None:
    """The address that reopens this view: the page's URL with every setting bound to the query."""
    try:
        base = st.context.url
    except Exception:  # noqa: BLE001 - no browser context (AppTest, bare mode)
        return None
    if not base:
        return None
    query = urllib.parse.urlencode(st.query_params.to_dict())
    return f"{base.split('?')[0]}?{query}" if query else base


def _add_to_report(results: Any, title: str, selection: Selection) -> None:
    items = report_items()
    items.append(vc.report_item(results, selection.model, selection.image, title=title, image_name=selection.image_name))
    st.toast(f"Added to the report ({len(items)} items).", icon=":material/playlist_add:")


def downloads(
    stem: str,
    results: Any = None,
    *,
    title: str | None = None,
    picture: np.ndarray | None = None,
    arrays: dict[str, np.ndarray] | None = None,
    params: Any = None,
) -> None:
    """"Download results" (one zip) and "Add to report" for the page's result(s).

    results: a result or a {name: result} mapping (entries that are not results are ignored): the
    zip holds the manifest that `vc.reproduce` replays, the input image, NPZ, PNG and interactive
    HTML figures. Pages with no result object pass picture / arrays / params instead: their zip
    holds those, and there is nothing to add to a report. The zip is built on click, not on every
    rerun.
    """
    selection = current()
    row = st.container(horizontal=True)
    if results is None:
        row.download_button(
            "Download results", lambda: vc.files_zip(stem, picture=picture, arrays=arrays, params=params), f"{stem}.zip", "application/zip",
            key=f"dl-zip-{stem}", icon=":material/download:", on_click="ignore",
        )
        return
    weights = selection.model_key.split("|", 1)[1]
    url = share_url()
    row.download_button(
        "Download results", lambda: vc.results_zip(results, selection.model, selection.image, weights=weights, url=url), f"{stem}.zip", "application/zip",
        key=f"dl-zip-{stem}", icon=":material/download:", on_click="ignore",
        help="A zip with the figures (PNG and interactive HTML), the arrays (NPZ), the input image and manifest.json; "
        "`python -m viz_core reproduce` makes the arrays again from it.",
    )
    row.button(
        "Add to report", key=f"report-add-{stem}", icon=":material/playlist_add:", on_click=_add_to_report,
        args=(results, title or stem.replace("-", " ").capitalize(), selection), help="Collect this result in the Report page.",
    )


def data_roots() -> list[str]:
    """Folders the dashboard may scan: CONVLENS_DATA_ROOTS (path-separated), else the user's home."""
    configured = os.environ.get("CONVLENS_DATA_ROOTS", "")
    roots = [part for part in configured.split(os.pathsep) if part.strip()]
    return roots or [str(Path.home())]


def collection_picker(m: vc.LoadedModel, key: str, *, per_model: bool = True, uploads: bool = True) -> vc.Collection:
    """Choose the image collection a dataset page scans: the deployment file's collections first,
    then the model's own demo collection, the built-ins, a folder or (with `uploads`) a zip.

    `per_model=False` keys the choice without the model's name: a browser drops URL parameters
    whose name holds '|', so a choice that must travel in a link is keyed plainly.
    """
    configured = {f"config:{entry.name}": entry for entry in resources.deployment().collections}
    choices = {**{value: f"{entry.name} (configured)" for value, entry in configured.items()}, **resources.COLLECTION_CHOICES}
    if not uploads:
        choices.pop("zip")
    options = list(choices)
    default = 0 if configured else options.index(m.default_collection) if m.default_collection in options else options.index("photos")
    picker_key = f"{key}-collection|{m.name}" if per_model else f"{key}-collection"
    kind = st.selectbox("Image collection", options, index=default, format_func=choices.get, key=picker_key, bind="query-params")
    if kind in configured:
        path = configured[kind].path
        if path.is_dir():  # listed on every run, so that a changed folder gets a new digest
            c = resources.collection("folder", vc.collection(str(path)).digest, str(path))
        else:
            stat = path.stat()
            c = resources.collection("zip-file", f"{path}:{stat.st_size}:{stat.st_mtime_ns}", str(path))
    elif kind == "folder":
        roots = data_roots()
        path = st.text_input("Folder path (flat, or one subfolder per class)", key=f"{key}-folder", help=f"Folders under: {', '.join(roots)} (set CONVLENS_DATA_ROOTS to change).", bind="query-params")
        if not path:
            st.info("Type the path of a folder of images; subfolder names become labels.", icon=":material/folder:")
            st.stop()
        inside = vc.folder_within(path, roots)
        c = vc.collection(str(inside))  # re-listed on every run so that a changed folder gets a new digest
        c = resources.collection("folder", c.digest, str(inside))
    elif kind == "zip":
        upload = st.file_uploader("Zip of images (folders inside become labels)", type=["zip"], key=f"{key}-zip")
        if upload is None:
            st.info("Upload a .zip of PNG/JPEG images; nothing is extracted to disk.", icon=":material/folder_zip:")
            st.stop()
        data = upload.getvalue()
        c = resources.collection("zip", hashlib.sha256(data).hexdigest(), data)
    else:
        c = resources.collection(kind, kind, kind)
    note = f"**{c.title}**: {len(c)} images, {len(c.label_names)} labels"
    if c.skipped:
        note += f", {len(c.skipped)} files skipped"
    st.caption(note)
    if c.skipped:
        with st.expander(f"{len(c.skipped)} skipped files"):
            st.text("\n".join(c.skipped[:200]))
    return c


def clicked_cell(state: object) -> tuple[int, int] | None:
    """(y, x) of the last point clicked on the position picker, from its selection state."""
    try:
        points = state["selection"]["points"]  # type: ignore[index]
    except (KeyError, TypeError):
        return None
    if not points:
        return None
    return int(round(points[-1]["y"])), int(round(points[-1]["x"]))
