"""Contiguous realignment of whole blocks: connected, within tolerance, ids, headcount, locks, budget."""

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from workbench.align._partition import is_contiguous
from workbench.align.realign_blocks import ContiguousRealignment, connect
from workbench.cli import main
from workbench.geo import block_adjacency


def _grid(n=6, grown=2.0):
    """``n`` x ``n`` unit squares, one account each; four quadrant territories Q1..Q4, Q1 grown."""
    cells = [(x, y) for x in range(n) for y in range(n)]
    blocks = gpd.GeoDataFrame({"block_id": [f"B{x:02d}{y:02d}" for x, y in cells]},
                              geometry=[box(x, y, x + 1, y + 1) for x, y in cells], crs="EPSG:4326")
    half = n // 2
    quadrant = [f"Q{1 + (x >= half) + 2 * (y >= half)}" for x, y in cells]
    accounts = pd.DataFrame({"account_id": [f"A{i:03d}" for i in range(len(cells))],
                             "county_fips": blocks["block_id"], "latitude": [y + 0.5 for _, y in cells],
                             "longitude": [x + 0.5 for x, _ in cells], "workload": 1.0,
                             "current_territory": quadrant})
    accounts.loc[accounts["current_territory"] == "Q1", "workload"] = grown
    return accounts, blocks


