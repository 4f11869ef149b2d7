"""The sample's current alignment: 40 county-based territories balanced years ago.

Territories are built by weighted recursive coordinate bisection over whole
counties on an *old* workload (the present workload aged back with each
county's 2010/2019 population ratio, amplified), then made contiguous on the
county adjacency graph. Measured on the present workload they have drifted
out of balance, as real alignments do.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd


def bisect_regions(x, y, weight, n_regions: int) -> np.ndarray:
    """Split points into ``n_regions`` groups of about equal weight by recursive bisection.

    Each step cuts the group across its longer side (``x`` or ``y`` extent)
    into two sides that will hold ``m`` and ``n - m`` regions (``m`` between
    a third and two thirds of ``n``), choosing ``m`` and the cut whose worse
    side is closest to the mean weight per region. Points are never split:
    weights are capped at the mean weight per region, so a point heavier
    than that gets a region of its own. Region numbers follow the
    recursion, so neighbouring numbers are neighbouring regions.

    Parameters
    ----------
    x, y : array-like
        Planar coordinates (e.g. projected county centroids).
    weight : array-like
        Non-negative weight of each point.
    n_regions : int
        Number of regions, at most the number of points.

    Returns
    -------
    numpy.ndarray
        Region number (0 .. n_regions - 1) of each point.

    Examples
    --------
    >>> bisect_regions([0, 1, 2, 3, 10, 11], [0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 2, 2], 2).tolist()
    [0, 0, 0, 0, 1, 1]
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    weight = np.asarray(weight, dtype=float)
    weight = np.minimum(weight, weight.sum() / n_regions)  # a heavy point fills one region alone
    if not 1 <= n_regions <= len(x):
        raise ValueError(f"n_regions must be between 1 and the number of points ({len(x)}), got {n_regions}")
    labels = np.empty(len(x), dtype="int64")
    next_label = 0
    stack = [(np.arange(len(x)), n_regions)]
    while stack:
        idx, n = stack.pop()
        if n == 1:
            labels[idx] = next_label
            next_label += 1
            continue
        n_left, order, k = _best_cut(x, y, weight, idx, n)
        stack.append((order[k:], n - n_left))  # popped second
        stack.append((order[:k], n_left))
    return labels


