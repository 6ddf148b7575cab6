"""Compare: models side by side on one image, methods side by side on one model, CKA between layers."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

import viz_core as vc
from dashboard import resources, widgets

widgets.page_header(
    "Compare",
    "Put checkpoints or architectures side by side on the sidebar's image: what each predicts, and where each "
    "one's evidence sits, drawn on **one colour scale**. The rank correlation (Spearman's ρ) says how much two "
    "maps agree on *which* pixels matter most. Below, one model's attribution methods side by side, and how "
    "similar two models' layers are over a whole collection (linear CKA, Kornblith et al., 2019).",
    """
- **One scale**: every map is divided by its own 99.5th percentile |value|, so maps of differently scaled models
  share the colour bar; the difference map (A − B) is shown where two maps have the same size.
- **Spearman's ρ** of two maps: the correlation of their pixel ranks (1 = the same order, 0 = unrelated). Maps of
  models with other input sizes are resampled to the smaller size first.
- **Grad-CAM layer**: each model's own default layer, or the stage output at the same *relative depth* (0 = first
  stage, 1 = last), so a CNN and a ViT are read at comparable points.
- **Linear CKA** between representations X (N×D₁) and Y (N×D₂) of the same N images, columns centred:
  ‖YᵀX‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F). It is 1 for representations equal up to rotation and scale. Each layer is
  average-pooled to at most 4×4 positions first.
