"""The zoo: every public technique of viz_core on 62 timm architectures, random weights, tiny sizes.

Why: convlens promises that every page works on any timm model or says why a method does not
apply. So each technique must end in a result or a `ConvlensError`, never in a raw exception
from deep inside an engine; and a `ConvlensError` is accepted only where the technique does not
apply to that kind of model: attention techniques where the model has no global self-attention
convlens reads, class methods on a backbone without a head. Everything else must give a result
(Grad-CAM on ResNet, rollout on a ViT, a neuron of a headless backbone, ...), so a method that
starts refusing a model it used to explain fails here too.

Each family runs as its smallest variant at the smallest input it takes (32 px for most), deep
stacks cut to one or two blocks per stage where timm's arguments allow it, with 1 optimisation
step, 1-4 images, occlusion in 2×2 patches and 2 integrated-gradients steps.
Measured: 3 min 51 s for the module (pytest: 225 s) on the 2-core CPU, OMP_NUM_THREADS=1, with
the other core busy.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import torch

import viz_core as vc
from viz_core.layers import classifier_paths

ATTENTION = frozenset({"attention_maps", "attention_rollout", "gradient_attention"})
# what a model without a classifier head cannot do: its output is a feature vector, not classes
CLASSES = frozenset({"predict", "class_model", "fgsm", "adversarial", "attack_sweep", "faithfulness_summary", "contrast", "evaluate"})


@dataclass(frozen=True)
class Family:
    """One architecture of the zoo: its smallest variant, the size it runs at, how it is cut down,
    and which attention techniques apply (global self-attention over tokens that convlens reads)."""

    name: str
    size: int = 32
    kwargs: dict[str, Any] = field(default_factory=dict)
    attention: frozenset[str] = frozenset()

    @property
    def id(self) -> str:
        return self.name + ("-headless" if self.kwargs.get("num_classes") == 0 else "")


def vit(name: str, size: int = 32, attention: frozenset[str] = ATTENTION, **kwargs: Any) -> Family:
    return Family(name, size, kwargs, attention)


ZOO = [
    # classic CNNs
    Family("resnet10t"),
    Family("vgg11", kwargs={"mlp_ratio": 0.0625}),  # a 256-wide pre-logits instead of 4096
    Family("densenet121", kwargs={"block_config": (2, 2, 2, 2)}),
    Family("inception_v3", size=75),  # the smallest its kernels fit
    Family("regnetx_002"),
    Family("resnest14d"),  # split attention: a softmax over branches, not tokens
    Family("dla34"),
    Family("hrnet_w18_small"),
    # mobile nets
    Family("mobilenetv3_small_050"),
    Family("mobilenetv4_conv_small"),
    Family("efficientnet_b0"),
    Family("ghostnet_050"),
    Family("mnasnet_small"),
    Family("lcnet_050"),
    Family("hgnetv2_b0"),
    Family("efficientvit_b0"),  # linear attention
    Family("efficientvit_m0", size=64),  # cascaded group attention in local windows; at 32 px its middle stage is 1×1, no map
    # ConvNeXt-likes
    Family("convnext_atto"),
    Family("convnextv2_atto"),
    Family("inception_next_atto"),
    Family("mambaout_femto"),
    Family("starnet_s050"),
    # MetaFormers
    Family("poolformer_s12"),
    Family("poolformerv2_s12"),
    Family("convformer_s18"),
    vit("caformer_s18"),  # attention in its last two stages
    # ViTs: class token, distillation token, RoPE, relative position bias, class attention,
    # registers, global-average pooling without a class token
    vit("vit_tiny_patch16_224"),
    vit("deit_tiny_distilled_patch16_224"),
    vit("eva02_tiny_patch14_224", num_classes=1000, depth=2),  # timm's default is the headless MIM backbone
    vit("beit_base_patch16_224", embed_dim=64, depth=2, num_heads=2),
    vit("cait_xxs24_224", depth=2),
    vit("pit_ti_224"),
    vit("vit_base_patch16_gap_224", embed_dim=64, depth=2, num_heads=2),  # no class token, average pool
    vit("vit_little_patch16_reg4_gap_256", depth=2),  # four registers, no class token
    vit("vit_small_patch14_reg4_dinov2", num_classes=1000, depth=2),  # a class token and four registers
    Family("vit_pwee_patch16_reg1_gap_256", kwargs={"depth": 2}),  # attention fused into its blocks: nothing to read
    vit("xcit_nano_12_p16_224", attention=frozenset({"attention_maps"}), depth=2),  # channel attention, then class attention: no chain to roll out
    # hierarchical and windowed transformers
    Family("swin_tiny_patch4_window7_224", kwargs={"depths": (1, 1, 1, 1)}),
    Family("swinv2_cr_tiny_ns_224", kwargs={"depths": (1, 1, 1, 1)}),
    Family("maxvit_pico_rw_256"),
    Family("coat_lite_tiny"),
    Family("twins_svt_small", kwargs={"depths": (1, 1, 1, 1)}),
    Family("pvt_v2_b0", kwargs={"depths": (1, 1, 1, 1)}),  # spatial-reduction attention: keys pooled
    Family("levit_128s", kwargs={"depth": (1, 1, 1)}),
    Family("efficientformer_l1", size=224, kwargs={"depths": (1, 1, 1, 1), "num_vit": 1}),  # its attention biases run only at 224
    Family("efficientformerv2_s0", kwargs={"depths": (1, 1, 1, 1)}),
    Family("tiny_vit_5m_224", kwargs={"depths": (1, 1, 1, 1)}),
    vit("crossvit_tiny_240", depth=((1, 1, 0),)),  # two branches, one head each
    Family("mvitv2_tiny"),
    Family("hiera_tiny_224", kwargs={"stages": (1, 1, 1, 1)}),
    # hybrids
    vit("convit_tiny"),
    Family("mobilevit_xxs"),
    Family("mobilevitv2_050"),
    Family("edgenext_xx_small", kwargs={"depths": (1, 1, 1, 1)}),
    Family("fastvit_t8", kwargs={"layers": (1, 1, 1, 1)}),
    Family("repvit_m0_9", kwargs={"depth": (1, 1, 1, 1)}),
    Family("botnet26t_256"),
    Family("coatnet_nano_rw_224"),
    # MLP-mixers and a recurrent mixer
    Family("mixer_s32_224"),
    Family("resmlp_12_224"),
    Family("gmlp_ti16_224"),
    Family("sequencer2d_s", kwargs={"layers": (1, 1, 1, 1)}),
    # headless backbones (num_classes=0): the output is the pooled feature
    vit("eva02_tiny_patch14_224", num_classes=0, depth=2),
    Family("resnet10t", kwargs={"num_classes": 0}),
    Family("convnext_atto", kwargs={"num_classes": 0}),
]


@dataclass(frozen=True)
class Scene:
    """What every technique runs on: one photo, a style picture and a tiny labelled collection."""

    image: Any
    style: Any
    images: vc.Collection


@pytest.fixture(scope="module")
def scene() -> Scene:
    return Scene(vc.sample_image("chelsea (cat)"), vc.sample_image("rocket"), vc.collection("digits").subset(np.arange(4)))


def load(family: Family) -> vc.LoadedModel:
    """Random weights from a fixed seed. timm zero-initialises some heads (Mixer, ResMLP, gMLP,
    Sequencer, Hiera), which would make every class gradient zero: those are drawn afresh."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        m = vc.load_model(family.name, "random", input_size=(family.size, family.size), model_kwargs=family.kwargs or None)
        modules = dict(m.model.named_modules())
        with torch.no_grad():
            for p in (p for path in classifier_paths(m.model) for p in modules[path].parameters()):
                if p.ndim > 1 and not p.any():
                    p.normal_(0, 0.02)
    return m


