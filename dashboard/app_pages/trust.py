"""Trust: which attribution map should I believe? Deletion / insertion and randomisation checks."""
from __future__ import annotations

import streamlit as st

import viz_core as vc
from dashboard import resources, widgets

widgets.page_header(
    "Trust",
    "Attribution maps disagree, so which one should you believe for this model and this image? Two tests. "
    "**Deletion / insertion** (Petsiuk et al., 2018): remove the pixels a map ranks first and the class "
    "probability should fall fast; reveal them on a blurred copy and it should rise fast. **Sanity checks** "
    "(Adebayo et al., 2018): destroy the model's weights and a map that explains the model must change; one "
    "that stays the same shows the image (edges), not what the model learned.",
    """
**How to read this**
- *Deletion*: the map's top-ranked pixels (or patches) are replaced by the baseline in steps; the curve is the
  class probability. A **small area** means the map found what the model needs. *Insertion*: start from a blurred
  copy and put the top-ranked pixels back; a **large area** is good. The dashed grey line is a random order: a map
  that does not beat it tells you nothing about this model.
- The table ranks the methods by insertion area − deletion area on this image; over a collection the areas are
  means over images with 95 % t-intervals. Gradient maps are noisy per pixel: try patches of 8 or 16 px.
- *Model randomisation*: cascading re-draws the weights of the layer groups from the classifier down to the stem
  (each tensor gets Gaussian noise with its own mean and spread), on a private copy of the model. Each method's map
  is compared with the original by the Spearman rank correlation and SSIM, of |map| and of the signed map. A method
  whose |map| correlation stays ≥ 0.5 once the top half of the layer groups is random is marked **insensitive to
  the model** (the grey vertical line in the curves). With every layer random all maps end low, so the last stage
  separates nothing; the paper's point is that some maps do not notice the loss of the upper half of the network.
  *Independent* randomises one group at a time.
- *Data randomisation* (digits demo): the same network trained on shuffled labels learned no digit; a map that
  looks the same for both cannot be explaining what was learned from the labels.
- Papers: V. Petsiuk, A. Das, K. Saenko, *RISE: Randomized Input Sampling for Explanation of Black-box Models*
  (BMVC 2018); J. Adebayo, J. Gilmer, M. Muelly, I. Goodfellow, M. Hardt, B. Kim, *Sanity Checks for Saliency Maps*
  (NeurIPS 2018).
""",
)
selection = widgets.current()
m = selection.model
with widgets.guard("reading the predictions"):
    top = resources.predictions(selection.model_key, selection.image_key, m, selection.image, top_k=5)
widgets.random_weights_warning(m, "no map can explain learned evidence; the checks show how maps behave on an untrained model.")
_, height, width = m.input_size
LABELS = vc.METHOD_LABELS

with st.expander("Methods and their settings"):
    a, b, c = st.columns([2, 1, 1])
    methods = tuple(a.multiselect("Methods", vc.TRUST_METHODS, default=list(vc.TRUST_METHODS), format_func=LABELS.get, key="trust-methods", bind="query-params"))
    samples = b.select_slider("SmoothGrad samples", [4, 8, 16, 32], value=8, key="trust-smooth", bind="query-params")
    steps = c.select_slider("Integrated-gradients steps", [4, 8, 16, 32], value=8, key="trust-ig", bind="query-params")
    st.caption("Occlusion hides squares of a seventh of the image side, side by side (stride = patch). Fewer samples and steps than on the "
               "Saliency page keep a check to a few seconds; the ranking rarely changes with more.")
if not methods:
    st.info("Pick at least one method.", icon=":material/info:")
    st.stop()
occluder = max(1, round(min(height, width) / 7))
settings = vc.MapSettings(smooth_samples=samples, ig_steps=steps, occlusion_patch=occluder, occlusion_stride=occluder)

