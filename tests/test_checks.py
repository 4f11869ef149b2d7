"""Checks of frames passed from Python name the offending rows by the frame's own index."""
import pandas as pd
import pytest

from workbench.checks import amount_column
from workbench.errors import InputError


def test_bad_amount_names_the_index_labels_not_positions():
    frame = pd.DataFrame({"workload": [1.0, -2.0, float("nan")]}, index=["A-1", "A-2", "A-3"])
    with pytest.raises(InputError, match=r"the rows with index \['A-2', 'A-3'\] do not"):
        amount_column(frame, "workload", unit="hours", missing_hint="")


def test_good_amounts_come_back_as_floats():
    frame = pd.DataFrame({"workload": [1, 2.5]}, index=[10, 20])
    assert amount_column(frame, "workload", unit="hours", missing_hint="").tolist() == [1.0, 2.5]