def _fit(accounts, blocks, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ContiguousRealignment(**kwargs).fit(accounts, blocks=blocks)


def _contiguous(model, blocks):
    graph = block_adjacency(blocks, "block_id")
    ids = list(blocks["block_id"])
    edges = np.array([(ids.index(a), ids.index(b)) for a, b in graph.edges])
    codes = pd.factorize(model.block_labels_.reindex(ids))[0]
    return is_contiguous(len(ids), edges, codes)


def test_a_grown_quadrant_sheds_blocks_to_its_neighbours_and_every_territory_stays_connected():
    accounts, blocks = _grid()
    # Seeded: with the search's patience of 15 kicks, seeds 3 and 7 (of 0-11) stop at 8 of 45 moved instead of 6,
    # so the unseeded fit this test had failed now and then.
    model = _fit(accounts, blocks, tolerance=0.1, random_state=0)
    r = model.report_
    assert set(model.labels_) == {"Q1", "Q2", "Q3", "Q4"}
    assert r.within_tolerance and r.contiguous and _contiguous(model, blocks)
    assert r.moved_share >= r.bordering_lower_bound_share - 1e-9 >= r.lower_bound_share - 1e-9
    # the best is 3 blocks of 2 (6 of 45, 1.07x the bound): the search takes back every move not needed
    assert r.moved_share == pytest.approx(6 / 45)
    moved = accounts["current_territory"].to_numpy() != model.labels_
    assert "Q1" in set(accounts["current_territory"][moved])


def test_the_move_penalty_trades_moves_for_compactness():
    accounts, blocks = _grid()
    default = _fit(accounts, blocks, tolerance=0.1, random_state=0)
    free = _fit(accounts, blocks, tolerance=0.1, move_penalty_km=0.0, random_state=0)
    assert default.move_penalty_km_ > 0 and free.move_penalty_km_ == 0.0
    assert free.report_.within_tolerance and free.report_.contiguous
    assert free.report_.compactness_km < default.report_.compactness_km
    assert free.report_.moved_share > default.report_.moved_share


def test_more_territories_open_a_new_contiguous_one_named_after_the_scheme():
    accounts, blocks = _grid(grown=1.0)
    model = _fit(accounts, blocks, n_territories=5, tolerance=0.15)
    assert model.report_.opened == ("Q5",)
    assert set(model.labels_) == {"Q1", "Q2", "Q3", "Q4", "Q5"}
    assert model.report_.contiguous and _contiguous(model, blocks)


def test_closing_a_territory_gives_its_blocks_to_bordering_ones():
    accounts, blocks = _grid(grown=1.0)
    model = _fit(accounts, blocks, close=["Q4"], tolerance=0.15)
    assert model.report_.closed == ("Q4",)
    assert set(model.labels_) == {"Q1", "Q2", "Q3"}
    assert model.report_.contiguous and _contiguous(model, blocks)
    assert model.report_.within_tolerance


def _strip():
    """Six columns of two unit squares: P (columns 0-2, 60% of the workload), Q (column 3, 20%), R (20%)."""
    cells = [(x, y) for x in range(6) for y in range(2)]
    blocks = gpd.GeoDataFrame({"block_id": [f"B{x}{y}" for x, y in cells]},
                              geometry=[box(x, y, x + 1, y + 1) for x, y in cells], crs="EPSG:4326")
    accounts = pd.DataFrame({"account_id": [f"A{i:02d}" for i in range(len(cells))],
                             "county_fips": blocks["block_id"], "latitude": [y + 0.5 for _, y in cells],
                             "longitude": [x + 0.5 for x, _ in cells],
                             "workload": [2.0 if x < 4 else 1.0 for x, _ in cells],
                             "current_territory": ["P" if x < 3 else "Q" if x == 3 else "R" for x, _ in cells]})
    return accounts, blocks


def test_closing_the_territory_between_two_makes_them_border_for_the_bound():
    # Once Q closes, P (60%, band 45-55%) and R meet where Q was: the least that moves is Q's 20% and P's 5%
    # above its band, 25%, not 30% through Q; whole blocks of 10% make the plan move 30%.
    accounts, blocks = _strip()
    model = _fit(accounts, blocks, close=["Q"], tolerance=0.1, random_state=0)
    r = model.report_
    assert set(model.labels_) == {"P", "R"} and r.within_tolerance and r.contiguous and _contiguous(model, blocks)
    assert r.bordering_lower_bound_share == pytest.approx(0.25)
    assert r.moved_share == pytest.approx(0.30)


def test_a_locked_account_keeps_its_territory_while_its_block_moves():
    accounts, blocks = _grid()
    free = _fit(accounts, blocks, tolerance=0.1)
    moved = np.flatnonzero(free.labels_ != accounts["current_territory"].to_numpy())
    accounts["locked"] = False
    accounts.loc[moved[0], "locked"] = True
    model = _fit(accounts, blocks, tolerance=0.1, lock_col="locked")
    assert model.labels_[moved[0]] == accounts["current_territory"][moved[0]]
    assert model.report_.contiguous


def test_the_budget_is_never_exceeded():
    accounts, blocks = _grid()
    model = _fit(accounts, blocks, tolerance=0.05, max_moved_share=0.04)
    assert model.report_.moved_share <= 0.04 + 1e-9
    assert model.report_.contiguous


def test_connect_sends_cut_off_pieces_back():
    labels = connect(np.array([0, 1, 1, 1, 0]), np.array([[0, 1], [1, 2], [2, 3], [3, 4]]), np.ones(5),
                     np.array([0, 1, 1, 1, 1]), np.array([0.5, 0.5]), 2, np.zeros(5, bool))
    assert labels.tolist() == [0, 1, 1, 1, 1]


def test_cli_blocks_with_current_is_a_contiguous_realignment(tmp_path, capsys):
    accounts, blocks = _grid()
    accounts.to_csv(tmp_path / "accounts.csv", index=False)
    blocks.rename(columns={"block_id": "county_fips"}).to_file(tmp_path / "blocks.gpkg", layer="blocks")
    out = tmp_path / "out.csv"
    assert main(["align", str(tmp_path / "accounts.csv"), "--current", "current_territory", "--blocks",
                 str(tmp_path / "blocks.gpkg"), "--block-col", "county_fips", "--tolerance", "0.1",
                 "--territories", "5", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "contiguous: yes" in printed and "opened: Q5" in printed
    assert "lower bound (moves only between bordering territories)" in printed
    assert set(pd.read_csv(out)["territory_id"]) == {"Q1", "Q2", "Q3", "Q4", "Q5"}


@pytest.mark.parametrize("grown, n_territories", [(1.5, 5), (2.0, 6), (2.0, 3), (2.0, 4)])
def test_the_bordering_bound_stays_below_what_moves_with_openings_and_closures(grown, n_territories):
    # a new territory borders the territory its seed block is in and that one's neighbours (before, the bound
    # only let it take from the territories touching its seed block, and exceeded what moved: 0.177 vs 0.174)
    accounts, blocks = _grid(8, grown)
    model = _fit(accounts, blocks, n_territories=n_territories, tolerance=0.15)
    r = model.report_
    assert r.within_tolerance and r.contiguous
    assert len(r.opened) == max(n_territories - 4, 0) and len(r.closed) == max(4 - n_territories, 0)
    assert r.lower_bound_share <= r.bordering_lower_bound_share + 1e-12 <= r.moved_share + 1e-9


def test_the_progress_bar_names_the_stages_and_leaves_the_plan_unchanged(capsys, monkeypatch):
    from workbench import progress

    accounts, blocks = _grid()
    quiet = _fit(accounts, blocks, tolerance=0.1, max_seconds=None, random_state=0)
    capsys.readouterr()
    seen = []
    made = progress.steps

    def recording(names, **kwargs):
        bar = made(names, **kwargs)
        seen.append(bar)
        return bar

    monkeypatch.setattr(progress, "steps", recording)
    shown = _fit(accounts, blocks, tolerance=0.1, max_seconds=None, random_state=0, progress=True)
    err = capsys.readouterr().err
    assert "contiguous realignment: 0/4" in err  # tqdm redraws at most every 0.1 s: later stages may not show
    (bar,) = seen
    assert bar.names == ["bounds", "bordering flows", "single moves and connecting", "contiguous search"]
    assert bar.done == 4
    assert shown.labels_.tolist() == quiet.labels_.tolist()


def test_a_block_heavier_than_any_territory_is_named_in_the_warning():
    # The docstring's 4 x 2 strip; block 00 alone holds 10 of 17 workload hours: with two territories
    # (a mean of 8.5) it is 18% over the mean, so no whole-block plan is within 5%, and the warning says why.
    from workbench.align.report import ToleranceWarning

    cells = [(x, y) for x in range(4) for y in range(2)]
    blocks = gpd.GeoDataFrame({"block_id": [f"{x}{y}" for x, y in cells]},
                              geometry=[box(x, y, x + 1, y + 1) for x, y in cells], crs="EPSG:4326")
    accounts = pd.DataFrame({"account_id": blocks["block_id"], "county_fips": blocks["block_id"],
                             "latitude": [y + 0.5 for _, y in cells], "longitude": [x + 0.5 for x, _ in cells],
                             "workload": [10.0] + [1.0] * 7, "current_territory": ["A"] * 6 + ["B"] * 2})
    with pytest.warns(ToleranceWarning):
        model = ContiguousRealignment(random_state=0).fit(accounts, blocks=blocks)
    assert any("block 00 (+18% over the mean) alone exceeds the maximum of a territory (mean + 5%)" in w
               for w in model.report_.warnings), model.report_.warnings


def _two_by_four():
    """A 4 x 2 grid (cell x + 4 y): today A is x <= 1 and B x >= 2; cell 1 (weight 2) went from A to B."""
    edges = np.array([(i, i + 1) for i in (0, 1, 2, 4, 5, 6)] + [(i, i + 4) for i in range(4)])
    weight = np.array([1.75, 2.0, 0.875, 0.875, 1.75, 1.0, 0.875, 0.875])[:, None] / 10
    home = np.array([0, 0, 1, 1, 0, 0, 1, 1])
    labels = np.array([0, 1, 1, 1, 0, 0, 1, 1])  # loads 0.45 and 0.55, within 0.5 +- 11%
    return edges, weight, home, labels


def test_exchange_home_returns_a_heavy_block_by_sending_a_lighter_one_the_other_way():
    from workbench.align._block_moves import exchange_home, take_back

    edges, weight, home, labels = _two_by_four()
    args = (edges, weight, np.array([0.5, 0.5]), 0.11, home, np.zeros(8, bool), np.zeros(2, bool), np.zeros(2, bool))
    assert take_back(labels, *args).tolist() == labels.tolist()  # alone, cell 1 would put A at 0.65
    out = exchange_home(labels, *args)
    # Cell 1 home, cell 5 (weight 1, touching B) to B: A 0.55, B 0.45, one unit away from home instead of two.
    assert out.tolist() == [0, 0, 1, 1, 0, 1, 1, 1]
    assert weight[out != home].sum() < weight[labels != home].sum()


def test_exchange_home_solves_once_when_no_block_holds_a_piece_of_its_territory(monkeypatch):
    # The plain program sends cell 1 home and cell 5 to B (see above). No border cell then alone holds a piece of
    # its territory, so the second program (cut blocks with their pieces) would be the plain one again, from its
    # own answer: it is not built or solved.
    import workbench.align._block_moves as bm

    calls = []
    solve = bm.solve_milp
    monkeypatch.setattr(bm, "solve_milp", lambda *a, **k: calls.append(1) or solve(*a, **k))
    edges, weight, home, labels = _two_by_four()
    out = bm.exchange_home(labels, edges, weight, np.array([0.5, 0.5]), 0.11, home, np.zeros(8, bool),
                           np.zeros(2, bool), np.zeros(2, bool))
    assert out.tolist() == [0, 0, 1, 1, 0, 1, 1, 1]
    assert len(calls) == 1


def test_exchange_home_keeps_locked_blocks_and_frozen_territories():
    from workbench.align._block_moves import exchange_home

    edges, weight, home, labels = _two_by_four()
    fixed = np.zeros(8, bool)
    fixed[5] = True
    rest = (np.array([0.5, 0.5]), 0.11, home)
    assert exchange_home(labels, edges, weight, *rest, fixed, np.zeros(2, bool), np.zeros(2, bool)).tolist() \
        == labels.tolist()
    assert exchange_home(labels, edges, weight, *rest, np.zeros(8, bool), np.array([False, True]),
                         np.zeros(2, bool)).tolist() == labels.tolist()


def _chain():
    """A line of nine unit blocks: A holds 0-3 (one over), B 4-6 (on target), C 7-8 (one under); bands 3 +- 10%."""
    edges = np.array([(i, i + 1) for i in range(8)])
    home = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2])
    return edges, np.full((9, 1), 1 / 9), home, (np.full(3, 1 / 3), 0.1)


def test_repair_moves_finds_a_chain_where_no_single_move_helps():
    from workbench.align._block_moves import fit_moves, repair_moves

    edges, weight, home, (targets, tolerance) = _chain()
    no = np.zeros(9, bool), np.zeros(3, bool), np.zeros(3, bool)
    km = lambda rows, territories: np.zeros(len(rows))  # noqa: E731
    # A single move puts B over (from A) or under (to C): none is made.
    assert fit_moves(home, edges, weight, np.zeros((3, 1)), targets, tolerance, km, no[0], no[1]).tolist() \
        == home.tolist()
    out = repair_moves(home, edges, weight, targets, tolerance, home, *no)
    assert out.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]  # block 3 to B and block 6 to C: two moves, all on target
    assert is_contiguous(9, edges, out)


