"""Exports that reproduce: the manifest, the zip bundle, `reproduce`, and a downloaded image's return."""
from __future__ import annotations

import copy
import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import viz_core as vc
from viz_core import export
from viz_core.store import weights_digest


@pytest.fixture(scope="module")
def digits() -> vc.LoadedModel:
    return vc.load_model("digits_cnn")


@pytest.fixture(scope="module")
def digit() -> Image.Image:
    return vc.collection("digits").load(3)


@pytest.fixture(scope="module")
def made(digits: vc.LoadedModel, digit: Image.Image) -> dict[str, object]:
    """One result of each replayed kind, on the digits demo."""
    return {
        "guided": vc.backprop(digits, digit, 3, rule="guided"),
        "cam": vc.grad_cam(digits, digit, vc.class_prob(3)),
        "occlusion": vc.occlusion(digits, digit, vc.class_prob(3), patch=8, stride=4),
        "class-model": vc.class_model(digits, 7, steps=6, seed=5),
        "ig": vc.integrated_gradients(digits, digit, vc.unit("act3", 2), steps=8),
        "inversion": vc.invert(digits, digit, "act2", steps=4),
        "accent": vc.accentuate(digits, digit, 3, steps=3),
    }


@pytest.fixture(scope="module")
def bundle(made: dict[str, object], digits: vc.LoadedModel, digit: Image.Image) -> bytes:
    return export.results_zip(made, digits, digit, url="http://localhost:8501/saliency?model=digits_cnn")


def test_manifest_records_what_made_the_result(made: dict[str, object], digits: vc.LoadedModel, digit: Image.Image) -> None:
    record = export.manifest(made, digits, digit, url="http://host/page?x=1")
    assert record["model"]["name"] == "digits_cnn" and record["model"]["weights"] == "bundled"
    assert record["model"]["weights_digest"] == weights_digest(digits.model)
    assert record["image"]["digest"] == vc.image_digest(digit)
    assert record["url"] == "http://host/page?x=1"
    assert record["versions"]["torch"] and torch.__version__.startswith(record["versions"]["torch"])
    assert dt.datetime.fromisoformat(record["created"]).tzinfo is not None
    guided = record["results"]["guided"]
    assert guided["kind"] == "Attribution" and guided["params"] == made["guided"].params  # type: ignore[attr-defined]
    assert guided["call"] == {"function": "backprop", "kwargs": {"target": {"kind": "class", "index": 3, "probability": False}, "rule": "guided"}}
    assert guided["arrays"]["attribution"]["sha256"] == export.array_digest(made["guided"].attribution)  # type: ignore[attr-defined]
    assert record["results"]["class-model"]["call"]["function"] == "class_model"
    assert record["results"]["class-model"]["call"]["kwargs"]["settings"]["seed"] == 5
    json.dumps(record)  # JSON all the way down


def test_the_zip_reproduces_every_array_exactly(bundle: bytes) -> None:
    names = set(zipfile.ZipFile(io.BytesIO(bundle)).namelist())
    assert {"manifest.json", "input.png", "plotly.min.js", "guided.npz", "cam.html", "cam-upsampled.png", "guided-map.png"} <= names
    again = export.reproduce(bundle)
    assert set(again.results) == {"guided", "cam", "occlusion", "class-model", "ig", "inversion", "accent"}
    assert again.exact, again.max_difference
    assert all(v == 0.0 for arrays in again.max_difference.values() for v in arrays.values())


def test_a_manifest_file_with_its_image_beside_it_reproduces(bundle: bytes, tmp_path: Path) -> None:
    zipfile.ZipFile(io.BytesIO(bundle)).extractall(tmp_path)
    assert export.reproduce(tmp_path / "manifest.json", only="cam").exact
    record = json.loads((tmp_path / "manifest.json").read_text())
    assert export.reproduce(record, image=tmp_path / "input.png", only="occlusion").exact


def test_a_changed_array_is_reported_with_its_difference(bundle: bytes) -> None:
    source = zipfile.ZipFile(io.BytesIO(bundle))
    record = json.loads(source.read("manifest.json"))
    stored = dict(np.load(io.BytesIO(source.read("guided.npz"))))
    stored["attribution"] = stored["attribution"] + 0.5
    record["results"]["guided"]["arrays"]["attribution"]["sha256"] = export.array_digest(stored["attribution"])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            if name not in ("manifest.json", "guided.npz"):
                target.writestr(name, source.read(name))
        target.writestr("manifest.json", json.dumps(record))
        target.writestr("guided.npz", export.npz_bytes(stored))
    again = export.reproduce(out.getvalue(), only="guided")
    assert not again.exact and again.identical["guided"] == {"attribution": False, "image": True}
    assert again.max_difference["guided"]["attribution"] == pytest.approx(0.5)


