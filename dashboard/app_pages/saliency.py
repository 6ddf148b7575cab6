"""Saliency & backprop: the gradient of a class or of any neuron w.r.t. the image, three rules, Grad-CAM."""
from __future__ import annotations

import numpy as np
import streamlit as st

import viz_core as vc
from dashboard import resources, widgets

widgets.page_header(
    "Saliency & backprop",
    "Which pixels would change the answer most? Backpropagating a class score (or any neuron) to the "
    "image gives one number per pixel: red pushes the score up, blue down. *Vanilla* is the true "
    "gradient (Simonyan et al., 2014), *guided* backprop (Springenberg et al., 2015) and *deconvnet* "
    "(Zeiler & Fergus, 2014) change how activations pass gradients back and give sharper pictures; "
    "*Grad-CAM* (Selvaraju et al., 2017) shows where in a layer's map the evidence sits.",
    """
- **Vanilla**: ∂score/∂pixel. Through each activation f the backward pass multiplies by f′(x).
- **Guided**: f′(x) · max(g, 0) — only positive gradients, only through active units.
- **Deconvnet**: max(g, 0) — the backward signal is rectified, whatever the unit did in the forward pass.
- For ReLU these are the papers' definitions. For ReLU6, SiLU, GELU, Hardswish… convlens uses the same
  form with the activation's own derivative f′. Sigmoid/Tanh gates (squeeze-excitation) keep their true derivative.
- **Saliency**: max over colour channels of |vanilla gradient|.
- **Grad-CAM**: ReLU(Σ_k α_k A_k) with α_k the spatial mean of ∂score/∂A_k at the chosen layer; for
  vision transformers the patch tokens are laid out on their grid. **Guided Grad-CAM** = guided × upsampled Grad-CAM.
- Each panel is divided by its own 99.5th percentile |value| so all share one colour scale; hover shows raw values.
- **SmoothGrad** (Smilkov et al., 2017) averages the gradients of noisy copies (noise 15% of the value range).
- A **neuron** target is one channel of any layer: one position, or the channel's mean when no position is given.
""",
)
selection = widgets.current()
m = selection.model

with widgets.guard("reading the predictions"):
    top = resources.predictions(selection.model_key, selection.image_key, m, selection.image, top_k=5)

with widgets.guard("finding a layer for Grad-CAM"):
    cam_default = vc.default_layer(m, "grad_cam")
    neuron_default = vc.default_layer(m, "unit")

left, right = st.columns([1, 1])
with left:
    kind = st.radio("Explain", ["Top-1 class", "Any class", "A neuron"], horizontal=True, key="sal-kind", bind="query-params")
    if kind == "Top-1 class":
        target = vc.class_logit(top[0].index)
        st.caption(f"Top-1: **{top[0].label}** ({top[0].probability:.1%})")
    elif kind == "Any class":
        target = vc.class_logit(widgets.class_picker(m, "Class", "sal-class", default=top[0].index))
    else:
        info = widgets.layer_picker(m, "Layer", "sal-layer", layouts=("map", "tokens", "vector"), default=neuron_default, help="Any layer of the catalogue.")
        channel = widgets.channel_picker(info, "Channel", "sal-channel")
        y = x = None
        positions = vc.position_grid(info)  # None: no map or token grid, so only the channel's mean
        grid = positions[1:] if positions is not None else None
        if grid is not None and st.checkbox("One position (else the channel's mean)", key="sal-pos", bind="query-params"):
            with widgets.guard("reading where the channel fires"):
                values = resources.channel_map(selection.model_key, selection.image_key, info.path, channel, m, selection.image)
            y_key, x_key, map_key = f"sal-y|{info.path}", f"sal-x|{info.path}", f"sal-map|{info.path}|{channel}"
            if y_key not in st.session_state:  # start where the channel fires most on this image
                strongest = np.unravel_index(int(np.argmax(values)), values.shape)
                st.session_state[y_key], st.session_state[x_key] = int(strongest[0]), int(strongest[1])
            clicked = widgets.clicked_cell(st.session_state.get(map_key))
            if clicked is not None and clicked != st.session_state.get(f"{map_key}|applied"):
                st.session_state[y_key], st.session_state[x_key] = clicked
                st.session_state[f"{map_key}|applied"] = clicked
            a, b = st.columns(2)
            y = int(a.number_input(f"row y (0–{grid[0] - 1})", 0, grid[0] - 1, key=y_key, bind="query-params"))
            x = int(b.number_input(f"column x (0–{grid[1] - 1})", 0, grid[1] - 1, key=x_key, bind="query-params"))
            st.plotly_chart(
                vc.figures.position_picker(values, y, x, title=f"channel {channel} on this image: click a cell"),
                on_select="rerun", selection_mode="points", key=map_key, config={"displayModeBar": False},
            )
        target = vc.unit(info.path, channel, y, x)
with right:
    neuron_layer = target.layer if isinstance(target, vc.Unit) and info.layout in ("map", "tokens") else None
    cam_info = widgets.layer_picker(
        m,
        "Grad-CAM layer",
        f"sal-cam-for-{neuron_layer}" if neuron_layer else "sal-cam",
        layouts=("map", "tokens"),
        default=neuron_layer or cam_default,
        help="A layer with a spatial map or a token grid; for a neuron, one at or before the neuron's layer.",
    )
    smooth = st.toggle("SmoothGrad (average 16 noisy copies; slower)", key="sal-smooth", bind="query-params")
    opacity = st.slider("Overlay opacity", 0.0, 1.0, 0.55, 0.05, key="sal-opacity", bind="query-params")

