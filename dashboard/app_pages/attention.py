"""Attention: where a vision transformer's heads look, rolled out through the blocks, and weighted by a class."""
from __future__ import annotations

import streamlit as st

import viz_core as vc
from dashboard import resources, widgets

widgets.page_header(
    "Attention",
    "A vision transformer mixes its image patches through attention: in every block, each head gives the "
    "class token a probability for every patch to read from. The first map shows one block's heads on the "
    "image; *rollout* (Abnar & Zuidema, 2020) multiplies the blocks' attention to follow the information "
    "from the patches to the class token; *gradient-weighted attention* (Chefer, Gur & Wolf, 2021) keeps "
    "only attention whose increase raises one class's score, so it changes with the class.",
    """
- **Attention of a head**: the softmax row softmax(q·kᵀ/√d) of the class token (or, for models without a
  class token, the mean over patch-token queries), restricted to the patch tokens. The rest goes to the
  class, distillation or register tokens, which have no place on the image (panel titles give the share).
  convlens recomputes the probabilities from the block's own q and k in a hook and checks that they
  rebuild the block's output exactly; the shared model keeps its fast fused kernels.
- **Rollout**: per block, fuse the heads (mean, max or min), zero each row's weakest *discard ratio* of
  weights, add the identity for the residual connection, renormalise rows, and multiply the blocks in
  order. The class token's row over the patches is drawn. Class-agnostic.
- **Gradient-weighted attention**: R = I; per block R ← R + mean over heads of ReLU(∂score/∂A ⊙ A) · R,
  with the score the chosen class's logit.
- Only **global** self-attention has maps that cover the image: windowed attention (Swin, MaxViT) attends
  within windows, and CNNs have no attention. Use Grad-CAM on the token grid or a feature map there.
""",
)
selection = widgets.current()
m = selection.model

try:
    blocks = resources.attention_blocks(selection.model_key, m)
except vc.LayerError as error:  # a CNN, an MLP model, windowed attention: the reason, and what to use instead
    st.info(f"**Attention maps are not available for {m.name}.** {error.message}  \n{error.hint}", icon=":material/block:")
    st.stop()

paths = [block.path for block in blocks]
left, right = st.columns([1, 1])
with left:
    path = st.selectbox(
        "Block", paths, index=len(paths) - 1, key=f"att-block|{m.name}", bind="query-params",
        format_func=lambda p: f"{paths.index(p)}: {p}  ·  {blocks[paths.index(p)].heads} heads  ·  {blocks[paths.index(p)].tokens} tokens",
        help="The global self-attention blocks in the order the forward runs them.",
    )
    block = blocks[paths.index(path)]
    head_options = ["mean"] + list(range(block.heads))
    head = st.selectbox(
        "Head for the large map", head_options, key=f"att-head|{m.name}|{path}", bind="query-params",
        format_func=lambda h: "mean over all heads" if h == "mean" else f"head {h}",
    )
with right:
    opacity = st.slider("Overlay opacity", 0.0, 1.0, 0.55, 0.05, key="att-opacity", bind="query-params")
    columns = st.select_slider("Heads per row", [2, 3, 4, 6], value=4, key="att-columns", bind="query-params")

with widgets.guard("reading the attention"):
    heads = resources.attention_maps(selection.model_key, selection.image_key, path, m, selection.image)
widgets.random_weights_warning(m, "the maps show how the architecture mixes patches, not what a trained model attends to.")
for note in heads.notes:
    st.info(note, icon=":material/info:")

st.subheader(f"Block {paths.index(path)}: {path}")
a, b = st.columns([1, 1.4])
a.plotly_chart(vc.figures.attention_overlay(heads, None if head == "mean" else int(head), opacity=opacity), key="att-overlay")
b.plotly_chart(vc.figures.attention_heads_grid(heads, columns=columns, opacity=min(1.0, opacity + 0.1)), key="att-heads")

st.subheader("Through all blocks")
c, d = st.columns(2)
with c:
    st.markdown("**Attention rollout** (class-agnostic)")
    e, f = st.columns(2)
    fusion = e.radio("Head fusion", vc.HEAD_FUSIONS, horizontal=True, key="att-fusion", bind="query-params", help="How one block's heads become one matrix: the paper uses the mean.")
    discard = f.slider("Discard ratio", 0.0, 0.95, 0.9, 0.05, key="att-discard", bind="query-params", help="Zero each row's weakest share of weights before the product (0 keeps all).")
    rollout = None
    with widgets.guard("rolling out the attention"):
        try:
            rollout = resources.attention_rollout(selection.model_key, selection.image_key, fusion, float(discard), m, selection.image)
        except vc.LayerError as error:  # no chain of blocks to multiply (e.g. only class attention): say why, keep the page
            st.info(f"{error.message}  \n{error.hint}", icon=":material/info:")
    if rollout is not None:
        st.plotly_chart(vc.figures.figure(rollout, opacity=opacity), key="att-rollout")
        for note in rollout.notes:
            st.caption(note)
with d:
    st.markdown("**Gradient-weighted attention** (for one class)")
    gradient = None
    if m.num_classes == 0:
        st.info(f"{m.name} has no classifier head, so there is no class whose gradient could weight the attention. Rollout (left) needs no class.", icon=":material/info:")
    else:
        with widgets.guard("reading the predictions"):
            top = resources.predictions(selection.model_key, selection.image_key, m, selection.image, top_k=1)
        klass = widgets.class_picker(m, "Class", "att-class", default=top[0].index, help="Defaults to the model's top-1 class on this image.")
        with widgets.guard("weighting the attention by the class's gradient"):
            try:
                gradient = resources.gradient_attention(selection.model_key, selection.image_key, vc.class_logit(klass), m, selection.image)
            except vc.LayerError as error:
                st.info(f"{error.message}  \n{error.hint}", icon=":material/info:")
        if gradient is not None:
            st.plotly_chart(vc.figures.figure(gradient, opacity=opacity), key="att-gradient")
            st.caption(f"Score of the target: {gradient.score:.4g}.")
            for note in gradient.notes:
                st.caption(note)

widgets.downloads("attention", {"attention": heads, "rollout": rollout, "gradient_attention": gradient}, title=f"Attention: {m.name}")
