"""The trained digits demo model, shared by the dataset tests."""
from __future__ import annotations

import pytest

import viz_core as vc


@pytest.fixture(scope="session")
def digits() -> vc.LoadedModel:
    return vc.load_model("digits_cnn")
