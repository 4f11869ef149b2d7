"""workbench.present: every figure a person reads, formatted for people."""

import re

import numpy as np
import pandas as pd
import pytest

from workbench import present

#: Anything a person must never read: scientific notation, or more than two decimals.
RAW_NUMBER = re.compile(r"\d[eE][+-]?\d|\d\.\d{3,}")


def test_money_has_separators_and_compact_units():
    assert present.money(45210.4) == "$45,210"
    assert present.money(72838480.0) == "$72.8M"
    assert present.money(9175308000.0) == "$9.18B"
    assert present.money(1820961888000.0) == "$1.82T"
    assert present.money(999_999) == "$1.0M"  # never "$1,000.0K" or "$999,999" next to "$1.0M"
    assert present.money(-2_500_000, signed=True) == "-$2.5M"
    assert present.money(2_500, signed=True) == "+$2,500"
    assert present.money(-0.2) == "$0"
    assert present.money(1234567, compact=False) == "$1,234,567"
    assert present.money_k(45_210) == "$45K"


def test_whole_numbers_are_integers_and_distances_rounded():
    assert present.integer(40.0) == "40"
    assert present.number(1820961888000.0) == "1,820,961,888,000"
    assert present.km(-150.976575) == "-151 km"
    assert present.km(0.2, signed=True) == "0 km"
    assert present.hours(1949.6) == "1,950 h"


def test_one_percent_convention():
    assert present.percent(12.345, signed=True) == "+12.3%"
    assert present.percent(0.05, fraction=True) == "5.0%"
    # a fraction column and a percent column holding the same share read the same
    assert present.format_value(0.123, "workload_deviation") == present.format_value(12.3, "workload_deviation_pct")
    assert present.points(-3.14) == "-3.1 pts"


@pytest.mark.parametrize("column, kind", [
    ("revenue", "money"), ("potential_change", "money"), ("revenue_moved", "money"), ("workload_current", "hours"),
    ("capacity_hours", "hours"), ("compactness_km_proposed", "km"), ("accounts_moved_pct", "percent"),
    ("revenue_deviation", "fraction"), ("accounts_kept", "count"), ("territories", "count"),
    ("pieces", "count"), ("min_polsby_popper", "score"), ("centre_longitude", "coordinate"),
    ("contiguous", "flag"), ("moved", "flag"), ("explanation", "number"),
])
def test_kind_of_reads_the_column_name(column, kind):
    assert present.kind_of(column) == kind


@pytest.mark.parametrize("column, text", [
    ("workload_max_deviation_pct", "Workload: largest deviation"), ("revenue_cv_pct", "Revenue: spread (CV)"),
    ("within_tolerance_pct", "Territories within tolerance on every metric"), ("non_contiguous_territories", "Non-contiguous territories"),
    ("revenue_current", "Revenue, current"), ("workload_deviation_pct_proposed", "Workload deviation, proposed"),
    ("accounts_kept_pct", "% of accounts kept"), ("explanation", "Why it moves"), ("territory_id", "Territory"),
    ("distance_change_km", "Distance change"), ("brand_new_thing", "Brand new thing"),
])
def test_labels_are_readable(column, text):
    assert present.label(column) == text


def test_missing_values_show_a_dash_not_nan():
    assert present.format_value(float("nan"), "revenue") == present.MISSING
    assert present.format_value(None, "accounts") == present.MISSING
    assert present.format_value(pd.NA, "workload") == present.MISSING
    assert present.format_value(np.inf, "compactness_km") == present.MISSING


def _sample_comparison():
    from workbench.compare import compare_plans
    from workbench.plan import Plan

    accounts = pd.DataFrame({
        "account_id": [f"a{i}" for i in range(6)], "name": ["Acme", "Bolt", "Cog", "Dyn", "Eco", "Flux"],
        "latitude": [40.0, 40.1, 41.0, 41.1, 42.0, 42.1], "longitude": [-75.0, -75.1, -76.0, -76.1, -77.0, -77.1],
        "workload": [10.123, 10.0, 20.5, 20.0, 30.0, 30.77], "revenue": [72838480.0, 1.5e6, 9.2e9, 45210.4, 3e5, 8e4],
    })
    current = Plan.from_labels(accounts, ["T1", "T1", "T2", "T2", "T3", "T3"], name="current")
    return compare_plans(current, current.reassign(["a4"], "T1"))


def test_no_raw_float_anywhere_in_the_comparison_tables():
    comparison = _sample_comparison()
    frames = [present.scorecard_table(comparison.scorecards),
              present.format_frame(comparison.territory_deltas, index=True),
              present.format_frame(comparison.transfer_matrix),
              present.format_frame(comparison.moved_accounts),
              present.format_frame(comparison.retention, index=True)]
    for frame in frames:
        for value in frame.to_numpy().ravel():
            assert isinstance(value, str)
            assert not RAW_NUMBER.search(value), value
        assert not any("_" in str(c) for c in frame.columns), list(frame.columns)
    text = present.scorecard_text(comparison.scorecards)
    assert not RAW_NUMBER.search(text)
    assert "Workload: largest deviation" in text


def test_explanation_is_shown_whole():
    comparison = _sample_comparison()
    moved = present.format_frame(comparison.moved_accounts)
    assert moved["Why it moves"].tolist() == comparison.moved_accounts["explanation"].tolist()
    assert "<td>" + comparison.moved_accounts["explanation"][0] + "</td>" in present.html_table(
        comparison.moved_accounts[["account_id", "explanation"]])


def test_scorecard_change_of_a_percentage_is_in_points_and_counts_are_signed():
    card = pd.DataFrame({"current": [40, 18.04, 2, None], "proposed": [40, 4.9, 0, 12.0],
                         "change": [0, -13.14, -2, None]},
                        index=["territories", "workload_max_deviation_pct", "non_contiguous_territories",
                               "rep_home_distance_km"])
    table = present.scorecard_table(card)
    assert table.loc["Workload: largest deviation"].tolist() == ["18.0%", "4.9%", "-13.1 pts"]
    assert table.loc["Non-contiguous territories"].tolist() == ["2", "0", "-2"]
    assert table.loc["Mean distance to rep's home"].tolist() == [present.MISSING, "12 km", present.MISSING]


def test_text_table_right_aligns_numbers():
    text = present.text_table(pd.DataFrame({"territory_id": ["T1", "T22"], "revenue": [5.0, 1.2e7]}), index=False)
    assert text.splitlines() == ["Territory  Revenue", "T1              $5", "T22         $12.0M"]


def test_html_table_escapes_and_right_aligns():
    page = present.html_table(pd.DataFrame({"name": ["<script>x</script>"], "accounts": [1200]}))
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert '<td class="num">1,200</td>' in page


def test_excel_formats_are_real_number_formats():
    assert present.excel_format("revenue") == '"$"#,##0'
    assert present.excel_format("workload_current") == '#,##0" h"'
    assert present.excel_format("accounts_kept_pct") == "0.0%"
    assert present.excel_format("revenue_deviation_pct_current") == "+0.0%;-0.0%;0.0%"
    assert present.excel_format("name", np.dtype(object)) is None
    assert present.excel_value(12.5, "accounts_kept_pct") == pytest.approx(0.125)
    values, formats = present.excel_scorecard(_sample_comparison().scorecards)
    assert values.loc["Territories", "Current"] == 3
    assert formats.loc["Workload: largest deviation", "Change"] == present.EXCEL_POINTS_FORMAT
    assert 0 <= values.loc["Workload: largest deviation", "Current"] <= 1  # a fraction shown with 0.0%