# --- deletion and insertion on this image --------------------------------------------------------
st.subheader("Deletion and insertion on this image")
with st.form("trust-faith"):
    klass = widgets.class_picker(m, "Class", "trust-class", default=top[0].index)
    a, b, c = st.columns(3)
    step = a.select_slider("Step (fraction per point)", [0.02, 0.05, 0.1, 0.2], value=0.1, key="trust-step", bind="query-params")
    patches = [p for p in (1, 4, 8, 16) if p <= min(height, width)]
    patch = b.select_slider("Unit (pixels per side)", patches, value=patches[0], key="trust-patch", bind="query-params", help="1: single pixels; larger: square patches ranked by their mean importance.")
    baseline = c.selectbox("Deletion baseline", ["mean", "blurred", "black"], key="trust-baseline", bind="query-params",
                           format_func={"mean": "data mean (grey)", "blurred": "blurred copy", "black": "black"}.get)
    st.form_submit_button("Run deletion and insertion", type="primary")
with widgets.guard("scoring deleted and inserted pictures"):
    on_faith = widgets.progress("Deletion and insertion")
    faith = resources.faithfulness(selection.model_key, selection.image_key, vc.class_logit(klass), methods, settings, step, patch, baseline, m, selection.image, _on_step=on_faith)
for note in faith.notes:
    st.info(note, icon=":material/info:")
st.plotly_chart(vc.figures.figure(faith), key="trust-curves")
rows = faith.table()
st.dataframe(
    [{"rank": r["rank"], "method": LABELS.get(r["method"], r["method"]), "deletion area ↓": round(r["deletion"], 4), "insertion area ↑": round(r["insertion"], 4),
      "insertion − deletion": round(r["insertion − deletion"], 4), "beats random": "both" if r["beats random (deletion)"] and r["beats random (insertion)"] else
      ("deletion only" if r["beats random (deletion)"] else ("insertion only" if r["beats random (insertion)"] else "no"))} for r in rows],
    hide_index=True, key="trust-table",
)
best = rows[0]
st.caption(f"On this image **{LABELS.get(best['method'], best['method'])}** ranks first. p({m.class_names[klass]}) = {faith.score:.1%} on the whole image; "
           f"{faith.params['units']} units, {len(faith.fractions)} points per curve, {len(faith.fractions) * 2 * (len(faith.methods) + 1)} pictures.")

# --- over a collection ---------------------------------------------------------------------------
st.subheader("Over a collection")
with widgets.guard("reading the collection"):
    collection = widgets.collection_picker(m, "trust")
with st.form("trust-summary"):
    images = st.select_slider("Images (each explains its own top-1 class)", [4, 8, 16, 32, 64], value=32, key="trust-images", bind="query-params")
    run_summary = st.form_submit_button("Run over the collection", type="secondary")
summary_key = ("trust-summary", selection.model_key, collection.digest, images, methods, settings, step, patch, baseline)
if run_summary:
    st.session_state["trust-summary-run"] = summary_key
summary_args = (selection.model_key, collection.digest, images, methods, settings, step, patch, baseline, m, collection)
with widgets.guard("reading the results store"):
    summary = None if run_summary else resources.known_faithfulness_summary(*summary_args)
if summary is None and st.session_state.get("trust-summary-run") == summary_key:
    with widgets.guard("scoring the collection"):
        on_summary = widgets.progress(f"Deletion and insertion over {images} images")
        summary = resources.faithfulness_summary(*summary_args, _on_step=on_summary)
if summary is not None:
    how = "read from the results store, no picture scored" if summary.from_store else "scored now and saved to the results store"
    st.caption(f"{len(summary.names)} images of {summary.collection}, {how}.")
    st.plotly_chart(vc.figures.figure(summary), key="trust-summary-fig")
    st.dataframe(
        [{"rank": r["rank"], "method": LABELS.get(r["method"], r["method"]), "deletion ↓": round(r["deletion"], 4),
          "deletion 95%": f"{r['deletion 95% low']:.3f} – {r['deletion 95% high']:.3f}", "insertion ↑": round(r["insertion"], 4),
          "insertion 95%": f"{r['insertion 95% low']:.3f} – {r['insertion 95% high']:.3f}", "images": r["images"]} for r in summary.table()],
        hide_index=True, key="trust-summary-table",
    )
else:
    st.caption(f"About {len(methods) + 1} curves of {len(faith.fractions)} points each per image, plus every map: a few seconds per image on a CPU.")

