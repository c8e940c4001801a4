"""The scenario's Excel workbook (XlsxWriter): contents, key figures, live calculations, every table,
parameters, sources.

Numbers are written as numbers with a format by unit (the page's text is only used where a value
is missing or is words), headers carry units, and each sheet's header row is frozen and repeated on
every printed page (landscape, fit to the page's width).

The **Inputs** and **Calculations** sheets hold the arithmetic the notebooks recorded
(:mod:`valuechain.model.calculations`): each input is a number with its note, each calculation a
live formula over the input cells (and earlier calculations), written with the value the library
computed as its cached result, so a viewer without a calculation engine shows the numbers and an
analyst can change an input and watch the formulas follow.
"""
from __future__ import annotations

import io
import re

from valuechain.publish import comparison
from valuechain.publish.outputs import calculations, headlines, sources_used
from valuechain.report import labels

MAX_WIDTH = 60


# Where a title may be cut for a sheet name: before a clause, a list, a parenthesis or a preposition,
# so that the name is whole phrases ("01 AI revenue", not "01 AI revenue and operating").
PHRASE_END = re.compile(r"(?=[:,;(]| - | and | by | for | against | in | of | on | from | to | with | over | as | at )")


DANGLING = {"and", "or", "by", "for", "of", "in", "on", "to", "with", "the", "a", "an", "at", "as", "from", "over",
            "against"}


def sheet_name(title: str, taken: set) -> str:
    """A sheet name (at most 31 characters, Excel's limit) for ``title``, unique among ``taken`` (lower case,
    updated): the title, or its longest beginning that ends at a phrase boundary."""
    clean = re.sub(r"\s+", " ", re.sub(r"[\[\]:*?/\\']", lambda m: ":" if m.group(0) == ":" else "", title)).strip()
    if len(clean) <= 31:
        base = clean.replace(":", "")
    else:
        cuts = [m.start() for m in PHRASE_END.finditer(clean) if 0 < m.start() <= 31 and len(clean[:m.start()].split()) >= 3]
        base = clean[:cuts[-1]] if cuts else clean[:31].rsplit(" ", 1)[0]
        base = base.replace(":", "").rstrip(" ,;-")
        while len(base.split()) > 2 and base.split()[-1].lower() in DANGLING:  # never end on "and", "of", ...
            base = base.rsplit(" ", 1)[0]
    base = base or "Table"
    name, i = base, 2
    while name.lower() in taken:
        suffix = f" ({i})"
        name, i = base[: 31 - len(suffix)] + suffix, i + 1
    taken.add(name.lower())
    return name


class _Formats:
    """One XlsxWriter format per number format, made on first use."""

    def __init__(self, book):
        self.book, self.made = book, {}
        self.title = book.add_format({"bold": True, "font_size": 13})
        self.header = book.add_format({"bold": True, "bg_color": "#EEF1F4", "text_wrap": True, "valign": "bottom",
                                       "border": 1})
        self.note = book.add_format({"italic": True, "font_color": "#555555"})

    def number(self, unit: str):
        pattern = labels.UNITS[unit].excel if unit in labels.UNITS else ""
        if not pattern:
            return None
        if pattern not in self.made:
            self.made[pattern] = self.book.add_format({"num_format": pattern})
        return self.made[pattern]


def _write_cell(sheet, fmt: _Formats, row: int, col: int, value, unit: str, text: str) -> None:
    """A number in its unit's format, or the page's words (company names, missing values, notes)."""
    number = fmt.number(unit)
    if number is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        if unit == "year" and text.strip().lstrip("-").isdigit():
            value = int(text)  # the year the page shows (2026.5 reads 2026 there; Excel's "0" would show 2027)
        sheet.write_number(row, col, value, number)
    else:
        sheet.write_string(row, col, text)


def _widths(sheet, rows: list[list[str]], minimum: int = 8) -> None:
    for j in range(max((len(r) for r in rows), default=0)):
        longest = max((len(str(r[j])) for r in rows if j < len(r)), default=0)
        sheet.set_column(j, j, min(MAX_WIDTH, max(minimum, longest + 2)))


