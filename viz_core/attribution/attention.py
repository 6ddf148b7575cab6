"""Attention of vision transformers: per-head maps, attention rollout and gradient-weighted attention.

Why recomputed in a hook: timm runs attention through fused scaled-dot-product kernels that never
materialise the probabilities, and the shared model must not be switched to its slow path. A
forward hook on each attention module recomputes softmax(q kᵀ · scale + bias) from the module's
own projections (q/k norms, relative position bias and EVA's rotary embedding included) on the
module's input, then rebuilds the module's output from those probabilities and checks it against
the real output. A variant convlens does not know (a mask or bias passed at call time) therefore
fails with a message instead of drawing wrong maps. For gradient-weighted attention the hook
returns the rebuilt output (equal to the real one), so the probabilities are in the autograd graph.

Only global self-attention qualifies: windowed attention (Swin, MaxViT) attends within windows,
so no single map covers the image; Grad-CAM on the token grid works on every model instead.
"""
from __future__ import annotations

import difflib
import inspect
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConvlensError, LayerError
from ..hooks import capture, first_tensor, model_lock, on_forward
from ..hub import LoadedModel
from ..layers import token_grid
from ..results import AttentionHeads, AttentionRelevance
from ..targets import TargetLike, as_target, target_spec
from .common import ImageInput, as_input

HEAD_FUSIONS = ("mean", "max", "min")
_NOT_APPLICABLE_HINT = "Attention maps are not applicable here; use Grad-CAM on the token grid (or a feature map) instead."


@dataclass(frozen=True)
class AttentionBlock:
    """One global self-attention module: where it is and the token sequence it attends over.

    `tokens` is the number of keys, `queries` the number of query tokens (equal for
    self-attention; 1 for class attention as in CaiT). The keys are `prefix` class/distillation/
    register tokens followed by a `grid` (h, w) of patch tokens.
    """

    index: int
    path: str
    type_name: str
    heads: int
    tokens: int
    queries: int
    prefix: int
    grid: tuple[int, int]
    class_token: bool  # the first prefix token is a class token the query can start from


@dataclass(frozen=True)
class _Survey:
    """What one probe forward found, in execution order: readable global blocks, and why others don't count."""

    blocks: tuple[AttentionBlock, ...]
    order: tuple[str, ...]  # every attention-like module the forward ran
    windowed: tuple[tuple[str, int, str], ...]  # (path, windows, window shape in tokens)
    unreadable: tuple[tuple[str, str], ...]  # (path, reason)


class _Unreadable(Exception):
    """An attention module whose probabilities cannot be recomputed; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_SURVEYS: "weakref.WeakKeyDictionary[LoadedModel, _Survey]" = weakref.WeakKeyDictionary()
_SURVEYS_GUARD = threading.Lock()


def _linear(module: nn.Module, *names: str) -> nn.Module | None:
    """The first of the named child modules that exists (timm names projections differently)."""
    for name in names:
        child = getattr(module, name, None)
        if isinstance(child, nn.Module):
            return child
    return None


def _is_candidate(module: nn.Module) -> bool:
    """An attention module by the shape of its code: a head count and query/key projections."""
    heads = getattr(module, "num_heads", None)
    if isinstance(heads, bool) or not isinstance(heads, int):
        return False
    return _linear(module, "qkv") is not None or (_linear(module, "q", "q_proj") is not None and _linear(module, "k", "k_proj") is not None)


def _layout(model: nn.Module, tokens: int) -> tuple[int, int, int]:
    """(prefix, h, w) of a token sequence, from the model's own patch grid where it matches."""
    grid = getattr(getattr(model, "patch_embed", None), "grid_size", None)
    prefix = getattr(model, "num_prefix_tokens", None)
    if grid is not None and isinstance(prefix, int):
        height, width = int(grid[0]), int(grid[1])
        for count in dict.fromkeys((prefix, 0)):
            if tokens - count == height * width:
                return count, height, width
    return token_grid(tokens)


