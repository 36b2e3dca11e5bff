"""Charts: accessible inline SVG for the page, the same Drawing in a PDF; user text as text."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from pypdf import PdfReader
from reportlab.graphics.shapes import Drawing

from audit_portal.pdf import a4_document, markup_escape, para
from audit_portal.reports.charts import (
    MOST_LABEL_LINES,
    RagRow,
    rag_distribution_chart,
    share_bar_chart,
)
from audit_portal.reports.figures import Share
from audit_portal.reports.suppression import Cell

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output, parsed to check it is well formed


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def pdf_text(*flowables: object) -> str:
    buffer = io.BytesIO()
    a4_document(buffer, title="Test", author="Test").build(list(flowables))
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(buffer.getvalue())).pages)


RAG_ROWS = [
    ("Leadership & management", 30, 12, 6, 2),
    ("Training <for staff>", 40, 8, 0, 2),
]


def test_rag_chart_svg_is_labelled_and_inline_ready() -> None:
    chart = rag_distribution_chart(
        RAG_ROWS,
        title="Ratings by standard <2025>",
        description="Green, amber & red counts for each standard",
        id_prefix="rag-2025",
    )
    svg = chart.svg
    assert svg.startswith("<svg ") and "<?xml" not in svg and "DOCTYPE" not in svg
    root = parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "rag-2025-title rag-2025-desc"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert (title.get("id"), title.text) == ("rag-2025-title", "Ratings by standard <2025>")
    assert (desc.get("id"), desc.text) == (
        "rag-2025-desc",
        "Green, amber & red counts for each standard",
    )
    assert "Ratings by standard &lt;2025&gt;" in svg and "Green, amber &amp; red" in svg
    assert "&lt;for staff&gt;" in svg and "<for staff>" not in svg
    words = texts(root)
    # legend, in the order the segments are drawn
    assert words[:4] == ["Green", "Amber", "Red", "Not rated"]
    assert "Leadership & management" in words and "Training <for staff>" in words
    assert "Green 30, amber 12, red 6, not rated 2" in words
    assert "Green 40, amber 8, red 0, not rated 2" in words
    # values on the bars: 30 and 40 are wide enough for their numbers; the 0 segment is not drawn
    assert {"30", "12", "6", "40", "8"} <= set(words)
    ids = [e.get("id", "") for e in root.iter() if e.get("id")]
    assert ids and all(i.startswith("rag-2025-") for i in ids)
    assert len(ids) == len(set(ids))


def test_two_charts_on_one_page_have_different_ids() -> None:
    first = rag_distribution_chart(RAG_ROWS, title="A", description="A", id_prefix="one").svg
    second = rag_distribution_chart(RAG_ROWS, title="B", description="B", id_prefix="two").svg
    ids = [e.get("id") for svg in (first, second) for e in parse(svg).iter() if e.get("id")]
    assert len(ids) == len(set(ids)) == 6  # title, desc and the drawing's group, twice


def test_an_unsafe_id_prefix_is_refused() -> None:
    with pytest.raises(ValueError, match="id prefix"):
        _ = rag_distribution_chart(
            RAG_ROWS, title="A", description="A", id_prefix='x" onload="'
        ).svg


def test_a_chart_without_a_title_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a title"):
        _ = share_bar_chart([], title=" ", description="", id_prefix="x").svg


def test_a_row_with_hidden_numbers_gets_words_but_no_bar() -> None:
    rows: list[RagRow] = [
        ("Small district", 12, Cell(None, True, "primary"), Cell(None, True, "secondary"), 0),
        ("Large district", 30, 10, 5, 0),
    ]
    chart = rag_distribution_chart(rows, title="T", description="D", id_prefix="c")
    words = texts(parse(chart.svg))
    assert (
        "Green 12, amber fewer than 5, red withheld, not rated 0 "
        "(no bar: some numbers are too small to show)"
    ) in " ".join(words)
    assert "Green 30, amber 10, red 5, not rated 0" in words
    assert "12" not in words, "no bar, so no number on a bar, for the small district"
    assert {"30", "10", "5"} <= set(words)


def test_share_chart_labels_every_bar_with_its_fraction() -> None:
    chart = share_bar_chart(
        [
            ("Teaches safeguarding through PSHE", Share(8, 10)),
            ("Nobody asked", Share(0, 0)),
            ("Tiny", "fewer than 5"),
        ],
        title="Share rated fully in place",
        description="Percent of schools",
        id_prefix="shares",
    )
    words = texts(parse(chart.svg))
    assert "80% (8 of 10)" in words and "No figure (0 of 0)" in words and "fewer than 5" in words
    assert "Teaches safeguarding through PSHE" in words
    # the filled bar is 80% of the track (the first rect after the track, in SVG pixels)
    rects = [r for r in parse(chart.svg).iter(f"{SVG}rect")]
    track, filled = float(rects[0].get("width", 0)), float(rects[1].get("width", 0))
    assert filled == pytest.approx(track * 0.8)


def test_the_same_drawing_goes_into_a_pdf() -> None:
    chart = rag_distribution_chart(RAG_ROWS, title="T", description="D", id_prefix="c")
    assert isinstance(chart.drawing, Drawing)
    text = pdf_text(chart.drawing)
    assert "Leadership & management" in text and "Training <for staff>" in text
    assert "Green 30, amber 12, red 6, not rated 2" in text
    assert chart.svg == chart.svg, "rendering to SVG does not change the drawing"
    assert "Green 40, amber 8, red 0, not rated 2" in pdf_text(chart.drawing)


def test_long_labels_wrap_instead_of_running_off() -> None:
    label = "A standard with a very long title that cannot possibly fit on one line of the chart"
    chart = rag_distribution_chart(
        [(label, 1, 1, 1, 1)], title="T", description="D", id_prefix="c", width=200
    )
    words = texts(parse(chart.svg))
    assert label not in words
    lines = words[4 : words.index("Green 1, amber 1, red 1, not rated 1")]
    lines = [w for w in lines if w != "1"]  # the values on the bar's segments
    assert len(lines) > 1 and " ".join(lines) == label


LONG_QUESTION = " ".join(f"word{n}" for n in range(600))  # longer than a page when wrapped


@pytest.mark.parametrize("chart_of", ["rag", "share"])
def test_a_label_longer_than_a_page_is_cut_short_and_the_chart_still_prints(chart_of: str) -> None:
    if chart_of == "rag":
        chart = rag_distribution_chart(
            [(LONG_QUESTION, 1, 1, 1, 1)], title="T", description="D", id_prefix="c"
        )
    else:
        chart = share_bar_chart(
            [(LONG_QUESTION, Share(1, 2))], title="T", description="D", id_prefix="c"
        )
    words = texts(parse(chart.svg))
    label = [w for w in words if w.startswith("word")]
    assert len(label) == MOST_LABEL_LINES
    assert label[-1].endswith("…") and LONG_QUESTION.startswith(" ".join(label)[:-1].rstrip())
    text = pdf_text(chart.drawing)  # a chart taller than the page could not be laid out at all
    assert "word0 word1" in text and "word599" not in text


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("<b>x</b>", "&lt;b&gt;x&lt;/b&gt;"),
        ("<font name=x>", "&lt;font name=x&gt;"),
        ("Fish & chips", "Fish &amp; chips"),
        ("Line one\nLine two", "Line one<br/>Line two"),
    ],
)
def test_markup_escape(text: str, escaped: str) -> None:
    assert markup_escape(text) == escaped


def test_user_text_in_a_paragraph_is_printed_literally() -> None:
    text = pdf_text(para("Head <b>x</b> & <font name=x> done"))
    assert "Head <b>x</b> & <font name=x> done" in text


def _luminance(colour: object) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(getattr(colour, n)) for n in ("red", "green", "blue"))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def _contrast(one: object, other: object) -> float:
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_every_bar_segment_and_swatch_stands_out_from_the_page_by_3_to_1() -> None:
    """WCAG 1.4.11: a segment whose fill is too light for the white page (amber, grey) is
    outlined in a colour that is not."""
    from reportlab.graphics.shapes import Rect
    from reportlab.lib import colors

    chart = rag_distribution_chart(RAG_ROWS, title="T", description="D", id_prefix="c")
    boxes = [s for s in chart.drawing.getContents() if isinstance(s, Rect)]
    assert len(boxes) >= 4 + 7  # the legend's swatches and the drawn segments
    shares = share_bar_chart([("A", Share(8, 10))], title="T", description="D", id_prefix="s")
    boxes += [s for s in shares.drawing.getContents() if isinstance(s, Rect)]
    for box in boxes:
        edge = box.fillColor if _contrast(box.fillColor, colors.white) >= 3 else box.strokeColor
        assert edge is not None and _contrast(edge, colors.white) >= 3, (box.fillColor, edge)
