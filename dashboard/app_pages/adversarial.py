"""Adversarial images: an invisible change that makes the model see any class we choose."""
from __future__ import annotations

import numpy as np
import streamlit as st

import viz_core as vc
from dashboard import resources, widgets

OSTRICH = 9  # Szegedy et al.'s examples all became "ostrich"
NORM_NAMES = {"linf": "L∞", "l2": "L2"}

widgets.page_header(
    "Adversarial images",
    "A change to every pixel too small to see can make the model report any class we choose. The "
    "panels show the picture, the change (amplified so it is visible) and the result, with the "
    "model's beliefs before and after. Found by Szegedy et al. (2013); Goodfellow et al. (2014) "
    "explained it (see *Linear fooling*) and gave the one-step FGSM; Madry et al. (2018) the "
    "iterated, projected attack (PGD) used here by default.",
    "**FGSM**: x' = clip(x + ε·sign(∇ₓ L)), one gradient, where L is the loss of the class predicted now "
    "(untargeted) or −log p(target) (targeted, stepping down it).\n\n"
    "**PGD**: repeat x ← Π(x + α·d) for *steps* steps with α = ε/4, where d is sign(∇) for L∞ and ∇/‖∇‖₂ "
    "for L2 and Π projects back onto the ε-ball around the original and into [0, 1]. It stops early once "
    "p(target) ≥ 0.99 (untargeted: p(clean class) ≤ 0.01) and keeps the best step.\n\n"
    "**Budget**: L∞ in grey levels of 255 (8/255: no pixel value changes by more than 8); L2 is the length of "
    "the whole change in pixel units of [0, 1] (1.0 over 224×224×3 values is ~0.66 grey levels per value).\n\n"
    "**Linear prediction**: ε‖∇‖₁ (L∞) is how much one full step would raise the objective if the model were "
    "linear; compare it with the measured change.",
)
selection = widgets.current()
m = selection.model

with st.form("attack-form"):
    cols = st.columns([1.1, 1, 1.2, 1, 1.8])
    method = cols[0].radio("Method", ["pgd", "fgsm"], format_func={"pgd": "PGD (iterative)", "fgsm": "FGSM (one step)"}.get, key="adv-method", bind="query-params")
    norm = cols[1].radio("Budget norm", ["linf", "l2"], format_func=lambda n: f"{NORM_NAMES[n]} ({'each pixel' if n == 'linf' else 'whole change'})", key="adv-norm", bind="query-params")
    levels = cols[2].slider("ε for L∞ (grey levels /255)", 0.0, 32.0, 8.0, 0.5, key="adv-eps-linf", bind="query-params")
    length = cols[2].slider("ε for L2 (length)", 0.0, 5.0, 1.0, 0.05, key="adv-eps-l2", bind="query-params")
    steps = int(cols[3].number_input("PGD steps", 1, 200, 20, 1, key="adv-steps", bind="query-params"))
    targeted = cols[4].checkbox("Targeted", value=True, key="adv-targeted", help="Off: push the picture away from the class predicted now, to any other.", bind="query-params")
    with cols[4]:
        target_class = widgets.class_picker(m, "Target class", "adv-target", default=OSTRICH if m.num_classes > OSTRICH else 0)
    st.form_submit_button("Attack", type="primary", icon=":material/bolt:")
eps = levels / 255 if norm == "linf" else length
target = target_class if targeted else None

with widgets.guard("attacking the image"):
    on_step = widgets.progress("Attacking")
    result = resources.attack(selection.model_key, selection.image_key, method, target, float(eps), norm, steps, m, selection.image, on_step)

widgets.random_weights_warning(m, "it is fooled easily because it knows nothing; try the bundled model.")
st.plotly_chart(vc.figures.adversarial_panels(result, m.class_names), key="adv-panels")

