"""Why adversarial images exist: a linear score moves by ε‖w‖₁ when every input moves by ε."""
from __future__ import annotations

import math

import numpy as np
import streamlit as st

import viz_core as vc
from dashboard import resources, widgets

widgets.page_header(
    "Linear fooling",
    "Why can changes too small to see flip a network's decision? Goodfellow, Shlens & Szegedy (2014) "
    "argued that networks behave almost *linearly* around an input, and a linear score w·x changes by "
    "ε‖w‖₁ when every input moves by ε in the direction of sign(w): no single input changes much, but "
    "in high dimension the many small changes add up. Edit the toy below, then fool a digits classifier.",
    "**Linear step.** For s(x) = w·x + b and δ = ε·sign(w), s(x + δ) − s(x) = ε Σᵢ|wᵢ| = ε‖w‖₁, the largest "
    "change any δ with |δᵢ| ≤ ε can make. P(class 1) = σ(s) for a logistic classifier.\n\n"
    "**Digits.** A multinomial logistic classifier (scikit-learn, 75% of the 8×8 digits for training). To turn "
    "the predicted class s into a target t, each pixel moves by ε along sign(w_t − w_s), which raises the "
    "margin logit_t − logit_s by ε‖w_t − w_s‖₁; with *keep pixels in range* on, pixels are clipped to [0, 1] "
    "and the gain can only be smaller. ε is in pixel units of [0, 1] (0.1 = 1.6 of the 16 grey levels).\n\n"
    "**Dimension.** Random-sign changes of the same size add up only like √d (they cancel), the aligned "
    "step like d: an attacker's advantage of about √d. The step that does this for a network, along the "
    "sign of its gradient, is FGSM (see the Adversarial page).",
)
selection = widgets.current()

# --- the 10-dimensional toy --------------------------------------------------
st.subheader("A 10-dimensional logistic classifier")
x0, w0, b0 = vc.lecture_example()
left, right = st.columns([1, 2.2])
with left:
    st.caption("The lecture's example; edit x and w freely.")
    table = st.data_editor(
        {"x": x0.tolist(), "w": w0.tolist()},
        key="toy-table",
        num_rows="fixed",
        width="stretch",
        height=35 * 11 + 3,
    )
    eps = st.slider("ε (change per element)", 0.0, 2.0, vc.LECTURE_EPS, 0.05, key="toy-eps", bind="query-params")
    b = st.number_input("bias b", value=float(b0), step=0.5, key="toy-b", bind="query-params")
x_values = tuple(float(v) for v in table["x"])
w_values = tuple(float(v) for v in table["w"])
with widgets.guard("computing the linear step"):
    if not all(math.isfinite(v) for v in x_values + w_values):
        st.error("Every x and w needs a number.", icon=":material/error:")
        st.stop()
    toy = resources.linear_fooling(x_values, w_values, float(eps), float(b))
with right:
    st.plotly_chart(vc.figures.linear_fooling(toy), key="toy-chart")
    cols = st.columns(3)
    cols[0].metric("score w·x + b", f"{toy.score_after:.3g}", f"{toy.score_after - toy.score_before:+.3g}")
    cols[1].metric("P(class 1)", f"{toy.prob_after:.1%}", f"{(toy.prob_after - toy.prob_before) * 100:+.1f} pp")
    cols[2].metric("ε‖w‖₁", f"{toy.predicted_gain:.3g}", help="The linear prediction of the score change; it equals the measured change exactly.")
widgets.downloads("linear-toy", toy, title="Linear fooling")

# --- the digits ------------------------------------------------------------------
st.subheader("Fooling a logistic digits classifier")
with widgets.guard("training the digits classifier"):
    count, accuracy, labels = resources.digits_summary()
controls, shown = st.columns([1, 2.2])
with controls:
    st.caption(f"Logistic regression on 8×8 digits: {accuracy:.1%} test accuracy on {count} held-out digits.")
    index = int(st.number_input(f"Test digit (0–{count - 1})", 0, count - 1, 1, 1, key="digit-index", bind="query-params"))
    clip = st.checkbox("Keep pixels in range [0, 1]", value=True, key="digit-clip", bind="query-params")
    with widgets.guard("finding the smallest ε per class"):
        needed = resources.digit_min_epsilons(index, clip)
    reachable = [k for k in range(10) if needed[k] not in (None, 0.0)]
    easiest = min(reachable, key=lambda k: needed[k]) if reachable else (labels[index] + 1) % 10
    target = int(st.selectbox("Target class", range(10), index=easiest, key=f"digit-target|{index}", format_func=lambda k: f"{k} (needs ε ≥ {needed[k]:.3f})" if needed[k] else (f"{k} (predicted now)" if needed[k] == 0.0 else f"{k} (not within ε ≤ 1)"), bind="query-params"))
    eps_digit = st.slider("ε (per pixel)", 0.0, 0.5, 0.2, 0.005, key="digit-eps", bind="query-params")
with widgets.guard("fooling the digit"):
    fooled = resources.digit_fooling(index, target, float(eps_digit), clip)
with shown:
    st.plotly_chart(vc.figures.digit_panels(fooled), key="digit-panels")
    verdict = "fooled: now classified as" if fooled.fooled else "not yet fooled; still"
    st.markdown(
        f"**{verdict} {int(np.argmax(fooled.probs_after))}** (P = {fooled.probs_after.max():.1%}). "
        f"The margin logit[{target}] − logit[{fooled.source}] grew by **{fooled.margin_gain:.3g}**; "
        f"the linear bound ε‖w_t − w_s‖₁ is {fooled.predicted_gain:.3g}"
        + (" (clipping at the pixel range loses the rest)." if clip else " (equal: nothing was clipped).")
    )
    if needed[target] is not None and needed[target] > 0:
        st.caption(f"The smallest ε that makes this digit a {target}: {needed[target]:.3f} (grid of 0.001).")
with controls:
    digit_names = [str(k) for k in range(10)]
    st.plotly_chart(vc.figures.probability_comparison(digit_names, fooled.probs_before, fooled.probs_after, "Probabilities before and after"), key="digit-probs")
widgets.downloads("digit-fooling", fooled, title="Fooling a digit")

# --- why dimension matters ------------------------------------------------------
st.subheader("High dimension makes it cheap")
channels, height, width = selection.model.input_size
model_dim = channels * height * width
dims = tuple(sorted({10, 64, 100, 1_000, 10_000, model_dim}))
with widgets.guard("measuring the score change against dimension"):
    gain = resources.dimension_gain(dims, 1 / 255)
marks = {"8×8 digit": 64, f"{selection.model.name} input ({channels}×{height}×{width})": model_dim}
st.plotly_chart(vc.figures.dimension_gain(gain, marks), key="dimension-chart")
at_model = list(gain.dims).index(model_dim)
st.caption(
    f"Weights with N(0, 1) entries, ε = 1/255 (one grey level), averaged over 50 draws. At the {model_dim:,} inputs of "
    f"{selection.model.name}, one grey level per input along sign(w) moves such a score by {gain.aligned[at_model]:.0f}; "
    f"random noise of the same size moves it by {gain.random[at_model]:.1f}, {gain.aligned[at_model] / gain.random[at_model]:.0f}× less. "
    "That is why perturbations far below what the eye notices are enough."
)
