"""Evaluate: a model on a labelled collection — accuracy, confusions, calibration, mistakes, and why."""
from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import streamlit as st

import viz_core as vc
from dashboard import resources, widgets

SALIENCY = "app_pages/saliency.py"
FROM_COLLECTION = "From a collection"  # the sidebar's image choice (app.py) that reads image N of a collection
GALLERY = 24
ORDERS = {
    "confidence, highest first": ("confidence", True),
    "confidence, lowest first": ("confidence", False),
    "probability of the true class, lowest first": ("true_probability", False),
    "collection order": ("index", False),
}

if st.session_state.pop("eval-goto-saliency", False):  # set by the "Open in Saliency & backprop" button
    st.switch_page(SALIENCY, query_params={})  # {}: the widgets bound to the URL write their own values back

widgets.page_header(
    "Evaluate",
    "Where does the model fail on *your* data? One pass over a labelled collection (one folder per class) "
    "gives the accuracy, the classes it confuses, how far its confidence can be trusted, and its mistakes. "
    "Click a cell of the confusion matrix, a class in the table or a bar of the confidence histogram to see "
    "those images; click **Why?** under an image to see what made the model pick its answer over the true class.",
    """
- **Label matching**: each folder is matched to a model class by exact name, by normalised name (case,
  `_` and `-` ignored, or any comma-separated synonym), by ImageNet WordNet id (`n01443537` is goldfish) or,
  when every folder is a number below the class count, by index. Images of unmatched folders are counted
  but left out of the metrics.
- **Top-1 / top-5 accuracy** with 95 % Wilson score intervals (Wilson, 1927).
- **Per class**: support (true images), precision (of the images predicted as the class, the share that
  are), recall (of the class's images, the share found), F1 (their harmonic mean), from scikit-learn.
- **Confusion matrix**: rows are true classes, columns predictions; colour is the share of the row.
  With more than 30 classes, the classes of the most-confused pairs are shown.
- **Reliability diagram** (Guo et al., 2017): images binned by confidence; in each bin, accuracy against
  mean confidence. **Expected calibration error** = Σ_bins (n_b / n) · |accuracy_b − confidence_b|.
- **Why *predicted* and not *true***: Grad-CAM (Selvaraju et al., 2017) and guided backprop (Springenberg
  et al., 2015) of both classes on one colour scale, the gradient and Grad-CAM of logit(predicted) − logit(true),
  and occlusion (Zeiler & Fergus, 2014) of both probabilities.
- **Results persist**: the per-image predictions go to an on-disk store (Parquet shards plus a manifest,
  keyed by digests of the weights, the collection and the settings), so a restart or another session
  shows them at once; a changed checkpoint or folder is a new entry. A stopped pass stores nothing.
""",
)
selection = widgets.current()
m = selection.model
with widgets.guard("reading the collection"):
    c = widgets.collection_picker(m, "eval")

left, middle, right = st.columns([1, 1, 2], vertical_alignment="bottom")
batch = int(left.select_slider("Batch size", [8, 16, 32, 64, 128], value=32, key="eval-batch", bind="query-params"))
bins = int(middle.select_slider("Calibration bins", [5, 10, 15, 20], value=15, key="eval-bins", bind="query-params"))
run_key = f"{selection.model_key}|{c.digest}|{batch}|{bins}"
if right.button("Evaluate", type="primary", key="eval-start", icon=":material/play_arrow:"):
    st.session_state["eval-requested"] = run_key


def stop() -> None:
    st.session_state.pop("eval-requested", None)
    st.session_state["eval-stopped"] = True


def rate_progress(total: int) -> vc.OnStep:
    """The progress bar with images per second and the time left."""
    bar = widgets.progress("Evaluating")
    started = time.monotonic()

    def on_step(info: vc.StepInfo) -> None:
        elapsed = time.monotonic() - started
        if 0 < info.fraction < 1 and elapsed > 0:
            speed = info.fraction * total / elapsed
            left_s = (1 - info.fraction) * total / max(speed, 1e-9)
            info = vc.StepInfo(info.fraction, f"{info.message} · {speed:.0f} images/s · {left_s:.0f} s left")
        bar(info)

    return on_step


