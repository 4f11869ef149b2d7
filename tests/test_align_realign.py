"""Realignment with a disruption budget and rep-anchored territories, on hand-checkable lines of accounts."""

import warnings

import numpy as np
import pandas as pd
import pytest

from workbench.align import Realignment, RepAnchoredTerritories, ToleranceWarning
from workbench.errors import InputError


def line(current, workload=None, lon_step=0.1):
    """Accounts on a west-east line at latitude 40 with the given current territories."""
    n = len(current)
    return pd.DataFrame({"account_id": [f"a{i}" for i in range(n)], "latitude": 40.0,
                         "longitude": -100.0 + lon_step * np.arange(n),
                         "workload": 1.0 if workload is None else workload, "current_territory": current})


def test_realignment_moves_only_the_border_account_and_keeps_ids():
    # A holds 5 hours, B 3 (mean 4): moving the easternmost A account is enough.
    accounts = line(["A"] * 5 + ["B"] * 3)
    model = Realignment(tolerance=0.05).fit(accounts)
    assert model.labels_.tolist() == ["A"] * 4 + ["B"] * 4
    report = model.report_
    assert report.moved_accounts == 1 and report.moved_share == pytest.approx(1 / 8)
    # excess over 4.2 is 0.8 hours, deficit under 3.8 is 0.8 hours: 10% had to move at least
    assert report.lower_bound_share == pytest.approx(0.1)
    assert set(model.centres_.index) == {"A", "B"}


def test_realignment_already_balanced_moves_nothing():
    accounts = line(["A"] * 4 + ["B"] * 4)
    model = Realignment().fit(accounts)
    assert (model.labels_ == accounts["current_territory"].to_numpy()).all()
    assert model.report_.moved_share == 0.0 and model.report_.lower_bound_share == 0.0


def test_realignment_routes_through_a_neighbour_when_heavy_and_light_do_not_touch():
    # A (6 hours) - B (4) - C (2): A's excess must pass through B (2 nearest accounts define the borders:
    # with the default 8, A's eastern accounts would have C's among theirs, and A and C would border).
    accounts = line(["A"] * 6 + ["B"] * 4 + ["C"] * 2)
    model = Realignment(tolerance=0.05, n_neighbours=2).fit(accounts)
    loads = pd.Series(accounts["workload"].to_numpy()).groupby(model.labels_).sum()
    assert loads.to_dict() == {"A": 4.0, "B": 4.0, "C": 4.0}
    assert model.labels_.tolist() == ["A"] * 4 + ["B"] * 4 + ["C"] * 4
    assert model.report_.moved_accounts == 4  # two A->B, two B->C; the lower bound is 2 accounts
    assert model.report_.lower_bound_share == pytest.approx(2 / 12 - 0.05 * 4 / 12)


def test_realignment_locks_and_locked_territories():
    accounts = line(["A"] * 5 + ["B"] * 3 + ["C"] * 4)
    accounts["locked"] = False
    accounts.loc[4, "locked"] = True  # the A account at the border stays
    model = Realignment(lock_col="locked", locked_territories=["C"]).fit(accounts)
    assert model.labels_[4] == "A"
    assert (model.labels_[8:] == "C").all() and (model.labels_ == "C").sum() == 4
    assert model.labels_[3] == "B"  # so the next one west goes instead


def test_realignment_infeasible_warns():
    accounts = line(["A"] * 2 + ["B"] * 2, workload=[10.0, 1.0, 1.0, 1.0])
    with pytest.warns(ToleranceWarning, match="not met"):
        model = Realignment().fit(accounts)
    assert not model.report_.within_tolerance


def test_realignment_needs_current_column():
    accounts = line(["A"] * 4).drop(columns="current_territory")
    with pytest.raises(InputError, match="no current-territory column 'current_territory'"):
        Realignment().fit(accounts)


def reps_frame(capacity=None):
    reps = pd.DataFrame({"rep_id": ["west", "east"], "latitude": [40.0, 40.0], "longitude": [-100.0, -99.0]})
    if capacity is not None:
        reps["capacity_hours"] = capacity
    return reps


