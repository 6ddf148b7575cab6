"""The Attention page: every figure on a random-weight ViT, its pickers, and a clear 'not applicable' on a CNN."""
from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
VIT = "vit_tiny_patch16_224"


def _open(model: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    if model:
        at.query_params["model"] = model
    at.run()
    at.switch_page("app_pages/attention.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _titles(at: AppTest) -> list[str]:
    return [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in at.get("plotly_chart")]


def test_a_cnn_gets_a_clear_not_applicable_message() -> None:
    at = _open()
    text = " ".join(info.value for info in at.info)
    assert "not available for efficientnet_lite0" in text and "no self-attention" in text and "Grad-CAM" in text
    assert not at.get("plotly_chart")


def test_a_vit_shows_heads_rollout_and_class_specific_attention() -> None:
    at = _open(VIT)
    titles = _titles(at)
    assert titles[0] == "attention of blocks.11.attn, mean over 3 heads<br><sup>from the class token</sup>"
    assert titles[1] == "attention of blocks.11.attn, all 3 heads<br><sup>from the class token; in brackets: its share on patches</sup>"
    assert titles[2] == "attention rollout (mean over heads, discard 90%)<br><sup>from the class token, blocks.0.attn to blocks.11.attn</sup>"
    assert titles[3].startswith("gradient-weighted attention, blocks.0.attn to blocks.11.attn<br><sup>target: class ") and "(logit)" in titles[3]
    assert any("random weights" in w.value for w in at.warning)

    at.selectbox(key=f"att-block|{VIT}").set_value("blocks.3.attn").run()
    at.selectbox(key=f"att-head|{VIT}|blocks.3.attn").set_value(2).run()
    at.radio(key="att-fusion").set_value("max").run()
    at.slider(key="att-discard").set_value(0.5).run()
    at.selectbox(key=f"att-class|{VIT}").set_value(7).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    titles = _titles(at)
    assert titles[0] == "attention of blocks.3.attn, head 2<br><sup>from the class token</sup>"
    assert titles[1].startswith("attention of blocks.3.attn, all 3 heads")
    assert titles[2].startswith("attention rollout (max over heads, discard 50%)")
    assert "<sup>target: class 7 " in titles[3]
