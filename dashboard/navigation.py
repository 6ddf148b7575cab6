"""The one list of pages: it feeds st.navigation and the page smoke tests."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    path: str  # relative to dashboard/
    title: str
    icon: str
    section: str


PAGES: list[PageSpec] = [
    PageSpec("app_pages/predictions.py", "Predictions", ":material/insights:", "Model"),
    PageSpec("app_pages/layers.py", "Layers", ":material/layers:", "Model"),
    PageSpec("app_pages/saliency.py", "Saliency & backprop", ":material/gradient:", "Attribution"),
    PageSpec("app_pages/occlusion.py", "Occlusion", ":material/select:", "Attribution"),
    PageSpec("app_pages/segmentation.py", "Segmentation", ":material/content_cut:", "Attribution"),
    PageSpec("app_pages/trust.py", "Trust", ":material/verified_user:", "Attribution"),
    PageSpec("app_pages/attention.py", "Attention", ":material/center_focus_strong:", "Attribution"),
    PageSpec("app_pages/class_model.py", "Class model", ":material/auto_awesome:", "Synthesis"),
    PageSpec("app_pages/neuron.py", "Neuron", ":material/blur_on:", "Synthesis"),
    PageSpec("app_pages/inversion.py", "Inversion", ":material/flip:", "Synthesis"),
    PageSpec("app_pages/deepdream.py", "DeepDream", ":material/cloud:", "Synthesis"),
    PageSpec("app_pages/filters.py", "Filters", ":material/grid_view:", "Dataset"),
    PageSpec("app_pages/patches.py", "Top patches", ":material/view_module:", "Dataset"),
    PageSpec("app_pages/embeddings.py", "Embeddings", ":material/scatter_plot:", "Dataset"),
    PageSpec("app_pages/linear_fooling.py", "Linear fooling", ":material/functions:", "Synthesis"),
    PageSpec("app_pages/adversarial.py", "Adversarial images", ":material/bug_report:", "Synthesis"),
    PageSpec("app_pages/style_transfer.py", "Style transfer", ":material/palette:", "Synthesis"),
    PageSpec("app_pages/compare.py", "Compare", ":material/compare:", "Compare"),
    PageSpec("app_pages/report.py", "Report", ":material/description:", "Report"),
    PageSpec("app_pages/evaluate.py", "Evaluate", ":material/fact_check:", "Debug"),
]