def test_rep_anchored_uses_rep_ids_and_capacity():
    accounts = line([""] * 8, lon_step=1 / 7).drop(columns="current_territory")
    model = RepAnchoredTerritories().fit(accounts, reps=reps_frame())
    assert model.labels_.tolist() == ["west"] * 4 + ["east"] * 4
    model = RepAnchoredTerritories().fit(accounts, reps=reps_frame(capacity=[3000.0, 1000.0]))
    assert model.labels_.tolist() == ["west"] * 6 + ["east"] * 2
    assert model.centres_.loc["east", "longitude"] == pytest.approx(-99.0)
    assert model.report_.max_deviation["workload"] == pytest.approx(0.0)


def test_rep_anchored_distance_callable_and_matrix():
    accounts = line([""] * 3, lon_step=0.4).drop(columns="current_territory")  # -100, -99.6, -99.2
    accounts["workload"] = [1.0, 0.0, 1.0]
    plain = RepAnchoredTerritories(tolerance=0.01).fit(accounts, reps=reps_frame())
    assert plain.labels_.tolist() == ["west", "west", "east"]

    def slow_west(lat1, lon1, lat2, lon2):
        return np.where(np.asarray(lon2) < -99.5, 10.0, 1.0) * np.abs(np.asarray(lon1) - np.asarray(lon2))

    fenced = RepAnchoredTerritories(tolerance=0.01, distance=slow_west).fit(accounts, reps=reps_frame())
    assert fenced.labels_.tolist() == ["west", "east", "east"]
    matrix = np.array([[0.0, 5.0], [9.0, 1.0], [5.0, 0.0]])
    by_matrix = RepAnchoredTerritories(tolerance=0.01, distance=matrix).fit(accounts, reps=reps_frame())
    assert by_matrix.labels_.tolist() == ["west", "east", "east"]
    with pytest.raises(InputError, match="one row per account"):
        RepAnchoredTerritories(distance=matrix[:2]).fit(accounts, reps=reps_frame())


def test_rep_anchored_locks_keep_given_territory_and_realign_with_reps():
    accounts = line(["west"] * 6 + ["east"] * 2, lon_step=1 / 7)
    accounts["locked"] = False
    accounts.loc[5, "locked"] = True
    model = RepAnchoredTerritories(current_col="current_territory", lock_col="locked").fit(accounts, reps=reps_frame())
    assert model.labels_[5] == "west"
    realigned = Realignment().fit(accounts, reps=reps_frame())
    assert realigned.labels_.tolist() == ["west"] * 4 + ["east"] * 4
    assert realigned.report_.moved_accounts == 2


def test_rep_anchored_errors():
    accounts = line([""] * 3).drop(columns="current_territory")
    with pytest.raises(InputError, match="needs reps="):
        RepAnchoredTerritories().fit(accounts)
    with pytest.raises(InputError, match="rep_id"):
        RepAnchoredTerritories().fit(accounts, reps=reps_frame().drop(columns="rep_id"))
    with pytest.raises(InputError, match="not rep ids"):
        Realignment().fit(line(["north"] * 3), reps=reps_frame())
    with pytest.raises(InputError, match="must be positive"):
        RepAnchoredTerritories().fit(accounts, reps=reps_frame(capacity=[0.0, 1.0]))


def test_predict_with_a_matrix_fit_needs_new_distances():
    accounts = line([""] * 4, lon_step=1 / 3).drop(columns="current_territory")
    matrix = np.array([[0.0, 3.0], [1.0, 2.0], [2.0, 1.0], [3.0, 0.0]])
    model = RepAnchoredTerritories(distance=matrix).fit(accounts, reps=reps_frame())
    assert model.labels_.tolist() == ["west", "west", "east", "east"]
    new = pd.DataFrame({"latitude": [40.0], "longitude": [-100.0], "workload": [0.0]})
    with pytest.raises(InputError, match="pass distance="):
        model.predict(new)
    assert model.predict(new, distance=np.array([[5.0, 0.5]])).tolist() == ["east"]
    with pytest.raises(InputError, match="needs fixed sites"):
        Realignment(distance=matrix).fit(line(["A", "A", "B", "B"]))


def test_realignment_progress_bar_counts_the_rounds_and_leaves_the_plan_unchanged(capsys):
    accounts = line(["A"] * 5 + ["B"] * 3)
    quiet = Realignment(tolerance=0.05).fit(accounts)
    capsys.readouterr()
    shown = Realignment(tolerance=0.05, progress=True).fit(accounts)
    err = capsys.readouterr().err
    assert "realignment" in err and "outside the tolerance" in err
    assert shown.labels_.tolist() == quiet.labels_.tolist()



