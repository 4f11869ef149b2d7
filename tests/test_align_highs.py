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
    model.run()
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
