"""The digits demo: a small CNN trained on scikit-learn's 8×8 digits, shown at 32×32 gray.

Why: it trains in seconds (scripts/train_digits.py), its checkpoint is tiny and committed, and
its features are easy to read (the lecture's MNIST t-SNE), so every page has a real trained model
besides the ImageNet one. It looks like a timm model (`forward_features`, `forward_head`,
`num_classes`) and uses only standard Conv2d / ReLU / MaxPool2d / Linear modules.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

DIGITS_CHECKPOINT = Path(__file__).resolve().parent / "assets" / "digits_cnn.safetensors"
# the same network trained on shuffled labels (data randomisation, Adebayo et al., 2018)
DIGITS_SHUFFLED_CHECKPOINT = DIGITS_CHECKPOINT.with_name("digits_cnn_shuffled.safetensors")
DIGITS_DATA_CONFIG: dict[str, Any] = {
    "input_size": (1, 32, 32),
    "mean": (0.5,),
    "std": (0.5,),
    "crop_pct": 1.0,
    "interpolation": "bilinear",
}


class DigitsCNN(nn.Module):
    """conv(16) → pool → conv(32) → pool → conv(64) → conv(64) → global average → linear.

    Maps are 32×32, 16×16, 8×8 and 8×8, so spatial methods have something to show; the 64-d
    pooled vector is the penultimate code (`forward_head(pre_logits=True)`).
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.num_features = 64
        self.pretrained_cfg = {"classifier": "fc", "first_conv": "conv1", **DIGITS_DATA_CONFIG}
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.act1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.act2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.conv3 = nn.Conv2d(32, 64, 3, padding=1)
        self.act3 = nn.ReLU()
        self.conv4 = nn.Conv2d(64, 64, 3, padding=1)
        self.act4 = nn.ReLU()
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.fc = nn.Linear(64, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Bx1x32x32 -> Bx64x8x8."""
        x = self.pool1(self.act1(self.conv1(x)))
        x = self.pool2(self.act2(self.conv2(x)))
        return self.act4(self.conv4(self.act3(self.conv3(x))))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Bx64x8x8 -> Bx64 pooled code (pre_logits) or Bx10 logits."""
        x = self.flatten(self.global_pool(x))
        return x if pre_logits else self.fc(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


def build_digits_cnn(checkpoint: Path = DIGITS_CHECKPOINT, how: str = "") -> Any:
    """The trained digits CNN as a hub DemoModel (weights from the committed safetensors file)."""
    from safetensors.torch import load_file

    from .errors import WeightsError
    from .hub import DemoModel

    model = DigitsCNN()
    if not checkpoint.is_file():
        raise WeightsError(f"The digits checkpoint {checkpoint.name} is missing.", f"Run: python scripts/train_digits.py {how}".strip())
    model.load_state_dict(load_file(str(checkpoint)), strict=True)
    return DemoModel(
        model,
        dict(DIGITS_DATA_CONFIG),
        [str(d) for d in range(10)],
        f"bundled digits weights ({checkpoint.name}, trained by scripts/train_digits.py {how})".replace(" )", ")"),
        default_collection="digits",
    )


def build_digits_cnn_shuffled() -> Any:
    """The digits CNN trained on shuffled labels: it learned no digit (the data randomisation check)."""
    return build_digits_cnn(DIGITS_SHUFFLED_CHECKPOINT, "--shuffled-labels")