@pytest.mark.parametrize("params", [{"n_territories": 9}, {"n_territories": 8, "close": ["T02"]}])
def test_closing_territories_raise_no_numpy_warnings(params):
    # A closing territory has a target of 0: its violation must not divide by zero (the CLI printed
    # "warning: divide by zero encountered in divide" for `--territories 38 --close T05`).
    import warnings as _warnings

    from sklearn.cluster import KMeans

    rng = np.random.default_rng(0)
    n = 2000
    accounts = pd.DataFrame({"account_id": [f"a{i}" for i in range(n)], "latitude": rng.uniform(30, 40, n),
                             "longitude": rng.uniform(-100, -80, n), "workload": rng.uniform(0.5, 1.5, n)})
    clusters = KMeans(10, n_init=1, random_state=0).fit_predict(accounts[["latitude", "longitude"]])
    accounts["current_territory"] = [f"T{k + 1:02d}" for k in clusters]
    with _warnings.catch_warnings():
        _warnings.simplefilter("error", RuntimeWarning)
        model = Realignment(**params).fit(accounts)
    assert len(set(model.labels_)) == params["n_territories"]
    assert set(params.get("close", ())).isdisjoint(model.labels_)


def test_realignment_moves_accounts_deeper_than_the_border_when_the_border_cannot_carry_the_load():
    # A holds 6 equal accounts, B 2 (mean 4): two must move, but with 2 nearest neighbours only A's
    # easternmost account borders B. The next one west goes too (every A account may move to B, which
    # borders A), so the plan stays in one piece.
    accounts = line(["A"] * 6 + ["B"] * 2)
    model = Realignment(tolerance=0.05, n_neighbours=2).fit(accounts)
    assert model.labels_.tolist() == ["A"] * 4 + ["B"] * 4
    assert model.report_.moved_accounts == 2
    assert model.report_.bordering_lower_bound_share == pytest.approx(0.25 - 0.05 * 0.5)


