"""Group whole territories into regions, and regions into areas: balanced, contiguous where asked.

:class:`RegionGrouping` works on any level: give it the accounts and the
unit each account is in (its territory, or its region to build areas). Units
are the nodes of a graph (adjacent when any of their blocks touch, or, without
blocks, when their centres are Delaunay neighbours) and are split by the same
contiguous balanced partitioner as :class:`~workbench.align.contiguous.ContiguousTerritories`.
:func:`build_hierarchy` applies it level by level.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import networkx as nx
import numpy as np
import pandas as pd
from scipy.spatial import Delaunay, QhullError
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from workbench.align import _blocks
from workbench.align._partition import is_contiguous, partition
from workbench.align.base import balance_columns, check_accounts, check_tolerance, metric_shares, unit_centres
from workbench.align.contiguous import giant_block_notes
from workbench.align.contiguous_search import improve_partition
from workbench.align.dispersion import OBJECTIVES
from workbench.align.report import build_report
from workbench.errors import InputError
from workbench.geo import EARTH_RADIUS_KM, xyz_to_latlon
from workbench.labels import labels_for_rows
from workbench.schema import AREA, COUNTY_FIPS, LATITUDE, LONGITUDE, REGION, TERRITORY_ID, WORKLOAD


class RegionGrouping(BaseEstimator):
    """Group whole territories into ``n_regions`` balanced (and contiguous) regions.

    Apply it again on the regions to get areas (see :func:`build_hierarchy`).

    Parameters
    ----------
    n_regions : int
        Number of groups to make.
    balance_on : str or sequence of str, default ("workload",)
        Metric columns balanced across the groups.
    tolerance : float, default 0.10
        Largest allowed deviation from the mean group load, as a share.
    contiguous : bool, default True
        Each group is connected: territories are adjacent when any of their
        blocks touch (``blocks`` or ``adjacency`` given to ``fit``), else when
        their centres are Delaunay neighbours. With False any grouping is
        allowed (contiguity is still measured and reported).
    random_state : int, optional
        Seeds the improvement phase's perturbations.
    prefix : str, default "R"
        Group ids are ``R1``, ``R2``... (``prefix`` + number).
    names : sequence of str, optional
        Explicit group ids (``n_regions`` of them), instead of ``prefix``.
    objective : {"weighted", "median"}, default "weighted"
        Dispersion the improvement phase lowers (see
        :class:`~workbench.align.contiguous.ContiguousTerritories`): the
        workload-weighted distance of the territories to their region's
        centre, or the plain sum of distances to the region's median territory.
    max_seconds : float or None, default 1.0
        Budget of the improvement phase
        (:func:`workbench.align.contiguous_search.improve_partition`) after
        the balanced split; 0 skips it.

    Attributes
    ----------
    labels_ : numpy.ndarray of str
        Group of every account row, as for every estimator (to fit the next level on).
    groups_ : pandas.Series
        Group of every unit (index ``territory_id``, name ``region``).
    unit_adjacency_ : networkx.Graph
        Graph of the units used for contiguity.
    report_ : AlignmentReport
        Balance of the groups, contiguity measured on ``unit_adjacency_``.

    Examples
    --------
    Six territories along a line, each with workload 1, into 3 regions:

    >>> accounts = pd.DataFrame({"latitude": 40.0, "longitude": [-100.0, -99.0, -98.0, -97.0, -96.0, -95.0],
    ...                          "workload": 1.0})
    >>> territories = ["T1", "T2", "T3", "T4", "T5", "T6"]
    >>> grouping = RegionGrouping(n_regions=3).fit(accounts, territories=territories)
    >>> grouping.groups_.groupby(grouping.groups_).size().tolist()
    [2, 2, 2]
    >>> grouping.report_.contiguous, grouping.report_.max_deviation
    (True, {'workload': 0.0})
    """

    _method = "region_grouping"

    def __init__(self, n_regions, *, balance_on=(WORKLOAD,), tolerance=0.10, contiguous=True, random_state=None,
                 prefix="R", names=None, objective="weighted", max_seconds=1.0):
        self.n_regions = n_regions
        self.balance_on = balance_on
        self.tolerance = tolerance
        self.contiguous = contiguous
        self.random_state = random_state
        self.prefix = prefix
        self.names = names
        self.objective = objective
        self.max_seconds = max_seconds

    def fit(self, accounts, y=None, *, territories=None, blocks=None, block_col=None, adjacency=None):
        """Group the units in ``territories`` (one per account row) into regions; return self.

        Parameters
        ----------
        accounts : pandas.DataFrame
            Latitude, longitude and the balanced metrics (and ``block_col``
            when blocks are given).
        y : None
            Ignored (scikit-learn's place for a target).
        territories : array-like or pandas.Series
            The unit of every account row: its territory (or region, to build
            areas), e.g. a fitted estimator's ``labels_``.
        blocks : geopandas.GeoDataFrame, optional
            Block polygons: territories are adjacent when their blocks touch.
        block_col : str, optional
            Accounts' block id column (default ``"county_fips"`` when blocks
            or adjacency are given).
        adjacency : networkx.Graph, optional
            Block graph (nodes block ids), e.g. ``ContiguousTerritories().adjacency_``.
        """
        start = time.perf_counter()
        if territories is None:
            raise TypeError("RegionGrouping.fit needs territories=: the territory (or region) of every account row")
        balance_on = balance_columns(self.balance_on)
        tolerance = check_tolerance(self.tolerance)
        accounts = check_accounts(accounts, balance_on)
        unit_of = _unit_labels(accounts, territories)
        units, unit_idx = np.unique(unit_of, return_inverse=True)
        n_units = len(units)
        k = self._n_regions(n_units)
        ids = self._ids(k)
        shares = metric_shares(accounts, balance_on)
        weights = np.zeros((n_units, len(balance_on)))
        np.add.at(weights, unit_idx, shares * k)
        acc_xyz = _blocks.account_xyz(accounts)
        xyz = unit_centres(acc_xyz, unit_idx, shares.mean(axis=1), n_units)

        if blocks is not None or adjacency is not None:
            edges = _edges_from_blocks(accounts, unit_idx, blocks, adjacency, block_col or COUNTY_FIPS)
        else:
            edges = delaunay_edges(xyz)
        graph = _blocks.BlockGraph(ids=units.astype(object), edges=edges, xyz=xyz, graph=nx.Graph(), notes=[])
        graph.graph.add_nodes_from(graph.ids.tolist())
        graph.graph.add_edges_from((units[a], units[b]) for a, b in edges)
        _blocks.connect_pieces(graph)
        notes = [note.replace("block centroids", "territory centres") for note in graph.notes]
        notes += giant_block_notes(units, weights, balance_on, tolerance, k, what="territory")
        search_edges = graph.edges if self.contiguous else np.array(
            [(a, b) for a in range(n_units) for b in range(a + 1, n_units)], dtype=np.int64).reshape(-1, 2)
        result = partition(k, search_edges, weights, xyz, tolerance=tolerance, random_state=self.random_state)
        labels = result.labels
        if self.objective not in OBJECTIVES:
            raise InputError(f"objective must be one of {', '.join(map(repr, OBJECTIVES))}, got {self.objective!r}")
        if self.max_seconds != 0 and k > 1:
            if self.objective == "weighted":
                node_weight = np.bincount(unit_idx, weights=_workload(accounts), minlength=n_units)
            else:
                node_weight = None
            search = improve_partition(labels, search_edges, weights, xyz * EARTH_RADIUS_KM, tolerance=tolerance,
                                       objective=self.objective, node_weight=node_weight,
                                       max_seconds=self.max_seconds, random_state=self.random_state)
            labels = search.labels
        contiguous = is_contiguous(n_units, graph.edges, labels)
        region = np.asarray(ids, dtype=object)[labels]
        self.groups_ = pd.Series(region, index=pd.Index(units, name=TERRITORY_ID), name=REGION)
        self.labels_ = region[unit_idx]
        self.feature_names_in_ = np.asarray([LATITUDE, LONGITUDE, *balance_on], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.unit_adjacency_ = graph.graph
        self.report_ = build_report(
            accounts, self.labels_, method=self._method, balance_on=balance_on, tolerance=tolerance,
            contiguous=contiguous, n_iter=result.n_iter, converged=result.converged,
            seconds=time.perf_counter() - start, extra_warnings=notes)
        return self

    def _n_regions(self, n_units: int) -> int:
        if isinstance(self.n_regions, bool) or not isinstance(self.n_regions, (int, np.integer)):
            raise TypeError(f"n_regions must be an int, got {self.n_regions!r}")
        if not 1 <= self.n_regions <= n_units:
            raise InputError(f"n_regions={self.n_regions} must be between 1 and the {n_units} territories given; "
                             "every region holds at least one whole territory")
        return int(self.n_regions)

    def _ids(self, k: int) -> list[str]:
        if self.names is None:
            return [f"{self.prefix}{i + 1}" for i in range(k)]
        names = [str(n) for n in self.names]
        if len(names) != k or len(set(names)) != k:
            raise InputError(f"names must hold {k} distinct ids (one per region), got {names!r}")
        return names

    def transform(self, labels):
        """Region of each unit id in ``labels`` (e.g. a plan's territory ids).

        Examples
        --------
        >>> accounts = pd.DataFrame({"latitude": 0.0, "longitude": [0.0, 1.0], "workload": 1.0})
        >>> RegionGrouping(1).fit(accounts, territories=["a", "b"]).transform(["b", "a"]).tolist()
        ['R1', 'R1']
        """
        check_is_fitted(self, "groups_")
        keys = pd.Series(np.asarray(labels)).astype(str)
        unknown = ~keys.isin(self.groups_.index)
        if unknown.any():
            raise InputError(f"territories {keys[unknown].unique()[:5].tolist()} were not in the fit; "
                             "refit the grouping with them")
        return self.groups_.reindex(keys.to_numpy()).to_numpy()


def _workload(accounts) -> np.ndarray:
    """Each account's workload (one each without that column): the weight of the weighted dispersion."""
    if WORKLOAD not in accounts.columns:
        return np.ones(len(accounts))
    return pd.to_numeric(accounts[WORKLOAD], errors="coerce").fillna(0).clip(lower=0).to_numpy(dtype=float)


def _unit_labels(accounts, labels) -> np.ndarray:
    values = labels_for_rows(labels, accounts)
    missing = pd.isna(values)
    if missing.any():
        raise InputError(f"labels are missing for {int(missing.sum())} accounts (rows "
                         f"{list(accounts.index[missing][:5])}); every account needs its territory")
    return values.astype(str)


def _edges_from_blocks(accounts, unit_idx, blocks, adjacency, block_col) -> np.ndarray:
    """Units adjacent when any of their blocks touch (or share a block)."""
    bg = _blocks.block_graph(blocks, adjacency, block_col)
    acc_block = _blocks.account_blocks(accounts, block_col, bg.ids)
    pairs = pd.DataFrame({"block": acc_block, "unit": unit_idx}).drop_duplicates()
    block_unit = np.full(len(bg.ids), -1)
    first = pairs.groupby("block")["unit"].first()  # one unit per block; units sharing a block are linked below
    block_unit[first.index.to_numpy()] = first.to_numpy()
    block_unit = _blocks.fill_blocks(block_unit, bg.edges)  # blocks without accounts join a neighbour
    edges = block_unit[bg.edges]
    shared = pairs.merge(pairs, on="block")
    edges = np.vstack([edges, shared[["unit_x", "unit_y"]].to_numpy()])
    edges = edges[edges[:, 0] != edges[:, 1]]
    return np.unique(np.sort(edges, axis=1), axis=0).astype(np.int64).reshape(-1, 2)


def delaunay_edges(xyz: np.ndarray) -> np.ndarray:
    """Neighbour pairs of points from a Delaunay triangulation around their mean position.

    Points are laid on a local equirectangular plane; two points or
    points on a line are chained along their longest axis instead.

    Examples
    --------
    >>> from workbench.geo import to_unit_xyz
    >>> delaunay_edges(to_unit_xyz([0, 0, 0.5, -2], [0, 2, 1, 1])).tolist()  # 2 and 3 are on opposite sides of 0-1
    [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3]]
    """
    n = len(xyz)
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    lat, lon = xyz_to_latlon(xyz)
    lat0, lon0 = xyz_to_latlon(xyz.mean(axis=0, keepdims=True))
    dlon = (lon - lon0[0] + 180.0) % 360.0 - 180.0
    plane = np.column_stack([dlon * np.cos(np.radians(lat0[0])), lat])
    if n >= 3:
        try:
            simplices = Delaunay(plane).simplices
            pairs = np.vstack([simplices[:, [0, 1]], simplices[:, [1, 2]], simplices[:, [0, 2]]])
            return np.unique(np.sort(pairs, axis=1), axis=0).astype(np.int64)
        except QhullError:  # all on a line
            pass
    centred = plane - plane.mean(axis=0)
    axis = np.linalg.svd(centred, full_matrices=False)[2][0] if n > 1 else np.array([1.0, 0.0])
    order = np.argsort(centred @ axis, kind="stable")
    return np.sort(np.column_stack([order[:-1], order[1:]]), axis=1).astype(np.int64)


def build_hierarchy(accounts, labels, levels=None, *, balance_on=(WORKLOAD,), tolerance=0.10, contiguous=True,
                    blocks=None, block_col=None, adjacency=None, objective="weighted", max_seconds=1.0,
                    random_state=None) -> pd.DataFrame:
    """Territory -> region -> area table, grouping each level into the next with :class:`RegionGrouping`.

    Parameters
    ----------
    accounts : pandas.DataFrame
    labels : array-like
        Territory of every account row.
    levels : mapping of str to int, optional
        Level name -> number of groups, from the finest up; default
        ``{"region": 5, "area": 2}``. Ids are the level's initial in capitals
        plus a number (``R1``, ``A1``).
    balance_on, tolerance, contiguous, objective, max_seconds, random_state
        As for :class:`RegionGrouping`, used at every level.
    blocks, block_col, adjacency
        Block polygons or block graph for adjacency (see :meth:`RegionGrouping.fit`).

    Returns
    -------
    pandas.DataFrame
        Index ``territory_id``, one column per level. For each level's
        balance report fit :class:`RegionGrouping` directly.

    Examples
    --------
    >>> accounts = pd.DataFrame({"latitude": 40.0, "longitude": np.arange(8) - 100.0, "workload": 1.0})
    >>> table = build_hierarchy(accounts, [f"T{i}" for i in range(8)], {"region": 4, "area": 2})
    >>> table.groupby(["area", "region"]).size().tolist()
    [2, 2, 2, 2]
    """
    levels = {REGION: 5, AREA: 2} if levels is None else levels
    if not isinstance(levels, Mapping) or not levels:
        raise TypeError(f"levels must be a non-empty mapping of level name -> number of groups, got {levels!r}")
    current = _unit_labels(accounts, labels)
    table = pd.DataFrame(index=pd.Index(np.unique(current), name=TERRITORY_ID))
    for name, n_groups in levels.items():
        grouping = RegionGrouping(n_groups, balance_on=balance_on, tolerance=tolerance, contiguous=contiguous,
                                  prefix=str(name)[:1].upper(), objective=objective, max_seconds=max_seconds,
                                  random_state=random_state)
        grouping.fit(accounts, territories=current, blocks=blocks, block_col=block_col, adjacency=adjacency)
        previous = table.columns[-1] if len(table.columns) else None
        keys = table.index.to_numpy() if previous is None else table[previous].to_numpy()
        table[name] = grouping.groups_.reindex(keys).to_numpy()
        current = grouping.labels_
    return table
