"""Shared fixtures: the real bundled model (session-wide) and small random-weight timm models."""
from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
import torch

import viz_core as vc


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: long-running check (still runs in CI)")
    config.addinivalue_line("markers", "browser: drives a real headless Chromium")


@pytest.fixture(scope="session", autouse=True)
def private_results_store(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every test (and every app it starts) writes its results store under pytest's temporary
    folder, never into the user's cache, so no test reads back an earlier run's results."""
    os.environ["CONVLENS_CACHE_DIR"] = str(tmp_path_factory.mktemp("results-store"))


@pytest.fixture(scope="session")
def lite0() -> vc.LoadedModel:
    """The bundled ImageNet EfficientNet-Lite0 (real weights, offline)."""
    return vc.load_model("efficientnet_lite0")


def seeded_random_model(name: str, seed: int = 0) -> vc.LoadedModel:
    """Random weights drawn from `seed`, not from whatever state earlier tests left the global
    generator in: a session fixture is built by whichever test asks first, so without this the
    weights (and a test's numbers) would depend on the order the tests run in."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return vc.load_model(name, "random", input_size=(64, 64))


@pytest.fixture(scope="session")
def random_cnn() -> vc.LoadedModel:
    """A small random-weight timm CNN (ReLU) at a small input size."""
    return seeded_random_model("resnet10t")


@pytest.fixture(scope="session")
def random_vit() -> vc.LoadedModel:
    """A tiny random-weight ViT (GELU, class token) at 64 px: 16 patch tokens + 1 prefix."""
    return seeded_random_model("vit_tiny_patch16_224")


@pytest.fixture()
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(0)
