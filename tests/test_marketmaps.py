"""Static maps of utilisation and market gaps: what is drawn, and bad arguments."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from tests.test_capacity import grid, reps_at_centres  # noqa: E402
from tests.test_gaps import BLOCKS, REPS, accounts  # noqa: E402
from workbench.capacity import assess_capacity  # noqa: E402
from workbench.errors import InputError  # noqa: E402
from workbench.gaps import block_gaps, uncovered_accounts  # noqa: E402
from workbench.marketmaps import plot_gaps, plot_utilisation  # noqa: E402


def test_utilisation_map_draws_territories_homes_and_hires():
    frame = grid({"SW": 800, "SE": 800, "NW": 800, "NE": 1600})
    result = assess_capacity(frame, reps_at_centres())
    ax = plot_utilisation(frame, frame["current_territory"], result.reps, reps=reps_at_centres(),
                          hires=result.hires, states=None)
    labels = [t.get_text() for t in ax.texts]
    assert "NE\n160%" in labels and "SW\n80%" in labels and "NEW01" in labels
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["rep home", "suggested hire"]
    assert ax.figure.axes[-1].get_ylabel() == "utilisation, % of capacity hours"
    plt.close(ax.figure)


def test_gap_map_colours_blocks_and_marks_uncovered():
    gaps = block_gaps(accounts(), REPS, block_col="block", max_km=160)
    ax = plot_gaps(gaps, BLOCKS, reps=REPS, uncovered=uncovered_accounts(accounts(), REPS, max_km=160), states=None)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["uncovered accounts (2)", "rep home"]
    assert ax.get_title() == "Market gaps: gap score (100 = largest gap)"
    plt.close(ax.figure)
    ax = plot_gaps(gaps, BLOCKS, column="penetration", states=None)
    assert ax.figure.axes[-1].get_ylabel() == "penetration, % of potential"
    plt.close(ax.figure)


def test_gap_map_bad_arguments():
    gaps = block_gaps(accounts(), REPS, block_col="block")
    with pytest.raises(InputError, match="column must be one of gap_score, white_space, penetration"):
        plot_gaps(gaps, BLOCKS, column="revenue")
    with pytest.raises(TypeError, match="blocks must be a GeoDataFrame"):
        plot_gaps(gaps, object())
    with pytest.raises(InputError, match="no block_id"):
        plot_gaps(gaps, BLOCKS.rename(columns={"block_id": "code"}))