def _table_sheet(book, fmt: _Formats, name: str, table: dict) -> None:
    sheet = book.add_worksheet(name)
    sheet.write_string(0, 0, table["title"], fmt.title)
    headers = [c["header"] for c in table["columns"]]
    for j, header in enumerate(headers):
        sheet.write_string(1, j, header, fmt.header)
    for i, (values, texts) in enumerate(zip(table["rows"], table["text"])):
        units = table["row_units"][i] if table.get("row_units") else [""] * len(values)
        for j, column in enumerate(table["columns"]):
            unit = units[j] if column["unit"].startswith("@") else column["unit"]
            _write_cell(sheet, fmt, i + 2, j, values[j], unit, texts[j])
    below = len(table["rows"]) + 3
    for line in (table.get("note"), table.get("source")):
        if line:
            sheet.write_string(below, 0, line, fmt.note)
            below += 1
    sheet.freeze_panes(2, 0)
    _widths(sheet, [[h[:30] for h in headers], *table["text"]])


def _key_figures_sheet(book, fmt: _Formats, rows: list[dict]) -> None:
    sheet = book.add_worksheet("Key figures")
    headers = ["Question", "Figure", "Period", "Value", "Unit", "Note"]
    for j, header in enumerate(headers):
        sheet.write_string(0, j, header, fmt.header)
    for i, h in enumerate(rows, start=1):
        value = h["value"]
        text = labels.value_text(value, h["unit"]) if not labels.missing(value) else "n/a"
        sheet.write_string(i, 0, h["question"])
        sheet.write_string(i, 1, h["label"])
        period = str(h.get("period", ""))
        if period.isdigit():
            sheet.write_number(i, 2, int(period))  # a year is a number
        else:
            sheet.write_string(i, 2, period)
        _write_cell(sheet, fmt, i, 3, value, h["unit"], text)
        sheet.write_string(i, 4, labels.UNITS[h["unit"]].suffix if h["unit"] in labels.UNITS else "")
        sheet.write_string(i, 5, h.get("note", ""))
    sheet.freeze_panes(1, 0)
    sheet.set_column(0, 0, 40)
    sheet.set_column(1, 1, 50)
    sheet.set_column(2, 4, 14)
    sheet.set_column(5, 5, 80)


def _parameters_sheet(book, fmt: _Formats, parameters: dict) -> None:
    sheet = book.add_worksheet("Parameters")
    for j, header in enumerate(["Parameter (key in the scenario file)", "Value", "Rationale"]):
        sheet.write_string(0, j, header, fmt.header)
    sheet.write_string(1, 0, "title")
    sheet.write_string(1, 1, str(parameters.get("title", "")))
    sheet.write_string(2, 0, "description")
    sheet.write_string(2, 1, str(parameters.get("description", "")))
    for i, (path, value) in enumerate(sorted(comparison.leaves(parameters).items()), start=3):
        sheet.write_string(i, 0, ".".join(path))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            sheet.write_number(i, 1, value)
        else:
            sheet.write_string(i, 1, comparison.show(value))
        sheet.write_string(i, 2, comparison.rationale(parameters, path))
    sheet.freeze_panes(1, 0)
    sheet.set_column(0, 0, 50)
    sheet.set_column(1, 1, 30)
    sheet.set_column(2, 2, 100)


_OPERAND = re.compile(r"\{([a-z0-9_]+)\}")
CALC_HEADERS = ["Quantity", "Value", "Unit", "Formula in words or note"]


def _print_setup(sheet, header_rows: int) -> None:
    """Landscape, fit to the page's width, header rows repeated on every page."""
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    if header_rows:
        sheet.repeat_rows(0, header_rows - 1)