""",
)
selection = widgets.current()
m = selection.model
names = resources.model_names()


def slot(index: int, column: st.delta_generator.DeltaGenerator) -> tuple[str, str] | None:
    """Model and weights pickers for one compared model (the first is the sidebar's)."""
    if index == 0:
        column.markdown(f"**{m.name}**  \n{m.weights}")
        return selection.model_key.split("|", 1)[0], selection.model_key.split("|", 1)[1]
    default = "efficientnet_lite1" if m.name != "efficientnet_lite1" else "efficientnet_lite0"
    name = column.selectbox(f"Model {index + 1}", names, index=names.index(default) if default in names else 0, key=f"cmp-model-{index}", bind="query-params")
    sources = vc.weight_sources(name)
    labels = {**sources, "file": "Upload a checkpoint"} if "file" in sources else sources
    weights = column.selectbox("Weights", list(labels), format_func=labels.get, key=f"cmp-weights-{index}|{name}", bind="query-params")
    if weights == "file":
        upload = column.file_uploader("Checkpoint", type=["safetensors", "pth", "pt", "bin"], key=f"cmp-checkpoint-{index}")
        if upload is None:
            column.info("Upload a checkpoint for this model.", icon=":material/upload_file:")
            return None
        weights = str(resources.save_upload(upload.getvalue(), Path(upload.name).suffix))
    return name, weights


def load(index: int, choice: tuple[str, str], column: st.delta_generator.DeltaGenerator) -> vc.LoadedModel | None:
    """The model, or its message in its own column (the other columns go on)."""
    if index == 0:
        return m
    try:
        return resources.compare_model(*choice)
    except vc.ConvlensError as error:
        column.error(f"**{error.message}**" + (f"  \n{error.hint}" if error.hint else ""), icon=":material/error:")
    except Exception as error:  # noqa: BLE001 - one broken model must not take the page down
        column.error(f"**This model could not be loaded:** {type(error).__name__}: {str(error)[:200]}", icon=":material/bug_report:")
    return None


count = int(st.radio("Models to compare", [2, 3, 4], horizontal=True, key="cmp-count", bind="query-params"))
columns = st.columns(count)
loaded: dict[str, tuple[str, vc.LoadedModel]] = {}  # label -> (model key, model)
for index, column in enumerate(columns):
    choice = slot(index, column)
    model = load(index, choice, column) if choice else None
    if model is None:
        continue
    label = f"{index + 1}: {model.name}" + (" (random)" if model.is_random else "")
    key = "|".join(choice)  # type: ignore[arg-type]
    try:
        top = resources.predictions(key, selection.image_key, model, selection.image, top_k=3)
    except vc.ConvlensError as error:
        column.error(f"**{error.message}** {error.hint}", icon=":material/error:")
        continue
    column.plotly_chart(vc.figures.predictions_bar([p.label for p in top], [p.probability for p in top], title=label), key=f"cmp-pred-{index}")
    loaded[label] = (key, model)

if len(loaded) < 2:
    st.info("Two models must load to compare them; fix or change the others above.", icon=":material/compare:")
    st.stop()

a, b, c = st.columns(3)
method = a.selectbox("Attribution method", [k for k in vc.METHODS if k not in ("grad_cam", "occlusion")], format_func=vc.METHODS.get, key="cmp-method", bind="query-params")
where = b.radio("Grad-CAM layer", ["each model's default", "same relative depth"], key="cmp-where", bind="query-params")
depth = c.slider("Relative depth", 0.0, 1.0, 1.0, 0.05, key="cmp-depth", disabled=where != "same relative depth", bind="query-params")
shared_classes = len({tuple(model.class_names) for _, model in loaded.values()}) == 1
target_kind = st.radio(
    "Explain", ["each model's top-1 class", "one class for all"] if shared_classes else ["each model's top-1 class"],
    horizontal=True, key="cmp-target", help="One class for all needs models with the same classes.", bind="query-params",
)
first = next(iter(loaded.values()))[1]
chosen_class = widgets.class_picker(first, "Class", "cmp-class") if target_kind == "one class for all" else None

attributions: dict[str, object] = {}
cams: dict[str, object] = {}
exported: dict[str, object] = {}  # the same results under names a zip can hold
for number, (label, (key, model)) in enumerate(loaded.items(), start=1):
    target = vc.class_logit(chosen_class if chosen_class is not None else resources.predictions(key, selection.image_key, model, selection.image, top_k=3)[0].index)
    try:
        layer = vc.relative_layer(model, depth) if where == "same relative depth" else vc.default_layer(model, "grad_cam")
        attributions[label] = resources.explained(key, selection.image_key, method, target, None, model, selection.image)
        cams[f"{label} · {layer}"] = resources.explained(key, selection.image_key, "grad_cam", target, layer, model, selection.image)
        exported[f"model{number}-{method}"], exported[f"model{number}-grad_cam"] = attributions[label], cams[f"{label} · {layer}"]
    except vc.ConvlensError as error:
        st.error(f"**{label}: {error.message}** {error.hint}", icon=":material/error:")


def show(results: dict[str, object], what: str, key: str, differences: bool = True) -> vc.MapComparison | None:
    """Maps side by side on one scale, the differences, and ρ between every pair."""
    if len(results) < 2:
        st.info(f"{what}: fewer than two maps to compare.", icon=":material/info:")
        return None
    comparison = vc.compare_maps(results, differences=differences, title=what)
    st.plotly_chart(vc.figures.figure(comparison, columns=min(len(results), 4)), key=f"{key}-maps")
    for note in comparison.notes:
        st.caption(note)
    labels = list(comparison.names)
    left, _ = st.columns([3, 2])
    left.plotly_chart(vc.figures.matrix_figure(comparison.correlation, labels, labels, f"Spearman's ρ between the maps: {what}", height=160 + 45 * len(labels)), key=f"{key}-rho")
    return comparison


st.subheader("Models side by side")
for label, (_, model) in loaded.items():
    if model.is_random:
        st.warning(f"{label} has random weights: its maps show the architecture, not learned evidence.", icon=":material/warning:")
show(attributions, vc.METHODS[method], "cmp-attr")
show(cams, "Grad-CAM", "cmp-cam")
widgets.downloads("compare-models", exported, title=f"Compare: {', '.join(loaded)}")

st.subheader(f"One model, several methods: {m.name}")
methods = st.multiselect("Methods", list(vc.METHODS), default=["vanilla", "guided", "integrated_gradients", "grad_cam"], format_func=vc.METHODS.get, key="cmp-methods", bind="query-params")
top1 = vc.class_logit(resources.predictions(selection.model_key, selection.image_key, m, selection.image, top_k=1)[0].index)
by_method: dict[str, object] = {}
with widgets.guard("computing the attributions"):
    for name in methods:
        by_method[name] = resources.explained(selection.model_key, selection.image_key, name, top1, None, m, selection.image)
if by_method:
    show({vc.METHODS[name]: result for name, result in by_method.items()}, f"methods on {m.name}", "cmp-methods", differences=False)
    widgets.downloads("compare-methods", by_method, title=f"Methods on {m.name}")

st.subheader("Representations: linear CKA between layers")
st.caption("How similar two models' stage outputs are over a collection of images (also a model with itself). Click a cell to see both layers' maps of the collection; select images in one to find them in the other.")
labels = list(loaded)
p, q, r = st.columns(3)
label_a = p.selectbox("Model A", labels, index=0, key="cmp-cka-a")
label_b = q.selectbox("Model B", labels, index=min(1, len(labels) - 1), key="cmp-cka-b")
limit = r.select_slider("Images", [64, 128, 256, 512], value=128, key="cmp-cka-limit", bind="query-params")
key_a, model_a = loaded[label_a]
key_b, model_b = loaded[label_b]
c_source = widgets.collection_picker(model_a, "cmp-cka")
if st.button("Compute CKA", key="cmp-cka-run", icon=":material/play_arrow:", type="primary"):
    st.session_state["cmp-cka-wanted"] = (key_a, key_b, c_source.digest, limit)
if st.session_state.get("cmp-cka-wanted") != (key_a, key_b, c_source.digest, limit):
    st.info("Press **Compute CKA** to run both models over the collection.", icon=":material/play_arrow:")
    st.stop()
with widgets.guard("comparing the layers"):
    similarity = resources.layer_similarity(key_a, key_b, c_source.digest, limit, 4, model_a, model_a if key_b == key_a else model_b, c_source, widgets.progress("Running the collection through both models"))
st.plotly_chart(vc.figures.figure(similarity), on_select="rerun", selection_mode="points", key="cmp-cka-matrix", config={"displayModeBar": False})
cell = widgets.clicked_cell(st.session_state.get("cmp-cka-matrix"))
row, column = cell if cell is not None else (len(similarity.layers_a) - 1, len(similarity.layers_b) - 1)
row, column = min(max(row, 0), len(similarity.layers_a) - 1), min(max(column, 0), len(similarity.layers_b) - 1)
st.caption(f"CKA({similarity.layers_a[row]}, {similarity.layers_b[column]}) = {similarity.cka[row, column]:.3f}")
picked_key = "cmp-cka-picked"
try:
    points = st.session_state["cmp-cka-pair"]["selection"]["points"]
except (KeyError, TypeError):
    points = []
if points:
    st.session_state[picked_key] = sorted({int(point["customdata"]) for point in points if "customdata" in point})
picked = st.session_state.get(picked_key, [])
st.plotly_chart(vc.figures.embedding_pair(similarity, row, column, selected=picked), on_select="rerun", selection_mode=("box", "lasso"), key="cmp-cka-pair")
if picked:
    st.caption(f"{len(picked)} images selected: {', '.join(str(int(similarity.indices[i])) for i in picked[:20])}{' …' if len(picked) > 20 else ''}")
    st.button("Clear the selection", key="cmp-cka-clear", on_click=lambda: st.session_state.pop(picked_key, None))
widgets.downloads("compare-cka", similarity, title=f"Linear CKA: {model_a.name} vs {model_b.name}")