def explained(m: vc.LoadedModel) -> vc.Target:
    """A class logit, or on a backbone without a head a channel of its middle block."""
    return vc.unit(vc.default_layer(m, "unit"), 0) if m.num_classes == 0 else vc.class_logit(1)


def deep_unit(m: vc.LoadedModel) -> vc.Unit:
    return vc.unit(vc.default_layer(m, "neuron"), 0)


def coarse(m: vc.LoadedModel) -> int:
    """Occlusion patches of half the side: four occluded copies."""
    return m.input_size[1] // 2


def catalogue(m: vc.LoadedModel) -> object:
    return [vc.default_layer(m, p) for p in ("grad_cam", "patches", "neuron", "deepdream", "unit")], vc.spread_stages(m, 3), vc.style_layers(m), vc.layer_groups(m), vc.relative_layer(m, 0.5)


def grabcut(m: vc.LoadedModel, s: Scene) -> object:
    return vc.grabcut_from_saliency(m.image01(s.image), vc.backprop(m, s.image, explained(m)).saliency, iterations=1)


def compared(m: vc.LoadedModel, s: Scene) -> object:
    t = explained(m)
    return vc.compare_maps({"vanilla": vc.explain(m, s.image, "vanilla", t), "grad_cam": vc.explain(m, s.image, "grad_cam", t)})


def embedded(m: vc.LoadedModel, s: Scene) -> object:
    features = vc.features(m, s.images, batch_size=4, thumbnail=16)
    return vc.project(features, "pca"), vc.neighbours(features, 0, k=2)


def reproduced(m: vc.LoadedModel, s: Scene) -> object:
    zipped = vc.results_zip({"cam": vc.grad_cam(m, s.image, explained(m))}, m, s.image)
    assert vc.reproduce(zipped, model=m).exact
    return zipped


Technique = Callable[[vc.LoadedModel, Scene], object]

