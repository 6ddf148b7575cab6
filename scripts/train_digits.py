"""Train the digits demo CNN on scikit-learn's digits and save viz_core/assets/digits_cnn.safetensors.

    .venv/bin/python scripts/train_digits.py
    .venv/bin/python scripts/train_digits.py --shuffled-labels   # -> digits_cnn_shuffled.safetensors

`--shuffled-labels` trains the same network on the same images with the training labels
permuted (fixed seed), longer and without shifts so that it memorises them: the data
randomisation test of Adebayo et al. (2018). It learns no digit (held-out accuracy near 10 %),
so a saliency map that still looks like the trained model's cannot be explaining what was learned.

Fixed seed, CPU, about ten seconds. Inputs go through the same preprocessing the dashboard uses
(8×8 -> 32×32 bilinear, normalised), so the checkpoint sees at test time what it saw in training.
Prints the accuracy on a held-out 20 % split that is never trained on.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from viz_core.dataset.sources import digits  # noqa: E402
from viz_core.demo_models import DIGITS_CHECKPOINT, DIGITS_DATA_CONFIG, DIGITS_SHUFFLED_CHECKPOINT, DigitsCNN  # noqa: E402
from viz_core.images import Preprocessing  # noqa: E402

SEED = 0
EPOCHS = 10
SHUFFLED_EPOCHS = 40  # random labels must be memorised: more epochs, no shifts, a gentler rate
SHUFFLED_LR = 2e-3
BATCH = 64


def tensors() -> tuple[torch.Tensor, torch.Tensor]:
    collection = digits()
    prep = Preprocessing.from_data_config(DIGITS_DATA_CONFIG)
    x = torch.cat([prep(collection.load(i)) for i in range(len(collection))])
    return x, torch.as_tensor(collection.labels)


def shift(x: torch.Tensor, generator: torch.Generator, pixels: int = 2) -> torch.Tensor:
    """Random translations of up to `pixels` (pad with background, crop back)."""
    padded = F.pad(x, (pixels,) * 4, value=float(x.min()))
    dy, dx = torch.randint(0, 2 * pixels + 1, (2,), generator=generator).tolist()
    return padded[:, :, dy : dy + x.shape[2], dx : dx + x.shape[3]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shuffled-labels", action="store_true", help="permute the training labels (fixed seed) and save digits_cnn_shuffled.safetensors")
    args = parser.parse_args()
    started = time.perf_counter()
    torch.manual_seed(SEED)  # this script's own process: weight initialisation
    generator = torch.Generator().manual_seed(SEED)
    x, y = tensors()
    order = np.random.default_rng(SEED).permutation(len(y))
    held_out, train = order[: len(y) // 5], order[len(y) // 5 :]
    epochs, checkpoint, targets, rate = EPOCHS, DIGITS_CHECKPOINT, y, 1e-2
    if args.shuffled_labels:
        epochs, checkpoint, rate = SHUFFLED_EPOCHS, DIGITS_SHUFFLED_CHECKPOINT, SHUFFLED_LR
        targets = y.clone()
        targets[torch.as_tensor(train)] = y[torch.as_tensor(train)][torch.as_tensor(np.random.default_rng(SEED + 1).permutation(len(train)))]
    model = DigitsCNN()
    optimiser = torch.optim.Adam(model.parameters(), lr=rate)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=rate, pct_start=0.2, total_steps=epochs * ((len(train) + BATCH - 1) // BATCH))
    for epoch in range(epochs):
        model.train()
        permutation = torch.as_tensor(train)[torch.randperm(len(train), generator=generator)]
        for start in range(0, len(permutation), BATCH):
            batch = permutation[start : start + BATCH]
            inputs = x[batch] if args.shuffled_labels else shift(x[batch], generator)
            loss = F.cross_entropy(model(inputs), targets[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
        model.eval()
        with torch.no_grad():
            accuracy = (model(x[held_out]).argmax(1) == y[held_out]).float().mean().item()
            fitted = (model(x[train]).argmax(1) == targets[train]).float().mean().item()
        print(f"epoch {epoch + 1:2d}: loss {loss.item():.3f}, training-label accuracy {fitted:.4f}, held-out accuracy {accuracy:.4f}")
    from safetensors.torch import save_file

    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(checkpoint))
    print(f"held-out accuracy: {accuracy:.4f} on {len(held_out)} images never trained on, {fitted:.4f} on the "
          f"{'shuffled ' if args.shuffled_labels else ''}training labels ({time.perf_counter() - started:.1f} s); "
          f"saved {checkpoint.relative_to(Path.cwd()) if checkpoint.is_relative_to(Path.cwd()) else checkpoint}")


if __name__ == "__main__":
    main()
