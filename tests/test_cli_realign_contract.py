"""The ``workbench align --current`` CLI contract of issue #12, checked the way an outside check would.

Every test runs ``workbench align ACCOUNTS --current COL ...`` on small synthetic inputs unlike the
bundled sample (territory ids ``East-01``/``West-1``, ``1``/``2``/``10`` and ``T1`` without zero
padding, a current column not called ``current_territory``, extra columns, blocks as GeoPackage,
GeoJSON and shapefile keyed by a column other than ``county_fips`` with int-like ids carrying
leading zeros, an island block without neighbours, locks with and without blocks, reps files with
new hires and absent reps) and checks one promised property from OUT.csv and the summary:
every account exactly once, locks kept, contiguity with blocks (against adjacency computed here
from the polygons), ids kept, closures and openings exactly as asked, ``--max-moved`` met, both
lower bounds and the ratios printed, numbers for people, clear errors, a fixed ``--seed``
reproduces the output.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from workbench.cli import main

gpd = pytest.importorskip("geopandas")
from shapely.geometry import box  # noqa: E402

ACC = ["--id-col", "acct", "--lat-col", "lat", "--lon-col", "lon", "--quiet"]
BAD_STDERR = re.compile(r"Traceback|RuntimeWarning|FutureWarning|DeprecationWarning|SettingWithCopy|"
                        r"PerformanceWarning|numpy|pandas|unexpected \w+Error|this is a bug|highs", re.IGNORECASE)
REALIGN = [*ACC, "--current", "owner", "--balance-on", "calls"]  # the common part of every run
RAW_FLOAT = re.compile(r"\d\.\d{4,}|\d{5,}\.\d|e[+-]\d\d")

SIDE = 6  # 6 x 6 grid of 0.5 degree blocks, plus one island far away


def _quadrant(i, j, names):
    return names[(i // 3) * 2 + (j // 3)]


def _make(tmp_path, names=("East-01", "East-02", "West-1", "West-10"), seed=1):
    """Accounts on a grid of blocks, the top-left quadrant overloaded; the island belongs to names[1]."""
    rng = np.random.default_rng(seed)
    polys, ids = [], []
    for i in range(SIDE):
        for j in range(SIDE):
            ids.append(f"{i * SIDE + j + 1:03d}")
            polys.append(box(-90 + j * 0.5, 35 + i * 0.5, -90 + (j + 1) * 0.5, 35 + (i + 1) * 0.5))
    ids.append("900")
    polys.append(box(-80, 30, -79.5, 30.5))
    blocks = gpd.GeoDataFrame({"geoid": ids, "label": "x"}, geometry=polys, crs="EPSG:4326")
    rows = []
    for i in range(SIDE):
        for j in range(SIDE):
            count = 6 if (i < 3 and j < 3) else 3
            for _ in range(count):
                rows.append({"acct": f"X{len(rows)}", "lat": 35 + i * 0.5 + 0.05 + rng.random() * 0.4,
                             "lon": -90 + j * 0.5 + 0.05 + rng.random() * 0.4, "geoid": f"{i * SIDE + j + 1:03d}",
                             "owner": _quadrant(i, j, names), "calls": float(rng.integers(1, 5)),
                             "revenue": float(rng.integers(100, 1000)), "note": "extra, column"})
    for _ in range(4):
        rows.append({"acct": f"X{len(rows)}", "lat": 30.25, "lon": -79.75, "geoid": "900", "owner": names[1],
                     "calls": 1.0, "revenue": 200.0, "note": "island"})
    frame = pd.DataFrame(rows)
    frame["locked"] = False
    frame.loc[[0, 5, 40, 120], "locked"] = True
    path = tmp_path / "acc.csv"
    frame.to_csv(path, index=False)
    return path, frame, blocks


def _write_blocks(blocks, tmp_path, kind):
    path = tmp_path / {"gpkg": "blocks.gpkg", "geojson": "blocks.geojson", "shp": "blocks.shp"}[kind]
    blocks.to_file(path, driver={"gpkg": "GPKG", "geojson": "GeoJSON", "shp": "ESRI Shapefile"}[kind])
    return path


def _run(capsys, args):
    code = main(["align", *args])
    captured = capsys.readouterr()
    assert not BAD_STDERR.search(captured.err), captured.err
    assert not BAD_STDERR.search(captured.out), captured.out
    return code, captured.out, captured.err


def _align(tmp_path, capsys, path, *args, balance_on="calls"):
    """Run ``workbench align PATH --current owner --balance-on ... ARGS --out out.csv``, which must succeed.

    Returns the summary, the standard error and the path of the written plan.
    """
    out = tmp_path / "out.csv"
    code, printed, err = _run(capsys, [str(path), *ACC, "--current", "owner", "--balance-on", balance_on, *args,
                                       "--out", str(out)])
    assert code == 0, err
    return printed, err, out


def _result(out, frame):
    result = pd.read_csv(out, dtype=str, encoding="utf-8-sig")
    assert list(result.columns[:2]) == ["account_id", "territory_id"]
    # every account exactly once, nothing invented
    assert result["account_id"].is_unique
    assert sorted(result["account_id"]) == sorted(frame["acct"])
    assert result["territory_id"].notna().all()
    return frame.assign(new=result.set_index("account_id").loc[frame["acct"], "territory_id"].to_numpy())


def _moved_share(res, metric="calls"):
    moved = res["new"] != res["owner"].astype(str)
    return res.loc[moved, metric].sum() / res[metric].sum()


def _queen_neighbours(blocks):
    geoms = blocks.geometry.to_numpy()
    ids = blocks["geoid"].astype(str).to_numpy()
    adj = {b: set() for b in ids}
    for a in range(len(ids)):
        for b in range(a + 1, len(ids)):
            if geoms[a].intersects(geoms[b]):
                adj[ids[a]].add(ids[b])
                adj[ids[b]].add(ids[a])
    return adj


def _assert_contiguous(res, blocks):
    """Unlocked accounts of one block share a territory; each territory's blocks are connected
    (queen adjacency), island blocks (no neighbour at all) excepted."""
    adj = _queen_neighbours(blocks)
    free = res[~res["locked"]]
    per_block = free.groupby("geoid")["new"].nunique()
    assert (per_block == 1).all(), per_block[per_block > 1]
    owner = free.groupby("geoid")["new"].first()
    for territory, members in owner.groupby(owner):
        mine = {b for b in members.index if adj[b]}
        if not mine:
            continue
        start = next(iter(mine))
        seen, todo = {start}, [start]
        while todo:
            for nb in adj[todo.pop()] & mine:
                if nb not in seen:
                    seen.add(nb)
                    todo.append(nb)
        assert seen == mine, f"{territory} split: {sorted(mine - seen)} not reached from {start}"


def _assert_summary(printed):
    assert re.search(r"^lower bound \(any territory may take from any other\): [\d.,]+% of calls; "
                     r"moved [\d.,]+x that$", printed, re.M), printed
    assert re.search(r"^lower bound \(moves only between bordering territories\): [\d.,]+% of calls; "
                     r"moved [\d.,]+x that$", printed, re.M), printed
    assert re.search(r"^moved: [\d.,]+% of calls", printed, re.M), printed
    assert not RAW_FLOAT.search(printed), printed


def _assert_ratios_match(printed, res):
    """The printed ratios are the moved share over each printed bound (to the printed precision)."""
    moved = float(re.search(r"^moved: ([\d.]+)%", printed, re.M).group(1))
    for bound, ratio in re.findall(r"^lower bound .*?: ([\d.]+)% of calls; moved ([\d.]+)x that$", printed, re.M):
        if float(bound) > 0.05:
            assert float(ratio) == pytest.approx(moved / float(bound), abs=0.02 + 0.06 * moved / float(bound) ** 2)
    assert moved == pytest.approx(100 * _moved_share(res), abs=0.06)


# --------------------------------------------------------------------------------------------- points

def test_points_every_account_once_ids_kept_and_bounds_printed(tmp_path, capsys):
    path, frame, _ = _make(tmp_path)
    printed, _, out = _align(tmp_path, capsys, path, "--tolerance", "0.15")
    res = _result(out, frame)
    assert set(res["new"]) == set(frame["owner"])
    _assert_summary(printed)
    _assert_ratios_match(printed, res)
    loads = res.groupby("new")["calls"].sum()
    assert (abs(loads / loads.mean() - 1) <= 0.15 + 1e-9).all()


def test_points_locks_kept(tmp_path, capsys):
    path, frame, _ = _make(tmp_path)
    _, _, out = _align(tmp_path, capsys, path, "--tolerance", "0.1", "--lock-col", "locked")
    res = _result(out, frame)
    locked = res[res["locked"]]
    assert (locked["new"] == locked["owner"]).all()


def test_numeric_ids_without_padding_are_kept_and_continued(tmp_path, capsys):
    path, frame, _ = _make(tmp_path, names=("1", "2", "10", "3"))
    printed, _, out = _align(tmp_path, capsys, path, "--tolerance", "0.15", "--territories", "6")
    res = _result(out, frame)
    # "1","2","10","3" continue as "11","12" (never "1.0", never "T11")
    assert set(res["new"]) == {"1", "2", "10", "3", "11", "12"}
    assert "opened: 11, 12" in printed
    _assert_summary(printed)


def test_mixed_scheme_opens_documented_new_ids(tmp_path, capsys):
    path, frame, _ = _make(tmp_path)
    printed, _, out = _align(tmp_path, capsys, path, "--tolerance", "0.15", "--territories", "5")
    res = _result(out, frame)
    # East-01/West-1 share no single prefix: the documented fallback is NEW1...
    assert set(res["new"]) == set(frame["owner"]) | {"NEW1"}
    _assert_summary(printed)


def test_t_scheme_without_padding_continues(tmp_path, capsys):
    path, frame, _ = _make(tmp_path, names=("T1", "T2", "T3", "T4"))
    printed, _, out = _align(tmp_path, capsys, path, "--tolerance", "0.15", "--territories", "6")
    assert set(_result(out, frame)["new"]) == {"T1", "T2", "T3", "T4", "T5", "T6"}
    assert "opened: T5, T6" in printed


def test_equal_count_keeps_ids(tmp_path, capsys):
    path, frame, _ = _make(tmp_path, names=("T1", "T2", "T3", "T4"))
    printed, _, out = _align(tmp_path, capsys, path, "--tolerance", "0.15", "--territories", "4")
    assert set(_result(out, frame)["new"]) == {"T1", "T2", "T3", "T4"}
    assert "opened" not in printed and "closed" not in printed


def test_fewer_territories_keep_current_ids(tmp_path, capsys):
    path, frame, _ = _make(tmp_path)
    printed, _, out = _align(tmp_path, capsys, path, "--tolerance", "0.15", "--territories", "3")
    res = _result(out, frame)
    kept = set(res["new"])
    assert len(kept) == 3 and kept < set(frame["owner"])
    (closed,) = set(frame["owner"]) - kept
    assert f"closed: {closed}" in printed
    # only the closed territory's accounts had to move out of it; nobody moves into nothing
    _assert_summary(printed)


def test_close_without_territories(tmp_path, capsys):
    path, frame, _ = _make(tmp_path)
    printed, _, out = _align(tmp_path, capsys, path, "--tolerance", "0.2", "--close", "West-10")
    res = _result(out, frame)
    assert set(res["new"]) == {"East-01", "East-02", "West-1"}
    assert "closed: West-10" in printed


def test_close_with_matching_territories(tmp_path, capsys):
    path, frame, _ = _make(tmp_path)
    printed, _, out = _align(tmp_path, capsys, path, "--tolerance", "0.2", "--close", "West-1", "--territories",
                             "3")
    assert set(_result(out, frame)["new"]) == {"East-01", "East-02", "West-10"}
    assert "closed: West-1" in printed


def test_close_and_open_at_once(tmp_path, capsys):
    """--close one territory but ask for as many as today: the closed one goes and one opens."""
    path, frame, _ = _make(tmp_path, names=("T1", "T2", "T3", "T4"))
    out = tmp_path / "out.csv"
    code, printed, err = _run(capsys, [str(path), *REALIGN,
                                       "--tolerance", "0.2", "--close", "T4", "--territories", "4",
                                       "--out", str(out)])
    if code != 0:  # refusing is allowed, but with one clear line naming both options
        assert "--close" in err and "--territories" in err
        return
    ids = set(_result(out, frame)["new"])
    assert "T4" not in ids and len(ids) == 4 and {"T1", "T2", "T3"} < ids


def test_close_everything_is_refused_clearly(tmp_path, capsys):
    path, _, _ = _make(tmp_path)
    code, _, err = _run(capsys, [str(path), *REALIGN,
                                 "--close", "East-01,East-02,West-1,West-10", "--out", str(tmp_path / "o.csv")])
    assert code != 0 and err.startswith("error: ") and "close" in err and "every territory" in err
    assert not (tmp_path / "o.csv").exists()


def test_max_moved_met(tmp_path, capsys):
    path, frame, _ = _make(tmp_path)
    printed, err, out = _align(tmp_path, capsys, path, "--tolerance", "0.05", "--max-moved", "0.04")
    res = _result(out, frame)
    assert _moved_share(res) <= 0.04 + 1e-12
    assert "4.0%" in printed + err
    _assert_summary(printed)


def test_max_moved_with_locks_and_blocks(tmp_path, capsys):
    path, frame, blocks = _make(tmp_path)
    printed, _, out = _align(tmp_path, capsys, path, "--tolerance", "0.05", "--max-moved", "0.06", "--lock-col",
                             "locked", "--blocks", str(_write_blocks(blocks, tmp_path, "gpkg")), "--block-col",
                             "geoid")
    res = _result(out, frame)
    assert _moved_share(res) <= 0.06 + 1e-12
    assert (res.loc[res["locked"], "new"] == res.loc[res["locked"], "owner"]).all()
    _assert_contiguous(res, blocks)


def test_multi_metric_balance(tmp_path, capsys):
    path, frame, _ = _make(tmp_path)
    printed, _, out = _align(tmp_path, capsys, path, "--tolerance", "0.15", balance_on="calls,revenue")
    res = _result(out, frame)
    assert "max deviation calls:" in printed and "max deviation revenue:" in printed
    for metric in ("calls", "revenue"):
        loads = res.groupby("new")[metric].sum()
        dev = float(re.search(rf"max deviation {metric}: ([\d.]+)%", printed).group(1))
        assert dev == pytest.approx(100 * (abs(loads / loads.mean() - 1)).max(), abs=0.06)
    _assert_summary(printed)


def test_seed_is_deterministic(tmp_path, capsys):
    path, frame, blocks = _make(tmp_path)
    gp = _write_blocks(blocks, tmp_path, "gpkg")
    outs = []
    for k in range(2):
        out = tmp_path / f"out{k}.csv"
        code, _, _ = _run(capsys, [str(path), *REALIGN,
                                   "--tolerance", "0.1", "--territories", "5", "--blocks", str(gp),
                                   "--block-col", "geoid", "--seed", "7", "--out", str(out)])
        assert code == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


# --------------------------------------------------------------------------------------------- blocks

@pytest.mark.parametrize("kind", ["gpkg", "geojson", "shp"])
def test_blocks_contiguous_ids_kept_and_locks(tmp_path, capsys, kind):
    path, frame, blocks = _make(tmp_path)
    printed, _, out = _align(tmp_path, capsys, path, "--tolerance", "0.15", "--blocks",
                             str(_write_blocks(blocks, tmp_path, kind)), "--block-col", "geoid", "--lock-col",
                             "locked")
    res = _result(out, frame)
    assert set(res["new"]) <= set(frame["owner"])
    assert (res.loc[res["locked"], "new"] == res.loc[res["locked"], "owner"]).all()
    _assert_contiguous(res, blocks)
    _assert_summary(printed)
    _assert_ratios_match(printed, res)


def test_blocks_opening_is_contiguous_and_named(tmp_path, capsys):
    path, frame, blocks = _make(tmp_path, names=("T1", "T2", "T3", "T4"))
    printed, _, out = _align(tmp_path, capsys, path, "--tolerance", "0.2", "--territories", "5", "--blocks",
                             str(_write_blocks(blocks, tmp_path, "geojson")), "--block-col", "geoid")
    res = _result(out, frame)
    assert set(res["new"]) == {"T1", "T2", "T3", "T4", "T5"}
    _assert_contiguous(res, blocks)
    _assert_summary(printed)


def test_blocks_closure_is_contiguous(tmp_path, capsys):
    path, frame, blocks = _make(tmp_path)
    printed, _, out = _align(tmp_path, capsys, path, "--tolerance", "0.2", "--close", "East-02", "--lock-col",
                             "locked", "--blocks", str(_write_blocks(blocks, tmp_path, "shp")), "--block-col",
                             "geoid")
    res = _result(out, frame)
    free = res[~res["locked"]]
    assert set(free["new"]) == {"East-01", "West-1", "West-10"}
    _assert_contiguous(res, blocks)
    assert "closed: East-02" in printed


def test_block_ids_read_as_numbers_in_the_accounts_still_match(tmp_path, capsys):
    """Blocks keyed "001" and accounts keyed 1 (a spreadsheet dropped the zeros): matched, or a clear error."""
    path, frame, blocks = _make(tmp_path)
    frame = frame.assign(geoid=frame["geoid"].astype(int))
    frame.to_csv(path, index=False)
    out = tmp_path / "out.csv"
    code, _, err = _run(capsys, [str(path), *REALIGN,
                                 "--tolerance", "0.15", "--blocks", str(_write_blocks(blocks, tmp_path, "gpkg")),
                                 "--block-col", "geoid", "--out", str(out)])
    if code != 0:
        assert err.startswith("error: ") and "geoid" in err
        return
    _result(out, frame.assign(geoid=frame["geoid"].map(lambda v: f"{v:03d}")))


# --------------------------------------------------------------------------------------------- reps

def _reps(tmp_path, rows):
    path = tmp_path / "reps.csv"
    pd.DataFrame(rows, columns=["rep_id", "latitude", "longitude"]).to_csv(path, index=False)
    return path


def test_reps_new_hire_and_absent_rep(tmp_path, capsys):
    path, frame, _ = _make(tmp_path, names=("T1", "T2", "T3", "T4"))
    reps = _reps(tmp_path, [("T1", 35.7, -89.3), ("T2", 35.7, -87.7), ("T3", 37.3, -89.3),
                            ("R9", 36.2, -88.9)])  # T4 absent: closes; R9 new hire
    printed, _, out = _align(tmp_path, capsys, path, "--tolerance", "0.2", "--reps", str(reps))
    res = _result(out, frame)
    assert set(res["new"]) == {"T1", "T2", "T3", "R9"}
    assert "T4" in printed and "R9" in printed
    _assert_summary(printed)


def test_reps_with_blocks_contiguous(tmp_path, capsys):
    path, frame, blocks = _make(tmp_path, names=("T1", "T2", "T3", "T4"))
    reps = _reps(tmp_path, [("T1", 35.7, -89.3), ("T2", 35.7, -87.7), ("T3", 37.3, -89.3),
                            ("T4", 37.3, -87.7), ("R9", 36.2, -88.9)])
    printed, _, out = _align(tmp_path, capsys, path, "--tolerance", "0.25", "--reps", str(reps), "--lock-col",
                             "locked", "--blocks", str(_write_blocks(blocks, tmp_path, "gpkg")), "--block-col",
                             "geoid")
    res = _result(out, frame)
    assert set(res["new"]) == {"T1", "T2", "T3", "T4", "R9"}
    _assert_contiguous(res, blocks)
    _assert_summary(printed)


@pytest.mark.parametrize("blocks_kind", [None, "gpkg"])
def test_solver_output_never_reaches_the_terminal(tmp_path, capfd, blocks_kind):
    """HiGHS writes from C++ straight to file descriptors 1 and 2; nothing of it may reach the summary.

    ``capfd`` (not ``capsys``) sees those descriptors. Two metrics and split accounts make the points
    realignment solve its integer programs; blocks make the whole-block repair solve its own.
    """
    path, frame, blocks = _make(tmp_path)
    extra = [] if blocks_kind is None else ["--blocks", str(_write_blocks(blocks, tmp_path, blocks_kind)),
                                            "--block-col", "geoid"]
    out = tmp_path / "out.csv"
    code = main(["align", str(path), *REALIGN[:-1], "calls,revenue", "--tolerance", "0.1", "--territories", "5",
                 *extra, "--out", str(out)])
    printed, err = capfd.readouterr()
    assert code == 0, err
    assert not re.search(r"highs|presolve|tmpSolver|MipSolver", printed + err, re.IGNORECASE), printed + err
    _result(out, frame)


# --------------------------------------------------------------------------------------------- bad inputs

def _bad(tmp_path, capsys, args, *needles):
    out = tmp_path / "bad_out.csv"
    code, printed, err = _run(capsys, [*args, "--out", str(out)])
    assert code != 0
    assert err.startswith("error: ") and len(err.strip().splitlines()) <= 3, err
    for needle in needles:
        assert needle in err, err
    assert not out.exists()


def test_missing_current_column_is_named(tmp_path, capsys):
    path, _, _ = _make(tmp_path)
    _bad(tmp_path, capsys, [str(path), *ACC, "--current", "territory", "--balance-on", "calls"],
         "territory", "acc.csv")


def test_blank_current_territory_names_the_row(tmp_path, capsys):
    path, frame, _ = _make(tmp_path)
    frame.loc[7, "owner"] = None
    frame.to_csv(path, index=False)
    _bad(tmp_path, capsys, [str(path), *REALIGN], "owner")


def test_block_missing_from_blocks_file_is_named(tmp_path, capsys):
    path, frame, blocks = _make(tmp_path)
    frame.loc[3, "geoid"] = "777"
    frame.to_csv(path, index=False)
    _bad(tmp_path, capsys, [str(path), *REALIGN,
                            "--blocks", str(_write_blocks(blocks, tmp_path, "gpkg")), "--block-col", "geoid"],
         "777")


def test_wrong_block_col_is_named(tmp_path, capsys):
    path, _, blocks = _make(tmp_path)
    _bad(tmp_path, capsys, [str(path), *REALIGN,
                            "--blocks", str(_write_blocks(blocks, tmp_path, "gpkg")), "--block-col", "county_fips"],
         "county_fips")


def test_lock_col_not_boolean_is_named(tmp_path, capsys):
    path, frame, _ = _make(tmp_path)
    frame["locked"] = frame["locked"].map({True: "yes please", False: "no"})
    frame.to_csv(path, index=False)
    _bad(tmp_path, capsys, [str(path), *REALIGN,
                            "--lock-col", "locked"], "locked")


def test_territories_zero_is_refused(tmp_path, capsys):
    path, _, _ = _make(tmp_path)
    _bad(tmp_path, capsys, [str(path), *REALIGN, "--territories", "0"],
         "--territories")


def test_close_unknown_id_is_named(tmp_path, capsys):
    path, _, _ = _make(tmp_path)
    _bad(tmp_path, capsys, [str(path), *REALIGN, "--close", "East-1"],
         "East-1")


def test_close_two_and_ask_for_three_opens_one(tmp_path, capsys):
    """--close names closures and --territories the count: both exactly as asked (two close, one opens)."""
    path, frame, _ = _make(tmp_path)
    printed, _, out = _align(tmp_path, capsys, path, "--tolerance", "0.15", "--close", "East-01, East-02",
                             "--territories", "3")
    assert set(_result(out, frame)["new"]) == {"West-1", "West-10", "NEW1"}
    assert "closed: East-01, East-02" in printed and "opened: NEW1" in printed


def test_reps_file_without_rep_id_is_named(tmp_path, capsys):
    path, _, _ = _make(tmp_path)
    reps = tmp_path / "reps.csv"
    pd.DataFrame({"name": ["a"], "latitude": [35.0], "longitude": [-89.0]}).to_csv(reps, index=False)
    _bad(tmp_path, capsys, [str(path), *REALIGN, "--reps", str(reps)],
         "rep_id", "reps.csv")


def test_metric_with_text_is_named(tmp_path, capsys):
    path, frame, _ = _make(tmp_path)
    frame["calls"] = frame["calls"].astype(object)
    frame.loc[11, "calls"] = "n/a"
    frame.to_csv(path, index=False)
    _bad(tmp_path, capsys, [str(path), *REALIGN], "calls")


def test_block_ids_stored_as_numbers_in_the_blocks_file_get_a_clear_error(tmp_path, capsys):
    """A GeoJSON whose geoid is a number (1) against accounts keyed "001": the error shows both sides."""
    path, _, blocks = _make(tmp_path)
    numeric = blocks.assign(geoid=blocks["geoid"].astype(int))
    target = tmp_path / "blocks_int.geojson"
    numeric.to_file(target, driver="GeoJSON")
    _bad(tmp_path, capsys, [str(path), *REALIGN,
                            "--blocks", str(target), "--block-col", "geoid"],
         "geoid=001", "the blocks' ids read: 1, ")


def test_lock_in_a_closing_territory_is_refused_clearly(tmp_path, capsys):
    path, frame, _ = _make(tmp_path)
    frame.loc[frame["owner"] == "West-10", "locked"] = True
    frame.to_csv(path, index=False)
    _bad(tmp_path, capsys, [str(path), *REALIGN, "--close", "West-10",
                            "--lock-col", "locked"], "West-10", "'locked'")


@pytest.mark.parametrize("blocks_kind", [None, "gpkg"])
def test_territory_with_no_workload_is_filled(tmp_path, capsys, blocks_kind):
    """A territory whose accounts carry no workload (already empty) keeps its id and is brought into balance."""
    path, frame, blocks = _make(tmp_path)
    frame.loc[frame["owner"] == "West-10", "calls"] = 0.0
    frame.to_csv(path, index=False)
    out = tmp_path / "out.csv"
    extra = [] if blocks_kind is None else ["--blocks", str(_write_blocks(blocks, tmp_path, blocks_kind)),
                                            "--block-col", "geoid"]
    code, printed, _ = _run(capsys, [str(path), *REALIGN,
                                     "--tolerance", "0.15", *extra, "--out", str(out)])
    assert code == 0
    res = _result(out, frame)
    assert set(res["new"]) == set(frame["owner"])
    loads = res.groupby("new")["calls"].sum()
    assert (abs(loads / loads.mean() - 1) <= 0.15 + 1e-9).all()
    if blocks_kind:
        _assert_contiguous(res, blocks)
    _assert_summary(printed)


def test_multi_metric_budget_is_kept_on_the_first_metric_and_said_so(tmp_path, capsys):
    path, frame, _ = _make(tmp_path)
    printed, err, out = _align(tmp_path, capsys, path, "--tolerance", "0.05", "--max-moved", "0.05",
                               balance_on="calls,revenue")
    res = _result(out, frame)
    assert _moved_share(res, "calls") <= 0.05 + 1e-12
    assert "disruption budget 5.0% of calls kept" in err
    _assert_summary(printed)
    _assert_ratios_match(printed, res)


@pytest.mark.parametrize("blocks_kind", [None, "shp"])
def test_closure_that_needs_more_than_the_budget_is_refused_not_overspent(tmp_path, capsys, blocks_kind):
    """Closing West-10 moves its whole load (about 18% of calls): --max-moved 0.05 cannot hold, so no plan
    that overspends is written and the error says what the closure alone moves."""
    path, frame, blocks = _make(tmp_path)
    extra = [] if blocks_kind is None else ["--blocks", str(_write_blocks(blocks, tmp_path, blocks_kind)),
                                            "--block-col", "geoid"]
    share = frame.loc[frame["owner"] == "West-10", "calls"].sum() / frame["calls"].sum()
    _bad(tmp_path, capsys, [str(path), *REALIGN, "--tolerance", "0.15",
                            "--close", "West-10", "--max-moved", "0.05", *extra],
         "max_moved_share (CLI: --max-moved) 5.0% cannot be kept", f"closing West-10 alone moves {share:.1%}",
         f"raise the budget to at least {share:.1%}")


def test_closure_within_the_budget_keeps_it(tmp_path, capsys):
    path, frame, _ = _make(tmp_path)
    printed, _, out = _align(tmp_path, capsys, path, "--tolerance", "0.15", "--close", "West-10", "--max-moved",
                             "0.2")
    res = _result(out, frame)
    assert "West-10" not in set(res["new"])
    assert _moved_share(res) <= 0.2 + 1e-12


@pytest.mark.parametrize("estimator", ["Realignment", "ContiguousRealignment"])
def test_python_realignment_refuses_a_budget_its_closures_overspend(tmp_path, estimator):
    # Closing West-10 alone moves 17.8% of calls: a 5% budget cannot be kept, so no plan is made.
    from workbench import align
    from workbench.align.realign_blocks import ContiguousRealignment
    from workbench.errors import InputError

    _, frame, blocks = _make(tmp_path)
    accounts = frame.rename(columns={"acct": "account_id", "lat": "latitude", "lon": "longitude"})
    params = dict(close=["West-10"], max_moved_share=0.05, balance_on=["calls"], current_col="owner", tolerance=0.15)
    if estimator == "Realignment":
        model, kwargs = align.Realignment(**params), {}
    else:
        model, kwargs = ContiguousRealignment(block_col="geoid", **params), {"blocks": blocks}
    with pytest.raises(InputError, match=r"max_moved_share \(CLI: --max-moved\) 5\.0% cannot be kept: closing "
                                         r"West-10 alone moves 17\.8% of calls .*raise the budget to at least 17\.8%"):
        model.fit(accounts, **kwargs)
    assert not hasattr(model, "labels_")


def test_reps_with_capacities_measure_balance_against_each_target_and_repeat_with_a_seed(tmp_path, capsys):
    path, frame, _ = _make(tmp_path)
    reps = tmp_path / "reps.csv"
    hours = {"East-01": 40, "East-02": 20, "West-1": 20, "NEWREP": 20}  # West-10 absent: closes
    pd.DataFrame({"rep_id": list(hours), "latitude": [35.7, 35.7, 37.3, 36.2],
                  "longitude": [-89.3, -87.7, -89.3, -88.9], "capacity_hours": list(hours.values())}
                 ).to_csv(reps, index=False)
    outs = []
    for k in range(2):
        out = tmp_path / f"out{k}.csv"
        code, printed, _ = _run(capsys, [str(path), *REALIGN,
                                         "--tolerance", "0.2", "--reps", str(reps), "--seed", "3", "--out", str(out)])
        assert code == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    res = _result(out, frame)
    assert set(res["new"]) == set(hours)
    loads = res.groupby("new")["calls"].sum()
    targets = pd.Series(hours) / sum(hours.values()) * loads.sum()
    worst = (loads / targets.loc[loads.index] - 1).abs().max()
    assert float(re.search(r"max deviation calls: ([\d.]+)%", printed).group(1)) == pytest.approx(100 * worst, abs=0.06)
    assert "opened: NEWREP" in printed and "closed: West-10" in printed
    _assert_summary(printed)
