"""THE ONLY place where convlens registers hooks on a model.

Why one place: a dashboard shares one cached model between browser sessions (threads). Every hook
here is (1) installed while holding the model's lock, (2) gated to the thread that installed it,
so another session's forward through the same module never sees it, and (3) removed in `finally`,
also when the forward raises. Nothing here touches parameters, `.grad`, `training` or
`requires_grad`.
"""
from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .errors import LayerError, near_matches

_LOCKS: "weakref.WeakKeyDictionary[nn.Module, threading.RLock]" = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()

# fn(layer_name, module, forward_args, output) -> replacement output, or None to keep it
ForwardFn = Callable[[str, nn.Module, tuple[Any, ...], Any], Any]
# rule(module, activation_input, grad_wrt_output) -> grad_wrt_input
GradientRule = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]


def model_lock(model: nn.Module) -> threading.RLock:
    """The per-model re-entrant lock that every engine holds while its hooks are installed."""
    with _LOCKS_GUARD:
        lock = _LOCKS.get(model)
        if lock is None:
            lock = threading.RLock()
            _LOCKS[model] = lock
        return lock


def resolve_module(model: nn.Module, name: str, modules: dict[str, nn.Module] | None = None) -> nn.Module:
    """Module at dot path `name` ('' is the model itself), with near-miss suggestions on a typo.

    Pass `modules` (a `dict(model.named_modules())`) when resolving many names at once.
    """
    modules = dict(model.named_modules()) if modules is None else modules
    if name in modules:
        return modules[name]
    raise LayerError(f"The model has no layer called '{name}'.", near_matches(name, list(modules), "See the Layers page for valid names."))


def first_tensor(output: Any) -> torch.Tensor | None:
    """The tensor a layer produced: the output itself, or the first tensor of a tuple/list."""
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)):
        for item in output:
            if isinstance(item, torch.Tensor):
                return item
    return None


@contextmanager
def on_forward(model: nn.Module, layers: Sequence[str], fn: ForwardFn) -> Iterator[None]:
    """Call `fn` after each named layer's forward, in this thread only; always removed afterwards."""
    owner = threading.get_ident()
    modules = dict(model.named_modules())
    targets = [(name, resolve_module(model, name, modules)) for name in layers]
    with model_lock(model), ExitStack() as stack:
        for name, module in targets:

            def hook(mod: nn.Module, args: tuple[Any, ...], output: Any, _name: str = name) -> Any:
                if threading.get_ident() != owner:
                    return None
                return fn(_name, mod, args, output)

            stack.callback(module.register_forward_hook(hook).remove)
        yield


@contextmanager
def capture(
    model: nn.Module,
    layers: Sequence[str],
    *,
    detach: bool = True,
    reduce: Callable[[torch.Tensor], Any] | None = None,
) -> Iterator[dict[str, Any]]:
    """Record the output of each named layer during forwards inside the block.

    Yields a dict filled as forwards run (the last forward wins). `detach=False` keeps the
    graph so objectives can backpropagate through the activations; `reduce` stores e.g. only the
    shape instead of the tensor.
    """
    store: dict[str, Any] = {}

    def record(name: str, _mod: nn.Module, _args: tuple[Any, ...], output: Any) -> None:
        tensor = first_tensor(output)
        if tensor is None:
            return None
        value = tensor.detach() if detach else tensor
        store[name] = reduce(value) if reduce is not None else value
        return None

    with on_forward(model, layers, record):
        yield store


@dataclass
class RuleStats:
    """How many activation calls a backprop rule was attached to in the last forward(s)."""

    applied: int = 0
    modules: set[str] = field(default_factory=set)


class _RuleGradient(torch.autograd.Function):
    """Identity in the forward; in the backward, the rule replaces the activation's local gradient."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, y: torch.Tensor, module: nn.Module, rule: GradientRule) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(x)
        ctx.module, ctx.rule = module, rule
        return y.view_as(y)  # a view, not a copy: the forward value is the activation's own

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[Any, ...]:  # type: ignore[override]
        (x,) = ctx.saved_tensors
        return ctx.rule(ctx.module, x, grad_out), None, None, None


@contextmanager
def activation_rule(model: nn.Module, layers: Sequence[str], rule: GradientRule) -> Iterator[RuleStats]:
    """Backpropagate through the named elementwise activations with `rule` instead of their derivative.

    The activation's output is re-routed through an identity autograd function whose backward is
    `rule(module, input, grad_out)`; the forward value is unchanged. No module swap and no full
    backward hook (which fails on in-place activations).
    """
    stats = RuleStats()

    def reroute(name: str, module: nn.Module, args: tuple[Any, ...], output: Any) -> Any:
        if not isinstance(output, torch.Tensor) or not args or not isinstance(args[0], torch.Tensor):
            return None
        x = args[0]
        if not (x.requires_grad or output.requires_grad) or x.shape != output.shape:
            return None
        stats.applied += 1
        stats.modules.add(name)
        return _RuleGradient.apply(x, output.detach(), module, rule)

    with on_forward(model, layers, reroute):
        yield stats


def count_hooks(model: nn.Module) -> int:
    """Forward/backward hooks currently attached anywhere in the model (for leak checks)."""
    total = 0
    for module in model.modules():
        total += len(module._forward_hooks) + len(module._forward_pre_hooks)
        total += len(module._backward_hooks) + len(getattr(module, "_backward_pre_hooks", {}))
    return total
