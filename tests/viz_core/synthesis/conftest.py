"""A tiny hand-built model whose gradients are known in closed form."""
from __future__ import annotations

import pytest
import torch
from torch import nn

import viz_core as vc

TINY_CONFIG = {"input_size": (3, 8, 8), "mean": (0.5, 0.5, 0.5), "std": (0.25, 0.25, 0.25), "crop_pct": 1.0, "interpolation": "bilinear"}


class Tiny(nn.Module):
    """conv (3->2, 1x1) -> ReLU -> global mean -> linear (2->3): every quantity computable by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 1, bias=False)
        self.act = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flat = nn.Flatten()
        self.fc = nn.Linear(2, 3, bias=False)
        with torch.no_grad():
            self.conv.weight.copy_(torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, -1.0]]).view(2, 3, 1, 1))
            self.fc.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.flat(self.pool(self.act(self.conv(x)))))

    def get_classifier(self) -> nn.Module:
        return self.fc


class Linear(nn.Module):
    """logits = W · flatten(x): the gradient of logit k w.r.t. the normalised input is W[k]."""

    def __init__(self) -> None:
        super().__init__()
        self.flat = nn.Flatten()
        self.fc = nn.Linear(3 * 8 * 8, 2, bias=False)
        with torch.no_grad():
            self.fc.weight.copy_(torch.linspace(-1, 1, 2 * 192).view(2, 192))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.flat(x))


@pytest.fixture(scope="session")
def tiny() -> vc.LoadedModel:
    return vc.LoadedModel.from_module(Tiny(), name="tiny", data_config=TINY_CONFIG, class_names=["a", "b", "c"])


@pytest.fixture(scope="session")
def linear() -> vc.LoadedModel:
    return vc.LoadedModel.from_module(Linear(), name="linear", data_config=TINY_CONFIG, class_names=["a", "b"])