def _classify(m: LoadedModel, name: str, module: nn.Module, x: torch.Tensor | None, output: Any) -> AttentionBlock | tuple[int, str] | str:
    """A readable global block (index still 0), (windows, window shape) for windowed attention, or why not."""
    if x is None:
        return "it takes no tensor input"
    if x.ndim >= 3 and x.shape[0] != 1:  # one image came in: a larger batch is a batch of windows
        return int(x.shape[0]), "×".join(map(str, x.shape[1:-1]))
    if x.ndim != 3:
        return f"it attends over a {x.ndim}-D feature map, not a token sequence"
    tokens = int(x.shape[1])
    if not isinstance(output, torch.Tensor) or output.ndim != 3 or output.shape[1] not in (1, tokens):
        return f"it does not return one token per query of its {tokens} input tokens (pooled or reduced attention)"
    try:
        prefix, height, width = _layout(m.model, tokens)
        _read(m.model, module, x, int(output.shape[1]), output)
    except LayerError as error:
        return error.message
    except _Unreadable as error:
        return error.reason
    has_class = prefix > 0 and getattr(m.model, "cls_token", None) is not None
    queries = int(output.shape[1])
    return AttentionBlock(0, name, type(module).__name__, int(module.num_heads), tokens, queries, prefix, (height, width), has_class or queries == 1)