stopped = st.session_state.pop("eval-stopped", False)
ev: vc.Evaluation | None = None
known = False  # the store already held this evaluation when the page looked
started = time.perf_counter()
with widgets.guard("evaluating"):
    if st.session_state.get("eval-requested") == run_key:
        stop_slot = st.empty()
        stop_slot.button("Stop evaluating", key="eval-stop", on_click=stop, icon=":material/stop:")
        ev = resources.evaluation(selection.model_key, c.digest, batch, bins, m, c, rate_progress(len(c)))
        stop_slot.empty()
    else:
        try:
            ev = resources.known_evaluation(selection.model_key, c.digest, batch, bins, m, c)
        except vc.DatasetError as error:  # nothing asked for yet: say what to pick, as a hint
            st.info(f"**{error.message}**  \n{error.hint}", icon=":material/label_off:")
            st.stop()
        known = ev is not None
seconds = time.perf_counter() - started

if ev is None:
    if stopped:
        st.info("Stopped. Nothing of the pass was stored; press **Evaluate** to start again.", icon=":material/stop_circle:")
    else:
        st.info(
            f"Press **Evaluate** for one pass over the {len(c):,} images. The result is kept on disk, so the next "
            "visit (also after a restart, or from a colleague's session) shows it at once.",
            icon=":material/play_circle:",
        )
    st.stop()

widgets.random_weights_warning(m, "the accuracy is chance level and the mistakes mean nothing.")
k1, k2, k3, k4 = st.columns(4)
for column, label, accuracy in ((k1, "Top-1 accuracy", ev.top1), (k2, f"Top-{ev.top_classes.shape[1]} accuracy", ev.top5)):
    column.metric(label, f"{accuracy.value:.1%}")
    column.caption(f"95 % interval {accuracy.low:.1%} – {accuracy.high:.1%}")
k3.metric("Images in the metrics", f"{ev.top1.n:,}")
k3.caption(f"{ev.unmatched_images:,} in unmatched folders, {len(ev.skipped)} unreadable")
k4.metric("Calibration error (ECE)", f"{ev.ece:.1%}")
k4.caption(f"{len(ev.bin_count)} bins; 0 % = confidence matches accuracy")
how = "read from the results store, no pass" if ev.from_store or known else "one streaming pass"
st.caption(f"**{ev.model}** on **{ev.collection}**: {how} ({seconds:.2f} s on this visit). Weights: {ev.weights}.")
for note in ev.notes:
    st.info(note, icon=":material/info:")

counts = np.bincount(c.labels, minlength=len(c.label_names))
with st.expander(f"Folders → classes ({len(ev.matching.unmatched)} unmatched)", expanded=bool(ev.matching.unmatched)):
    st.dataframe(
        pd.DataFrame(
            {
                "folder": ev.matching.label_names,
                "images": counts,
                "model class": [f"{k}: {m.class_names[k]}" if k >= 0 else "—" for k in ev.matching.classes],
                "matched by / why not": [method or reason for method, reason in zip(ev.matching.methods, ev.matching.reasons)],
            }
        ),
        hide_index=True,
        key="eval-mapping",
    )
    if ev.matching.unmatched:
        st.warning(f"Unmatched folders (left out of the metrics): {', '.join(ev.matching.unmatched)}.", icon=":material/warning:")


def picked_data(event: Any) -> list[list[float]]:
    """The customdata of a chart's selected points (the browser sends a row as {"0": .., "1": ..})."""
    try:
        selected = list(event["selection"]["points"])
    except (KeyError, TypeError):
        return []
    rows = []
    for point in selected:
        data = point.get("customdata")
        if isinstance(data, dict):
            data = [data[k] for k in sorted(data, key=int)]
        if isinstance(data, (list, tuple)) and data:
            rows.append(list(data))
    return rows


def newly(source: str, value: Any) -> bool:
    """True once per new selection of a chart or table (the last one clicked picks the images)."""
    token = repr(value)
    if value and st.session_state.get(f"{source}|applied") != token:
        st.session_state[f"{source}|applied"] = token
        return True
    if not value:
        st.session_state.pop(f"{source}|applied", None)
    return False


def name(k: int) -> str:
    return f"'{ev.class_names[k]}'"