def _calculation_sheets(book, fmt: _Formats, quantities: list[dict]) -> None:
    """The Inputs sheet (numbers with their notes) and the Calculations sheet (live formulas over them)."""
    inputs = [q for q in quantities if not q["formula"]]
    formulas = [q for q in quantities if q["formula"]]
    where: dict[tuple[str, str], str] = {}
    for name, rows in (("Inputs", inputs), ("Calculations", formulas)):
        sheet = book.add_worksheet(name)
        for j, header in enumerate(CALC_HEADERS):
            sheet.write_string(0, j, header, fmt.header)
        r, group = 1, None
        for q in rows:
            if q["group"] != group:
                group = q["group"]
                sheet.write_string(r, 0, group, fmt.title)
                r += 1
            sheet.write_string(r, 0, q["label"])
            number = fmt.number(q["unit"])
            if q["formula"]:
                cells = _OPERAND.sub(lambda m: where[(q["notebook"], m.group(1))], q["formula"])
                sheet.write_formula(r, 1, "=" + cells, number, q["value"])
            else:
                sheet.write_number(r, 1, q["value"], number)
            sheet.write_string(r, 2, labels.UNITS[q["unit"]].suffix if q["unit"] in labels.UNITS else "")
            words = _OPERAND.sub(lambda m: next(x["label"] for x in quantities if x["key"] == m.group(1)
                                                and x["notebook"] == q["notebook"]), q["formula"])
            sheet.write_string(r, 3, "; ".join(x for x in (words, q["note"]) if x))
            where[(q["notebook"], q["key"])] = f"'{name}'!$B${r + 1}"
            r += 1
        sheet.freeze_panes(1, 0)
        sheet.set_column(0, 0, 60)
        sheet.set_column(1, 2, 14)
        sheet.set_column(3, 3, 100)
        _print_setup(sheet, 1)


def _contents_sheet(book, fmt: _Formats, names: list[str], parameters: dict) -> None:
    """The first sheet: what the workbook holds, each sheet linked."""
    sheet = book.add_worksheet("Contents")
    sheet.write_string(0, 0, f"valuechain: {parameters.get('title', '')}", fmt.title)
    sheet.write_string(1, 0, "Sheet", fmt.header)
    for i, name in enumerate(names, start=2):
        sheet.write_url(i, 0, f"internal:'{name}'!A1", string=name)
    sheet.set_column(0, 0, 60)
    _print_setup(sheet, 0)


def source_rows(ids: list[str], sources) -> tuple[list[str], list[dict]]:
    """The columns of ``sources`` (a dataset's sources.csv, :attr:`Dataset.sources`) and its rows for
    ``ids``, in that order (an unknown id gets a row saying so)."""
    rows = {row["source_id"]: row for row in sources.to_dict("records")}
    return list(sources.columns), [rows.get(i, {"source_id": i, "title": "not in sources.csv"}) for i in ids]


def _sources_sheet(book, fmt: _Formats, ids: list[str]) -> None:
    from valuechain.dataset.load import load_dataset

    sheet = book.add_worksheet("Sources")
    # The outputs record source ids only, and the runner builds them on the bundled dataset:
    # its validated sources.csv describes them.
    columns, rows = source_rows(ids, load_dataset().sources)
    for j, column in enumerate(columns):
        sheet.write_string(0, j, labels.words(column), fmt.header)
    for i, row in enumerate(rows, start=1):
        for j, column in enumerate(columns):
            sheet.write_string(i, j, str(row.get(column) or ""))
    sheet.freeze_panes(1, 1)
    _widths(sheet, [[r.get(c) or "" for c in columns] for r in rows])


def build(name: str, parameters: dict, books) -> bytes:
    """The workbook of scenario ``name`` from its notebooks' data (:func:`valuechain.publish.outputs.read_scenario`)."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                                        "strings_to_urls": False})
    book.set_properties({"title": f"valuechain: {parameters.get('title', name)}", "author": "valuechain"})
    fmt = _Formats(book)
    taken = {"contents", "key figures", "inputs", "calculations", "parameters", "sources"}
    tables = [(sheet_name(f"{nb.stem[:2]} {table['title']}", taken), table) for nb in books for table in nb.tables]
    quantities = calculations(books)
    names = ["Key figures", *(["Inputs", "Calculations"] if quantities else []), *(n for n, _ in tables),
             "Parameters", "Sources"]
    _contents_sheet(book, fmt, names, parameters)
    _key_figures_sheet(book, fmt, headlines(books))
    if quantities:
        _calculation_sheets(book, fmt, quantities)
    for name, table in tables:
        _table_sheet(book, fmt, name, table)
    _parameters_sheet(book, fmt, parameters)
    _sources_sheet(book, fmt, sources_used(books))
    for sheet in book.worksheets():
        if sheet.name not in ("Contents", "Inputs", "Calculations"):
            _print_setup(sheet, 2 if sheet.name not in ("Key figures", "Parameters", "Sources") else 1)
    book.close()
    return buffer.getvalue()
