"""Evaluation: a digits model trained here with 3 and 8 partly swapped, label matching, the store."""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support
from torch import nn

import viz_core as vc
from viz_core.dataset import evaluate as evaluation
from viz_core.dataset.evaluate import class_table, evaluate, image_table, match_labels, most_confident_mistakes, prediction_rows, select, wilson
from viz_core.results import Cancelled, StepInfo
from viz_core.store import Store

DIGITS_8PX = {"input_size": (1, 8, 8), "mean": (0.5,), "std": (0.5,), "crop_pct": 1.0, "interpolation": "bilinear"}
CLASSES = [str(d) for d in range(10)]


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    """Tiny models run fastest on one thread (and do not fight other processes for two cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def digit_mlp() -> nn.Module:
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))


@pytest.fixture(scope="module")
def swapped() -> vc.LoadedModel:
    """A small digits model whose training labels had 40 % of the 3s called 8 and 40 % of the 8s called 3.

    Fixed seed, full-batch Adam, 8x8 inputs through convlens' own preprocessing: about a second.
    """
    c = vc.collection("digits")
    blank = vc.LoadedModel.from_module(nn.Identity(), data_config=DIGITS_8PX, class_names=CLASSES)
    x = torch.cat([blank.preprocess(c.load(i)) for i in range(len(c))])
    y = c.labels.copy()
    rng = np.random.default_rng(0)
    for digit, other in ((3, 8), (8, 3)):
        members = np.flatnonzero(c.labels == digit)
        y[rng.choice(members, int(0.4 * len(members)), replace=False)] = other
    targets = torch.as_tensor(y)
    model = digit_mlp()
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-2)
    for _ in range(100):
        loss = F.cross_entropy(model(x), targets)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return vc.LoadedModel.from_module(model, name="swapped digits", data_config=DIGITS_8PX, class_names=CLASSES, weights="trained in the test")


@pytest.fixture(scope="module")
def swapped_eval(swapped: vc.LoadedModel) -> evaluation.Evaluation:
    return evaluate(swapped, "digits", batch_size=100)


def direct_predictions(m: vc.LoadedModel, c: vc.Collection) -> np.ndarray:
    with torch.inference_mode():
        return np.array([int(m.model(m.preprocess(c.load(i))).argmax()) for i in range(len(c))])


def test_the_swapped_pair_is_the_worst_confusion(swapped: vc.LoadedModel, swapped_eval: evaluation.Evaluation) -> None:
    ev = swapped_eval
    c = vc.collection("digits")
    state = {k: v.clone() for k, v in swapped.model.state_dict().items()}
    np.testing.assert_array_equal(ev.indices, np.arange(len(c)))
    assert ev.unmatched_images == 0 and set(ev.matching.methods) == {"name"}
    assert tuple(ev.confused_pairs[0, :2]) in {(3, 8), (8, 3)}
    off = ev.confusion.copy()
    np.fill_diagonal(off, 0)
    three, eight = list(ev.classes).index(3), list(ev.classes).index(8)
    others = off.copy()
    others[three, eight] = others[eight, three] = 0
    assert min(off[three, eight], off[eight, three]) > 5 * max(others.max(), 1)
    # the same numbers as scikit-learn's on predictions made image by image, outside the pass
    predicted = direct_predictions(swapped, c)
    np.testing.assert_array_equal(ev.predicted, predicted)
    precision, recall, f1, support = precision_recall_fscore_support(c.labels, predicted, labels=range(10), zero_division=0)
    np.testing.assert_allclose(ev.precision, precision)
    np.testing.assert_allclose(ev.recall, recall)
    np.testing.assert_allclose(ev.f1, f1)
    np.testing.assert_array_equal(ev.support, support)
    np.testing.assert_array_equal(ev.confusion, confusion_matrix(c.labels, predicted))
    assert ev.top1.value == pytest.approx(accuracy_score(c.labels, predicted))
    assert ev.top1.low < ev.top1.value < ev.top1.high and ev.top5.value >= ev.top1.value
    assert min(recall[3], recall[8]) < 0.85 < min(np.delete(recall, [3, 8]))
    for name, tensor in swapped.model.state_dict().items():  # evaluation never changes the model
        assert torch.equal(tensor, state[name])
    assert not swapped.model.training


def test_calibration_bins(swapped_eval: evaluation.Evaluation) -> None:
    ev = swapped_eval
    assert ev.bin_count.sum() == len(ev.indices) and len(ev.bin_edges) == len(ev.bin_count) + 1 == 16
    gaps = [abs(ev.correct[b].mean() - ev.confidence[b].mean()) * b.sum() for b in (np.minimum((ev.confidence * 15).astype(int), 14) == k for k in range(15)) if b.any()]
    assert ev.ece == pytest.approx(sum(gaps) / len(ev.indices), rel=1e-5)
    filled = ev.bin_count > 0
    assert np.all((ev.bin_confidence[filled] >= ev.bin_edges[:-1][filled]) & (ev.bin_confidence[filled] <= ev.bin_edges[1:][filled]))


def test_wilson_interval() -> None:
    assert wilson(0, 10).low == 0.0 and wilson(0, 10).high == pytest.approx(0.27753, abs=1e-5)
    assert wilson(10, 10).low == pytest.approx(0.72247, abs=1e-5) and wilson(10, 10).high == 1.0
    mid = wilson(50, 100)
    assert (mid.low, mid.high) == (pytest.approx(0.40383, abs=1e-5), pytest.approx(0.59617, abs=1e-5))
    assert np.isnan(wilson(0, 0).value)


def test_drill_down(swapped_eval: evaluation.Evaluation) -> None:
    ev = swapped_eval
    cell = select(ev, true=3, predicted=8)
    assert len(cell) == ev.confusion[3, 8] and np.all(ev.true[cell] == 3) and np.all(ev.predicted[cell] == 8)
    assert np.all(np.diff(ev.confidence[cell]) <= 0)
    mistakes = most_confident_mistakes(ev, limit=10)
    assert len(mistakes) == 10 and not ev.correct[mistakes].any()
    assert ev.confidence[mistakes[0]] == ev.confidence[~ev.correct].max()
    sure_and_wrong = select(ev, correct=False, confidence=(0.9, 1.0))
    assert np.all(ev.confidence[sure_and_wrong] >= 0.9) and set(sure_and_wrong) <= set(np.flatnonzero(~ev.correct))
    assert len(select(ev, predicted=3)) == ev.confusion[:, 3].sum()
    table = image_table(ev, mistakes[:2])
    assert table["name"][0] == ev.names[mistakes[0]] and table["true"][0] == str(ev.true[mistakes[0]]) and table["correct"] == [False, False]
    assert class_table(ev)["support"] == ev.support.tolist()
    with pytest.raises(vc.DatasetError, match="Cannot order images"):
        select(ev, order="colour")


def test_prediction_rows_keep_top_k_and_the_true_class() -> None:
    logits = torch.randn(4, 1000, generator=torch.Generator().manual_seed(0))
    targets = np.array([7, -1, 999, 0, 5])
    rows = prediction_rows(logits, np.array([0, 1, 2, 4]), targets, top_k=5)
    probabilities = torch.softmax(logits, dim=-1).numpy()
    assert rows["top_classes"].shape == (4, 5) and rows["top_probabilities"].shape == (4, 5)
    np.testing.assert_array_equal(rows["top_classes"][:, 0], probabilities.argmax(axis=1))
    np.testing.assert_allclose(rows["true_probability"][[0, 2, 3]], probabilities[[0, 2, 3], [7, 999, 5]], rtol=1e-6)
    assert np.isnan(rows["true_probability"][1]) and rows["true"].tolist() == [7, -1, 999, 5]


def test_label_matching_by_name_wordnet_id_and_index() -> None:
    names = ["cat", "Tabby_Cat", "dog ", "cart", "(no label)"]
    match = match_labels(names, ["cat", "tabby cat, tabby", "dog", "crane", "crane"])
    assert match.classes.tolist() == [0, 1, 2, -1, -1]
    assert match.methods[:3] == ("name", "normalised name", "normalised name")
    assert match.unmatched == ("cart", "(no label)") and "closest: 'cat'" in match.reasons[3]
    assert "ambiguous" in match_labels(["crane"], ["crane", "crane"]).reasons[0]

    imagenet = vc.load_model("efficientnet_lite0").class_names  # timm's ImageNet names (offline)
    wordnet = match_labels(["n01443537", "n01440764", "goldfish", "tabby", "n99999999"], imagenet)
    assert wordnet.classes.tolist() == [1, 0, 1, 281, -1]
    assert wordnet.methods[:4] == ("WordNet id", "WordNet id", "normalised name", "normalised name")

    numbered = match_labels(["0", "2", "10"], [f"class {k}" for k in range(11)])
    assert numbered.classes.tolist() == [0, 2, 10] and set(numbered.methods) == {"index"}
    out_of_range = match_labels(["0", "11"], [f"class {k}" for k in range(11)])
    assert out_of_range.classes.tolist() == [-1, -1]  # index matching only when every folder is a valid index


def write_folder(root: Path, layout: dict[str, list[int]]) -> Path:
    """PNGs of digits images: folder name -> digits-collection indices ("" = top level)."""
    c = vc.collection("digits")
    for folder, indices in layout.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        for i in indices:
            c.load(i).save(root / folder / f"img{i:04d}.png")
    return root


def test_unmatched_folders_are_listed_counted_and_left_out(swapped: vc.LoadedModel, tmp_path: Path) -> None:
    c = vc.collection("digits")
    threes, eights, fives = (np.flatnonzero(c.labels == d)[:6].tolist() for d in (3, 8, 5))
    folder = write_folder(tmp_path / "val", {"3": threes, "8": eights, "five": fives, "": [0, 1]})
    ev = evaluate(swapped, folder)
    assert ev.matching.unmatched == ("(no label)", "five")
    assert ev.unmatched_images == 8 and len(ev.indices) == 20 and ev.top1.n == 12
    assert set(ev.true[ev.matched]) == {3, 8} and np.all(ev.true[~ev.matched] == -1)
    assert any("8 images in 2 folders" in note for note in ev.notes)
    assert ev.support.sum() == 12
    worded = replace(swapped, class_names=["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    numbered = write_folder(tmp_path / "numbered", {"3": threes, "8": eights})
    by_index = evaluate(worded, numbered)
    assert set(by_index.matching.methods) == {"index"} and by_index.top1.value == pytest.approx(ev.top1.value)
    with pytest.raises(vc.DatasetError, match="match a class"):
        evaluate(worded, write_folder(tmp_path / "none", {"cats": threes[:2], "dogs": eights[:2]}))


def test_store_reuse_without_a_pass(swapped: vc.LoadedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path / "store")
    first = evaluate(swapped, "digits", batch_size=100, store=store)
    assert not first.from_store and len(store.entries()) == 1

    def no_pass(*args: object, **kwargs: object) -> None:
        raise AssertionError("the store should have answered")

    monkeypatch.setattr(evaluation, "scan", no_pass)
    messages: list[str] = []
    started = time.perf_counter()
    again = evaluate(swapped, "digits", batch_size=100, store=store, on_step=lambda info: messages.append(info.message))
    assert time.perf_counter() - started < 1.0
    assert again.from_store and "read from the store" in messages[-1]
    for name in ("indices", "predicted", "confidence", "top_classes", "confusion", "precision", "recall", "bin_count"):
        np.testing.assert_array_equal(getattr(again, name), getattr(first, name))
    assert again.top1 == first.top1 and again.ece == pytest.approx(first.ece) and again.names == first.names


def test_a_stopped_pass_stores_nothing(swapped: vc.LoadedModel, tmp_path: Path) -> None:
    store = Store(tmp_path / "store")

    def stop_after_two_batches(info: StepInfo) -> None:
        if info.fraction > 0.1:
            raise Cancelled

    with pytest.raises(Cancelled):
        evaluate(swapped, "digits", batch_size=100, store=store, on_step=stop_after_two_batches)
    assert store.entries() == [] and not any((store.root / "staging").iterdir())
    assert not evaluate(swapped, "digits", batch_size=100, store=store).from_store


def test_one_changed_byte_of_the_checkpoint_is_a_new_entry(swapped: vc.LoadedModel, tmp_path: Path) -> None:
    path = tmp_path / "swapped.safetensors"
    save_file(swapped.model.state_dict(), str(path))
    subset = vc.collection("digits").subset(np.arange(0, 1797, 9))

    def from_checkpoint() -> vc.LoadedModel:
        module = digit_mlp()
        module.load_state_dict(load_file(str(path)))
        return vc.LoadedModel.from_module(module, data_config=DIGITS_8PX, class_names=CLASSES, weights=path.name)

    store = Store(tmp_path / "store")
    assert not evaluate(from_checkpoint(), subset, store=store).from_store
    assert evaluate(from_checkpoint(), subset, store=store).from_store  # same bytes, another module object
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))
    assert not evaluate(from_checkpoint(), subset, store=store).from_store
    assert len(store.entries()) == 2


def test_stored_evaluation_answers_only_from_the_store(swapped: vc.LoadedModel, tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    subset = vc.collection("digits").subset(np.arange(0, 1797, 7))
    assert vc.stored_evaluation(swapped, subset, store=store) is None and store.entries() == []  # no pass was run
    first = evaluate(swapped, subset, store=store)
    known = vc.stored_evaluation(swapped, subset, store=store)
    assert known is not None and known.from_store
    np.testing.assert_array_equal(known.confusion, first.confusion)
    assert known.top1 == first.top1


def test_confused_classes_are_those_of_the_worst_pairs(swapped_eval: evaluation.Evaluation) -> None:
    ev = swapped_eval
    classes = vc.confused_classes(ev, pairs=1)
    assert set(classes) == {3, 8}
    many = vc.confused_classes(ev, pairs=len(ev.confused_pairs))
    assert len(many) == len(set(many)) and set(many) == set(ev.confused_pairs[:, :2].ravel())
