"""Report: the results collected with "Add to report", reordered and captioned, as one HTML file."""
from __future__ import annotations

import streamlit as st

import viz_core as vc
from dashboard import widgets

widgets.page_header(
    "Report",
    "Collect results from any page with **Add to report**, put them in order, say in a caption what each "
    "one shows, and download the whole report as **one HTML file**. It opens in any browser without "
    "convlens and without a network, and its figures stay interactive (zoom, hover).",
    """
- Each item keeps its figures, the model and weights, the input image, and every parameter that made it
  (listed under the figure and in full under "All parameters").
- The file inlines Plotly's JavaScript once (≈5 MB) and embeds the input images, so nothing is fetched when it opens.
- The report lives in this browser session: it is lost when the session ends, so download it.
- To hand over results that a colleague can *recompute*, use **Download results** on the page itself: its zip
  holds a manifest that `python -m viz_core reproduce results.zip` replays.
""",
)

items = widgets.report_items()


def move(index: int, step: int) -> None:
    other = index + step
    if 0 <= other < len(items):
        items[index], items[other] = items[other], items[index]


def remove(index: int) -> None:
    items.pop(index)


def set_caption(index: int, key: str) -> None:
    items[index] = items[index].with_caption(st.session_state[key])


if not items:
    st.info("The report is empty. Open any page and press **Add to report** under its result.", icon=":material/playlist_add:")
    st.stop()

title = st.text_input("Report title", "convlens report", key="report-title")
for index, item in enumerate(items):
    with st.container(border=True):
        head, buttons = st.columns([5, 1])
        head.markdown(f"**{index + 1}. {item.title}**  \n{item.model} · {item.weights}" + (f" · image: {item.image_name}" if item.image_name else ""))
        up, down, drop = buttons.columns(3)
        up.button("", key=f"report-up-{item.id}", icon=":material/arrow_upward:", help="Move up", on_click=move, args=(index, -1), disabled=index == 0)
        down.button("", key=f"report-down-{item.id}", icon=":material/arrow_downward:", help="Move down", on_click=move, args=(index, 1), disabled=index == len(items) - 1)
        drop.button("", key=f"report-remove-{item.id}", icon=":material/delete:", help="Remove from the report", on_click=remove, args=(index,))
        key = f"report-caption-{item.id}"
        st.text_area("Caption", item.caption, key=key, on_change=set_caption, args=(index, key), placeholder="What should a reader see here?", height=68)
        with st.expander(f"Figures ({len(item.results)})"):
            for name, result in item.results.items():
                if isinstance(result, tuple(vc.figures.registered())):
                    st.plotly_chart(vc.figures.figure(result), key=f"report-fig-{item.id}-{name}")
                else:
                    st.caption(f"{name}: this kind of result has no figure; the report lists its parameters.")

left, right = st.columns([1, 3])
left.download_button(
    "Download report (HTML)", lambda: vc.report_html(list(items), title=title), "convlens-report.html", "text/html",
    key="report-download", icon=":material/download:", on_click="ignore", type="primary",
)
right.button("Clear the report", key="report-clear", icon=":material/delete_sweep:", on_click=items.clear)
