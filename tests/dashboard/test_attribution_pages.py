"""The attribution pages beyond their defaults: a neuron target with a position, other settings."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import viz_core as vc
from dashboard.widgets import clicked_cell

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


def _open(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    at.switch_page(f"app_pages/{page}.py")
    at.run()
    assert not at.exception
    return at


@pytest.mark.slow
def test_saliency_page_explains_a_neuron_at_a_position() -> None:
    at = _open("saliency")
    at.radio(key="sal-kind").set_value("A neuron").run()
    at.checkbox(key="sal-pos").check().run()
    assert not at.exception and not at.error
    titles = [element.proto.spec for element in at.get("plotly_chart")]
    assert any("channel 0 on this image: click a cell" in spec for spec in titles)  # the position picker
    # the position starts where the channel fires most on this image
    layer = at.selectbox(key="sal-layer|efficientnet_lite0").value
    m = vc.load_model("efficientnet_lite0")
    values = vc.channel_map(m, vc.sample_image("chelsea (cat)"), layer, 0)
    strongest = np.unravel_index(int(np.argmax(values)), values.shape)
    assert (at.number_input(key=f"sal-y|{layer}").value, at.number_input(key=f"sal-x|{layer}").value) == strongest
    assert any(f"channel 0 (at ({strongest[0]}, {strongest[1]}))" in spec for spec in titles)
    assert "Rules were applied to 33 activation calls" in " ".join(c.value for c in at.caption)


@pytest.mark.slow
def test_occlusion_and_segmentation_pages_with_other_settings() -> None:
    at = _open("occlusion")
    at.select_slider(key="occ-patch").set_value(64)
    at.select_slider(key="occ-stride").set_value(48)
    at.selectbox(key="occ-fill").set_value("blur")
    at.button[0].click().run()
    assert not at.exception and not at.error
    assert "(patch 64, stride 48, blur)" in " ".join(element.proto.spec for element in at.get("plotly_chart"))
    at.switch_page("app_pages/segmentation.py")
    at.run()
    at.radio(key="seg-source").set_value("vanilla").run()
    assert not at.exception and not at.error
    assert at.metric[0].value.endswith("%")


def test_clicked_cell_reads_the_last_clicked_point() -> None:
    assert clicked_cell(None) is None and clicked_cell({}) is None
    assert clicked_cell({"selection": {"points": []}}) is None
    assert clicked_cell({"selection": {"points": [{"x": 1, "y": 2}, {"x": 4.0, "y": 3.0, "curve_number": 1}]}}) == (3, 4)