TECHNIQUES: dict[str, Technique] = {
    "catalogue": lambda m, s: catalogue(m),
    "predict": lambda m, s: m.predict(s.image),
    "vanilla": lambda m, s: vc.backprop(m, s.image, explained(m)),
    "guided": lambda m, s: vc.backprop(m, s.image, explained(m), rule="guided"),
    "deconvnet": lambda m, s: vc.backprop(m, s.image, explained(m), rule="deconvnet"),
    "grabcut": grabcut,
    "grad_cam": lambda m, s: vc.grad_cam(m, s.image, explained(m)),
    "guided_grad_cam": lambda m, s: vc.guided_grad_cam(m, s.image, explained(m)),
    "smoothgrad": lambda m, s: vc.smoothgrad(m, s.image, explained(m), samples=2, batch_size=2),
    "gradient_x_input": lambda m, s: vc.gradient_x_input(m, s.image, explained(m)),
    "integrated_gradients": lambda m, s: vc.integrated_gradients(m, s.image, explained(m), steps=2, batch_size=2),
    "occlusion": lambda m, s: vc.occlusion(m, s.image, explained(m), patch=coarse(m), stride=coarse(m)),
    "channel_map": lambda m, s: vc.channel_map(m, s.image, vc.default_layer(m, "unit"), 0),
    "explain_compare": compared,
    "filters": lambda m, s: vc.filters(m, max_filters=4),
    "top_patches": lambda m, s: vc.top_patches(m, s.images, n_channels=2, k=2, batch_size=4),
    "features": embedded,
    "cka": lambda m, s: vc.cka(m, m, s.images, limit=4, batch_size=4),
    "class_model": lambda m, s: vc.class_model(m, 1, steps=1, batch=1),
    "neuron": lambda m, s: vc.neuron(m, deep_unit(m), steps=1, batch=1),
    "accentuate": lambda m, s: vc.accentuate(m, s.image, explained(m), steps=1, batch=1),
    "diverse": lambda m, s: vc.diverse(m, deep_unit(m), count=2, steps=1, batch=1),
    "invert": lambda m, s: vc.invert(m, s.image, steps=1),  # the penultimate code
    "invert_depths": lambda m, s: vc.invert_depths(m, s.image, vc.spread_stages(m, 3)[:1], steps=1),
    "deepdream": lambda m, s: vc.deepdream(m, s.image, octaves=2, steps=1),
    "style_transfer": lambda m, s: vc.style_transfer(m, s.image, s.style, steps=1),
    "fgsm": lambda m, s: vc.fgsm(m, s.image),
    "adversarial": lambda m, s: vc.adversarial(m, s.image, 2, steps=1),
    "attack_sweep": lambda m, s: vc.attack_sweep(m, [s.image], epsilons=(1 / 255,), steps=1),
    "attention_maps": lambda m, s: vc.attention_maps(m, s.image),
    "attention_rollout": lambda m, s: vc.attention_rollout(m, s.image),
    "gradient_attention": lambda m, s: vc.gradient_attention(m, s.image, explained(m)),
    "faithfulness": lambda m, s: vc.faithfulness(m, s.image, explained(m), methods=("vanilla", "grad_cam"), step=0.5, patch=m.input_size[1] // 8),
    "faithfulness_summary": lambda m, s: vc.faithfulness_summary(m, s.images, images=1, methods=("saliency",), step=0.5, patch=m.input_size[1] // 8, batch_size=4),
    "model_randomisation": lambda m, s: vc.model_randomisation(m, s.image, explained(m), mode="top_half", methods=("vanilla",)),
    "data_randomisation": lambda m, s: vc.data_randomisation(m, m, s.image, explained(m), methods=("vanilla",)),
    "contrast": lambda m, s: vc.contrast(m, s.image, 1, 2, patch=m.input_size[1], stride=m.input_size[1]),  # one occluded copy per class
    "evaluate": lambda m, s: vc.evaluate(m, s.images, batch_size=4),
    "results_zip_reproduce": reproduced,
}


def run_all(m: vc.LoadedModel, s: Scene) -> dict[str, Exception | None]:
    """What each technique raised (None: it gave a result), in order."""
    outcomes: dict[str, Exception | None] = {}
    for name, technique in TECHNIQUES.items():
        try:
            technique(m, s)
            outcomes[name] = None
        except Exception as raised:  # noqa: BLE001 - the test sorts what each technique raised
            outcomes[name] = raised
    return outcomes


def not_applicable(family: Family, m: vc.LoadedModel) -> frozenset[str]:
    """The techniques that may say why not: attention the model does not have, classes it has not."""
    return (ATTENTION - family.attention) | (CLASSES if m.num_classes == 0 else frozenset())


@pytest.mark.slow
@pytest.mark.parametrize("family", ZOO, ids=lambda f: f.id)
def test_every_technique_gives_a_result_or_says_why_it_does_not_apply(family: Family, scene: Scene) -> None:
    m = load(family)
    outcomes = run_all(m, scene)
    raw = [f"{name}: {type(error).__name__}: {error}" for name, error in outcomes.items() if error is not None and not isinstance(error, vc.ConvlensError)]
    assert not raw, f"{family.id}: raw exceptions (bugs in viz_core):\n" + "\n".join(raw)
    skip = not_applicable(family, m)
    refused = [f"{name}: {type(error).__name__}: {error}" for name, error in outcomes.items() if error is not None and name not in skip]
    assert not refused, f"{family.id}: refused techniques that apply to it:\n" + "\n".join(refused)
