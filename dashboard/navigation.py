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
    PageSpec("app_pages/linear_fooling.py", "Linear fooling", ":material/functions:", "Synthesis"),
    PageSpec("app_pages/adversarial.py", "Adversarial images", ":material/bug_report:", "Synthesis"),
    PageSpec("app_pages/style_transfer.py", "Style transfer", ":material/palette:", "Synthesis"),
]