def _drifted(seed, n=400, n_t=6):
    """Accounts in ``n_t`` vertical strips, each strip's workload scaled by its own factor."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(-100, -94, n)
    current = np.array([f"T{int(x)}" for x in np.clip((lon + 100) // (6 / n_t), 0, n_t - 1)])
    factor = pd.Series(rng.uniform(0.7, 1.4, n_t), index=[f"T{i}" for i in range(n_t)])
    return pd.DataFrame({"latitude": rng.uniform(38, 42, n), "longitude": lon,
                         "workload": rng.lognormal(0, 0.3, n) * factor.reindex(current).to_numpy(),
                         "current_territory": current})


@pytest.mark.parametrize("seed", range(4))
def test_later_rounds_never_move_more_or_end_less_compact_than_the_first_plan_within_tolerance(seed, monkeypatch):
    from workbench.align import realign

    accounts = _drifted(seed)
    # The rounds' own promise; the trade-off step after them may spend the move slack on compactness by design
    # (tested below), which would blur this comparison.
    monkeypatch.setattr(realign, "_TRADE_SLACK", 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = Realignment().fit(accounts)
        monkeypatch.setattr(realign, "_ROUNDS", 1)
        monkeypatch.setattr(realign, "_MIN_ROUNDS", 1)
        first = Realignment().fit(accounts)
    assert first.report_.within_tolerance and full.report_.within_tolerance
    assert full.report_.moved_share <= first.report_.moved_share + 1e-12
    assert full.report_.compactness_km <= first.report_.compactness_km * (1 + 1e-6)
    assert len(full.labels_) == len(accounts) and set(full.labels_) <= set(accounts["current_territory"])


@pytest.mark.parametrize("seed", range(4))
def test_the_trade_off_rounds_buy_compactness_within_the_move_slack_and_never_lose_any(seed, monkeypatch):
    # Without them (slack 0) the plan moves close to the bordering bound; with them it may move up to 1.05x that
    # bound (never more than it, nor more than a plan that already did), and is never less compact.
    from workbench.align import realign

    accounts = _drifted(seed, n=600)
    slack = realign._TRADE_SLACK
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traded = Realignment().fit(accounts)
        monkeypatch.setattr(realign, "_TRADE_SLACK", 0.0)
        plain = Realignment().fit(accounts)
    t, p = traded.report_, plain.report_
    assert t.within_tolerance and p.within_tolerance
    assert t.compactness_km <= p.compactness_km * (1 + 1e-6)
    assert t.moved_share <= max(slack * t.bordering_lower_bound_share, p.moved_share) + 1e-12
    assert len(traded.labels_) == len(accounts) and set(traded.labels_) <= set(accounts["current_territory"])


def test_the_trade_off_rounds_keep_a_disruption_budget():
    from workbench.align import realign

    accounts = _drifted(1, n=600)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        free = Realignment().fit(accounts)
        bound = free.report_.bordering_lower_bound_share
        budget = bound * (1 + 0.5 * (realign._TRADE_SLACK - 1))  # inside the slack: the budget binds
        kept = Realignment(max_moved_share=budget).fit(accounts)
    assert kept.report_.moved_share <= budget + 1e-12


def _budgeted_optimum(accounts, labels, budget, tolerance=0.05):
    """The exact budgeted problem at the centres of ``labels``, written apart from the package (scipy's linprog).

    Minimises the workload-weighted distance of the accounts to the
    centres of ``labels`` (``workbench.metrics.territory_centres``), each
    account in its territory of today or one bordering it (the bound's
    graph), every territory within ``tolerance``, at most ``budget`` of the
    workload moved: no plan within that budget is more compact at these
    centres, and a plan's own centres only make it more compact.
    """
    from scipy import sparse
    from scipy.optimize import linprog

    from workbench import metrics as wm
    from workbench.align.bounds import _plan_inputs
    from workbench.geo import EARTH_RADIUS_KM, to_unit_xyz

    today = accounts["current_territory"]
    current, shares, low, high, adjacency = _plan_inputs(accounts, today, ["workload"], tolerance, None, None, 8)
    ids = np.unique(today.astype(str))
    n, n_t = len(current), len(ids)
    centres = wm.territory_centres(accounts, labels, "workload").reindex(ids)
    centres = to_unit_xyz(centres["latitude"].to_numpy(), centres["longitude"].to_numpy())
    xyz = to_unit_xyz(accounts["latitude"].to_numpy(), accounts["longitude"].to_numpy())
    rows, terr = np.nonzero(adjacency[current] | (np.arange(n_t)[None, :] == current[:, None]))
    w, m = shares[:, 0], len(rows)
    km = EARTH_RADIUS_KM * np.arccos(np.clip((xyz[rows] * centres[terr]).sum(axis=1), -1, 1))
    load = sparse.csr_matrix((w[rows], (terr, np.arange(m))), shape=(n_t, m))
    moved = sparse.csr_matrix((w[rows] * (terr != current[rows]))[None, :])
    once = sparse.csr_matrix((np.ones(m), (rows, np.arange(m))), shape=(n, m))
    result = linprog(w[rows] * km, A_ub=sparse.vstack([load, -load, moved]),
                     b_ub=np.r_[high[:, 0], -low[:, 0], budget], A_eq=once, b_eq=np.ones(n), bounds=(0, 1),
                     method="highs")
    assert result.status == 0
    return result.fun


@pytest.mark.parametrize("seed", range(4))
def test_the_trade_off_rounds_end_at_the_exact_budgeted_optimum_of_their_centres(seed):
    # The trade-off rounds solve the exact budgeted problem (moves priced by the budget only, aimed at 0.995 of the
    # tolerance) in turns with re-centring: the plan they end with is within 0.3% of that problem's optimum at its own
    # centres, solved here apart from the package. The rounds before (a quarter of the move penalty, 0.98 of the
    # tolerance, 1.06x the bound) ended 0.6% above it on seeds 0 and 1.
    from workbench.align import realign

    accounts = _drifted(seed, n=600)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = Realignment().fit(accounts)
    r = model.report_
    spend = realign._TRADE_SLACK * r.bordering_lower_bound_share
    assert r.within_tolerance and r.moved_share <= spend + 1e-12
    optimum = _budgeted_optimum(accounts, model.labels_, spend)
    assert optimum <= r.compactness_km * (1 + 1e-9)  # the plan is one of the program's points
    assert r.compactness_km <= optimum * 1.003