drill: dict[str, Any] | None = None
confusions, per_class, calibration = st.tabs(["Confusions", "Per class", "Calibration"])
with per_class:
    table = pd.DataFrame(vc.class_table(ev)).sort_values("f1", kind="stable")
    st.caption("Worst F1 first; click a column to sort, a row to see that class's images.")
    which = st.radio("A selected row shows", ["its images (recall)", "images predicted as it (precision)"], horizontal=True, key="eval-class-side")
    picked = st.dataframe(
        table,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="eval-classes",
        column_config={
            "class": st.column_config.NumberColumn("class", format="%d"),
            **{column: st.column_config.ProgressColumn(column, min_value=0.0, max_value=1.0, format="percent") for column in ("precision", "recall", "f1")},
        },
    )
    rows = list(getattr(getattr(picked, "selection", None), "rows", []) or [])
    if newly("eval-classes", (rows, which) if rows else None):
        k = int(table.iloc[rows[0]]["class"])
        drill = {"title": f"images of {name(k)}", "true": k} if which.startswith("its") else {"title": f"images predicted as {name(k)}", "predicted": k}

with confusions:
    many = len(ev.classes) > 30
    matrix_column, pairs_column = st.columns([3, 2]) if not many else (st.container(), st.container())
    with matrix_column:
        cell = st.plotly_chart(vc.figures.confusion_figure(ev), on_select="rerun", selection_mode="points", key="eval-confusion", config={"displayModeBar": False})
    with pairs_column:
        if len(ev.confused_pairs):
            pair = st.plotly_chart(vc.figures.pairs_figure(ev), on_select="rerun", selection_mode="points", key="eval-pairs", config={"displayModeBar": False})
        else:
            pair = None
            st.success("No confusions: every image is predicted as its class.", icon=":material/check_circle:")
    for source, event in (("eval-confusion", cell), ("eval-pairs", pair)):
        chosen = picked_data(event)
        if newly(source, chosen) and chosen:
            t, p = int(chosen[-1][0]), int(chosen[-1][1])
            drill = {"title": f"true {name(t)}, predicted {name(p)}", "true": t, "predicted": p}

with calibration:
    a, b = st.columns(2)
    a.plotly_chart(vc.figures.reliability_figure(ev), key="eval-reliability")
    with b:
        bar = st.plotly_chart(vc.figures.confidence_figure(ev), on_select="rerun", selection_mode="points", key="eval-confidence", config={"displayModeBar": False})
    chosen = picked_data(bar)
    if newly("eval-confidence", chosen) and chosen:
        correct, low, high = bool(chosen[-1][0]), float(chosen[-1][1]), float(chosen[-1][2])
        drill = {"title": f"{'right' if correct else 'wrong'} answers with confidence {low:.0%}–{high:.0%}", "correct": correct, "confidence": (low, high)}

st.subheader("Images")
g1, g2, g3 = st.columns([1.2, 2, 1], vertical_alignment="bottom")
if g1.button("Most confident mistakes", key="eval-mistakes", icon=":material/error:"):
    drill = {"title": "the most confident mistakes", "correct": False}
if drill is not None:
    st.session_state["eval-drill"] = {**drill, "run": run_key}
    st.session_state.pop("eval-explain", None)
current = st.session_state.get("eval-drill")
if not current or current.get("run") != run_key:
    current = {"title": "the most confident mistakes", "correct": False}
order_name = g2.selectbox("Order", list(ORDERS), key="eval-order", bind="query-params")
order, descending = ORDERS[order_name]
filters = {key: current[key] for key in ("true", "predicted", "correct", "confidence") if key in current}
rows = vc.select(ev, **filters, order=order, descending=descending)
g3.markdown(f"**{len(rows):,}** images")
st.markdown(f"Showing {min(len(rows), GALLERY)} of **{current['title']}** ({order_name}).")


def explain(row: int) -> None:
    st.session_state["eval-explain"] = {"row": int(row), "run": run_key}


if len(rows) == 0:
    st.info("No images here.", icon=":material/image_not_supported:")
columns = st.columns(6)
for position, row in enumerate(rows[:GALLERY]):
    row = int(row)
    index = int(ev.indices[row])
    with columns[position % 6]:
        st.image(resources.thumbnail(selection.model_key, c.digest, index, m, c), width=96)
        verdict = "✓" if ev.correct[row] else "✗"
        st.caption(f"{verdict} #{index} · true **{ev.class_names[ev.true[row]]}** · predicted **{ev.class_names[ev.predicted[row]]}** ({ev.confidence[row]:.0%})")
        st.button("Why?", key=f"eval-why-{row}", on_click=explain, args=(row,), icon=":material/help:")
