"""Why adversarial images exist: the linear explanation (Goodfellow, Shlens & Szegedy, 2014).

A linear score s(x) = w·x + b changes by exactly ε‖w‖₁ when every input moves by ε in the
direction sign(w): no single element changes much, but in d dimensions the d small changes add up.
Deep networks are "too linear" locally, so the same cheap step (FGSM) fools them. This module
holds the lecture's 10-dimensional example, a logistic classifier on scikit-learn's 8×8 digits
fooled the same way, and the dimension argument in numbers. Pure numpy + scikit-learn: no torch.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .errors import TargetError
from .results import DigitsFooling, DimensionGain, LinearFooling

# CS231n lecture example (after Karpathy, "Breaking linear classifiers on ImageNet", 2015):
# a logistic classifier gives class 1 a probability of 5%; moving each input by 0.5 gives 88%.
LECTURE_X = np.array([2, -1, 3, -2, 2, 2, 1, -4, 5, 1], dtype=np.float64)
LECTURE_W = np.array([-1, -1, 1, -1, 1, -1, 1, 1, -1, 1], dtype=np.float64)
LECTURE_B = 0.0
LECTURE_EPS = 0.5

DIGIT_SIDE = 8  # scikit-learn's digits are 8x8 pixels with values 0..16


def sigmoid(score: np.ndarray | float) -> np.ndarray:
    """The logistic function, computed without overflow for large |score|."""
    score = np.asarray(score, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -score))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis (shifted by the max for stability)."""
    shifted = np.asarray(logits, dtype=np.float64) - np.max(logits, axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def lecture_example() -> tuple[np.ndarray, np.ndarray, float]:
    """(x, w, b) of the lecture's 10-dimensional example (copies, safe to edit)."""
    return LECTURE_X.copy(), LECTURE_W.copy(), LECTURE_B


def linear_fool(x: np.ndarray, w: np.ndarray, eps: float = LECTURE_EPS, b: float = 0.0) -> LinearFooling:
    """Move every element of `x` by `eps` towards sign(w) and report the score and probability.

    A negative `eps` lowers the score instead; elements with w = 0 do not move (sign 0).
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    w = np.asarray(w, dtype=np.float64).ravel()
    if x.shape != w.shape or x.size == 0:
        raise TargetError(f"x has {x.size} elements and w has {w.size}; they need the same, non-zero length.")
    if not (np.isfinite(x).all() and np.isfinite(w).all() and np.isfinite(eps) and np.isfinite(b)):
        raise TargetError("x, w, ε and b must be finite numbers.")
    delta = float(eps) * np.sign(w)
    x_adv = x + delta
    before, after = float(w @ x + b), float(w @ x_adv + b)
    return LinearFooling(
        x=x,
        w=w,
        b=float(b),
        eps=float(eps),
        delta=delta,
        x_adv=x_adv,
        score_before=before,
        score_after=after,
        prob_before=float(sigmoid(before)),
        prob_after=float(sigmoid(after)),
        predicted_gain=float(eps) * float(np.abs(w).sum()),
        params={"method": "linear_fool", "eps": float(eps), "b": float(b), "dims": int(x.size)},
    )


@dataclass(frozen=True)
class DigitsClassifier:
    """A multinomial logistic classifier on scikit-learn's digits, pixels scaled to [0, 1].

    weights (10, 64), bias (10,); test_images (N, 64) and test_labels (N,) are held out.
    """

    weights: np.ndarray
    bias: np.ndarray
    accuracy: float
    test_images: np.ndarray
    test_labels: np.ndarray

    def logits(self, images: np.ndarray) -> np.ndarray:
        """(N, 64) or (64,) pixels in [0, 1] -> class scores (N, 10) or (10,)."""
        return np.asarray(images, dtype=np.float64) @ self.weights.T + self.bias

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        return softmax(self.logits(images))


@lru_cache(maxsize=2)
def digits_classifier(seed: int = 0) -> DigitsClassifier:
    """Train (once per seed; < 1 s) a logistic classifier on 75% of the digits, test on the rest.

    Why logistic: its class scores are exactly linear in the pixels, so the fooling step and its
    effect can be written down in closed form and compared with the deep network's.
    """
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = digits.data / 16.0
    train_x, test_x, train_y, test_y = train_test_split(images, digits.target, test_size=0.25, random_state=seed, stratify=digits.target)
    classifier = LogisticRegression(max_iter=2000).fit(train_x, train_y)
    weights, bias = classifier.coef_.astype(np.float64), classifier.intercept_.astype(np.float64)
    accuracy = float(np.mean(np.argmax(test_x @ weights.T + bias, axis=1) == test_y))
    for array in (weights, bias, test_x, test_y):
        array.flags.writeable = False  # shared through the cache: nobody may edit it in place
    return DigitsClassifier(weights, bias, accuracy, test_x, test_y)


def fool_digit(classifier: DigitsClassifier, index: int, target: int, eps: float = 0.1, *, clip: bool = True) -> DigitsFooling:
    """Push test digit `index` towards class `target` by ±`eps` per pixel (the linear FGSM step).

    The source is the class the classifier predicts now, so the step attacks the margin that
    actually decides the prediction. `eps` is in pixel units of [0, 1] (0.1 = 1.6 of 16 grey levels).
    """
    count = len(classifier.test_labels)
    if not 0 <= index < count:
        raise TargetError(f"Digit {index} is out of range: there are {count} test digits (0..{count - 1}).")
    if not 0 <= target < classifier.weights.shape[0]:
        raise TargetError(f"Class {target} is out of range: the digits have classes 0..{classifier.weights.shape[0] - 1}.")
    if not (np.isfinite(eps) and eps >= 0):
        raise TargetError(f"ε must be a non-negative number, not {eps}.")
    image = np.asarray(classifier.test_images[index], dtype=np.float64)
    probs_before = classifier.probabilities(image)
    source = int(np.argmax(probs_before))
    direction = classifier.weights[target] - classifier.weights[source]
    adversarial = image + eps * np.sign(direction)
    if clip:
        adversarial = np.clip(adversarial, 0.0, 1.0)
    logits_before, logits_after = classifier.logits(image), classifier.logits(adversarial)
    margin_gain = float((logits_after[target] - logits_after[source]) - (logits_before[target] - logits_before[source]))
    shape = (DIGIT_SIDE, DIGIT_SIDE)
    return DigitsFooling(
        image=image.reshape(shape),
        adversarial=adversarial.reshape(shape),
        perturbation=(adversarial - image).reshape(shape),
        label=int(classifier.test_labels[index]),
        source=source,
        target_class=int(target),
        eps=float(eps),
        clip=clip,
        probs_before=probs_before,
        probs_after=softmax(logits_after),
        predicted_gain=float(eps * np.abs(direction).sum()),
        margin_gain=margin_gain,
        params={"method": "fool_digit", "index": int(index), "target": int(target), "eps": float(eps), "clip": clip},
    )


def digit_min_epsilon(classifier: DigitsClassifier, index: int, target: int, *, clip: bool = True, resolution: float = 1e-3) -> float | None:
    """Smallest ε (to `resolution`) at which `fool_digit` makes the prediction `target`; None if ε ≤ 1 cannot.

    A fine scan, not a bisection: with ten classes the winner need not change monotonically in ε.
    """
    grid = np.arange(0.0, 1.0 + resolution / 2, resolution)
    image = np.asarray(classifier.test_images[index], dtype=np.float64)
    source = int(np.argmax(classifier.logits(image)))
    if source == target:
        return 0.0
    step = np.sign(classifier.weights[target] - classifier.weights[source])
    candidates = image[None, :] + grid[:, None] * step[None, :]
    if clip:
        candidates = np.clip(candidates, 0.0, 1.0)
    hits = np.flatnonzero(np.argmax(classifier.logits(candidates), axis=1) == target)
    return float(grid[hits[0]]) if hits.size else None


def dimension_gain(dims: np.ndarray | list[int], eps: float = 0.01, trials: int = 200, seed: int = 0) -> DimensionGain:
    """Score change of an ε step along sign(w) and along random signs, for N(0, 1) weights of each dimension.

    Why both: the aligned step is what an attacker takes (grows like d); the random one is what
    noise of the same size does (grows like √d). Their ratio is the attacker's advantage.
    """
    rng = np.random.default_rng(seed)
    dims = np.asarray(dims, dtype=np.int64)
    aligned, random = [], []
    for d in dims:
        chunk = max(1, min(trials, 1_000_000 // max(int(d), 1)))  # bounded memory at ImageNet sizes
        l1, changes = [], []
        for start in range(0, trials, chunk):
            w = rng.standard_normal((min(chunk, trials - start), int(d)))
            signs = rng.integers(0, 2, size=w.shape, dtype=np.int8) * 2 - 1
            l1.append(np.abs(w).sum(axis=1))
            changes.append((signs * w).sum(axis=1))
        aligned.append(float(eps * np.concatenate(l1).mean()))
        random.append(float(eps * np.sqrt(np.mean(np.concatenate(changes) ** 2))))
    return DimensionGain(dims, float(eps), np.asarray(aligned), np.asarray(random), params={"eps": float(eps), "trials": trials, "seed": seed})