# --- model randomisation -------------------------------------------------------------------------
st.subheader("Model randomisation")
with widgets.guard("checking the maps against a randomised model"):
    quick = resources.quick_sanity(selection.model_key, selection.image_key, vc.class_logit(klass), m, selection.image)
verdict = ", ".join(f"{LABELS[r['method']]} {r['spearman |map|']:.2f}" for r in quick.table())
if quick.insensitive:
    st.warning(f"**Insensitive to the model:** {', '.join(LABELS[n] for n in quick.insensitive)} — with the top half of the network random ({quick.stages[1]}), the "
               f"|map| keeps a rank correlation ≥ {quick.threshold:g} with the original (quick check: {verdict}).", icon=":material/gpp_maybe:")
else:
    st.success(f"Quick check with the top half of the network random ({quick.stages[1]}): every backprop rule's map changes "
               f"(|map| rank correlation with the original: {verdict}).", icon=":material/verified:")
with st.form("trust-random"):
    a, b = st.columns([1, 2])
    mode = a.radio("Randomise", ["cascading", "independent"], horizontal=True, key="trust-mode", bind="query-params",
                   format_func={"cascading": "cascading (top down)", "independent": "one group at a time"}.get)
    groups = vc.layer_groups(m)
    b.caption(f"{len(groups)} layer groups, from the top: {', '.join(label for label, _ in groups[::-1][:6])}{'…' if len(groups) > 6 else ''}. "
              f"Each stage recomputes every chosen map on a private copy.")
    run_random = st.form_submit_button("Randomise and compare", type="secondary")
random_key = ("trust-random", selection.model_key, selection.image_key, klass, mode, methods, settings)
if run_random:
    st.session_state["trust-random-run"] = random_key
if st.session_state.get("trust-random-run") == random_key:
    with widgets.guard("randomising the model"):
        on_random = widgets.progress(f"{mode.capitalize()} randomisation")
        sanity = resources.model_randomisation(selection.model_key, selection.image_key, vc.class_logit(klass), mode, methods, settings, m, selection.image, _on_step=on_random)
    absolute = st.toggle("Show |map| (else signed)", value=True, key="trust-abs")
    st.plotly_chart(vc.figures.sanity_grid(sanity, absolute=absolute), key="trust-grid")
    st.plotly_chart(vc.figures.figure(sanity), key="trust-sanity-curves")
    st.dataframe([{**r, "method": LABELS[r["method"]]} for r in sanity.table()], hide_index=True, key="trust-sanity-table")
    for note in sanity.notes:
        st.caption(note)
else:
    st.caption(f"Cascading randomisation of {len(groups)} groups with {len(methods)} methods takes about {len(groups) + 1} times the maps of one image.")

# --- data randomisation (digits demo) ------------------------------------------------------------
st.subheader("Data randomisation")
if m.name != "digits_cnn":
    st.info("This needs the same model trained on shuffled labels. The digits demo has one: choose **digits_cnn** in the sidebar.", icon=":material/info:")
else:
    with widgets.guard("comparing with the model trained on shuffled labels"):
        shuffled = resources.model("digits_cnn_shuffled", "bundled")
        data_check = resources.data_randomisation(selection.image_key, vc.class_logit(klass), methods, settings, m, shuffled, selection.image)
    left, right = st.columns([1, 2])
    left.plotly_chart(vc.figures.sanity_grid(data_check, height_per_row=120), key="trust-data-grid")
    right.dataframe([{**r, "method": LABELS[r["method"]]} for r in data_check.table()], hide_index=True, key="trust-data-table")
    right.caption("Left: each method's |map| for the model trained on digits and for the same network trained on shuffled labels "
                  "(it learned no digit). Right: how alike the two maps are.")
    if data_check.insensitive:
        st.warning(f"**Insensitive to the labels:** {', '.join(LABELS[n] for n in data_check.insensitive)} look alike for a model that learned digits and one that learned nothing.", icon=":material/gpp_maybe:")

widgets.downloads("trust", {"faithfulness": faith, "randomisation": quick}, title=f"Trust checks: {m.name}")
