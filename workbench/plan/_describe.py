"""Edit descriptions for people: what each step in a plan's history did, in words.

A plan's history (notebook 04's review, ``workbench plans DIR --tree``, the
approval warnings, the report) shows every edit. These functions write it the
way a sales manager says it: ``Moved Jackson, MO (12 accounts) from T07 (Ann
Lee) to T12 (Bo Chan)``, not ``reassign 12 account(s) to 'T12'``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from workbench.schema import COUNTY_FIPS, ZIP

#: The plan's territory-table column naming each territory's rep.
REP_NAME = "rep_name"

#: How many names a list spells out before "and N more".
SHOWN = 3
#: What a block column's ids are called in a sentence (other columns: the column name).
BLOCK_NOUNS = {COUNTY_FIPS: ("county", "counties"), ZIP: ("ZIP", "ZIPs")}


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``1 account``, ``12 accounts``, ``1,204 accounts``.

    Examples
    --------
    >>> count(1, "account"), count(1204, "account"), count(2, "county", "counties")
    ('1 account', '1,204 accounts', '2 counties')
    """
    return f"{int(n):,} {noun if int(n) == 1 else (plural or noun + 's')}"


def name_list(names: Sequence[str], *, shown: int = SHOWN, sep: str = ", ") -> str:
    """``A``, ``A and B``, ``A, B and C``, ``A, B, C and 4 more``.

    Examples
    --------
    >>> name_list(["T01"]), name_list(["T01", "T02"]), name_list(["T1", "T2", "T3", "T4", "T5"])
    ('T01', 'T01 and T02', 'T1, T2, T3 and 2 more')
    """
    names = [str(n) for n in names]
    if len(names) <= 1:
        return "".join(names)
    if len(names) <= shown:
        return f"{sep.join(names[:-1])} and {names[-1]}"
    return f"{sep.join(names[:shown])} and {len(names) - shown} more"


def territory_label(territories: pd.DataFrame, territory_id) -> str:
    """A territory with its rep when the plan knows one: ``T07 (Ann Lee)``, else ``T07``.

    Examples
    --------
    >>> table = pd.DataFrame({"rep_name": ["Ann Lee", None]}, index=["T07", "T08"])
    >>> territory_label(table, "T07"), territory_label(table, "T08"), territory_label(table, "T99")
    ('T07 (Ann Lee)', 'T08', 'T99')
    """
    territory_id = str(territory_id)
    rep = None
    if REP_NAME in territories.columns and territory_id in territories.index:
        rep = territories.at[territory_id, REP_NAME]
    if rep is None or pd.isna(rep) or not str(rep).strip():
        return territory_id
    return f"{territory_id} ({str(rep).strip()})"


def territories_phrase(territories: pd.DataFrame, territory_ids) -> str:
    """Several territories with their reps, most named first: ``T07 (Ann Lee) and T03 (Bo Chan)``.

    Examples
    --------
    >>> table = pd.DataFrame({"rep_name": ["Ann Lee", "Bo Chan"]}, index=["T07", "T03"])
    >>> territories_phrase(table, ["T07", "T03"])
    'T07 (Ann Lee) and T03 (Bo Chan)'
    """
    return name_list([territory_label(territories, t) for t in territory_ids])


def blocks_phrase(block_ids, block_col: str, names=None) -> str:
    """The moved blocks in words: ``Jackson, MO`` (with ``names``) or ``county 29095``; several are counted:
    ``3 counties (Clay, MO; Jackson, MO and Platte, MO)``.

    Parameters
    ----------
    block_ids : sequence of str
    block_col : str
        The block column (``county_fips`` reads "county", ``zip`` "ZIP").
    names : mapping, optional
        Block id -> readable name (e.g. ``"Jackson, MO"``).

    Examples
    --------
    >>> blocks_phrase(["29095"], "county_fips", {"29095": "Jackson, MO"})
    'Jackson, MO'
    >>> blocks_phrase(["29095"], "county_fips"), blocks_phrase(["1", "2", "3", "4"], "zip")
    ('county 29095', '4 ZIPs (1; 2; 3 and 1 more)')
    """
    ids = [str(b) for b in block_ids]
    noun, plural = BLOCK_NOUNS.get(block_col, (block_col, block_col))
    names = names or {}
    shown = [str(names[b]) if b in names and str(names.get(b) or "").strip() else f"{noun} {b}" for b in ids]
    if len(shown) == 1:
        return shown[0]
    return f"{count(len(ids), noun, plural)} ({name_list(shown if names else ids, sep='; ')})"


def move_text(territories: pd.DataFrame, sources: pd.Series, target: str, what: str | None = None) -> str:
    """``Moved <what> (12 accounts) from T07 (Ann Lee) to T12 (Bo Chan)``.

    Parameters
    ----------
    territories : pandas.DataFrame
        The plan's territory table (``rep_name`` names the reps).
    sources : pandas.Series
        Territory of each moved account before the move.
    target : str
    what : str, optional
        What moved, in words (``"Jackson, MO"``, or from :func:`blocks_phrase`
        ``"3 counties (...)"``); default the accounts are only counted.

    Examples
    --------
    >>> table = pd.DataFrame({"rep_name": ["Ann Lee", "Bo Chan"]}, index=["T07", "T12"])
    >>> move_text(table, pd.Series(["T07"] * 12), "T12", "Jackson, MO")
    'Moved Jackson, MO (12 accounts) from T07 (Ann Lee) to T12 (Bo Chan)'
    >>> move_text(table, pd.Series(["T07"]), "T12"), move_text(table, pd.Series(["T12"]), "T12")
    ('Moved 1 account from T07 (Ann Lee) to T12 (Bo Chan)', 'Reassigned 1 account to T12 (Bo Chan) (already there)')
    >>> move_text(table, pd.Series(["T07"] * 5), "T12", "2 counties (Clay, MO and Jackson, MO)")
    'Moved 5 accounts in 2 counties (Clay, MO and Jackson, MO) from T07 (Ann Lee) to T12 (Bo Chan)'
    """
    target = str(target)
    from_ids = sources.astype(str)
    order = from_ids[from_ids != target].value_counts(sort=True).index.tolist()
    accounts = count(len(from_ids), "account")
    if not what:
        subject = accounts
    elif what.endswith(")"):  # several blocks, already listed in parentheses
        subject = f"{accounts} in {what}"
    else:
        subject = f"{what} ({accounts})"
    if not order:
        return f"Reassigned {subject} to {territory_label(territories, target)} (already there)"
    return f"Moved {subject} from {territories_phrase(territories, order)} to {territory_label(territories, target)}"


__all__ = ["count", "name_list", "territory_label", "territories_phrase", "blocks_phrase", "move_text"]
