"""The one-page brief of a scenario: ``outputs/<scenario>/<scenario>-brief.pdf``, A4, ready to print.

It holds, in this order: each question's verdict (the first sentences of its page's executive summary,
as ``valuechain answer`` prints them, :mod:`valuechain.publish.answer`), the data vintage and the
reports the earnings calendar says are overdue, three charts the notebooks drew (D against R* with the
scope ladder, the bridge from the published bars to R*, the profit pool), the headline figures, and the
reconciliation of the required-revenue measures (the bridge table of the demand-gap page). Nothing is
recomputed: text, figures, tables and charts are read from the executed notebooks, as the pages show them.

Written with matplotlib's PDF backend: matplotlib is already a dependency, is maintained, and writes
PDF with no system library (a LaTeX or HTML-to-PDF engine would need one), so ``make report`` builds
the brief on a fresh machine. The fonts are embedded as TrueType (``pdf.fonttype`` 42), so the brief's
text can be searched, copied and read back by a test.
"""
from __future__ import annotations

import base64
import datetime as dt
import io
import textwrap

from valuechain.publish import answer
from valuechain.publish.outputs import Notebook

A4_INCHES = (8.27, 11.69)
MARGIN = 0.45  # inches, each side
QUESTION = "Who captures the profit in the AI value chain, and is downstream demand catching up?"
# The charts of the brief, by the start of the file name the exports give them (labels.file_name).
CHARTS = ("demand-vs-required-revenue", "bridge-to-required-revenue", "profit-pool")
BRIDGE_COLUMNS = ("bar", "step", "change_usd_bn", "value_usd_bn")  # the bridge table's keys, the detail left to the page
INK, MUTED, WARN = "#1b1b1b", "#555555", "#9a3412"


def file_name(scenario: str) -> str:
    """The brief's file name in the scenario's folder."""
    return f"{scenario}-brief.pdf"


def chart(books: list[Notebook], prefix: str) -> dict | None:
    """The first chart whose name starts with ``prefix`` (as the exports name it), or None."""
    from valuechain.report import labels

    for book in books:
        for found in book.charts:
            if labels.file_name(found.get("name", "")).startswith(prefix) and found.get("png"):
                return found
    return None


def bridge_table(books: list[Notebook]) -> dict | None:
    """The bridge from each published bar to R* (the table with the bar, step, change and value columns), or None."""
    for book in books:
        for table in book.tables:
            keys = [c.get("key") for c in table.get("columns", [])]
            if set(BRIDGE_COLUMNS) <= set(keys):
                return table
    return None


class _Page:
    """A top-down cursor on an A4 figure, in inches from the top-left corner."""

    def __init__(self, fig, scale: float = 1.0):
        self.fig, self.y, self.scale = fig, MARGIN, scale
        self.width = A4_INCHES[0] - 2 * MARGIN
        self.lowest = 0.0  # the lowest point any text or chart reached

    def _xy(self, x: float, y: float) -> tuple[float, float]:
        return x / A4_INCHES[0], 1 - y / A4_INCHES[1]

    def text(self, text: str, size: float, x: float = MARGIN, width: float | None = None, weight: str = "normal",
             color: str = INK, max_lines: int | None = None, gap: float = 0.04) -> None:
        """Wrapped text at the cursor, which then moves below it."""
        size *= self.scale
        em = 0.6 if weight == "bold" else 0.53  # DejaVu Sans averages about half an em a character
        chars = int((width or self.width) * 72 / (size * em))
        lines = textwrap.wrap(text, chars, break_on_hyphens=False, break_long_words=False) or [""]
        if max_lines and len(lines) > max_lines:
            lines = lines[:max_lines]
            lines[-1] = lines[-1].rstrip(" ,;") + " ..."
        self.fig.text(*self._xy(x, self.y), "\n".join(lines), fontsize=size, weight=weight, color=color,
                      va="top", ha="left", linespacing=1.25)
        self.y += len(lines) * size * 1.25 / 72 + gap
        self.lowest = max(self.lowest, self.y)

    def image(self, png: bytes, x: float, y: float, width: float, height: float, anchor: str = "NW") -> float:
        """A chart's PNG fitted in the box (width x height inches at x, y); returns the height it takes."""
        import matplotlib.image as mpimg

        pixels = mpimg.imread(io.BytesIO(png), format="png")
        rows, cols = pixels.shape[:2]
        shown_height = min(height, width * rows / cols)
        left, top = self._xy(x, y)
        ax = self.fig.add_axes((left, top - shown_height / A4_INCHES[1], width / A4_INCHES[0], shown_height / A4_INCHES[1]))
        ax.imshow(pixels, interpolation="antialiased")
        ax.set_anchor(anchor)
        ax.set_axis_off()
        self.lowest = max(self.lowest, y + shown_height)
        return shown_height


def _header(page: _Page, name: str, parameters: dict, vintage: str, overdue: str) -> None:
    title = parameters.get("title") or name
    page.text(QUESTION, 12.5, weight="bold", gap=0.03)
    data = f"Data: filed figures through {vintage}. " if vintage else ""
    page.text(f"Scenario {name}: {title}. {data}Built on {dt.date.today().isoformat()}.", 7.5, color=MUTED, gap=0.03)
    if overdue:
        page.text(overdue, 6.3, color=WARN, gap=0.06)


