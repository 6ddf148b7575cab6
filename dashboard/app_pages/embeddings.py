"""Embeddings: a collection's feature vectors on a 2-D map, neighbours, and the t-SNE grid picture."""
from __future__ import annotations

import numpy as np
import streamlit as st

import viz_core as vc
from dashboard import resources, widgets

PENULTIMATE = "(penultimate code)"

widgets.page_header(
    "Embeddings",
    "Each image of a collection becomes one point: the network's feature vector for it, squeezed onto a "
    "2-D map so that images the network finds similar land close together — the lecture's fc7 t-SNE "
    "(van der Maaten & Hinton, 2008). Below, an image's nearest neighbours by the network's features next "
    "to its nearest neighbours by raw pixels (Krizhevsky et al., 2012).",
    "**Features**: timm's `forward_head(forward_features(x), pre_logits=True)` (the vector the classifier "
    "reads), or any layer, global-average pooled or flattened. **PCA** is linear and keeps global distances; "
    "**t-SNE** (openTSNE) keeps neighbourhoods — *perplexity* ≈ neighbours each point cares about; **UMAP** "
    "(umap-learn) also keeps neighbourhoods — *n_neighbors* sets locality, *min_dist* how tightly points pack. "
    "t-SNE and UMAP first reduce to 50 dimensions with PCA. Distances between clusters on t-SNE/UMAP maps "
    "mean little. Neighbours: cosine distance of features; Euclidean distance of the downscaled pixels.",
)
selection = widgets.current()
m = selection.model
with widgets.guard("reading the collection"):
    c = widgets.collection_picker(m, "embeddings")

with st.form("embeddings-form"):
    a, b, d = st.columns([2, 1, 1])
    options = [PENULTIMATE] + [info.path for info in m.layers() if info.layout in ("map", "tokens", "vector") and info.kind != "other"]
    layer_choice = a.selectbox("Features from", options, key=f"embeddings-layer|{m.name}", bind="query-params")
    pool = b.radio("Pooling (layers)", ["avg", "flatten"], format_func={"avg": "global average", "flatten": "flatten"}.get, key="embeddings-pool", bind="query-params")
    limit = d.number_input("Point cap (sampled)", 50, 10_000, 2_000, step=250, key="embeddings-limit", bind="query-params")
    e, f1, f2, f3, g = st.columns([1.4, 1, 1, 1, 1])
    method = e.radio("Projection", ["tsne", "umap", "pca"], format_func={"tsne": "t-SNE", "umap": "UMAP", "pca": "PCA"}.get, horizontal=True, key="embeddings-method", bind="query-params")
    perplexity = f1.number_input("t-SNE perplexity", 2.0, 100.0, 30.0, key="embeddings-perplexity", bind="query-params")
    n_neighbors = f2.number_input("UMAP n_neighbors", 2, 200, 15, key="embeddings-neighbors", bind="query-params")
    min_dist = f3.number_input("UMAP min_dist", 0.0, 1.0, 0.1, step=0.05, key="embeddings-min-dist", bind="query-params")
    seed = g.number_input("Seed", 0, 10_000, 0, key="embeddings-seed", bind="query-params")
    colour = st.radio(
        "Colour by", ["label", "predicted", "correct"], format_func={"label": "collection label", "predicted": "predicted class", "correct": "right / wrong"}.get,
        horizontal=True, key="embeddings-colour", bind="query-params",
        help="Right / wrong matches the collection's labels to the model's classes as the Evaluate page does (name, WordNet id or index).",
    )
    st.form_submit_button("Compute map", type="primary")

layer = None if layer_choice == PENULTIMATE else layer_choice
holder = st.empty()
with widgets.guard("computing the embedding"), holder.container():
    feats = resources.features(selection.model_key, c.digest, layer, pool, int(limit), int(seed), m, c, widgets.progress("Collecting features"))
    if method == "umap":
        resources.umap_ready(widgets.progress("Preparing UMAP"))
    features_key = f"{selection.model_key}|{c.digest}|{layer}|{pool}|{int(limit)}|{int(seed)}"
    proj = resources.projection(features_key, method, int(seed), float(perplexity), int(n_neighbors), float(min_dist), feats, widgets.progress("Projecting"))
holder.empty()

widgets.random_weights_warning(m, "the features are random projections of the pixels, so clusters mostly reflect colour and layout.")
if len(feats.values) < len(c):
    st.info(f"Showing a random sample of {len(feats.values)} of {len(c)} images (raise the point cap for more).", icon=":material/info:")
