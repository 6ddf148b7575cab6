"""Attention maps, rollout and gradient-weighted attention, checked against timm's own unfused path.

Tiny random-weight transformers at 64 px (4×4 patch grids); the reference is a private deep copy
of each model switched to timm's unfused attention, whose probabilities pass through `attn_drop`.
"""
from __future__ import annotations

import copy
import hashlib
import threading
from dataclasses import FrozenInstanceError

import numpy as np
import pytest
import torch

import viz_core as vc
from viz_core.attribution import attention as att
from viz_core.attribution.attention import attention_blocks, attention_maps, attention_rollout, gradient_attention, relevance_matrix, rollout_matrix
from viz_core.hooks import capture, count_hooks

IMAGE = "chelsea (cat)"

FAMILIES = {
    "vit": ("vit_tiny_patch16_224", {}),
    "deit_distilled": ("deit_tiny_distilled_patch16_224", {}),
    "eva02_rope": ("eva02_tiny_patch14_224", {}),
    "vit_relpos": ("test_vit_relpos", {}),
    "vit_register_no_class_token": ("test_vit2", {}),
    "pit": ("pit_ti_224", {}),
    "beit": ("beit_base_patch16_224", {"embed_dim": 64, "depth": 2, "num_heads": 2}),
    "cait": ("cait_xxs24_224", {"depth": 2}),
    "convit": ("convit_tiny", {}),
}


def load(name: str, size: tuple[int, int] | None = (64, 64), **kwargs: object) -> vc.LoadedModel:
    """Random weights from a fixed seed (independent of test order), at a small input size."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return vc.load_model(name, "random", input_size=size, model_kwargs=kwargs or None)


@pytest.fixture(scope="module")
def family() -> dict[str, vc.LoadedModel]:
    """Models built on first use and shared by this module's tests."""
    return {}


def model(family: dict[str, vc.LoadedModel], key: str) -> vc.LoadedModel:
    if key not in family:
        name, kwargs = FAMILIES[key]
        family[key] = load(name, **kwargs)
    return family[key]


def unfused_reference(m: vc.LoadedModel, x: torch.Tensor, paths: list[str], *, grad_of: int | None = None) -> tuple[dict[str, torch.Tensor], torch.Tensor | None, list[torch.Tensor] | None]:
    """timm's unfused attention probabilities on a private copy (and their gradients for one logit)."""
    private = copy.deepcopy(m.model)
    for module in private.modules():
        if hasattr(module, "fused_attn"):
            module.fused_attn = False
    names = [f"{path}.attn_drop" for path in paths]
    if grad_of is None:
        with torch.inference_mode(), capture(private, names) as probs:
            logits = private(x)
        return {path: probs[f"{path}.attn_drop"] for path in paths}, logits, None
    image = x.clone().requires_grad_(True)
    with capture(private, names, detach=False) as probs:
        logits = private(image)
    attentions = [probs[name] for name in names]
    grads = torch.autograd.grad(logits[0, grad_of], attentions)
    return {path: probs[f"{path}.attn_drop"].detach() for path in paths}, logits.detach(), list(grads)


def snapshot(m: vc.LoadedModel) -> tuple:
    """Everything an engine could change: weights, hooks, modes, requires_grad, .grad, fused_attn."""
    digest = hashlib.sha256()
    for key, value in m.model.state_dict().items():
        digest.update(key.encode())
        digest.update(value.detach().cpu().numpy().tobytes())
    return (
        digest.hexdigest(),
        count_hooks(m.model),
        tuple(module.training for module in m.model.modules()),
        tuple(p.requires_grad for p in m.model.parameters()),
        tuple(p.grad is None for p in m.model.parameters()),
        tuple(getattr(module, "fused_attn", None) for module in m.model.modules()),
    )


# --- reading the probabilities -------------------------------------------------------------