after = int(np.argmax(result.probs_after))
goal = "reached the target" if target is not None else "changed the prediction"
metrics = st.columns(5)
metrics[0].metric("Attack", "succeeded" if result.success else "failed", help=f"Whether it {goal}.")
metrics[1].metric("Largest pixel change", f"{result.linf * 255:.2f}/255", help="L∞ of the change, in grey levels.")
metrics[2].metric("Length of the change", f"{result.l2:.3g}", help="L2 of the change in pixel units of [0, 1].")
metrics[3].metric("Steps run", f"{result.steps_run}", help="PGD stops early once its goal is met.")
metrics[4].metric("Time", f"{result.seconds:.1f} s")
if int(np.argmax(result.probs_8bit)) != after:
    st.warning(
        f"Rounded to 8 bits (the PNG download) the picture is classified as **{m.class_names[int(np.argmax(result.probs_8bit))]}**: "
        "the change is so small that rounding undoes part of it. Raise ε, or use L∞.",
        icon=":material/warning:",
    )
if not result.success and result.eps > 0:
    st.info("Not there yet: raise ε or the number of steps, or pick PGD instead of FGSM.", icon=":material/lightbulb:")

left, right = st.columns(2)
classes = vc.figures.top_classes(result.probs_before, result.probs_after, 5, () if target is None else (target,))
left.plotly_chart(
    vc.figures.probability_comparison([m.class_names[c][:32] for c in classes], result.probs_before[classes], result.probs_after[classes], "Classes before and after"),
    key="adv-probs",
)
objective = f"log p({m.class_names[target][:24]})" if target is not None else f"−log p({m.class_names[result.label][:24]})"
if result.steps_run > 1:
    right.plotly_chart(vc.figures.curve(result.scores.tolist(), f"Objective per step: {objective}", objective), key="adv-curve")
label_index = result.label if target is None else target
measured = np.log(result.probs_after[label_index]) - np.log(result.probs_before[label_index])
measured = -measured if target is None else measured
right.markdown(
    f"**The linear explanation, measured.** One full step of size ε along the {'sign of the' if norm == 'linf' else ''} gradient "
    f"would raise {objective} by **{result.linear_gain:.3g}** if the model were linear "
    f"(ε‖∇‖{'₁' if norm == 'linf' else '₂'} at the original); the whole attack raised it by **{measured:.3g}**: "
    "the model is linear enough for tiny steps to add up, not linear all the way."
)
widgets.downloads(f"adversarial-{method}", result, title=f"Adversarial image ({method})")

st.subheader("Success against ε over the sample photos")
st.markdown(
    f"The same attack ({'targeted at ' + m.class_names[target] if target is not None else 'untargeted'}, {NORM_NAMES[norm]}, "
    f"{steps} PGD steps) on the first {vc.SWEEP_IMAGES} sample photos, at ε = "
    + (", ".join(f"{e * 255:g}" for e in vc.SWEEP_EPSILONS) + " grey levels." if norm == "linf" else "0–5 in L2.")
)
epsilons = vc.SWEEP_EPSILONS if norm == "linf" else (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0)
sweep_key = (selection.model_key, target, norm, steps, epsilons)
if st.button("Run the sweep", icon=":material/play_arrow:", key="adv-sweep-run"):
    st.session_state["adv-sweep"] = sweep_key
if st.session_state.get("adv-sweep") == sweep_key:
    with widgets.guard("sweeping ε"):
        sweep = resources.attack_sweep(selection.model_key, target, norm, steps, epsilons, m, widgets.progress("Sweeping ε"))
    st.plotly_chart(vc.figures.figure(sweep), key="adv-sweep-chart")
    st.caption(f"{sweep.success.size} attacks in {sweep.seconds:.0f} s. Success means the top-1 class became the target (or left the clean class).")
    widgets.downloads("attack-sweep", sweep, title="Attack sweep")
else:
    st.info(f"About {len(epsilons) * vc.SWEEP_IMAGES} attacks: press *Run the sweep* to start.", icon=":material/info:")
