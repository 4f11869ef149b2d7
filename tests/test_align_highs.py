"""The package's HiGHS models print nothing (a banner in the middle of a CLI summary is a defect)."""

import numpy as np

from workbench.align import _highs


def _solve_tiny(model):
    import highspy

    # min x0 + 2 x1  s.t.  x0 + x1 >= 1,  0 <= x <= 1
    model.addCols(2, np.array([1.0, 2.0]), np.zeros(2), np.ones(2), 0, np.zeros(0, np.int32),
                  np.zeros(0, np.int32), np.zeros(0))
    model.addRows(1, np.array([1.0]), np.array([highspy.kHighsInf]), 2, np.array([0], np.int32),
                  np.array([0, 1], np.int32), np.array([1.0, 1.0]))
    _highs.run_highs(model)
    return list(model.getSolution().col_value)


def test_quiet_highs_prints_nothing_and_solves(capfd):
    model = _highs.quiet_highs()
    assert _solve_tiny(model) == [1.0, 0.0]
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_fallback_to_the_public_class_prints_nothing_either(capfd, monkeypatch):
    import highspy._core

    monkeypatch.delattr(highspy._core, "_Highs")
    model = _highs.quiet_highs()
    assert _solve_tiny(model) == [1.0, 0.0]
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def _knapsack(n=60, seed=0):
    """A 0/1 knapsack with two capacity rows and one equality: needs branch-and-bound and HiGHS's heuristics."""
    rng = np.random.default_rng(seed)
    weights = rng.integers(5, 40, size=(2, n)).astype(float)
    value = rng.integers(1, 60, size=n).astype(float)
    matrix = np.vstack([weights, np.ones(n)])
    low = np.array([-np.inf, -np.inf, n // 4])
    high = np.array([weights[0].sum() / 3, weights[1].sum() / 3, n // 4])
    return -value, matrix, low, high


def test_solve_milp_prints_nothing_and_keeps_every_row(capfd):
    cost, matrix, low, high = _knapsack()
    x = _highs.solve_milp(cost, matrix, low, high, np.ones(len(cost)), node_limit=200)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert np.allclose(x, np.round(x))  # all variables integer by default
    row = matrix @ np.round(x)
    assert (row <= high + 1e-9).all() and (row >= low - 1e-9).all()


def test_solve_milp_matches_brute_force_on_a_small_case():
    import itertools

    cost, matrix, low, high = _knapsack(n=10, seed=3)
    best = min((float(cost @ np.array(x)) for x in itertools.product([0, 1], repeat=10)
                if ((matrix @ np.array(x) <= high + 1e-9) & (matrix @ np.array(x) >= low - 1e-9)).all()))
    x = _highs.solve_milp(cost, matrix, low, high, np.ones(10), node_limit=10_000)
    assert float(cost @ np.round(x)) == best


def test_solve_milp_mixed_integrality_and_infeasible():
    # max x0 + y  with  x0 + y <= 1.5,  x0 integer, y continuous in [0, 1]: x0 = 1, y = 0.5
    x = _highs.solve_milp([-1.0, -1.0], [[1.0, 1.0]], [-np.inf], [1.5], [1.0, 1.0], 10,
                          integer=[True, False], presolve=False)
    assert np.allclose(x, [1.0, 0.5])
    # x0 + x1 >= 3 with both in [0, 1]: no solution
    assert _highs.solve_milp([1.0, 1.0], [[1.0, 1.0]], [3.0], [np.inf], [1.0, 1.0], 10) is None


def test_the_package_never_calls_scipy_milp():
    """scipy's ``milp`` prints HiGHS debugging lines to standard output and stops on a clock: use ``solve_milp``."""
    import ast
    from pathlib import Path

    import workbench

    offenders = []
    for path in Path(workbench.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "scipy.optimize":
                offenders += [f"{path.name}: imports milp" for a in node.names if a.name == "milp"]
            if isinstance(node, ast.Attribute) and node.attr == "milp":
                offenders.append(f"{path.name}:{node.lineno}: .milp")
    assert offenders == []


def test_models_run_on_one_thread_even_after_other_code_ran_highs_with_its_default():
    # HiGHS keeps one thread pool per process, sized by the first solve. A fresh process runs a default
    # (multi-thread) HiGHS MIP first; the package's models ask for one thread, so their first run is
    # refused and run_highs rebuilds the pool with one thread: the package's solve still gives the
    # optimum, and a default model after it still runs.
    import subprocess
    import sys

    code = """
import numpy as np, highspy
from workbench.align import _highs
def knapsack(model):
    model.setOptionValue("output_flag", False)
    model.addCols(3, np.array([-3.0, -2.0, -2.0]), np.zeros(3), np.ones(3), 0, np.zeros(0, np.int32),
                  np.zeros(0, np.int32), np.zeros(0))
    model.addRows(1, np.array([-highspy.kHighsInf]), np.array([2.0]), 3, np.array([0], np.int32),
                  np.array([0, 1, 2], np.int32), np.array([2.0, 1.0, 1.0]))
    model.changeColsIntegrality(3, np.arange(3, dtype=np.int32), np.array([highspy.HighsVarType.kInteger] * 3))
    return model
first = knapsack(highspy.Highs())
assert str(first.run()).endswith("kOk")
ours = knapsack(_highs.quiet_highs())
assert ours.getOptionValue("threads")[-1] == 1
assert str(_highs.run_highs(ours)).endswith("kOk"), ours.getModelStatus()
print([round(v) for v in ours.getSolution().col_value])
x = _highs.solve_milp([-3.0, -2.0, -2.0], [[2.0, 1.0, 1.0]], [-np.inf], [2.0], [1.0, 1.0, 1.0], 10)
print((x > 0.5).tolist())
last = knapsack(highspy.Highs())
assert str(last.run()).endswith("kOk")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[-2:] == ["[0, 1, 1]", "[False, True, True]"]