def _verdicts(page: _Page, books: list[Notebook]) -> None:
    for book in books:
        page.text(book.title, 8.6, weight="bold", gap=0.01)
        page.text(answer.first_sentences(book) or "Not run for this scenario.", 7.8, gap=0.07)


def _charts(page: _Page, books: list[Notebook]) -> float:
    """D against R* and the profit pool down the left, the bridge (a tall chart) on the right; returns the bottom."""
    demand, bridge, pool = (chart(books, prefix) for prefix in CHARTS)
    top, left_width, gap = page.y, page.width * 0.6, 0.15
    right_x, right_width = MARGIN + left_width + gap, page.width - left_width - gap
    y = top
    for found, height in ((demand, 2.0), (pool, 1.9)):  # each chart carries its own title and source line
        if found is not None:
            y += page.image(base64.b64decode(found["png"]), MARGIN, y, left_width, height * page.scale) + 0.08
    right = top
    if bridge is not None:
        right += page.image(base64.b64decode(bridge["png"]), right_x, top, right_width, 4.0 * page.scale, anchor="N")
    return max(y, right)


def _figures_and_bridge(page: _Page, books: list[Notebook], bottom: float) -> None:
    """The headline figures (left) and the bridge table (right) from ``bottom`` down."""
    left_width, gap = page.width * 0.53, 0.15
    right_x, right_width = MARGIN + left_width + gap, page.width - left_width - gap
    page.y = bottom
    page.text("Headline figures", 8, weight="bold", width=left_width, gap=0.02)
    for book in books:
        lines = answer.figure_lines(book)
        if lines:
            page.text(book.title, 6.2, weight="bold", width=left_width, color=MUTED, gap=0.0)
            for line in lines:
                page.text(line, 5.6, width=left_width, gap=0.0)
            page.y += 0.04
    table = bridge_table(books)
    if table is None:
        return
    page.y = bottom
    page.text("Reconciliation: " + table.get("title", ""), 8, x=right_x, width=right_width, weight="bold", gap=0.03)
    keys = [c.get("key") for c in table["columns"]]
    cols = [keys.index(k) for k in BRIDGE_COLUMNS]
    widths = (0.2, 0.4, 0.2, 0.2)
    size = 5.6 * page.scale
    row_height = size * 1.45 / 72

    def row(cells, weight="normal", color=INK):
        x = right_x
        for cell, share, i in zip(cells, widths, range(len(cells))):
            numeric = i >= 2
            px, py = page._xy(x + (share * right_width - 0.04 if numeric else 0), page.y)
            page.fig.text(px, py, textwrap.shorten(str(cell), int(share * right_width * 72 / (size * 0.52))),
                          fontsize=size, weight=weight, color=color, va="top", ha="right" if numeric else "left")
            x += share * right_width
        page.y += row_height
        page.lowest = max(page.lowest, page.y)

    row(["Published bar", "Step", "Change (USD bn)", "After (USD bn)"], weight="bold", color=MUTED)
    previous = None
    for cells in table.get("text", []):
        shown = [cells[i] for i in cols]
        if shown[0] == previous:
            shown[0] = ""
        else:
            previous = shown[0]
        row(shown)
    page.y += 0.04
    if table.get("note"):
        page.text(table["note"], 5.2, x=right_x, width=right_width, color=MUTED, max_lines=3, gap=0.02)


SCALES = (1.0, 0.93, 0.86, 0.8, 0.74)  # text and charts shrink in these steps until the page holds everything
FOOTER = A4_INCHES[1] - MARGIN  # where the footer line starts; nothing else goes below it


def figure(name: str, parameters: dict, books: list[Notebook], vintage: str | None = None, overdue: str = ""):
    """The brief's A4 matplotlib figure (see :func:`build`), at the largest of :data:`SCALES` that fits one page;
    call it inside :data:`RC`."""
    from matplotlib.figure import Figure

    for scale in SCALES:
        fig = Figure(figsize=A4_INCHES)
        page = _Page(fig, scale)
        _header(page, name, parameters, vintage or "", overdue)
        _verdicts(page, books)
        bottom = _charts(page, books)
        _figures_and_bridge(page, books, bottom + 0.05)
        if page.lowest <= FOOTER - 0.05:
            break
    page.y = FOOTER
    page.text("valuechain: every figure, interval and source is on the scenario's pages; the workbook holds "
              "the arithmetic.", 5.4, color=MUTED, gap=0)
    return fig


RC = {"pdf.fonttype": 42, "font.family": "DejaVu Sans", "pdf.compression": 6}  # TrueType fonts: the text reads back


def build(name: str, parameters: dict, books: list[Notebook], vintage: str | None = None, overdue: str = "") -> bytes:
    """The brief of scenario ``name`` as PDF bytes, one A4 page, from its executed question notebooks ``books``."""
    import matplotlib
    from matplotlib.backends.backend_pdf import FigureCanvasPdf

    with matplotlib.rc_context(RC):
        fig = figure(name, parameters, books, vintage, overdue)
        FigureCanvasPdf(fig)
        out = io.BytesIO()
        fig.savefig(out, format="pdf", metadata={"Title": f"{QUESTION} ({name})", "Creator": "valuechain",
                                                  "CreationDate": None})
    return out.getvalue()
