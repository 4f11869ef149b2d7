"""Quotas: exact sums after rounding, floors and caps held, bases by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import InputError
from workbench.plan import Plan
from workbench.quota import (
    QUOTA_COLUMNS, allocate_target, parse_amount, quota_start, salesforce_quotas, territory_quotas,
)


def test_even_weights_and_largest_remainders():
    assert allocate_target([1, 1, 1], 100).tolist() == [34, 33, 33]
    assert allocate_target([1, 1, 1], 101).tolist() == [34, 34, 33]
    assert allocate_target([2, 1, 1], 10).tolist() == [5, 3, 2]  # 5, 2.5, 2.5: the tie goes to the first
    assert allocate_target([0, 0], 10).tolist() == [5, 5]  # no weights at all: an even split


def test_floor_takes_from_the_others_in_proportion():
    # 8:1:1 of 1,000 is 800/100/100; floors of 20% lift the small ones to 200, paid by the first.
    assert allocate_target([8, 1, 1], 1000, floor=0.2).tolist() == [600, 200, 200]
    # 6:3:1 -> 600/300/100; floor 15%: the third goes to 150, the other two give 50 in proportion 2:1.
    assert allocate_target([6, 3, 1], 1000, floor=0.15).tolist() == [567, 283, 150]


def test_cap_spreads_the_excess_in_proportion():
    assert allocate_target([8, 1, 1], 1000, cap=0.5).tolist() == [500, 250, 250]
    # 6:3:1 with a 40% cap: A capped at 400; 600 left at 3:1 would give B 450, over the cap too: B 400, C 200.
    assert allocate_target([6, 3, 1], 1000, cap=0.4).tolist() == [400, 400, 200]
    assert allocate_target([6, 3, 1], 1000, cap=0.45).tolist() == [450, 413, 137]


def test_zero_weight_territories_get_the_floor_or_what_caps_leave():
    assert allocate_target([1, 0, 0], 90, floor=0.1).tolist() == [72, 9, 9]
    assert allocate_target([1, 0, 0], 90, cap=0.5).tolist() == [45, 23, 22]


def test_rounding_unit_keeps_the_exact_sum():
    parts = allocate_target([3, 3, 3, 1], 1_000_000, unit=1000)
    assert parts.sum() == 1_000_000 and (parts % 1000 == 0).all()
    cents = allocate_target([1, 1, 1], 100.0, unit=0.01)
    assert cents.tolist() == [33.34, 33.33, 33.33] and round(float(cents.sum()), 2) == 100.0


@settings(max_examples=60, deadline=None)
@given(weights=st.lists(st.floats(0, 1e6), min_size=1, max_size=30), target=st.integers(1, 10**9),
       floor=st.one_of(st.none(), st.floats(0, 1)), cap=st.one_of(st.none(), st.floats(0, 1)))
def test_any_feasible_allocation_sums_exactly_and_holds_floors_and_caps(weights, target, floor, cap):
    n = len(weights)
    low = np.ceil((floor or 0) * target - 1e-9)
    high = np.floor(cap * target + 1e-9) if cap is not None else target
    if n * low > target or n * high < target:
        with pytest.raises(InputError):
            allocate_target(weights, target, floor=floor, cap=cap)
        return
    parts = allocate_target(weights, target, floor=floor, cap=cap)
    assert int(parts.sum()) == target
    assert (parts >= low).all() and (parts <= high).all()


@pytest.mark.parametrize("kwargs, match", [
    ({"floor": 0.5}, r"needs 150% of the target; lower the floor to at most 0.3333"),
    ({"cap": 0.2}, r"covers only 60% of the target; raise the cap to at least 0.3333"),
    ({"floor": 1.5}, r"floor \(CLI: --floor\) must be a share of the company target in \[0, 1\]"),
    ({"unit": 0}, "unit"),
])
def test_impossible_floors_caps_and_bad_arguments(kwargs, match):
    with pytest.raises(InputError, match=match):
        allocate_target([1, 2, 3], 100, **kwargs)


def test_target_not_on_the_rounding_grid_and_bad_targets():
    with pytest.raises(InputError, match="not a whole number of the rounding unit 1000"):
        allocate_target([1, 1], 1500, unit=1000)
    for target in (0, -5, float("nan"), "100"):
        with pytest.raises(InputError, match="target must be a positive amount"):
            allocate_target([1, 1], target)


def test_parse_amount():
    assert parse_amount("$50M") == 50e6 and parse_amount("1.2b") == 1.2e9 and parse_amount("12,500") == 12500
    with pytest.raises(InputError, match="cannot read the amount 'lots'"):
        parse_amount("lots")
    with pytest.raises(InputError, match="positive"):
        parse_amount("-5")


def accounts():
    return pd.DataFrame({"account_id": [f"a{i}" for i in range(6)],
                         "potential": [400.0, 200.0, 300.0, 100.0, 0.0, 0.0],
                         "revenue": [100.0, 100.0, 50.0, 50.0, 200.0, 0.0]})


LABELS = ["A", "A", "B", "B", "C", None]  # the last account is unassigned: it carries no quota


@pytest.mark.parametrize("by, shares", [
    ("potential", [0.6, 0.4, 0.0]),       # A 600, B 400, C 0 of 1,000
    ("revenue", [0.4, 0.2, 0.4]),         # A 200, B 100, C 200 of 500
    ("blend", [0.5, 0.3, 0.2]),           # half of each
])
def test_territory_quotas_by_basis(by, shares):
    quotas = territory_quotas(accounts=accounts(), labels=LABELS, target=10_000, by=by)
    assert list(quotas.columns) == list(QUOTA_COLUMNS)
    assert quotas["territory_id"].tolist() == ["A", "B", "C"]
    assert quotas["basis_share"].tolist() == pytest.approx(shares)
    assert quotas["quota"].tolist() == [round(10_000 * s) for s in shares]
    assert quotas["quota"].sum() == 10_000


def test_territory_quotas_ratios_and_floor():
    quotas = territory_quotas(accounts=accounts(), labels=LABELS, target=1_000, by="potential", floor=0.1)
    row = quotas.set_index("territory_id")
    assert row["quota"].tolist() == [540, 360, 100]  # C floored at 10%; A and B pay 6:4
    assert row.at["A", "quota_vs_potential"] == pytest.approx(0.9)
    assert row.at["A", "quota_vs_revenue"] == pytest.approx(540 / 200 - 1)
    assert np.isnan(row.at["C", "quota_vs_potential"])
    assert row.at["B", "accounts"] == 2


def test_territory_quotas_from_a_plan_carry_names_and_reps():
    frame = accounts().assign(latitude=0.0, longitude=0.0)
    reps = pd.DataFrame({"rep_id": ["R1", "R2"], "name": ["Ann", "Bo"], "territory_id": ["A", "B"],
                         "latitude": [0.0, 0.0], "longitude": [0.0, 1.0]})
    plan = Plan.from_labels(frame, LABELS, method="manual", reps=reps)
    quotas = territory_quotas(plan, 1_000)
    assert quotas["rep_id"].tolist()[:2] == ["R1", "R2"] and pd.isna(quotas["rep_id"].iloc[2])
    assert quotas["rep_name"].tolist()[:2] == ["Ann", "Bo"]
    rows = salesforce_quotas(quotas, "2027-01-01")
    assert rows.columns.tolist()[:3] == ["QuotaAmount", "QuotaOwnerId", "StartDate"]
    assert rows["QuotaOwnerId"].tolist() == ["R1", "R2"] and rows["QuotaAmount"].tolist() == [600, 400]
    assert rows["WorkbenchTerritoryId"].tolist() == ["A", "B"]


def test_territory_quotas_bad_inputs():
    with pytest.raises(InputError, match="by must be one of potential, revenue, blend"):
        territory_quotas(accounts=accounts(), labels=LABELS, target=100, by="history")
    with pytest.raises(InputError, match="no 'potential' column"):
        territory_quotas(accounts=accounts().drop(columns="potential"), labels=LABELS, target=100)
    with pytest.raises(InputError, match="must hold amounts >= 0"):
        territory_quotas(accounts=accounts().assign(revenue=[1, -1, 1, 1, 1, 1]), labels=LABELS, target=100,
                         by="revenue")


def test_quota_start():
    assert quota_start("2027-04-01") == "2027-04-01"
    assert quota_start(None).endswith("-01")
    with pytest.raises(InputError, match="must be the first day of a month"):
        quota_start("2027-04-15")
    with pytest.raises(InputError, match="is not a date"):
        quota_start("soon")