def test_repair_moves_leaves_a_balanced_plan_and_locked_blocks_alone():
    from workbench.align._block_moves import repair_moves

    edges, weight, home, (targets, tolerance) = _chain()
    balanced = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    no = np.zeros(9, bool), np.zeros(3, bool), np.zeros(3, bool)
    assert repair_moves(balanced, edges, weight, targets, tolerance, home, *no).tolist() == balanced.tolist()
    fixed = np.zeros(9, bool)
    fixed[6] = True  # the only block B can give C is locked: nothing helps, nothing moves
    assert repair_moves(home, edges, weight, targets, tolerance, home, fixed, *no[1:]).tolist() == home.tolist()
    frozen = np.array([False, True, False])  # B neither gives nor takes
    assert repair_moves(home, edges, weight, targets, tolerance, home, no[0], frozen, no[2]).tolist() \
        == home.tolist()


def test_exchange_home_runs_beside_a_territory_of_one_block():
    """A territory of a single block (a county too heavy for any other) no longer makes the program infeasible."""
    from workbench.align._block_moves import exchange_home

    edges, weight, home, labels = _two_by_four()
    # A ninth block (territory 2, alone) touching cell 5, the one that moves.
    edges = np.r_[edges, [[5, 8]]]
    weight = np.r_[weight * 0.8, [[0.2]]]
    home, labels = np.r_[home, 2], np.r_[labels, 2]
    args = (edges, weight, np.array([0.4, 0.4, 0.2]), 0.11, home, np.zeros(9, bool), np.zeros(3, bool),
            np.zeros(3, bool))
    out = exchange_home(labels, *args)
    assert out.tolist() == [0, 0, 1, 1, 0, 1, 1, 1, 2]


