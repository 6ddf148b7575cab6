"""The Evaluate page and the sidebar's deployment file and labels file (AppTest, no browser)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from streamlit.testing.v1 import AppTest

import viz_core as vc

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
DIGITS_CHECKPOINT = Path(vc.__file__).resolve().parent / "assets" / "digits_cnn.safetensors"
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@pytest.fixture(autouse=True)
def own_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test its own results store and no deployment file (unless it writes one)."""
    monkeypatch.setenv("CONVLENS_CACHE_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("CONVLENS_CONFIG", str(tmp_path / "absent.toml"))
    return tmp_path / "store"


def evaluate_page(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    for key, value in {"model": "digits_cnn", **(query or {})}.items():
        at.query_params[key] = value
    at.run()
    at.switch_page("app_pages/evaluate.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def charts(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def sidebar_image(at: AppTest) -> str:
    """The caption of the sidebar's input image."""
    return " ".join(caption for node in at.sidebar if type(node).__name__ == "Image" for caption in node.captions)


def write_digits(root: Path, folders: dict[str, int], per_folder: int = 4) -> Path:
    """PNGs of digits in folders: folder name -> digit."""
    c = vc.collection("digits")
    for folder, digit in folders.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        for i in [int(i) for i in (c.labels == digit).nonzero()[0][:per_folder]]:
            c.load(i).save(root / folder / f"{i}.png")
    return root


def test_evaluate_then_a_new_session_reads_the_store_and_clearing_empties_it(own_store: Path) -> None:
    at = evaluate_page()
    assert any("Press **Evaluate**" in info.value for info in at.info) and not at.metric  # long runs start from a button
    at.button(key="eval-start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = metrics(at)
    assert shown["Top-1 accuracy"] == "98.2%" and shown["Images in the metrics"] == "1,797"
    assert any("one streaming pass" in caption.value for caption in at.caption)
    titles = [chart["layout"]["title"]["text"] for chart in charts(at)]
    assert any(t.startswith("Confusion matrix of digits_cnn") for t in titles) and any(t.startswith("Reliability diagram") for t in titles)
    assert any("Confidence of right and wrong" in t for t in titles) and any("Most-confused pairs" in t for t in titles)
    assert any("the most confident mistakes" in md.value for md in at.markdown)

    again = evaluate_page()  # another session (or a restart: the memory caches are per process) finds the store
    assert metrics(again) == shown
    assert any("read from the results store" in caption.value for caption in again.caption)
    again.button(key="eval-clear").click().run()
    assert not again.exception and not again.metric
    assert vc.Store(own_store).entries() == []


def test_a_mistake_is_explained_and_opens_in_the_saliency_page() -> None:
    at = evaluate_page()
    at.button(key="eval-start").click().run()
    why = [button for button in at.button if (button.key or "").startswith("eval-why-")]
    assert len(why) == 24  # a gallery of the most confident mistakes
    why[0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    heading = [h.value for h in at.subheader if h.value.startswith("Why")]
    assert heading and " and not " in heading[0]
    figure = next(chart for chart in charts(at) if chart["layout"]["title"]["text"].startswith("Why '"))
    panels = [a["text"] for a in figure["layout"]["annotations"]]
    assert any(p.startswith("Grad-CAM:") for p in panels) and any(p.startswith("guided backprop:") for p in panels)
    assert any(p.startswith("occlusion: drop of p(") for p in panels) and any(p.startswith("gradient of ") for p in panels)
    link = at.code[0].value
    index = int(link.split("img-index=")[1].split("&")[0])
    assert "/saliency?" in link and "image=From+a+collection" in link and "img-collection=Digits+%28scikit-learn%2C+1%2C797%29" in link
    at.button(key="eval-open-saliency").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Saliency & backprop"  # the image is the sidebar's now, on every page
    at.switch_page("app_pages/predictions.py")
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert sidebar_image(at).startswith(f"scikit-learn digits #{index}: ")


def test_the_link_opens_the_image_in_a_new_session() -> None:
    at = AppTest.from_file(APP, default_timeout=240)
    # a bound select box reads its option's label from the URL (as the link writes it)
    for key, value in {"image": "From a collection", "img-collection": "Digits (scikit-learn, 1,797)", "img-index": "7"}.items():
        at.query_params[key] = value
    at.run()
    at.switch_page("app_pages/saliency.py")
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert sidebar_image(at) == "scikit-learn digits #7: digit 7 (a 7)"  # not the default model's default collection (photos)
    assert at.title[0].value == "Saliency & backprop"


def test_configured_model_and_collection_come_first_and_a_bad_entry_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "digits.txt").write_text("\n".join(WORDS))
    write_digits(tmp_path / "val", {"three": 3, "eight": 8, "n01440764": 1})
    (tmp_path / "convlens.toml").write_text(
        f"""
[[models]]
name = "Digits (team)"
architecture = "viz_core.demo_models:DigitsCNN"
checkpoint = "{DIGITS_CHECKPOINT}"
labels = "digits.txt"
input_size = 32
mean = [0.5]
std = [0.5]
crop_pct = 1.0

[[models]]
name = "Broken"
checkpoint = "nowhere.pth"

[[collections]]
name = "Validation"
path = "val"
"""
    )
    monkeypatch.setenv("CONVLENS_CONFIG", str(tmp_path / "convlens.toml"))
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    picker = at.sidebar.selectbox(key="model")
    assert picker.options[0] == "Digits (team) (configured)" and picker.value == "Digits (team)"
    warnings = [w.value for w in at.sidebar.warning]
    assert len(warnings) == 1 and "models[2] 'Broken', field 'architecture': is missing." in warnings[0]
    at.switch_page("app_pages/evaluate.py")
    at.run()
    assert at.selectbox(key="eval-collection|Digits (team)").value == "config:Validation"
    at.button(key="eval-start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert metrics(at)["Images in the metrics"] == "8" and metrics(at)["Top-1 accuracy"] == "100.0%"
    mapping = next(frame.value for frame in at.dataframe if "folder" in frame.value.columns)
    assert mapping["model class"].tolist() == ["8: eight", "—", "3: three"]
    assert any("n01440764" in w.value for w in at.warning)


def test_a_labels_file_names_an_uploaded_checkpoints_classes(tmp_path: Path) -> None:
    with torch.random.fork_rng():
        torch.manual_seed(0)
        module = vc.load_model("test_efficientnet", weights="random", model_kwargs={"num_classes": 3}).model
    path = tmp_path / "three.safetensors"
    save_file(module.state_dict(), str(path))
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params["model"] = "test_efficientnet"
    at.run()
    at.sidebar.selectbox(key="weights|test_efficientnet").set_value("file").run()
    at.sidebar.file_uploader(key="checkpoint").upload("three.safetensors", path.read_bytes(), "application/octet-stream").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.sidebar.file_uploader(key="labels_upload").upload("names.json", b'["cat", "dog"]', "application/json").run()
    assert not at.exception
    assert any("'names.json' has 2 names; the model has 3 outputs" in e.value for e in at.sidebar.error)
    at.sidebar.file_uploader(key="labels_upload").upload("names.json", b'{"0": "cat", "1": "dog", "2": "bird"}', "application/json").run()
    assert not at.exception and not at.sidebar.error
    assert any(name in md.value for md in at.markdown for name in ("cat", "dog", "bird"))  # the Predictions page names them


def test_embeddings_colour_points_by_right_and_wrong() -> None:
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params["model"] = "digits_cnn"
    at.query_params["embeddings-limit"] = "300"
    at.run()
    at.switch_page("app_pages/embeddings.py")
    at.run()
    at.radio(key="embeddings-colour").set_value("correct")
    next(button for button in at.button if button.label == "Compute map").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    feats = vc.features(vc.load_model("digits_cnn"), "digits", None, limit=300, seed=0)
    wrong = int((feats.predicted != feats.labels).sum())  # digits folders 0-9 are the classes' own names
    scatter = charts(at)[0]
    assert [trace["name"] for trace in scatter["data"]] == [f"right ({300 - wrong})", f"wrong ({wrong})", "chosen image"]
