"""A report: results with captions, as one self-contained HTML file that opens offline, interactive.

Why one file with everything inside: it is read by people who do not run convlens (a
stakeholder, a reviewer), often offline or behind a proxy, and mailed around as an attachment.
Plotly's JavaScript is inlined once, each figure is a `<div>` drawn by it, and the input images
are PNG data URIs, so nothing is fetched when the page opens.
"""
from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ConvlensError
from .export import named_results, plain, png_bytes
from .images import ImageLike, load_image

if TYPE_CHECKING:
    from .hub import LoadedModel


class ReportError(ConvlensError):
    """A report that cannot be built (no items, a result without a figure)."""


@dataclass(frozen=True)
class ReportItem:
    """One entry of a report: its results (each drawn by `figures.figure`), a caption, and where it came from."""

    title: str
    results: dict[str, Any]
    caption: str = ""
    model: str = ""
    weights: str = ""
    image_name: str = ""
    image: np.ndarray | None = None  # HxWx3 uint8 thumbnail of the input, when there was one
    created: str = ""
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def with_caption(self, caption: str) -> "ReportItem":
        return replace(self, caption=caption)


_SKIPPED_PARAMS = ("model", "weights")


def describe(result: Any) -> str:
    """A one-line summary of how a result was made, from its `params` (method, target, layer, settings)."""
    params = dict(getattr(result, "params", {}) or {})
    parts: list[str] = []
    target = getattr(result, "target", None)
    if isinstance(target, str) and target:
        parts.append(f"target {target}")
    for key, value in params.items():
        if key in _SKIPPED_PARAMS or key == "target":
            continue
        if isinstance(value, Mapping):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        parts.append(f"{key}: {value}")
    return "; ".join(parts)


def item(
    results: Any,
    m: "LoadedModel",
    image: ImageLike | None = None,
    *,
    title: str,
    caption: str = "",
    image_name: str = "",
    thumbnail: int = 256,
) -> ReportItem:
    """A report item from one result or a {name: result} mapping; the input is kept as a small picture."""
    named = named_results(results)
    picture = None
    if image is not None:
        shown = load_image(image)
        shown.thumbnail((thumbnail, thumbnail))
        picture = np.asarray(shown)
    return ReportItem(
        title=title,
        results=named,
        caption=caption,
        model=m.name,
        weights=m.weights,
        image_name=image_name,
        image=picture,
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    )


def _data_uri(picture: np.ndarray) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(picture)).decode("ascii")


_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; padding: 0 1rem; }
h1 { margin-bottom: .2rem; } .meta { color: #666; font-size: .9rem; }
section { border-top: 1px solid #ddd; margin-top: 2rem; padding-top: 1rem; }
.caption { white-space: pre-wrap; } .source { display: flex; gap: 1rem; align-items: flex-start; }
.source img { image-rendering: pixelated; width: 128px; height: auto; border: 1px solid #ccc; }
.params { font-size: .85rem; color: #444; } pre { background: #f6f6f6; padding: .6rem; overflow-x: auto; }
.figure { margin: .5rem 0 1rem; } .note { color: #8a5a00; }
"""


def report_html(items: Sequence[ReportItem], *, title: str = "convlens report") -> str:
    """The report as one HTML page (Plotly inlined once, images as data URIs); opens offline."""
    import plotly.offline

    from . import figures

    if not items:
        raise ReportError("The report is empty.", "Add results to it first ('Add to report' on any page).")
    body: list[str] = []
    for number, entry in enumerate(items, start=1):
        parts = [f'<section id="item-{html.escape(entry.id)}"><h2>{number}. {html.escape(entry.title)}</h2>']
        source = f"{html.escape(entry.model)} — {html.escape(entry.weights)}"
        if entry.image_name:
            source += f"<br>image: {html.escape(entry.image_name)}"
        image_tag = f'<img alt="input image" src="{_data_uri(entry.image)}">' if entry.image is not None else ""
        parts.append(f'<div class="source">{image_tag}<div><p class="meta">{source}<br>{html.escape(entry.created)}</p>')
        if entry.caption:
            parts.append(f'<p class="caption">{html.escape(entry.caption)}</p>')
        parts.append("</div></div>")
        for name, result in entry.results.items():
            try:
                fig = figures.figure(result)
            except TypeError:
                parts.append(f'<p class="note">{html.escape(name)}: this kind of result has no figure.</p>')
                continue
            div = fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"figure-{entry.id}-{name}", config={"responsive": True, "displaylogo": False})
            parts.append(f'<div class="figure" data-result="{html.escape(name)}">{div}</div>')
            summary = describe(result)
            if summary:
                parts.append(f'<p class="params"><b>{html.escape(name)}</b>: {html.escape(summary)}</p>')
            for note in getattr(result, "notes", ()):
                parts.append(f'<p class="note">{html.escape(str(note))}</p>')
        params = {name: plain(getattr(result, "params", {})) for name, result in entry.results.items()}
        parts.append(f"<details><summary>All parameters</summary><pre>{html.escape(json.dumps(params, indent=2))}</pre></details></section>")
        body.append("".join(parts))
    made = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style>"
        f"<script type=\"text/javascript\">{plotly.offline.get_plotlyjs()}</script></head><body>"
        f"<h1>{html.escape(title)}</h1><p class=\"meta\">{len(items)} items · made with convlens · {made}</p>"
        + "\n".join(body)
        + "</body></html>"
    )
