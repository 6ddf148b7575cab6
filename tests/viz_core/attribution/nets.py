"""Tiny hand-built networks whose gradients and scores are known by hand."""
from __future__ import annotations

import torch
from torch import nn

import viz_core as vc

PLAIN = {"input_size": (1, 2, 2), "mean": (0.0,), "std": (1.0,), "crop_pct": 1.0, "interpolation": "bilinear"}

# x = [1, 2, -1, 0.5] (the 2x2 input, flattened row by row)
X = torch.tensor([[[[1.0, 2.0], [-1.0, 0.5]]]])
W1 = [[1.0, 1.0, 0.0, 0.0], [0.0, -1.0, 0.0, 2.0], [1.0, 0.0, -1.0, 2.0]]  # h1 = [3, -1, 3]
W2 = [[2.0, 1.0, -1.0], [-2.0, 1.0, 1.0]]  # a1 = [3, 0, 3] -> h2 = [3, -3]
W3 = [[1.0, -1.0], [-1.0, 2.0]]  # a2 = [3, 0] -> logits = [3, -3]


def _linear(weights: list[list[float]]) -> nn.Linear:
    layer = nn.Linear(len(weights[0]), len(weights), bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weights))
    return layer


def relu_net() -> vc.LoadedModel:
    """Flatten -> Linear -> ReLU -> Linear -> ReLU -> Linear, the weights above."""
    module = nn.Sequential(nn.Flatten(), _linear(W1), nn.ReLU(), _linear(W2), nn.ReLU(), _linear(W3))
    return vc.LoadedModel.from_module(module, name="relu_net", data_config=PLAIN, class_names=["a", "b"])


def smooth_net(activation: nn.Module) -> vc.LoadedModel:
    """Flatten -> Linear -> activation -> Linear, for checking rules on smooth activations."""
    module = nn.Sequential(nn.Flatten(), _linear(W1), activation, _linear(W2))
    return vc.LoadedModel.from_module(module, name="smooth_net", data_config=PLAIN, class_names=["a", "b"])


class FunctionalReLU(nn.Module):
    """A net whose only activation is a function call: no module a rule could reach."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2 = _linear(W1), _linear(W2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x.flatten(1))))


def functional_net() -> vc.LoadedModel:
    return vc.LoadedModel.from_module(FunctionalReLU(), name="functional", data_config=PLAIN, class_names=["a", "b"])


class RegionModel(nn.Module):
    """Logit 0 = 10 x mean of the top-left 8x8 region of channel 0; logit 1 = 5 (a constant)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        region = 10.0 * x[:, 0, :8, :8].mean(dim=(1, 2))
        return torch.stack([region, torch.full_like(region, 5.0)], dim=1)


def region_model() -> vc.LoadedModel:
    config = {"input_size": (3, 32, 32), "mean": (0.0, 0.0, 0.0), "std": (1.0, 1.0, 1.0), "crop_pct": 1.0, "interpolation": "bilinear"}
    return vc.LoadedModel.from_module(RegionModel(), name="region", data_config=config, class_names=["region", "constant"])


class TinyCNN(nn.Module):
    """conv -> ReLU -> conv -> ReLU (layer 'features') -> global average pool -> linear."""

    def __init__(self, generator: torch.Generator) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.act1 = nn.ReLU()
        self.conv2 = nn.Conv2d(4, 5, 3, padding=1)
        self.features = nn.ReLU()
        self.fc = nn.Linear(5, 3)
        with torch.no_grad():
            for parameter in self.parameters():
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        maps = self.features(self.conv2(self.act1(self.conv1(x))))
        return self.fc(maps.mean(dim=(2, 3)))


def tiny_cnn(seed: int = 0) -> vc.LoadedModel:
    config = {"input_size": (3, 16, 16), "mean": (0.5, 0.5, 0.5), "std": (0.25, 0.25, 0.25), "crop_pct": 1.0, "interpolation": "bilinear"}
    module = TinyCNN(torch.Generator().manual_seed(seed))
    return vc.LoadedModel.from_module(module, name="tiny_cnn", data_config=config, class_names=["a", "b", "c"])