def test_repair_moves_on_lumpy_grids_stays_contiguous_and_balances_within_two_solves():
    """Random weights on a 7 x 7 grid in three strips, one grown: with two solves at most, the plan that comes back is
    contiguous and no further from the bands, and nearer them on most draws."""
    from workbench.align._block_moves import _pieces, repair_moves

    side = 7
    edges = np.array([(r * side + c, r * side + c + 1) for r in range(side) for c in range(side - 1)]
                     + [(r * side + c, (r + 1) * side + c) for r in range(side - 1) for c in range(side)])
    home = np.repeat(np.arange(side) * 3 // side, side)  # three horizontal strips: 3, 2, 2 rows
    no = np.zeros(side * side, bool), np.zeros(3, bool), np.zeros(3, bool)
    improved = 0
    for seed in range(12):
        rng = np.random.default_rng(seed)
        weight = rng.lognormal(0.0, 0.6, side * side)
        weight[home == 0] *= 1.5
        shares = (weight / weight.sum())[:, None]
        targets, tolerance = np.full(3, 1 / 3), 0.1

        def violation(lab):
            load = np.bincount(lab, weights=shares[:, 0], minlength=3)
            return float(np.maximum(np.abs(load / targets - 1) - tolerance, 0).sum())

        out = repair_moves(home, edges, shares, targets, tolerance, home, *no, max_rounds=2)
        assert is_contiguous(side * side, edges, out) and not _pieces(out, edges)
        assert violation(out) <= violation(home) + 1e-12
        improved += violation(out) < violation(home) - 1e-12
    assert improved >= 6


def _repair_line(monkeypatch, programs):
    """Four territories in a line, 40 blocks of 0.025 (today 14, 10, 8, 8; bands 0.2-0.3: T0 two blocks over).

    ``programs(labels, width)`` stands in for the repair program over a region of ``width`` territories
    (``REPAIR_HOPS`` = 1, 2 borders: regions of 2 and 3 territories). Returns ``(start, repaired, calls)``.
    """
    from types import SimpleNamespace

    from workbench.align import realign_blocks as rb

    start = np.repeat(np.arange(4), [14, 10, 8, 8])
    shares = np.full((40, 1), 0.025)
    targets, tolerance = np.full(4, 0.25), 0.2
    no = np.zeros(4, bool)
    calls = []

    def program(labels, *args, pairs, **kwargs):
        calls.append((labels.copy(), int(np.diag(pairs).sum())))
        return programs(labels.copy(), int(np.diag(pairs).sum()))

    def better(lab, than):
        (worst, total), (worst_than, total_than) = (rb._excess_over(x, shares, targets[:, None], tolerance, no)
                                                    for x in (lab, than))
        return worst < worst_than - 1e-12 or (worst <= worst_than + 1e-12 and total < total_than - 1e-12)

    monkeypatch.setattr(rb, "repair_moves", program)
    monkeypatch.setattr(rb, "REPAIR_HOPS", (1, 2))
    edges = np.array([(i, i + 1) for i in range(39)])
    out = rb.ContiguousRealignment._repair(start, SimpleNamespace(edges=edges), shares, targets, tolerance, start,
                                           np.zeros(40, bool), no, no, 1.0, None, better)
    return start, out, calls


def _give(labels, pairs):
    """``labels`` with the last block of each ``(s, t)`` of ``pairs`` passed on to the next territory (t = s + 1)."""
    labels = labels.copy()
    for s, _ in pairs:
        labels[np.flatnonzero(labels == s)[-1]] = s + 1
    return labels


def test_repair_prefers_a_wider_region_that_brings_all_in_over_a_near_part_repair(monkeypatch):
    """The near region (T0, T1) only brings T0 one block nearer; the wider one (T0-T2) brings it in: that one is
    taken, from today's plan, not built on the part repair."""
    def programs(labels, width):
        if width == 2:
            return _give(labels, [(0, 1)])  # T0 13 blocks: still over
        return _give(_give(labels, [(1, 2), (0, 1)]), [(0, 1), (1, 2)])  # a chain: T0 12, T1 10, T2 10

    start, out, calls = _repair_line(monkeypatch, programs)
    assert np.bincount(out).tolist() == [12, 10, 10, 8]
    assert [width for _, width in calls] == [2, 3]
    assert all(np.array_equal(labels, start) for labels, _ in calls)  # both regions from today's plan


def test_repair_keeps_the_best_part_repair_when_no_region_brings_all_in(monkeypatch):
    """No region brings T0 in at once: the nearer plan (one block less over) is kept and the next round from it
    finishes the repair."""
    def programs(labels, width):
        return _give(labels, [(0, 1)]) if width == 2 else labels  # the wider region finds nothing

    start, out, calls = _repair_line(monkeypatch, programs)
    assert np.bincount(out).tolist() == [12, 12, 8, 8]
    assert [width for _, width in calls] == [2, 3, 2]
    assert np.bincount(calls[2][0]).tolist() == [13, 11, 8, 8]  # the second round starts from the part repair


def _drifted_grid(n=12, seed=0, locked_share=0.05):
    """``n`` x ``n`` unit blocks, two accounts each, in nine current 4 x 4 territories grown by random factors."""
    rng = np.random.default_rng(seed)
    cells = [(x, y) for x in range(n) for y in range(n)]
    blocks = gpd.GeoDataFrame({"block_id": [f"B{x:02d}{y:02d}" for x, y in cells]},
                              geometry=[box(x, y, x + 1, y + 1) for x, y in cells], crs="EPSG:4326")
    side = n // 3
    rows = [(x, y, k) for x, y in cells for k in range(2)]
    current = [f"T{1 + x // side + 3 * (y // side)}" for x, y, _ in rows]
    growth = dict(zip(sorted(set(current)), rng.uniform(0.75, 1.3, 9)))
    accounts = pd.DataFrame({"account_id": [f"A{i:04d}" for i in range(len(rows))],
                             "county_fips": [f"B{x:02d}{y:02d}" for x, y, _ in rows],
                             "latitude": [y + 0.3 + 0.4 * k for _, y, k in rows],
                             "longitude": [x + 0.5 for x, _, _ in rows],
                             "workload": [rng.uniform(0.5, 1.5) * growth[t] for t in current],
                             "current_territory": current})
    accounts["locked"] = rng.random(len(accounts)) < locked_share
    return accounts, blocks


@pytest.mark.parametrize("locked_share", [0.05, 0.15])
@pytest.mark.parametrize("seed", range(8))
def test_locked_accounts_still_let_the_search_reach_the_tolerance(seed, locked_share):
    # With locked accounts the search used not to run (it could not hold their load outside the blocks), and
    # the flows and single moves alone stopped outside the tolerance: here 3 of these 16 grids at 6.7%-13.7%,
    # and on regional counties a locked 1% of the accounts left a territory at 47% (unlocked: within 10%).
    accounts, blocks = _drifted_grid(seed=seed, locked_share=locked_share)
    model = _fit(accounts, blocks, tolerance=0.05, lock_col="locked", random_state=0)
    r = model.report_
    locked = accounts["locked"].to_numpy()
    assert (model.labels_[locked] == accounts["current_territory"].to_numpy()[locked]).all()
    assert r.contiguous and _contiguous(model, blocks)
    assert r.within_tolerance, r.max_deviation
    loads = accounts.groupby(model.labels_)["workload"].sum()
    assert (loads / loads.mean() - 1).abs().max() <= 0.05 + 1e-9


def test_regional_accounts_on_a_larger_layer_realign_as_on_the_region_and_its_ring():
    # Accounts on 6 x 6 blocks of a 30 x 30 layer: the empty blocks beyond one border of the accounts are left
    # out of the fit (they only offered corridors between territories), yet still get a territory for predict.
    accounts, _ = _grid()
    accounts["longitude"] += 10
    accounts["latitude"] += 10
    accounts["county_fips"] = [f"C{int(x - 0.5):02d}{int(y - 0.5):02d}"
                               for x, y in zip(accounts["longitude"], accounts["latitude"])]

    def layer(lo, hi):
        cells = [(x, y) for x in range(lo, hi) for y in range(lo, hi)]
        return gpd.GeoDataFrame({"block_id": [f"C{x:02d}{y:02d}" for x, y in cells]},
                                geometry=[box(x, y, x + 1, y + 1) for x, y in cells], crs="EPSG:4326")

    wide, ring = layer(0, 30), layer(9, 17)
    model = _fit(accounts, wide, tolerance=0.1, random_state=0)
    near = _fit(accounts, ring, tolerance=0.1, random_state=0)
    assert (model.labels_ == near.labels_).all()
    assert model.report_.within_tolerance and _contiguous(model, wide)
    assert len(model.block_labels_) == len(wide) and model.block_labels_.notna().all()
    far = pd.DataFrame({"account_id": ["X"], "county_fips": ["C0000"], "latitude": [0.5], "longitude": [0.5]})
    assert model.predict(far)[0] in set(model.labels_)


def test_bridge_pieces_joins_a_territory_through_empty_blocks_without_splitting_another():
    from workbench.align._block_moves import bridge_pieces

    # A 3 x 3 grid (index 3 y + x): territory 0 holds the loaded corners 0 and 2; the empty blocks 1 and 4 went
    # to territory 1, whose load is in blocks 6-8 (block 4 borders them, block 1 only through 4).
    edges = np.array([(a, b) for a in range(9) for b in range(9) if a < b
                      and abs(a % 3 - b % 3) + abs(a // 3 - b // 3) == 1])
    loaded = np.array([1, 0, 1, 0, 0, 0, 1, 1, 1], dtype=bool)
    labels = np.array([0, 1, 0, 1, 1, 1, 1, 1, 1])
    out = bridge_pieces(labels, edges, loaded)
    assert out[[0, 1, 2]].tolist() == [0, 0, 0]
    assert out[[6, 7, 8]].tolist() == [1, 1, 1]
    # a path that would cut territory 1's loaded blocks apart is not taken: the empty block 1 is the only way
    # between territory 0's blocks 0 and 2, and between territory 1's blocks 3 and 4
    star = np.array([[0, 1], [1, 2], [1, 3], [1, 4]])
    labels2 = np.array([0, 1, 0, 1, 1])
    out2 = bridge_pieces(labels2, star, np.array([1, 0, 1, 1, 1], dtype=bool))
    assert out2.tolist() == labels2.tolist()


def test_bridge_pieces_rejoins_the_territory_a_bridge_cuts_through():
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from workbench.align._block_moves import bridge_pieces

    # A 4 x 5 grid (index 5 row + col), territories A=0, B=1, C=2, '*' marks a loaded block:
    #   C. C* C. A* C.
    #   B. A* C. A. C.
    #   C. C. C* B. A*
    #   B. B* B. C. A.
    # A's loaded blocks 3, 6 and 14 lie in three pieces. The bridge from 3 to 14 runs down column 3 and cuts
    # C's empty blocks 4 and 9 off from C's load; that is only acceptable because C is joined again around it.
    rows = ["C. C* C. A* C.", "B. A* C. A. C.", "C. C. C* B. A*", "B. B* B. C. A."]
    cells = [c for row in rows for c in row.split()]
    labels = np.array(["ABC".index(c[0]) for c in cells])
    loaded = np.array([c[1] == "*" for c in cells])
    edges = np.array([(a, b) for a in range(20) for b in range(20) if a < b
                      and abs(a % 5 - b % 5) + abs(a // 5 - b // 5) == 1])
    def pieces(lab):
        same = lab[edges[:, 0]] == lab[edges[:, 1]]
        graph = coo_matrix((np.ones(same.sum()), tuple(edges[same].T)), shape=(20, 20))
        comp = connected_components(graph, directed=False)[1]
        return [len(set(comp[loaded & (lab == t)])) for t in range(3)]

    assert pieces(labels) == [3, 1, 1]
    out = bridge_pieces(labels, edges, loaded)
    assert (out[loaded] == labels[loaded]).all()
    assert pieces(out) == [1, 1, 1]


def test_repair_moves_takes_a_block_beyond_an_empty_one_along_with_it():
    from workbench.align._block_moves import repair_moves

    # Territory 0 (blocks 0, 1) is under its band and territory 1 (blocks 3, 4, 7) over. Block 3 is the one to
    # give, but it borders territory 0 only through block 2, which has no accounts and belongs to territory 2
    # (blocks 2, 5, 6). On the sample with a hire, T01 (San Diego) stayed 7% under for the same reason: the
    # light county it needed lay beyond an empty county of a third territory.
    #   0 - 1 - 2 - 3 - 4 - 7
    #           |
    #           5 - 6
    edges = np.array([[0, 1], [1, 2], [2, 3], [3, 4], [4, 7], [2, 5], [5, 6]])
    labels = np.array([0, 0, 2, 1, 1, 2, 2, 1])
    load = np.array([0.9, 0.9, 0.0, 0.25, 1.0, 1.0, 1.0, 1.0])
    shares = (load / load.sum())[:, None]
    none = np.zeros(3, dtype=bool)
    out = repair_moves(labels, edges, shares, np.full(3, 1 / 3), 0.1, labels, np.zeros(8, dtype=bool), none, none)
    assert out.tolist() == [0, 0, 0, 0, 1, 2, 2, 1]
    after = np.bincount(out, weights=shares[:, 0]) * 3
    assert (np.abs(after - 1) <= 0.1).all()
    assert is_contiguous(8, edges, out)


def test_repair_moves_takes_a_block_back_with_the_piece_it_alone_holds_to_its_territory():
    from workbench.align._block_moves import repair_moves

    # Territory 0 is two heavy blocks, X (0.80 of a target) and Y (0.32): 12% over, and neither can go alone.
    # The way in: Y goes to territory 1, and territory 0 takes C (0.15) back together with M (0.03), a
    # peninsula that only C holds to territory 1. C alone would split territory 1, so it had no move; on
    # drifted counties (40 territories, seed 2) Palm Beach and Collier with Monroe were the same knot, and the
    # repair left Miami's territory 0.9% over until a wide search moved 2.25x the bordering bound.
    #   Y ---- R1 - R2 - A - B      X (0), Y (0); C, M, R1, R2 (1); A, B (2)
    #   |      |
    #   X ---- C
    #    \    /
    #      M
    names = ["X", "Y", "C", "M", "R1", "R2", "A", "B"]
    edges = np.array([[names.index(a), names.index(b)] for a, b in
                      [("X", "Y"), ("X", "C"), ("X", "M"), ("C", "M"), ("C", "R1"), ("Y", "R1"), ("R1", "R2"),
                       ("R2", "A"), ("A", "B")]])
    labels = np.array([0, 0, 1, 1, 1, 1, 2, 2])
    load = np.array([0.80, 0.32, 0.15, 0.03, 0.40, 0.35, 0.50, 0.45])
    shares = (load / 3)[:, None]
    none = np.zeros(3, dtype=bool)
    out = repair_moves(labels, edges, shares, np.full(3, 1 / 3), 0.1, labels, np.zeros(8, dtype=bool), none, none)
    assert out.tolist() == [0, 1, 0, 0, 1, 1, 2, 2]
    after = np.bincount(out, weights=load)
    assert (np.abs(after - 1) <= 0.1 + 1e-9).all()
    assert is_contiguous(8, edges, out)


def test_exchange_home_returns_a_moved_block_with_the_piece_it_alone_holds():
    from workbench.align._block_moves import exchange_home

    # C and M both left territory 0 for territory 1. M touches only C, and C alone holds M to territory 1, so
    # neither could go back on its own: C would split territory 1, and M borders nothing of territory 0.
    # Together they can: territory 0 goes from 0.92 to 1.06 of its target and territory 1 from 1.08 to 0.94.
    #   X - C - M      X (0); C, M, R1, R2 (1); home: X, C, M in 0, R1, R2 in 1
    #   |   |
    #   +-- R1 - R2
    names = ["X", "C", "M", "R1", "R2"]
    edges = np.array([[names.index(a), names.index(b)] for a, b in
                      [("X", "C"), ("C", "M"), ("C", "R1"), ("X", "R1"), ("R1", "R2")]])
    labels, home = np.array([0, 1, 1, 1, 1]), np.array([0, 0, 0, 1, 1])
    shares = (np.array([0.92, 0.10, 0.04, 0.50, 0.44]) / 2)[:, None]
    none = np.zeros(2, dtype=bool)
    out = exchange_home(labels, edges, shares, np.full(2, 0.5), 0.1, home, np.zeros(5, dtype=bool), none, none)
    assert out.tolist() == [0, 0, 0, 1, 1]