with st.expander(f"All {len(rows):,} as a table (sortable)"):
    st.dataframe(pd.DataFrame(vc.image_table(ev, rows)).drop(columns=["row"]), hide_index=True, key="eval-table")

asked = st.session_state.get("eval-explain")
if asked and asked.get("run") == run_key and asked["row"] < len(ev.indices):
    row = asked["row"]
    index, predicted, true = int(ev.indices[row]), int(ev.predicted[row]), int(ev.true[row])
    other = true if predicted != true else int(ev.top_classes[row, 1])
    st.subheader(f"Why {name(predicted)} and not {name(other)}?")
    if predicted == true:
        st.caption(f"Image #{index} is right; it is compared with the runner-up class {name(other)}.")
    with widgets.guard("explaining the image"):
        result = resources.contrast(selection.model_key, c.digest, index, predicted, other, m, c, widgets.progress("Occluding"))
    st.caption(
        f"#{index} {c.names[index]}: p({ev.class_names[predicted]}) = {result.probabilities[0]:.1%}, p({ev.class_names[other]}) = {result.probabilities[1]:.1%}; "
        f"logit difference {result.logits[0] - result.logits[1]:.3g}. Each row compares both classes on one colour scale; "
        "in the contrastive maps, red pushes towards the prediction, blue towards the other class."
    )
    for note in result.notes:
        st.info(note, icon=":material/info:")
    st.plotly_chart(vc.figures.figure(result), key="eval-contrast")

    kind = st.session_state.get(f"eval-collection|{m.name}")
    travels = kind != "zip"

    def open_in_saliency() -> None:
        st.session_state["image"] = FROM_COLLECTION
        st.session_state["img-collection"] = kind
        if kind == "folder":
            st.session_state["img-folder"] = st.session_state.get("eval-folder", "")
        st.session_state["img-index"] = index
        st.session_state["eval-goto-saliency"] = True

    s1, s2 = st.columns([1, 2])
    s1.button("Open in Saliency & backprop", key="eval-open-saliency", on_click=open_in_saliency, disabled=not travels, icon=":material/gradient:",
              help="An uploaded zip cannot travel in a link; use a folder or a configured collection." if not travels else "The image becomes the sidebar's input image.")
    if travels:
        # a bound select box keeps its option's *label* in the URL, so the link names the labels
        config = resources.deployment()
        model_name = st.session_state.get("model", m.name)
        model_label = f"{model_name} (configured)" if any(e.name == model_name for e in config.models) else model_name
        collection_labels = {**{f"config:{e.name}": f"{e.name} (configured)" for e in config.collections}, **resources.COLLECTION_CHOICES}
        query = {"model": model_label, "image": FROM_COLLECTION, "img-collection": collection_labels.get(kind, kind), "img-index": index}
        if kind == "folder":
            query["img-folder"] = st.session_state.get("eval-folder", "")
        base = str(st.context.url or "").split("?")[0].rstrip("/")
        base = base.rsplit("/", 1)[0] if base.endswith("/evaluate") else base
        s2.markdown("Share this image with a colleague who has the same deployment:")
        name_now = st.session_state.get("model", m.name)
        chosen_weights = st.session_state.get(f"weights|{name_now}")
        if chosen_weights is not None and chosen_weights != next(iter(vc.weight_sources(name_now)), None):
            s2.caption(f"The link names the model and the image; the weights you chose ({chosen_weights}) do not travel in it.")
        s2.code(f"{base}/saliency?{urlencode(query)}", language=None)
    widgets.downloads(f"why-{index}", result, title=f"Why image {index} was misread")

st.divider()
store = resources.result_store()
entries = store.entries()
d1, d2 = st.columns([3, 1], vertical_alignment="center")
d1.caption(f"Results store: {len(entries)} entries, {sum(e.bytes for e in entries) / 2**20:.1f} MB in `{store.root}` (set CONVLENS_CACHE_DIR / CONVLENS_CACHE_MAX_MB).")
if d2.button("Clear the results store", key="eval-clear", icon=":material/delete:"):
    store.clear()
    resources.evaluation.clear()
    resources.stored_evaluation.clear()
    st.session_state.pop("eval-requested", None)
    st.rerun()
widgets.downloads("evaluation", ev, title=f"Evaluation: {ev.model} on {ev.collection}")
