"""A HiGHS model that prints nothing: the one place that builds one.

``highspy.Highs()`` writes HiGHS's banner ("Running HiGHS ...") to the
process's standard output from C++ while it is being constructed, before any
option can turn the output off, and ``contextlib.redirect_stdout`` cannot catch
it. That line would land in the middle of a CLI summary or a notebook. The
extension class underneath, ``highspy._core._Highs``, is the same solver
without highspy's Python callbacks and prints nothing. It is not public, so it
is used here only: if a later highspy moves it, :func:`quiet_highs` falls back
to the public class with file descriptor 1 pointed at ``os.devnull`` while it
is constructed. ``tests/test_align_highs.py`` checks that nothing is printed
either way.

:func:`solve_milp` is the package's one mixed-integer solve. It replaces
``scipy.optimize.milp``, whose HiGHS prints debugging lines such as
``HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();``
to standard output (no option silences them) and whose only stopping rules
that bind in practice are node and time limits. Here the node limit is the
only one: a time limit would let the machine's speed decide the plan.

Every model runs on one thread (option ``threads=1``, set by
:func:`quiet_highs`; run it with :func:`run_highs`). With HiGHS's default, a
mixed-integer solve started a worker thread that mostly spun: on the sample's
hire realignment programs a 2.6 s solve took 3.6 CPU s, no faster, and so
slower as soon as another process wanted the core. The default also sizes
HiGHS's thread pool from the machine's cores, and the solution can depend on
it (one of 26 saved realignment programs gave another solution with one thread
than with two), so a plan could differ between a laptop and CI; one thread
everywhere gives the same plan on any machine.
"""

from __future__ import annotations

import os
import sys

import numpy as np
from scipy import sparse


def quiet_highs():
    """A new, empty HiGHS model with its output off.

    Returns
    -------
    highspy model
        With the methods of ``highspy.Highs`` that the package uses
        (``addCols``, ``addRows``, ``run``, ``getSolution``, ...) and the option
        ``output_flag`` set to false.
    """
    try:
        from highspy._core import _Highs as model_class
    except ImportError:
        model = _public_highs_silently()
    else:
        model = model_class()
    model.setOptionValue("output_flag", False)
    model.setOptionValue("threads", 1)
    return model


def run_highs(model):
    """``model.run()`` on HiGHS's one-thread scheduler; returns HiGHS's status.

    HiGHS keeps one thread scheduler per process, created by the first solve
    with that solve's thread count; a model asking for another count then
    fails to run. When some other code ran HiGHS first with its default
    (more threads), the scheduler is rebuilt with one thread and the model
    run again; later models with the default (``threads=0``) run on it too.
    """
    status = model.run()
    if str(status).endswith("kError") and str(model.getModelStatus()).endswith("kNotset"):
        import highspy

        highspy.Highs.resetGlobalScheduler(True)
        status = model.run()
    return status


def _public_highs_silently():
    """``highspy.Highs()`` with standard output sent to ``os.devnull`` while it prints its banner."""
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            model = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    return model


def hold_basis(model, basic_cols, bound_rows) -> bool:
    """Make ``basic_cols`` basic and put ``bound_rows`` at their bound in ``model``'s last basis, for a restart.

    The column-generation programs add an account with a placement row and
    its columns; starting it in the column it already held (basic, at 1) with
    the placement row at its bound keeps the last optimum primal feasible, so
    the primal simplex goes on from it. Returns False (and changes nothing)
    when the model has no valid basis yet.
    """
    import highspy

    basis = model.getBasis()
    if not basis.valid:
        return False
    cols, rows = list(basis.col_status), list(basis.row_status)
    for j in basic_cols:
        cols[j] = highspy.HighsBasisStatus.kBasic
    for i in bound_rows:
        rows[i] = highspy.HighsBasisStatus.kLower
    basis.col_status, basis.row_status = cols, rows
    model.setBasis(basis)
    return True


def solve_milp(cost, matrix, low, high, upper, node_limit, integer=None, presolve=True, with_bound=False):
    """Minimise ``cost @ x`` over ``0 <= x <= upper`` with ``low <= matrix @ x <= high``, quietly.

    Parameters
    ----------
    cost : (n,) array_like
        Objective coefficients.
    matrix : (r, n) sparse matrix or array_like
        Constraint rows.
    low, high : (r,) array_like
        Row bounds; ``-inf`` / ``inf`` where a side is open.
    upper : (n,) array_like
        Upper bounds of the variables (lower bounds are 0).
    node_limit : int
        Branch-and-bound nodes HiGHS may use; then its best solution so far.
        A work limit, not a clock: the same input gives the same answer on
        any machine.
    integer : (n,) bool array_like, optional
        Which variables are integer (default: all).
    presolve : bool, default True
        Whether HiGHS presolves the model first.
    with_bound : bool, default False
        Also return HiGHS's dual bound (a lower bound on the optimum, valid
        when the node limit stops the search; ``inf`` when the model is
        infeasible).

    Returns
    -------
    (n,) ndarray or None
        The solution, or None when HiGHS found no feasible one; with
        ``with_bound``, ``(solution, bound)``.

    Examples
    --------
    >>> x = solve_milp([-1.0, -1.0], [[2.0, 2.0]], [-np.inf], [3.0], [1.0, 1.0], 10)
    >>> (x > 0.5).tolist()
    [True, False]
    """
    import highspy

    h = quiet_highs()
    h.setOptionValue("mip_max_nodes", int(node_limit))
    if not presolve:
        h.setOptionValue("presolve", "off")
    cost = np.asarray(cost, dtype=float)
    n = len(cost)
    h.addCols(n, cost, np.zeros(n), np.asarray(upper, dtype=float), 0,
              np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
    whole = np.flatnonzero(np.ones(n, dtype=bool) if integer is None else np.asarray(integer, dtype=bool))
    if len(whole):
        whole = whole.astype(np.int32)
        h.changeColsIntegrality(len(whole), whole, np.full(len(whole), highspy.HighsVarType.kInteger))
    csr = sparse.csr_matrix(matrix, dtype=float)
    low = np.asarray(low, dtype=float)
    high = np.asarray(high, dtype=float)
    inf = highspy.kHighsInf
    if csr.shape[0]:
        h.addRows(csr.shape[0], np.where(np.isfinite(low), low, -inf), np.where(np.isfinite(high), high, inf),
                  csr.nnz, csr.indptr[:-1].astype(np.int32), csr.indices.astype(np.int32), csr.data.astype(float))
    run_highs(h)
    info = h.getInfo()
    x = None if info.primal_solution_status != 2 else np.asarray(h.getSolution().col_value)  # 2: feasible
    if not with_bound:
        return x
    infeasible = h.getModelStatus() == highspy.HighsModelStatus.kInfeasible
    return x, (np.inf if infeasible else float(info.mip_dual_bound))