with widgets.guard("backpropagating to the image"):
    maps = resources.backprop_maps(selection.model_key, selection.image_key, target, cam_info.path, 16 if smooth else 0, m, selection.image)

vanilla = maps["vanilla"]
cam = maps["cam"]
what = vanilla.target
widgets.random_weights_warning(m, "the maps show how the architecture routes gradients, not learned evidence.")
with widgets.guard("checking the maps against a randomised copy of the model"):  # cheap: the rules once more on a half-random copy
    sanity = {row["method"]: row for row in resources.quick_sanity(selection.model_key, selection.image_key, target, m, selection.image).table()}
for name in (n for n, row in sanity.items() if row["insensitive"]):
    st.warning(f"**{vc.METHOD_LABELS[name]} is insensitive to the model here:** with the top half of the network random its |map| keeps a rank correlation of {sanity[name]['spearman |map|']:.2f} with this one, so it shows the image more than what the model learned (Adebayo et al., 2018). See the **Trust** page.", icon=":material/gpp_maybe:")

panels: list[tuple[str, np.ndarray, bool]] = []
skipped: list[str] = []
for rule in ("vanilla", "guided", "deconvnet"):
    result = maps[rule]
    if rule != "vanilla" and result.rule_applied == 0:
        skipped.append(rule)
        st.warning(f"**{rule.capitalize()} backprop does not apply to this model.** {result.notes[0] if result.notes else ''}", icon=":material/block:")
        continue
    panels.append((f"{'SmoothGrad ' if smooth else ''}{rule}", result.map, True))
panels.append(("saliency |∂score/∂pixel|", vanilla.saliency, False))
if cam is not None:
    panels.append((f"Grad-CAM ({cam.layer})", cam.upsampled, False))
    if "guided" not in skipped and maps["guided_cam"] is not None:
        panels.append(("guided Grad-CAM", maps["guided_cam"].map, True))
    for note in cam.notes:
        st.info(note, icon=":material/info:")
elif maps["cam_error"]:
    st.info(f"Grad-CAM: {maps['cam_error']}", icon=":material/info:")

if "guided" not in skipped and maps["guided"].rule_applied:
    st.caption(f"Rules were applied to {maps['guided'].rule_applied} activation calls ({len(maps['guided'].rule_modules)} modules). Score of the target: {vanilla.score:.4g}.")
st.plotly_chart(vc.figures.attribution_panels(panels, title=f"Target: {what}"), key="sal-panels")

st.subheader("Over the image")
names = [p[0] for p in panels]
a, b = st.columns([1, 1])
chosen = a.selectbox("Map", names, index=names.index(f"Grad-CAM ({cam.layer})") if cam is not None else 0, key="sal-overlay", bind="query-params")
title, heat, signed = panels[names.index(chosen)]
a.plotly_chart(vc.figures.heatmap_overlay(vanilla.image, vc.figures.normalised(heat, signed), f"{title} — {what}", signed=signed, opacity=opacity, zmax=1.0, unit="(relative)"), key="sal-overlay-fig")
pictures = [vc.figures.gradient_picture(maps[rule].attribution) for rule in ("vanilla", "guided", "deconvnet") if rule not in skipped]
labels = [rule for rule in ("vanilla", "guided", "deconvnet") if rule not in skipped]
b.plotly_chart(vc.figures.image_grid([vanilla.image] + pictures, ["input"] + [f"{r} (as a picture)" for r in labels], columns=2, height_per_row=230), key="sal-pictures")

st.subheader("Shares of the score: gradient × input and integrated gradients")
st.caption(
    "Both split the target's score among the input values. Gradient × input (Shrikumar et al., 2016) is a "
    "first-order share; integrated gradients (Sundararajan et al., 2017) average the gradient along the "
    "straight path from a baseline picture to this one, so the shares add up to score(image) − score(baseline)."
)
c1, c2 = st.columns(2)
baseline = c1.selectbox(
    "Baseline", vc.BASELINES, key="sal-ig-baseline",
    format_func={"black": "black picture", "blurred": "blurred copy (σ = 10 px)", "mean": "data mean (grey)"}.get,
    help="The picture that stands for 'no evidence'; the attributions explain the score's change from it.", bind="query-params",
)
ig_steps = c2.select_slider("Integration steps", [8, 16, 32, 64], value=32, key="sal-ig-steps", help="Gauss–Legendre nodes; more steps, smaller completeness gap.", bind="query-params")
with widgets.guard("integrating gradients"):
    on_ig_step = widgets.progress(f"Integrating gradients ({ig_steps} steps)…")
    shares = resources.path_attributions(selection.model_key, selection.image_key, target, baseline, ig_steps, m, selection.image, _on_step=on_ig_step)
ig, gxi = shares["integrated_gradients"], shares["gradient_x_input"]
st.plotly_chart(
    vc.figures.attribution_panels([("gradient × input", gxi.map, True), (f"integrated gradients ({baseline} baseline)", ig.map, True)], columns=2, height_per_row=360),
    key="sal-shares",
)
change = ig.score - (ig.baseline_score or 0.0)
k1, k2, k3 = st.columns(3)
k1.metric("score(image) − score(baseline)", f"{change:.4g}", help=f"score {ig.score:.4g}, baseline {ig.baseline_score:.4g}")
k2.metric("Sum of integrated gradients", f"{float(ig.attribution.sum(dtype=np.float64)):.4g}")
k3.metric("Completeness gap", f"{ig.completeness_gap:.2g}", help="Sum minus change: the quadrature error. It shrinks with more steps.")

widgets.downloads("saliency", {**maps, **shares}, title=f"Saliency & backprop: {what}")