def _survey(m: LoadedModel) -> _Survey:
    """One forward at the model's input size that tries to read every attention-like module."""
    with _SURVEYS_GUARD:
        if m in _SURVEYS:
            return _SURVEYS[m]
    names = [name for name, module in m.model.named_modules() if name and _is_candidate(module)]
    found: dict[str, AttentionBlock | tuple[int, str] | str] = {}

    def probe(name: str, module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
        if name not in found:  # dicts keep insertion order = execution order
            found[name] = _classify(m, name, module, args[0] if args and isinstance(args[0], torch.Tensor) else None, output)

    if names:  # noise, not zeros: constant tokens would let a wrong recomputation pass the check
        noise = torch.randn((1, *m.input_size), generator=torch.Generator().manual_seed(0)).to(m.device)
        with torch.inference_mode(), model_lock(m.model), on_forward(m.model, names, probe):
            m.model(noise)
    blocks = [kind for kind in found.values() if isinstance(kind, AttentionBlock)]
    survey = _Survey(
        blocks=tuple(replace(block, index=index) for index, block in enumerate(blocks)),
        order=tuple(found),
        windowed=tuple((name, *kind) for name, kind in found.items() if isinstance(kind, tuple)),
        unreadable=tuple((name, kind) for name, kind in found.items() if isinstance(kind, str)),
    )
    with _SURVEYS_GUARD:
        _SURVEYS[m] = survey
    return survey


def attention_blocks(m: LoadedModel) -> list[AttentionBlock]:
    """Every global self-attention block convlens can read, in the order the forward runs them.

    Raises LayerError with the reason when the model has none (a CNN, an MLP model) or when its
    attention is windowed or local (Swin, MaxViT, ...): then no single map covers the image.
    """
    survey = _survey(m)
    if survey.windowed:
        path, windows, window = survey.windowed[0]
        raise LayerError(
            f"{m.name} uses windowed (local) attention: e.g. '{path}' attends within {windows} windows of {window} tokens each, "
            "so no attention map covers the whole image and rollout has no chain to follow.",
            _NOT_APPLICABLE_HINT,
        )
    if not survey.blocks:
        if survey.unreadable:
            path, reason = survey.unreadable[0]
            raise LayerError(f"{m.name} has attention layers, but none is global self-attention over tokens that convlens can read: '{path}': {reason}.", _NOT_APPLICABLE_HINT)
        other = [info for info in m.layers() if info.kind == "attention"]
        if other:
            raise LayerError(f"{m.name}'s attention layers (e.g. '{other[0].path}', {other[0].type_name}) are not multi-head self-attention over tokens that convlens can read.", _NOT_APPLICABLE_HINT)
        fused = [(name, module) for name, module in m.model.named_modules() if name and isinstance(getattr(module, "num_heads", None), int)]
        if fused:  # ParallelScalingBlock: one projection for queries, keys, values and the MLP
            name, module = fused[0]
            raise LayerError(
                f"{m.name} computes its attention inside its blocks (e.g. '{name}', {type(module).__name__}) from fused projections, with no attention module convlens can read.",
                _NOT_APPLICABLE_HINT,
            )
        raise LayerError(f"{m.name} has no self-attention layers (it is a convolutional or MLP model), so attention maps do not exist for it.", _NOT_APPLICABLE_HINT)
    return list(survey.blocks)


@lru_cache(maxsize=64)
def _takes_rope(kind: type) -> bool:
    return "rope" in inspect.signature(kind.forward).parameters


def _rope(model: nn.Module, module: nn.Module) -> torch.Tensor | None:
    """The rotary embedding timm passes to this module at call time (EVA), rebuilt from the model."""
    source = getattr(model, "rope", None) if _takes_rope(type(module)) else None
    if source is None:
        return None
    if hasattr(source, "feat_shape"):
        embed = source.get_embed()
    else:
        embed = source.get_embed(shape=model.patch_embed.grid_size)
    if not isinstance(embed, torch.Tensor) or embed.ndim != 2:
        raise _Unreadable(f"it uses a rotary position embedding of a kind convlens cannot rebuild ({type(source).__name__})")
    return embed


def _heads(t: torch.Tensor, heads: int) -> torch.Tensor:
    """(B, N, heads * d) -> (B, heads, N, d)."""
    return t.reshape(t.shape[0], t.shape[1], heads, -1).transpose(1, 2)


def _recompute(model: nn.Module, module: nn.Module, x: torch.Tensor, queries: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(probabilities (B, heads, queries, N), rebuilt module output) from the module's weights.

    Follows timm's unfused path: q, k, v from the projection(s); q/k norms; rotary embedding on
    the patch tokens; logits q kᵀ · scale plus relative position bias; talking-heads mixing
    before (proj_l) and after (proj_w) the softmax; then the gate, output norm and projection.
    """
    batch = x.shape[0]
    heads = int(module.num_heads)
    fused = _linear(module, "qkv")
    if fused is not None:
        if getattr(module, "q_bias", None) is not None:  # BEiT / EVA: k has no bias
            qkv = F.linear(x, fused.weight, torch.cat((module.q_bias, module.k_bias, module.v_bias)))
        else:
            qkv = fused(x)
        q, k, v = (_heads(part, heads) for part in qkv.chunk(3, dim=-1))
    else:
        q_proj, k_proj, v_proj = (_linear(module, name, f"{name}_proj") for name in "qkv")
        kv_heads = int(getattr(module, "num_kv_heads", heads))
        q, k, v = _heads(q_proj(x), heads), _heads(k_proj(x), kv_heads), _heads(v_proj(x), kv_heads)
        if kv_heads != heads:  # grouped-query attention: each key/value head serves several query heads
            k, v = (t.repeat_interleave(heads // kv_heads, dim=1) for t in (k, v))
    q = q[:, :, :queries]  # class attention (CaiT) asks from the class token only
    q, k = getattr(module, "q_norm", nn.Identity())(q), getattr(module, "k_norm", nn.Identity())(k)
    rope = _rope(model, module)
    if rope is not None:
        from timm.layers import apply_rot_embed_cat  # only timm models carry a rotary embedding

        skip = int(getattr(module, "num_prefix_tokens", 0))
        half = bool(getattr(module, "rotate_half", False))
        q, k = (torch.cat([t[:, :, :skip], apply_rot_embed_cat(t[:, :, skip:], rope, half=half)], dim=2).type_as(v) for t in (q, k))
    logits = (q * float(getattr(module, "scale", q.shape[-1] ** -0.5))) @ k.transpose(-2, -1)
    if getattr(module, "rel_pos", None) is not None and hasattr(module.rel_pos, "get_bias"):
        logits = logits + module.rel_pos.get_bias()
    elif getattr(module, "relative_position_bias_table", None) is not None:
        logits = logits + module._get_rel_pos_bias()
    if _linear(module, "proj_l") is not None:
        logits = module.proj_l(logits.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
    probs = logits.softmax(dim=-1)
    mixing = probs
    if _linear(module, "proj_w") is not None:
        mixing = module.proj_w(probs.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
    y = (mixing @ v).transpose(1, 2).reshape(batch, queries, -1)
    y = getattr(module, "norm", nn.Identity())(y)
    if getattr(module, "gate", None) is not None:
        y = y * module.gate(x[:, :queries]).sigmoid()
    return probs, module.proj(y)


def _read(model: nn.Module, module: nn.Module, x: torch.Tensor, queries: int, output: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """`_recompute`, then raise _Unreadable unless the rebuilt output equals the module's own.

    Why the check: it is what makes the probabilities the module's own, for every family and for
    fused and unfused kernels alike; any variant convlens does not know fails here.
    """
    try:
        probs, rebuilt = _recompute(model, module, x, queries)
    except (RuntimeError, TypeError, ValueError, AttributeError, IndexError) as error:
        raise _Unreadable(f"its projections do not follow timm's multi-head layout ({type(error).__name__}: {str(error)[:120]})") from error
    real = first_tensor(output)
    if real is None or real.shape != rebuilt.shape:
        raise _Unreadable(f"its output has shape {tuple(real.shape) if real is not None else 'of no tensor'}, not {tuple(rebuilt.shape)}")
    tolerance = torch.finfo(real.dtype).eps ** 0.5 * max(1.0, float(real.detach().abs().max()))
    error = float((rebuilt.detach().float() - real.detach().float()).abs().max())
    if not error <= tolerance:
        raise _Unreadable(
            f"recomputing softmax(q kᵀ · scale) from its weights does not reproduce its output (largest difference {error:.3g}): "
            "a mask, bias or rotary embedding passed at call time, or attention of another kind"
        )
    return probs, rebuilt


@contextmanager
def _reading(m: LoadedModel, blocks: Sequence[AttentionBlock], *, keep_graph: bool) -> Iterator[dict[str, torch.Tensor]]:
    """Hooks that store each block's probabilities (B, heads, queries, N) during the forwards inside.

    `keep_graph` hands the rebuilt output back to the model, so a gradient reaches the stored
    probabilities; otherwise the model's own output is kept and the probabilities are detached.
    """
    store: dict[str, torch.Tensor] = {}
    by_path = {block.path: block for block in blocks}

    def read(name: str, module: nn.Module, args: tuple[Any, ...], output: Any) -> Any:
        x, block = args[0], by_path[name]
        if x.ndim != 3 or x.shape[1] != block.tokens:
            raise LayerError(f"'{name}' received {tuple(x.shape)} instead of (batch, {block.tokens}, dim) tokens.", _NOT_APPLICABLE_HINT)
        try:
            probs, rebuilt = _read(m.model, module, x, block.queries, output)
        except _Unreadable as error:
            raise LayerError(f"Could not read the attention of '{name}' ({type(module).__name__}): {error.reason}.", _NOT_APPLICABLE_HINT) from None
        store[name] = probs if keep_graph else probs.detach()
        return rebuilt if keep_graph else None

    with on_forward(m.model, list(by_path), read):
        yield store


def _block(m: LoadedModel, block: int | str) -> AttentionBlock:
    """A block by index into `attention_blocks(m)` (negative counts from the end) or by dot path."""
    blocks = attention_blocks(m)
    if isinstance(block, bool) or not isinstance(block, (int, str)):
        raise ConvlensError(f"A block is an index or a layer path, not {block!r}.")
    if isinstance(block, int):
        if not -len(blocks) <= block < len(blocks):
            raise LayerError(f"Block {block} is out of range: {m.name} has {len(blocks)} global attention blocks (0..{len(blocks) - 1}).")
        return blocks[block]
    matches = [b for b in blocks if b.path == block] or [b for b in blocks if b.path.startswith(block + ".")]
    if len(matches) == 1:
        return matches[0]
    close = difflib.get_close_matches(block, [b.path for b in blocks], n=5, cutoff=0.5)
    hint = f"Did you mean: {', '.join(close)}?" if close else f"Attention blocks: {blocks[0].path} ... {blocks[-1].path}."
    raise LayerError(f"'{block}' is not one global attention block of {m.name}.", hint)


def _query_row(matrix: torch.Tensor, block: AttentionBlock) -> torch.Tensor:
    """(..., queries, N) -> (..., N): the class token's row, or the mean over patch-token queries."""
    if block.class_token:
        return matrix[..., 0, :]
    return matrix[..., block.prefix :, :].mean(dim=-2)


def _query_name(block: AttentionBlock) -> str:
    return "class token" if block.class_token else f"mean over the {block.tokens - block.prefix} patch-token queries"


def _on_grid(row: torch.Tensor, block: AttentionBlock, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(..., N) -> patch maps (..., h, w) and their bilinear resize to the input (..., H, W)."""
    lead = row.shape[:-1]
    grid = row[..., block.prefix :].reshape(-1, 1, *block.grid).float()
    upsampled = F.interpolate(grid, size=size, mode="bilinear", align_corners=False)
    return grid.reshape(*lead, *block.grid).cpu().numpy(), upsampled.reshape(*lead, *size).cpu().numpy()


def attention_maps(m: LoadedModel, image: ImageInput, *, block: int | str = -1, head: int | None = None) -> AttentionHeads:
    """Where one block's heads look: the class token's attention to each patch (or the mean query's).

    `block` is an index into `attention_blocks(m)` (default: the last) or a dot path; `head`
    picks one head, None shows all of them (the grid of heads).
    """
    chosen = _block(m, block)
    if head is not None and (isinstance(head, bool) or not isinstance(head, int) or not 0 <= head < chosen.heads):
        raise ConvlensError(f"Head {head!r} is out of range: '{chosen.path}' has {chosen.heads} heads (0..{chosen.heads - 1}).")
    x = as_input(m, image)
    with torch.inference_mode(), model_lock(m.model), _reading(m, [chosen], keep_graph=False) as store:
        m.model(x)
    probs = store[chosen.path][0].float()  # heads, queries, N
    shown = tuple(range(chosen.heads)) if head is None else (head,)
    probs = probs[list(shown)]
    row = _query_row(probs, chosen)
    maps, upsampled = _on_grid(row, chosen, tuple(x.shape[2:]))
    notes = [f"The query is the {_query_name(chosen)}; the model has no class token in this block."] if not chosen.class_token else []
    if _linear(m.model.get_submodule(chosen.path), "proj_w") is not None:
        notes.append("Talking-heads attention: heads are mixed again after the softmax; these are the probabilities before that mixing.")
    return AttentionHeads(
        attention=probs.cpu().numpy(),
        maps=maps.astype(np.float32),
        upsampled=upsampled.astype(np.float32),
        prefix_share=row[:, : chosen.prefix].sum(dim=-1).cpu().numpy().astype(np.float32),
        heads=shown,
        image=m.deprocess(x),
        block=chosen.path,
        query=_query_name(chosen),
        params={"method": "attention_maps", "block": chosen.path, "head": head, "query": _query_name(chosen)},
        notes=tuple(notes),
    )


def _position(path: str) -> tuple[str, int] | None:
    """('blocks', 3) for 'blocks.3.attn': the container of the attention's block and its index there."""
    container, _, index = path.rsplit(".", 1)[0].rpartition(".")
    return (container, int(index)) if index.isdigit() else None


def _chain(m: LoadedModel) -> tuple[list[AttentionBlock], list[str]]:
    """The last run of consecutive self-attention blocks over one token sequence, and notes on the rest.

    Rollout multiplies each block's attention into the next, so every factor must act on the same
    tokens and no block may be skipped: pooling stages (PiT) start a new sequence, class attention
    (CaiT) only reads from the chain, and an unreadable block, or a block without readable
    attention (ConViT's gated positional attention), ends it.
    """
    by_path = {block.path: block for block in attention_blocks(m)}
    survey = _survey(m)
    reasons = dict(survey.unreadable)
    chain: list[AttentionBlock] = []
    stop = ""
    for path in reversed(survey.order):
        block = by_path.get(path)
        if block is not None and block.queries != block.tokens and not chain:
            continue  # class attention after the chain reads from it but is not part of it
        here, first = _position(path), _position(chain[0].path) if chain else None
        follows = not chain or (here is not None and first == (here[0], here[1] + 1) and block is not None and block.tokens == chain[0].tokens)
        if block is None or block.queries != block.tokens or not follows:
            stop = f"'{path}': {reasons[path]}" if path in reasons else ""
            break
        chain.insert(0, block)
    if not chain:
        why = f"the last attention block cannot be read ({stop})" if stop else "it has only class attention"
        raise LayerError(f"{m.name} has no chain of self-attention blocks to roll out: {why}.", "Look at the blocks one by one with attention_maps.")
    notes = []
    left = [path for path in by_path if by_path[path] not in chain]
    if left:
        more = f" and {len(left) - 3} more" if len(left) > 3 else ""
        notes.append(f"Left out because they act on other tokens or only read from the chain: {', '.join(left[:3])}{more}; the chain is {chain[0].path} to {chain[-1].path}.")
    start = _position(chain[0].path)
    if stop:
        notes.append(f"The chain starts after {stop}.")
    elif start is not None and start[1] > 0 and not any(_position(path) == (start[0], start[1] - 1) for path in survey.order):
        notes.append(f"The chain starts at {start[0]}.{start[1]}: the blocks before it mix tokens without attention convlens can read, so relevance is traced back to that block's input only.")
    if not chain[0].class_token:
        notes.append(f"The chain has no class token; relevance is read as the {_query_name(chain[0])}.")
    return chain, notes


def _fuse(attention: torch.Tensor, head_fusion: str) -> torch.Tensor:
    """(heads, N, N) -> (N, N) by mean, max or min over heads."""
    if head_fusion == "mean":
        return attention.mean(dim=0)
    if head_fusion == "max":
        return attention.amax(dim=0)
    return attention.amin(dim=0)


def _check_rollout(head_fusion: str, discard_ratio: float) -> None:
    if head_fusion not in HEAD_FUSIONS:
        raise ConvlensError(f"Unknown head fusion '{head_fusion}'.", f"Choose one of: {', '.join(HEAD_FUSIONS)}.")
    if isinstance(discard_ratio, bool) or not isinstance(discard_ratio, (int, float)) or not 0.0 <= discard_ratio < 1.0:
        raise ConvlensError(f"discard_ratio must be a number in [0, 1); got {discard_ratio!r}.", "0 keeps every weight; 0.9 keeps each row's strongest 10 %.")


def rollout_matrix(attentions: Sequence[torch.Tensor], *, head_fusion: str = "mean", discard_ratio: float = 0.0) -> torch.Tensor:
    """Attention rollout as an (N, N) matrix: the product of the blocks' residual-aware attention.

    Per block (heads, N, N), first to last: fuse the heads; zero the weakest `discard_ratio`
    fraction of each row (a common refinement that removes diffuse background attention); add the
    identity for the residual connection and renormalise rows; multiply onto the rollout so far.
    """
    _check_rollout(head_fusion, discard_ratio)
    tokens = attentions[0].shape[-1]
    eye = torch.eye(tokens, dtype=torch.float32, device=attentions[0].device)
    result = eye.clone()
    keep = tokens - int(discard_ratio * tokens)
    for attention in attentions:
        fused = _fuse(attention.float(), head_fusion)
        if keep < tokens:
            strongest = fused.topk(keep, dim=-1).indices
            fused = torch.zeros_like(fused).scatter(-1, strongest, fused.gather(-1, strongest))
        step = fused + eye
        result = (step / step.sum(dim=-1, keepdim=True)) @ result
    return result


def relevance_matrix(attentions: Sequence[torch.Tensor], gradients: Sequence[torch.Tensor | None]) -> torch.Tensor:
    """Gradient-weighted relevance as an (N, N) matrix: R = I; per block R += mean_heads(relu(∇A ⊙ A)) R.

    Each attention and gradient is (heads, N, N); a missing gradient (the score does not depend
    on that block) counts as zero.
    """
    tokens = attentions[0].shape[-1]
    result = torch.eye(tokens, dtype=torch.float32, device=attentions[0].device)
    for attention, gradient in zip(attentions, gradients):
        if gradient is None:
            continue
        weighted = (gradient.float() * attention.float()).clamp(min=0).mean(dim=0)
        result = result + weighted @ result
    return result


def _relevance_result(m: LoadedModel, x: torch.Tensor, method: str, matrix: torch.Tensor, chain: list[AttentionBlock], params: dict[str, Any], notes: list[str], **extra: Any) -> AttentionRelevance:
    last = chain[-1]
    row = _query_row(matrix, last)
    grid, upsampled = _on_grid(row, last, tuple(x.shape[2:]))
    return AttentionRelevance(
        method=method,
        matrix=matrix.float().cpu().numpy(),
        map=grid.astype(np.float32),
        upsampled=upsampled.astype(np.float32),
        image=m.deprocess(x),
        blocks=tuple(b.path for b in chain),
        query=_query_name(last),
        params={"method": method, "blocks": [chain[0].path, chain[-1].path], "query": _query_name(last), **params},
        notes=tuple(notes),
        **extra,
    )


def attention_rollout(m: LoadedModel, image: ImageInput, *, head_fusion: str = "mean", discard_ratio: float = 0.9) -> AttentionRelevance:
    """Attention rollout (Abnar & Zuidema, 2020) from the class token: where information flows from.

    Class-agnostic: it shows what the class token mixes in, not evidence for a class (see
    `gradient_attention` for that). `head_fusion` is mean (the paper's), max or min.
    """
    _check_rollout(head_fusion, discard_ratio)
    chain, notes = _chain(m)
    x = as_input(m, image)
    with torch.inference_mode(), model_lock(m.model), _reading(m, chain, keep_graph=False) as store:
        m.model(x)
    matrix = rollout_matrix([store[b.path][0] for b in chain], head_fusion=head_fusion, discard_ratio=discard_ratio)
    return _relevance_result(m, x, "attention_rollout", matrix, chain, {"head_fusion": head_fusion, "discard_ratio": float(discard_ratio)}, notes)


def gradient_attention(m: LoadedModel, image: ImageInput, target: TargetLike) -> AttentionRelevance:
    """Class-specific attention: each block's attention weighted by the target's gradient, rolled up.

    Unlike rollout it changes with the target: only attention whose increase raises the score
    counts (Chefer, Gur & Wolf, ICCV 2021). One forward and one gradient pass; no `.backward()`.
    """
    chain, notes = _chain(m)
    goal = as_target(target, m)
    x = as_input(m, image)
    with torch.inference_mode(False), torch.enable_grad(), model_lock(m.model):
        image_in = x.detach().clone().requires_grad_(True)
        with capture(m.model, list(goal.layers()), detach=False) as activations, _reading(m, chain, keep_graph=True) as store:
            logits = m.model(image_in)
        scores = goal.score(logits, activations)
        attentions = [store[b.path] for b in chain]
        grads = torch.autograd.grad(scores.sum(), attentions, allow_unused=True) if scores.requires_grad else (None,) * len(chain)
    matrix = relevance_matrix([a[0].detach() for a in attentions], [g[0] if g is not None else None for g in grads])
    if all(g is None or not torch.any(g != 0) for g in grads):
        notes.append("The target does not depend on the attention of these blocks (every gradient is zero), so the map is empty.")
    described = goal.describe(m)
    return _relevance_result(m, x, "gradient_attention", matrix, chain, {"target": target_spec(goal)}, notes, target=described, score=float(scores.detach()[0]))


__all__ = [
    "HEAD_FUSIONS",
    "AttentionBlock",
    "attention_blocks",
    "attention_maps",
    "attention_rollout",
    "gradient_attention",
    "relevance_matrix",
    "rollout_matrix",
]