def test_other_weights_or_another_image_are_refused(made: dict[str, object], digits: vc.LoadedModel, digit: Image.Image) -> None:
    record = export.manifest(made, digits, digit)
    changed = copy.deepcopy(digits.model)
    with torch.no_grad():
        next(changed.parameters()).add_(1e-3)
    other = vc.LoadedModel.from_module(changed, name="digits_cnn", data_config=digits.data_config, class_names=digits.class_names)
    with pytest.raises(export.ExportError, match="not the ones"):
        export.reproduce(record, model=other, image=digit)
    with pytest.raises(export.ExportError, match="not the one the result was made from"):
        export.reproduce(record, image=vc.collection("digits").load(4))
    with pytest.raises(export.ExportError, match="none was found"):
        export.reproduce(record, only="cam")  # a manifest alone does not carry the image
    assert export.reproduce(record, only="class-model").exact  # a class model needs none
    with pytest.raises(export.ExportError, match="not a convlens results zip"):
        export.reproduce(b"not a zip")


def test_random_weights_reproduce_with_the_same_model(random_cnn: vc.LoadedModel) -> None:
    picture = vc.sample_image("coffee (espresso)")
    result = vc.backprop(random_cnn, picture, 1)
    record = export.manifest(result, random_cnn, picture)
    assert record["model"]["weights"] == "random" and record["model"]["input_size"] == [3, 64, 64]
    with pytest.raises(export.ExportError, match="random weights"):
        export.reproduce(record, image=picture)
    assert export.reproduce(record, image=picture, model=random_cnn).exact


def test_results_without_a_replay_are_exported_and_skipped(digits: vc.LoadedModel) -> None:
    picture = vc.filters(digits, digits.layers()[0].path)
    data = export.results_zip({"filters": picture}, digits, vc.sample_image("rocket"))
    record = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"))
    assert record["image"] is None and "input.png" not in zipfile.ZipFile(io.BytesIO(data)).namelist()  # filters need no input image
    assert record["results"]["filters"]["call"] is None and "not replayed" in record["results"]["filters"]["not_reproducible"]
    again = export.reproduce(data)
    assert not again.exact and "filters" in again.skipped


def test_pictures_use_the_house_scales() -> None:
    signed = export.colourised(np.array([[-1.0, 0.0], [0.0, 1.0]]), min_side=4)
    assert signed.shape == (4, 4, 3)
    assert tuple(signed[0, 0]) != tuple(signed[-1, -1])  # blue and red ends
    assert abs(int(signed[0, -1].astype(int).sum()) - 3 * 247) < 30  # zero is (near) white on RdBu
    magnitude = export.colourised(np.array([[0.0, 1.0]]), False, min_side=1)
    assert magnitude.shape == (1, 2, 3) and tuple(magnitude[0, 0]) != tuple(magnitude[0, 1])


def test_an_adversarial_image_survives_png_and_preprocess(random_cnn: vc.LoadedModel) -> None:
    """A picture at the model's input size is not resized and cropped again (it was, and an attack
    downloaded and uploaded again lost its effect)."""
    picture = vc.sample_image("chelsea (cat)")
    attack = vc.fgsm(random_cnn, picture, eps=8 / 255)
    assert attack.image.shape == (64, 64, 3)
    back = vc.load_image(export.png_bytes(attack.image))
    np.testing.assert_array_equal(random_cnn.image01(back), attack.image.astype(np.float32) / 255.0)
    with torch.inference_mode():
        probs = torch.softmax(random_cnn.model(random_cnn.preprocess(back)), dim=-1)[0].numpy()
    np.testing.assert_allclose(probs, attack.probs_8bit, atol=1e-6)
    assert export.reproduce(export.manifest(attack, random_cnn, picture), image=picture, model=random_cnn).exact  # the attack replays
    larger = Image.fromarray(attack.image).resize((80, 80))
    assert random_cnn.image01(larger).shape == (64, 64, 3)  # other sizes are still fitted


def test_files_zip_holds_the_picture_arrays_and_params_of_a_non_result() -> None:
    picture = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    data = vc.files_zip("layers", picture=picture, arrays={"shape": np.array([1, 2])}, params=[{"layer": "a", "shape": (1, 2)}])
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        assert sorted(bundle.namelist()) == ["layers.json", "layers.npz", "layers.png"]
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(bundle.read("layers.png")))), picture)
        assert np.array_equal(np.load(io.BytesIO(bundle.read("layers.npz")))["shape"], [1, 2])
        assert json.loads(bundle.read("layers.json")) == [{"layer": "a", "shape": [1, 2]}]
    with zipfile.ZipFile(io.BytesIO(vc.files_zip("empty"))) as bundle:
        assert bundle.namelist() == []