@pytest.mark.parametrize("key", list(FAMILIES))
def test_probabilities_equal_timms_unfused_attention(family: dict[str, vc.LoadedModel], key: str) -> None:
    m = model(family, key)
    x = m.preprocess(vc.sample_image(IMAGE))
    blocks = attention_blocks(m)
    reference, _, _ = unfused_reference(m, x, [b.path for b in blocks])
    for block in blocks:
        result = attention_maps(m, x, block=block.index)
        ours = torch.from_numpy(result.attention)[None]
        assert ours.shape == (1, block.heads, block.queries, block.tokens)
        assert np.all(result.attention >= 0) and np.allclose(result.attention.sum(axis=-1), 1.0, atol=1e-5)
        if block.type_name == "TalkingHeadAttn":  # timm's attn_drop sees the heads mixed again after the softmax
            mix = m.model.get_submodule(block.path).proj_w
            ours = mix(ours.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        torch.testing.assert_close(ours, reference[block.path], atol=1e-6, rtol=1e-5)


def test_hand_computation_reproduces_the_fused_block_output(random_vit: vc.LoadedModel) -> None:
    m, path = random_vit, "blocks.3.attn"
    module = m.model.get_submodule(path)
    x = m.preprocess(vc.sample_image(IMAGE))
    with torch.inference_mode(), capture(m.model, ["blocks.3.norm1", path]) as seen:
        m.model(x)
    tokens, fused_out = seen["blocks.3.norm1"][0], seen[path][0]  # the attention's input and its fused output
    heads, dim = module.num_heads, tokens.shape[-1] // module.num_heads
    qkv = (tokens @ module.qkv.weight.T + module.qkv.bias).reshape(-1, 3, heads, dim).permute(1, 2, 0, 3)
    q, k, v = qkv[0], qkv[1], qkv[2]
    probs = torch.softmax(q @ k.transpose(-1, -2) / dim**0.5, dim=-1)
    by_hand = (probs @ v).transpose(0, 1).reshape(tokens.shape) @ module.proj.weight.T + module.proj.bias
    torch.testing.assert_close(by_hand, fused_out, atol=1e-5, rtol=1e-4)
    result = attention_maps(m, x, block=path)
    torch.testing.assert_close(torch.from_numpy(result.attention), probs, atol=1e-6, rtol=1e-5)
    np.testing.assert_allclose(result.maps, probs[:, 0, 1:].reshape(heads, 4, 4).numpy(), atol=1e-6)
    np.testing.assert_allclose(result.prefix_share + result.maps.sum(axis=(1, 2)), 1.0, atol=1e-5)


def test_blocks_of_a_vit(random_vit: vc.LoadedModel) -> None:
    blocks = attention_blocks(random_vit)
    assert [b.path for b in blocks] == [f"blocks.{i}.attn" for i in range(12)]
    assert {(b.heads, b.tokens, b.queries, b.prefix, b.grid, b.class_token) for b in blocks} == {(3, 17, 17, 1, (4, 4), True)}


def test_distillation_and_register_tokens_and_no_class_token(family: dict[str, vc.LoadedModel]) -> None:
    distilled = attention_maps(model(family, "deit_distilled"), vc.sample_image(IMAGE))
    assert distilled.maps.shape == (3, 4, 4) and distilled.query == "class token"
    assert distilled.attention.shape == (3, 18, 18)  # class + distillation token + 16 patches
    registers = attention_maps(model(family, "vit_register_no_class_token"), vc.sample_image(IMAGE))
    assert registers.attention.shape[-1] == 17 and registers.maps.shape[1:] == (4, 4)
    assert registers.query.startswith("mean over the 16 patch-token queries") and registers.notes
    pooled = load("vit_tiny_patch16_224", class_token=False, global_pool="avg")
    block = attention_blocks(pooled)[-1]
    assert (block.prefix, block.tokens, block.class_token) == (0, 16, False)
    result = attention_maps(pooled, vc.sample_image(IMAGE))
    np.testing.assert_allclose(result.maps.reshape(3, 16), result.attention.mean(axis=1), atol=1e-6)
    rollout = attention_rollout(pooled, vc.sample_image(IMAGE))
    assert rollout.map.shape == (4, 4) and "mean over" in rollout.query


def test_block_and_head_selection(random_vit: vc.LoadedModel) -> None:
    image = vc.sample_image(IMAGE)
    by_path = attention_maps(random_vit, image, block="blocks.3.attn")
    assert by_path.block == "blocks.3.attn"
    assert attention_maps(random_vit, image, block="blocks.3").block == "blocks.3.attn"
    assert attention_maps(random_vit, image, block=3).block == "blocks.3.attn"
    assert attention_maps(random_vit, image).block == "blocks.11.attn"
    one = attention_maps(random_vit, image, block=3, head=1)
    assert one.heads == (1,) and one.maps.shape == (1, 4, 4) and one.upsampled.shape == (1, 64, 64)
    np.testing.assert_allclose(one.maps[0], by_path.maps[1], atol=1e-7)
    assert by_path.params == {"method": "attention_maps", "block": "blocks.3.attn", "head": None, "query": "class token"}
    assert by_path.image.shape == (64, 64, 3) and by_path.upsampled.shape == (3, 64, 64)
    with pytest.raises(FrozenInstanceError):
        by_path.block = "blocks.0.attn"  # type: ignore[misc]
    with pytest.raises(vc.LayerError, match="Did you mean"):
        attention_maps(random_vit, image, block="blocks.3.atn")
    with pytest.raises(vc.LayerError, match="out of range"):
        attention_maps(random_vit, image, block=12)
    with pytest.raises(vc.ConvlensError, match="3 heads"):
        attention_maps(random_vit, image, block=3, head=3)


# --- rollout ---------------------------------------------------------------------------------


def test_rollout_of_identity_attention_is_the_identity() -> None:
    eye = torch.eye(5).expand(2, 5, 5)
    for fusion in att.HEAD_FUSIONS:
        torch.testing.assert_close(rollout_matrix([eye] * 4, head_fusion=fusion, discard_ratio=0.0), torch.eye(5, dtype=torch.float32))


def test_rollout_of_uniform_attention_has_a_closed_form() -> None:
    n, blocks = 5, 3
    uniform = torch.full((2, n, n), 1 / n)  # U: U @ U = U, so ((U + I) / 2)^L = I / 2^L + (1 - 1/2^L) U
    expected = torch.eye(n, dtype=torch.float32) / 2**blocks + (1 - 2.0**-blocks) / n
    torch.testing.assert_close(rollout_matrix([uniform] * blocks, discard_ratio=0.0), expected)


def test_discard_ratio_drops_each_rows_weakest_weights() -> None:
    row = torch.tensor([0.1, 0.2, 0.3, 0.4])
    attention = row.expand(1, 4, 4)
    kept = rollout_matrix([attention], discard_ratio=0.5)  # floor(0.5 * 4) = 2 weakest dropped per row
    step = torch.tensor([0.0, 0.0, 0.3, 0.4], dtype=torch.float32).expand(4, 4) + torch.eye(4, dtype=torch.float32)
    torch.testing.assert_close(kept, step / step.sum(dim=-1, keepdim=True))
    everything = rollout_matrix([attention], discard_ratio=0.0)
    assert torch.all(everything > 0) and torch.allclose(everything.sum(dim=-1), torch.ones(4, dtype=torch.float32))
    for bad in (1.0, -0.1, True, "0.5"):
        with pytest.raises(vc.ConvlensError, match="discard_ratio"):
            rollout_matrix([attention], discard_ratio=bad)  # type: ignore[arg-type]


def test_head_fusions() -> None:
    heads = torch.tensor([[[0.9, 0.1], [0.5, 0.5]], [[0.3, 0.7], [0.2, 0.8]]])
    fused = {"mean": heads.mean(0), "max": heads.amax(0), "min": heads.amin(0)}
    for fusion, matrix in fused.items():
        step = matrix.float() + torch.eye(2, dtype=torch.float32)
        torch.testing.assert_close(rollout_matrix([heads], head_fusion=fusion, discard_ratio=0.0), step / step.sum(-1, keepdim=True))
    with pytest.raises(vc.ConvlensError, match="mean, max, min"):
        rollout_matrix([heads], head_fusion="median")


def test_rollout_on_a_vit(random_vit: vc.LoadedModel) -> None:
    image = vc.sample_image(IMAGE)
    maps = {fusion: attention_rollout(random_vit, image, head_fusion=fusion, discard_ratio=0.5) for fusion in att.HEAD_FUSIONS}
    for fusion, result in maps.items():
        assert result.map.shape == (4, 4) and result.upsampled.shape == (64, 64) and result.matrix.shape == (17, 17)
        assert result.blocks == tuple(f"blocks.{i}.attn" for i in range(12)) and result.query == "class token"
        np.testing.assert_allclose(result.matrix.sum(axis=-1), 1.0, atol=1e-5)
        np.testing.assert_allclose(result.map.ravel(), result.matrix[0, 1:], atol=1e-7)
        assert result.params["head_fusion"] == fusion and result.params["discard_ratio"] == 0.5 and result.target == ""
    assert not np.allclose(maps["max"].map, maps["min"].map)
    x = random_vit.preprocess(image)
    reference, _, _ = unfused_reference(random_vit, x, list(maps["mean"].blocks))
    expected = rollout_matrix([reference[path][0] for path in maps["mean"].blocks], head_fusion="mean", discard_ratio=0.5)
    np.testing.assert_allclose(maps["mean"].matrix, expected.numpy(), atol=1e-5)
    with pytest.raises(vc.ConvlensError, match="head fusion"):
        attention_rollout(random_vit, image, head_fusion="sum")


def test_rollout_chain_stays_within_one_token_sequence(family: dict[str, vc.LoadedModel]) -> None:
    pit = attention_rollout(model(family, "pit"), vc.sample_image(IMAGE))
    assert pit.blocks == tuple(f"transformers.2.blocks.{i}.attn" for i in range(4)) and pit.map.shape == (2, 2)
    assert any("Left out" in note for note in pit.notes)
    cait = attention_rollout(model(family, "cait"), vc.sample_image(IMAGE))
    assert cait.blocks == ("blocks.0.attn", "blocks.1.attn") and "mean over" in cait.query
    convit = attention_rollout(model(family, "convit"), vc.sample_image(IMAGE))  # blocks 0-9: gated positional attention
    assert convit.blocks == ("blocks.10.attn", "blocks.11.attn")
    assert any("starts at blocks.10" in note for note in convit.notes)


# --- gradient-weighted attention ------------------------------------------------------------


def test_relevance_matrix_known_answers() -> None:
    attention = torch.tensor([[[0.6, 0.4], [0.3, 0.7]], [[0.5, 0.5], [0.9, 0.1]]])
    gradient = torch.tensor([[[1.0, -1.0], [2.0, 0.0]], [[-3.0, 1.0], [1.0, 1.0]]])
    weighted = (gradient * attention).clamp(min=0).mean(0).float()
    eye = torch.eye(2, dtype=torch.float32)
    torch.testing.assert_close(relevance_matrix([attention], [gradient]), eye + weighted)
    torch.testing.assert_close(relevance_matrix([attention, attention], [gradient, None]), eye + weighted)
    torch.testing.assert_close(relevance_matrix([attention], [torch.zeros_like(gradient)]), eye)


def test_gradient_attention_equals_the_unfused_computation(random_vit: vc.LoadedModel) -> None:
    x = random_vit.preprocess(vc.sample_image(IMAGE))
    result = gradient_attention(random_vit, x, 7)
    reference, logits, grads = unfused_reference(random_vit, x, list(result.blocks), grad_of=7)
    assert grads is not None and logits is not None
    expected = relevance_matrix([reference[path][0] for path in result.blocks], [g[0] for g in grads])
    np.testing.assert_allclose(result.matrix, expected.numpy(), rtol=1e-4, atol=1e-6)
    assert result.score == pytest.approx(float(logits[0, 7]), rel=1e-4)
    assert "class 7" in result.target and vc.from_spec(result.params["target"]) == vc.class_logit(7)


def test_gradient_attention_depends_on_the_class(random_vit: vc.LoadedModel) -> None:
    image = vc.sample_image(IMAGE)
    first, second = gradient_attention(random_vit, image, 1), gradient_attention(random_vit, image, 500)
    assert first.map.shape == (4, 4) and first.upsampled.shape == (64, 64)
    assert np.all(first.map >= 0) and np.any(first.map > 0)
    assert not np.allclose(first.map, second.map)
    assert np.all(first.matrix - np.eye(17) >= -1e-6)


# --- where attention does not apply ---------------------------------------------------------


def test_a_cnn_gets_a_clear_message(random_cnn: vc.LoadedModel) -> None:
    image = vc.sample_image(IMAGE)
    for call in (lambda: attention_blocks(random_cnn), lambda: attention_maps(random_cnn, image), lambda: attention_rollout(random_cnn, image), lambda: gradient_attention(random_cnn, image, 1)):
        with pytest.raises(vc.LayerError, match="no self-attention") as error:
            call()
        assert "not applicable" in str(error.value) and "Grad-CAM" in str(error.value)


def test_attention_fused_into_its_blocks_is_named_as_such_not_as_a_cnn() -> None:
    """vit_pwee's ParallelScalingBlock projects queries, keys, values and the MLP in one linear."""
    m = load("vit_pwee_patch16_reg1_gap_256", depth=1)
    with pytest.raises(vc.LayerError, match="computes its attention inside its blocks") as error:
        attention_rollout(m, vc.sample_image(IMAGE))
    assert "'blocks.0', ParallelScalingBlock" in str(error.value) and "convolutional" not in str(error.value)


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("swin_tiny_patch4_window7_224", {"depths": (1, 1, 1, 1), "embed_dim": 32, "num_heads": (1, 1, 1, 1)}),
        ("test_maxvit", {}),
    ],
)
def test_windowed_attention_gets_a_clear_message(name: str, kwargs: dict) -> None:
    m = load(name, size=None, **kwargs)  # both only run at their native size
    with pytest.raises(vc.LayerError, match="windowed") as error:
        attention_maps(m, vc.sample_image(IMAGE))
    assert "windows of" in str(error.value) and "Grad-CAM" in str(error.value)
    assert count_hooks(m.model) == 0


