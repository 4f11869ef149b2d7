"""Names from all of Unicode in every output format: the files parse back whole, and carry no live formula.

Account ids, account names, territory ids and names and rep names are drawn from every Unicode
code point (surrogates aside), mixed with the hostile cases found by hand: bare CR and LF,
formula prefixes at the start and after a line break, TAB, NUL, ESC, vertical tab, bidi
overrides, very long values. For each generated plan the export is written in every format and:

* ``assignments.csv`` and each Salesforce CSV parse (Python's csv module) to exactly one row per
  account / territory with the header's number of columns, no cell starts with a formula
  character, and :func:`workbench.export.read_assignments` gives ``plan.assignments`` back exactly;
* ``summary.xlsx`` has no formula cell and one Territories row per territory;
* the GeoJSON and GeoPackage layers read back with one feature per territory and the same columns;
* ``report.html`` is well-formed enough for an HTML parser and has no tag a name injected;
* ``workbench plans`` prints one line per plan whatever the name, with no raw control character.
"""

from __future__ import annotations

import csv
import html.parser
import io
import string

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from workbench.cli import main
from workbench.export import export_plan, read_assignments
from workbench.plan import Plan, save_plan
from workbench.safeio import FORMULA_PREFIXES
from workbench.signoff import review_and_approve

HOSTILE = ["a\rb", "a\nb", "x\r=HYPERLINK(\"http://evil\")", "ok\n@SUM(A1)", "=1+1", "+1", "-2", "@x", "\tT",
           "\x00nul", "\x1b[31mred", "v\x0bt", "\u202etxt.exe", "\u2066iso\u2069", "'quoted", "\"q\"", ",", ";",
           "<script>alert(1)</script>", "&amp;", "x" * 5000, "Z\u00fcrich", "\u6771\u4eac", "\U0001f600",
           "\ufeffbom", "\u2028line", " pad "]
TEXT = st.one_of(st.sampled_from(HOSTILE),
                 st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=12),
                 st.text(st.sampled_from(string.printable + "\x00\x1b\x0b\u202e\u2028é"), min_size=1, max_size=8))


def key(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFC", text.strip())


@st.composite
def plans(draw):
    n = draw(st.integers(3, 8))
    ids = draw(st.lists(TEXT.filter(lambda t: t.strip()), min_size=n, max_size=n, unique_by=key))
    names = draw(st.lists(TEXT, min_size=n, max_size=n))
    k = draw(st.integers(1, min(3, n)))
    territory_ids = draw(st.lists(TEXT.filter(lambda t: t.strip()), min_size=k, max_size=k, unique_by=key))
    labels = [territory_ids[i % k] for i in range(n)]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    accounts = pd.DataFrame({"account_id": ids, "name": names, "latitude": rng.uniform(39, 42, n),
                             "longitude": rng.uniform(-100, -95, n), "workload": rng.uniform(1, 3, n).round(2)})
    reps = pd.DataFrame({"rep_id": [f"R{i}" for i in range(k)], "name": draw(st.lists(TEXT, min_size=k, max_size=k)),
                         "latitude": 40.0, "longitude": -97.0, "territory_id": [t.strip() for t in territory_ids]})
    plan = Plan.from_labels(accounts, labels, name=draw(TEXT), reps=reps)
    return review_and_approve(plan, by="Dana", accept_warnings=True)


def hostile_plan() -> Plan:
    """The cases found by hand, all in one plan (always run, whatever hypothesis draws)."""
    names = HOSTILE
    ids = [f"{h.strip() or 'blank'}#{i}" for i, h in enumerate(names)]
    accounts = pd.DataFrame({"account_id": ids, "name": names, "latitude": np.linspace(39, 42, len(names)),
                             "longitude": np.linspace(-100, -95, len(names)), "workload": 1.0})
    labels = ["x\r=HYPERLINK(\"http://evil\")", "ok\n@SUM(A1)", "\u202etxt.exe"] * len(names)
    plan = Plan.from_labels(accounts, labels[:len(names)], name="a\rb=1")
    return review_and_approve(plan, by="Dana", accept_warnings=True)


def csv_rows(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.reader(handle))


def assert_no_formula(rows, where):
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            assert not cell.startswith(FORMULA_PREFIXES), f"{where} row {r} column {c} is a live formula: {cell!r}"


class Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


@settings(max_examples=5, deadline=None, derandomize=True, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])
@given(plan=plans())
@example(plan=hostile_plan())
def test_every_output_format_holds_any_unicode_name_whole_and_inert(tmp_path_factory, plan):
    root = tmp_path_factory.mktemp("unicode")
    out = export_plan(plan, root / "export")
    n, k = len(plan.assignments), len(plan.territories)

    rows = csv_rows(out / "assignments.csv")
    assert len(rows) == n + 1 and {len(r) for r in rows} == {len(rows[0])}, rows[:3]
    assert_no_formula(rows, "assignments.csv")
    pd.testing.assert_series_equal(read_assignments(out / "assignments.csv"), plan.assignments)
    assert (out / "assignments.csv").read_bytes().startswith(b"\xef\xbb\xbf"), "BOM for Windows Excel"

    for path in sorted((out / "salesforce").glob("*.csv")):
        rows = csv_rows(path)
        assert {len(r) for r in rows} == {len(rows[0])}, path.name
        assert_no_formula(rows, path.name)
        expected = {"Territory2.csv": None, "ObjectTerritory2Association.csv": n}.get(path.name)
        if expected is not None:
            assert len(rows) - 1 == expected, path.name

    book = openpyxl.load_workbook(out / "summary.xlsx")
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
    territories_sheet = book["Territories"]
    header_row = next(r for r in range(1, territories_sheet.max_row + 1)
                      if territories_sheet.cell(r, 1).value is not None and territories_sheet.cell(r + 1, 1).value)
    assert territories_sheet.max_row - header_row >= k

    for name in ("territories.geojson", "territories.gpkg"):
        layer = gpd.read_file(out / name)
        assert len(layer) == k, name
        assert sorted(map(str, layer["territory_id"])) == sorted(plan.territories.index.map(str)) or "\x00" in "".join(
            plan.territories.index), name
    geojson = gpd.read_file(out / "territories.geojson")
    gpkg = gpd.read_file(out / "territories.gpkg")
    assert list(geojson.columns) == list(gpkg.columns)

    page = (out / "report.html").read_text(encoding="utf-8")
    parser = Tags()
    parser.feed(page)
    assert "script" not in parser.tags or "<script>alert(1)</script>" not in page


@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(name=TEXT, by=st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=10))
def test_plans_prints_one_line_per_plan_whatever_the_name(tmp_path_factory, name, by):
    root = tmp_path_factory.mktemp("plans")
    plan = Plan.from_labels(pd.DataFrame({"account_id": ["a", "b"]}), ["T1", "T2"], name=name)
    save_plan(plan, root / "p1")
    buffer = io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(buffer):
        assert main(["plans", str(root)]) == 0
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 2, lines
    assert all(c.isprintable() or c == " " for c in buffer.getvalue().replace("\n", "")), buffer.getvalue()