label_text = np.asarray([feats.label_names[i] for i in feats.labels], dtype=object)
predicted_text = np.asarray([feats.class_names[i] if i >= 0 else "(no classifier head)" for i in feats.predicted], dtype=object)
true_class = vc.match_labels(feats.label_names, feats.class_names).targets(feats.labels)
verdict = np.where(true_class < 0, "label is no class", np.where(true_class == feats.predicted, "right", "wrong")).astype(object)
groups = {"label": label_text, "predicted": predicted_text, "correct": verdict}[colour]
if colour == "correct" and (true_class < 0).all():
    st.warning("None of the collection's labels is one of the model's classes, so no answer can be called right or wrong.", icon=":material/warning:")
hover = [f"#{r}: {feats.names[r]}<br>label: {label_text[r]}<br>predicted: {predicted_text[r]} ({verdict[r]})" for r in range(len(feats.values))]
what = "penultimate code" if layer is None else f"{layer} ({pool})"
chosen = int(st.session_state.get("embeddings-query", 0)) % len(feats.values)

chart, side = st.columns([3, 1.2])
with chart:
    event = st.plotly_chart(
        vc.figures.embedding_scatter(proj.coords, groups, hover, f"{method.upper() if method != 'tsne' else 't-SNE'} of {feats.values.shape[1]}-d {what}, {len(feats.values)} images of {feats.collection}", highlight=chosen),
        on_select="rerun",
        selection_mode=("points", "box", "lasso"),
        key="embeddings-scatter",
    )
    st.caption(f"{proj.method} took {proj.seconds:.1f} s. Click, box- or lasso-select points to see their images.")
points = getattr(getattr(event, "selection", None), "points", None) or []
selected = [int(p["customdata"]) for p in points if p.get("customdata") is not None]
with side:
    if selected:
        st.markdown(f"**{len(selected)} selected** (first 24)")
        st.image([feats.thumbnails[r] for r in selected[:24]], caption=[f"#{r} {label_text[r]}" for r in selected[:24]], width=72)
    else:
        st.markdown("**Select points** on the map to see their images here.")

st.subheader("Nearest neighbours: features vs pixels")
if selected and st.session_state.get("embeddings-last-selection") != selected[0]:
    st.session_state["embeddings-last-selection"] = selected[0]
    st.session_state["embeddings-query"] = selected[0]  # a new selection on the map picks the query image
if st.session_state.get("embeddings-query", 0) >= len(feats.values):
    st.session_state["embeddings-query"] = 0
query = int(st.number_input(f"Image # (0–{len(feats.values) - 1}; selecting a point on the map picks it)", 0, len(feats.values) - 1, key="embeddings-query", bind="query-params"))
with widgets.guard("finding neighbours"):
    near_features = vc.neighbours(feats, query, k=8, space="features")
    near_pixels = vc.neighbours(feats, query, k=8, space="pixels")
q, rows = st.columns([1, 6])
q.image(feats.thumbnails[query], caption=f"#{query} {label_text[query]}", width=96)
with rows:
    st.markdown("**In feature space** (what the network finds similar)")
    st.image([feats.thumbnails[r] for r in near_features.indices], caption=[f"{label_text[r]} · {d:.3f}" for r, d in zip(near_features.indices, near_features.distances)], width=80)
    st.markdown("**In pixel space** (what looks similar pixel by pixel)")
    st.image([feats.thumbnails[r] for r in near_pixels.indices], caption=[f"{label_text[r]} · {d:.1f}" for r, d in zip(near_pixels.indices, near_pixels.distances)], width=80)
same_f = float(np.mean(feats.labels[near_features.indices] == feats.labels[query]))
same_p = float(np.mean(feats.labels[near_pixels.indices] == feats.labels[query]))
st.caption(f"Neighbours with the same label: {same_f:.0%} in feature space, {same_p:.0%} in pixel space.")

st.subheader("The map as a picture")
grid = st.slider("Grid cells per side", 8, 48, 24 if len(feats.values) >= 500 else 14, key="embeddings-grid", bind="query-params")
picture = vc.mosaic(proj.coords, feats.thumbnails, grid)
st.plotly_chart(vc.figures.image(picture, f"Each cell shows the image nearest its centre on the {method} map", height=720), key="embeddings-mosaic")
widgets.downloads(f"embedding-{method}", {"features": feats, "projection": proj}, title=f"Embedding ({method})")
