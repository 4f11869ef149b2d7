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
"""

from __future__ import annotations

import os
import sys


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
    return model


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