def _best_cut(x, y, weight, idx, n):
    """Best (regions on the left, sorted members, cut position) for one bisection step.

    Cuts across the longer extent; tries every split of ``n`` into ``m + (n - m)`` with ``m``
    between a third and two thirds of ``n``; keeps the cut whose worse side
    deviates least from the mean weight per region (ties: the first found).
    """
    splits = sorted({n // 2, *range(max(1, -(-n // 3)), n - max(1, -(-n // 3)) + 1)})
    best = None
    for coord in [x[idx] if np.ptp(x[idx]) >= np.ptp(y[idx]) else y[idx]]:
        order = idx[np.lexsort((idx, coord))]
        w = weight[order] if weight[order].sum() > 0 else np.ones(len(order))
        cum = np.cumsum(w)
        total, mean = cum[-1], cum[-1] / n
        for m in splits:
            ks = np.arange(m, len(order) - (n - m) + 1)  # both sides keep enough points
            left = cum[ks - 1]
            worst = np.maximum(np.abs(left / m - mean), np.abs((total - left) / (n - m) - mean))
            i = int(np.argmin(worst))
            if best is None or worst[i] < best[0] - 1e-12:
                best = (worst[i], m, order, int(ks[i]))
    return best[1:]


def repair_contiguity(ids, labels, graph: nx.Graph, weight, max_rounds: int = 20) -> np.ndarray:
    """Move detached pieces of each region to the neighbouring region they touch most.

    The piece of a region with the largest weight stays; every other connected
    piece (on ``graph``) joins the region it shares most edges with (ties:
    the lowest label).

    Examples
    --------
    >>> graph = nx.path_graph(["a", "b", "c", "d"])
    >>> repair_contiguity(["a", "b", "c", "d"], [0, 1, 0, 1], graph, [5, 5, 1, 5]).tolist()
    [0, 1, 1, 1]
    """
    ids = list(ids)
    labels = np.asarray(labels).copy()
    position = {node: i for i, node in enumerate(ids)}
    weight = np.asarray(weight, dtype=float)
    for _ in range(max_rounds):
        moved = False
        for region in np.unique(labels):
            members = [ids[i] for i in np.flatnonzero(labels == region)]
            pieces = [sorted(p) for p in nx.connected_components(graph.subgraph(members))]
            if len(pieces) == 1:
                continue
            pieces.sort(key=lambda p: (-weight[[position[n] for n in p]].sum(), -len(p), p[0]))
            for piece in pieces[1:]:
                touching = pd.Series([labels[position[m]] for n in piece for m in graph[n]
                                      if labels[position[m]] != region], dtype="int64")
                if touching.empty:
                    continue
                counts = touching.value_counts()
                target = int(counts.index[counts == counts.max()].min())
                labels[[position[n] for n in piece]] = target
                moved = True
        if not moved:
            break
    return labels


def balance_on_graph(ids, labels, graph: nx.Graph, weight, max_moves: int = 5000) -> np.ndarray:
    """Move single boundary blocks between neighbouring regions to even out their weight.

    Greedy local search: the region farthest from the mean weight gives a
    block to (or takes one from) a neighbouring region when that lowers the
    larger deviation of the pair; blocks the move would cut off from the
    giving region's heaviest piece move with it, so regions connected on
    ``graph`` stay connected. Stops when no such move is left or after ``max_moves`` moves.

    Examples
    --------
    >>> graph = nx.path_graph(["a", "b", "c", "d"])
    >>> balance_on_graph(["a", "b", "c", "d"], [0, 0, 0, 1], graph, [1, 1, 1, 1]).tolist()
    [0, 0, 1, 1]
    """
    ids = list(ids)
    labels = np.asarray(labels).copy()
    position = {node: i for i, node in enumerate(ids)}
    weight = np.asarray(weight, dtype=float)
    n_regions = int(labels.max()) + 1
    loads = np.bincount(labels, weights=weight, minlength=n_regions)
    mean = loads.mean()
    stuck: set[int] = set()
    for _ in range(max_moves):
        order = [int(r) for r in np.argsort(-np.abs(loads - mean), kind="stable") if int(r) not in stuck]
        if not order:
            break
        region = order[0]
        over = loads[region] > mean
        candidates = []  # (score, block index, from region, to region)
        for i in np.flatnonzero(labels == region):
            for neighbour in graph[ids[i]]:
                j = position[neighbour]
                other = int(labels[j])
                if other == region:
                    continue
                giver, taker, block = (region, other, i) if over else (other, region, j)
                if loads[taker] >= loads[giver]:
                    continue
                before = max(abs(loads[giver] - mean), abs(loads[taker] - mean))
                after = max(abs(loads[giver] - weight[block] - mean), abs(loads[taker] + weight[block] - mean))
                if after < before - 1e-9:
                    candidates.append((after, ids[block], block, giver, taker))
        moved = False
        for _, _, block, giver, taker in sorted(set(candidates)):
            # Blocks cut off from the giver's heaviest piece travel with the block.
            rest = [ids[k] for k in np.flatnonzero(labels == giver) if k != block]
            pieces = sorted((sorted(p) for p in nx.connected_components(graph.subgraph(rest))),
                            key=lambda p: (-weight[[position[n] for n in p]].sum(), -len(p), p[0]))
            if not pieces:
                continue
            moving = [block] + [position[n] for p in pieces[1:] for n in p]
            amount = weight[moving].sum()
            before = max(abs(loads[giver] - mean), abs(loads[taker] - mean))
            if max(abs(loads[giver] - amount - mean), abs(loads[taker] + amount - mean)) < before - 1e-9:
                labels[moving] = taker
                loads[giver] -= amount
                loads[taker] += amount
                moved = True
                break
        if moved:
            stuck.clear()
        else:
            stuck.add(region)
    return labels


def territory_ids(n_territories: int) -> list[str]:
    """Territory ids ``T01``, ``T02``, ...

    Examples
    --------
    >>> territory_ids(3)
    ['T01', 'T02', 'T03']
    """
    width = max(2, len(str(n_territories)))
    return [f"T{i:0{width}d}" for i in range(1, n_territories + 1)]


def aged_workload(county_workload: pd.Series, ages: pd.DataFrame, growth_exponent: float) -> pd.Series:
    """Workload per county as it was when the alignment was drawn.

    ``present * (pop2010 / pop2019) ** growth_exponent``, indexed like ``ages``.

    Examples
    --------
    >>> ages = pd.DataFrame({"county_fips": ["a", "b"], "pop2010": [100, 100], "pop2019": [100, 200]})
    >>> aged_workload(pd.Series({"a": 10.0, "b": 10.0}), ages, 2.0).tolist()
    [10.0, 2.5]
    """
    ages = ages.set_index("county_fips")
    present = county_workload.reindex(ages.index).fillna(0.0)
    return present * (ages["pop2010"] / ages["pop2019"]) ** growth_exponent


def current_alignment(counties, county_workload: pd.Series, ages: pd.DataFrame, graph: nx.Graph,
                      n_territories: int, growth_exponent: float) -> pd.Series:
    """Territory id of every county, balanced on the aged (old) workload.

    ``county_workload`` is the present workload per ``county_fips``; the old
    workload is ``present * (pop2010 / pop2019) ** growth_exponent``: counties
    that grew since 2010 had less business when the territories were drawn.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> from workbench.geo import block_adjacency
    >>> counties = gpd.GeoDataFrame({"county_fips": ["a", "b", "c", "d"]},
    ...     geometry=[box(i, 0, i + 1, 1) for i in range(4)], crs="EPSG:4326")
    >>> ages = pd.DataFrame({"county_fips": list("abcd"), "pop2010": [100] * 4, "pop2019": [100] * 4})
    >>> graph = block_adjacency(counties, id_col="county_fips")
    >>> current_alignment(counties, pd.Series({"a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0}), ages,
    ...                   graph, 2, 3.0).tolist()
    ['T01', 'T01', 'T02', 'T02']
    """
    fips = counties["county_fips"].to_numpy()
    old = aged_workload(county_workload, ages, growth_exponent).reindex(fips).to_numpy()
    centroids = counties.geometry.to_crs("EPSG:5070").centroid
    labels = bisect_regions(centroids.x.to_numpy(), centroids.y.to_numpy(), old, n_territories)
    labels = repair_contiguity(fips, labels, graph, old)
    labels = balance_on_graph(fips, labels, graph, old)
    names = np.array(territory_ids(n_territories))
    return pd.Series(names[labels], index=pd.Index(fips, name="county_fips"), name="current_territory")
