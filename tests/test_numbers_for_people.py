"""Every number a person reads, end to end on the bundled sample: no raw floats anywhere.

One realignment of the sample goes through the command line as an analyst would run it
(align, compare, approve, plans, quota, export, capacity, gaps); then every summary printed,
the text of ``report.html``, the export's README files and the cells of ``summary.xlsx`` are
scanned for machine numbers: more than two decimals (``72838480.123``), scientific notation
(``7.28e+07``) or cents on large amounts (``2,050,000,000.00``).
"""

from __future__ import annotations

import contextlib
import html
import io
import re

import openpyxl
import pytest

from workbench import bundled
from workbench.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

#: Machine numbers: 3+ decimals, scientific notation, cents on thousands.
RAW = re.compile(r"\d\.\d{3,}|\d[eE][+-]?\d{2}\b|\d,\d{3}\.\d{2}\b")
#: Content hashes (hex) are identifiers, not numbers: they are removed before the scan.
HEX = re.compile(r"\b[0-9a-f]{12,}\b")


def raw_numbers(text: str) -> list[str]:
    """The machine-formatted numbers in ``text``, each with a little context."""
    text = HEX.sub("<hash>", text)
    return [text[max(0, m.start() - 40):m.end() + 20].replace("\n", " | ") for m in RAW.finditer(text)]


def test_the_scan_finds_what_it_is_for():
    assert raw_numbers("revenue 72838480.123 and 7.283848e+07 and $2,050,000,000.00")
    assert len(raw_numbers("x 1.2345 y")) == 1
    assert raw_numbers("$72.8M, 1,234 accounts, +12.3%, -3.1 pts, 151 km, 0.12, version 0.1.0, "
                       "hash 8a5221b6dc9dac178e1cf0fc38f0e9f4c9184d4449cab827211616f59e6417df") == []


def _page_text(page: str) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", "\n", body))


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    """Run the command line through a realignment of the sample; yield (printed summaries, export folder)."""
    root = tmp_path_factory.mktemp("people")
    accounts, reps = str(bundled.sample_accounts_path()), str(bundled.sample_reps_path())
    plan, export = root / "plans" / "fy27", root / "exports" / "fy27"
    printed = {}

    def run(name, *args, ok=(0,)):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(a) for a in args])
        assert code in ok, f"workbench {name} exited {code}: {err.getvalue()[-2000:]}"
        printed[name] = out.getvalue() + err.getvalue()

    run("align", "align", accounts, "--current", "current_territory", "--blocks", "counties", "--max-moved", "0.2",
        "--out", plan, "--quiet")
    run("compare", "compare", accounts, "--current", "current_territory", "--proposed", plan, "--reps", reps,
        "--blocks", "counties")
    run("approve", "approve", plan, "--by", "Dana Lee", "--accept-warnings", "--current", "current_territory")
    run("plans", "plans", root / "plans")
    run("plans --tree", "plans", root / "plans", "--tree")
    run("quota", "quota", plan, "--target", "2.05B", "--out", root / "quotas.csv")
    run("export", "export", plan, "--to", export, "--quotas", root / "quotas.csv", "--blocks", "counties", "--quiet")
    run("capacity", "capacity", accounts, "--current", "current_territory", "--reps", reps)
    run("gaps", "gaps", accounts, "--reps", reps, "--current", "current_territory", "--out", root / "gaps.csv")
    return printed, export


def test_cli_summaries_print_no_raw_numbers(sample_run):
    printed, _ = sample_run
    found = {name: raw_numbers(text) for name, text in printed.items()}
    assert {name: hits for name, hits in found.items() if hits} == {}
    assert "$2.05B" in printed["quota"] or "$2,050,000,000" in printed["quota"]


def test_report_html_text_has_no_raw_numbers_and_formats_the_quota_rows(sample_run):
    _, export = sample_run
    text = _page_text((export / "report.html").read_text(encoding="utf-8"))
    assert raw_numbers(text) == []
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    total = lines.index("Quota: total")
    assert lines[total + 2] == "$2.05B", lines[total:total + 4]
    assert "Quota: largest territory" in lines and "Quota: smallest territory" in lines


def test_export_readmes_have_no_raw_numbers(sample_run):
    _, export = sample_run
    for name in ("README.txt", "salesforce/README.txt"):
        assert raw_numbers((export / name).read_text(encoding="utf-8")) == [], name


def test_summary_xlsx_numbers_carry_formats_and_no_text_number_is_raw(sample_run):
    _, export = sample_run
    book = openpyxl.load_workbook(export / "summary.xlsx")
    unformatted, raw_text = [], []
    for sheet in book.worksheets:
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, float) and cell.number_format == "General":
                    unformatted.append(f"{sheet.title}!{cell.coordinate}={cell.value}")
                if isinstance(cell.value, str) and raw_numbers(cell.value):
                    raw_text.append(f"{sheet.title}!{cell.coordinate}={cell.value!r}")
    assert unformatted[:10] == [] and raw_text[:10] == []