# --- the shared model is left as it was -----------------------------------------------------


def test_every_call_leaves_the_model_unchanged(random_vit: vc.LoadedModel) -> None:
    before = snapshot(random_vit)
    image = vc.sample_image(IMAGE)
    attention_maps(random_vit, image, block=2)
    attention_rollout(random_vit, image)
    gradient_attention(random_vit, image, 3)
    gradient_attention(random_vit, image, vc.unit("blocks.5", 2))
    assert snapshot(random_vit) == before


class ExplodingTarget:
    """A target whose score raises after the forward ran with every hook installed."""

    def layers(self) -> tuple[str, ...]:
        return ("blocks.5",)

    def score(self, logits: torch.Tensor, activations: dict[str, torch.Tensor]) -> torch.Tensor:
        raise RuntimeError("injected failure")

    def validate(self, m: vc.LoadedModel) -> None:
        return None

    def describe(self, m: vc.LoadedModel) -> str:
        return "exploding"


def test_hooks_are_removed_on_failure(random_vit: vc.LoadedModel, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(random_vit)
    image = vc.sample_image(IMAGE)
    with pytest.raises(RuntimeError, match="injected"):
        gradient_attention(random_vit, image, ExplodingTarget())
    assert snapshot(random_vit) == before

    real = att._recompute

    def off_by_one(*args: object) -> tuple[torch.Tensor, torch.Tensor]:
        probs, output = real(*args)  # type: ignore[arg-type]
        return probs, output + 1.0  # what an unknown variant (e.g. a mask passed at call time) looks like

    monkeypatch.setattr(att, "_recompute", off_by_one)
    for call in (lambda: attention_maps(random_vit, image), lambda: attention_rollout(random_vit, image), lambda: gradient_attention(random_vit, image, 1)):
        with pytest.raises(vc.LayerError, match="does not reproduce its output"):
            call()
        assert snapshot(random_vit) == before


def test_concurrent_calls_match_serial_results(random_vit: vc.LoadedModel) -> None:
    image = random_vit.preprocess(vc.sample_image(IMAGE))
    serial = (attention_maps(random_vit, image, block=4).maps, gradient_attention(random_vit, image, 2).matrix)
    results: dict[str, list[np.ndarray]] = {"maps": [], "relevance": []}
    errors: list[BaseException] = []

    def run(kind: str) -> None:
        try:
            for _ in range(3):
                if kind == "maps":
                    results[kind].append(attention_maps(random_vit, image, block=4).maps)
                else:
                    results[kind].append(gradient_attention(random_vit, image, 2).matrix)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(kind,)) for kind in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert all(np.array_equal(maps, serial[0]) for maps in results["maps"])
    assert all(np.allclose(matrix, serial[1], atol=1e-6) for matrix in results["relevance"])
    assert count_hooks(random_vit.model) == 0
