"""Community detection against the reference implementations (networkx, python-louvain)."""

from __future__ import annotations

import community as community_louvain  # python-louvain
import networkx as nx
import polars as pl
import pytest

from ringsight.algorithms.communities import default_resolution, detect, modularity

KARATE_OPTIMUM = 0.4198  # Brandes et al. 2008: the maximum modularity of Zachary's karate club


def _edges(graph: nx.Graph, weighted: bool = True) -> pl.DataFrame:
    rows = [(str(u), str(v), float(d.get("weight", 1.0)) if weighted else 1.0) for u, v, d in graph.edges(data=True)]
    return pl.DataFrame(rows, schema={"a": pl.String, "b": pl.String, "weight": pl.Float64}, orient="row")


def _reference(graph: nx.Graph) -> tuple[float, float]:
    nx_parts = nx.community.louvain_communities(graph, weight="weight", seed=1)
    nx_q = nx.community.modularity(graph, nx_parts, weight="weight")
    pl_part = community_louvain.best_partition(graph, weight="weight", random_state=1)
    pl_q = community_louvain.modularity(pl_part, graph, weight="weight")
    return nx_q, pl_q


@pytest.mark.parametrize("algorithm", ["leiden", "louvain"])
def test_karate_club_reaches_the_known_optimum(algorithm: str) -> None:
    edges = _edges(nx.karate_club_graph(), weighted=False)  # 0.4198 is the unweighted optimum
    best = max(detect(edges, algorithm=algorithm, resolution=1.0, seed=s).modularity for s in range(3))
    assert abs(best - KARATE_OPTIMUM) / KARATE_OPTIMUM < 0.01


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("algorithm", ["leiden", "louvain"])
def test_modularity_within_one_percent_of_the_references(algorithm: str, seed: int) -> None:
    graph = nx.planted_partition_graph(8, 15, 0.5, 0.03, seed=seed)
    for u, v in graph.edges:
        graph[u][v]["weight"] = 1.0 + ((u * 7 + v * 13) % 5) / 4
    nx_q, pl_q = _reference(graph)
    ours = detect(_edges(graph), algorithm=algorithm, resolution=1.0, seed=seed).modularity
    assert ours >= min(nx_q, pl_q) * 0.99
    assert abs(ours - nx_q) / nx_q < 0.01 and abs(ours - pl_q) / pl_q < 0.01


def test_reported_modularity_matches_networkx() -> None:
    graph = nx.Graph(nx.karate_club_graph().edges())  # unweighted
    result = detect(_edges(graph), resolution=1.0)
    parts: dict[int, set[int]] = {}
    for name, c in zip(result.names, result.membership, strict=True):
        parts.setdefault(c, set()).add(int(name))
    assert result.modularity == pytest.approx(nx.community.modularity(graph, parts.values()), abs=1e-9)
    assert modularity(_edges(graph), {n: c for n, c in zip(result.names, result.membership, strict=True)}) == (
        pytest.approx(result.modularity)
    )


def test_same_seed_same_partition_and_seeded_start_keeps_it() -> None:
    graph = nx.planted_partition_graph(10, 12, 0.6, 0.02, seed=4)
    edges = _edges(graph)
    first = detect(edges, seed=11)
    assert detect(edges, seed=11).membership == first.membership
    start = dict(zip(first.names, first.membership, strict=True))
    again = detect(edges, seed=99, initial=start)
    assert again.membership == first.membership


def test_high_resolution_separates_small_rings_in_a_big_background() -> None:
    rings = nx.disjoint_union_all([nx.complete_graph(6) for _ in range(5)])
    background = nx.gnm_random_graph(3000, 9000, seed=2)
    graph = nx.disjoint_union(rings, background)
    for i in range(5):  # each ring touches the background once
        graph.add_edge(i * 6, 30 + i * 17)
    edges = _edges(graph)
    result = detect(edges, resolution=default_resolution(edges.height) * 20)
    member = dict(zip(result.names, result.membership, strict=True))
    for i in range(5):
        ring = {member[str(i * 6 + j)] for j in range(6)}
        assert len(ring) == 1


def test_default_resolution_grows_with_size() -> None:
    assert default_resolution(10_000) == 1.0
    assert default_resolution(1_000_000) == pytest.approx(30.0)
    assert default_resolution(5_000_000) == pytest.approx(100.3, rel=0.01)
    assert default_resolution(10, "cpm") == 0.05


def test_empty_graph() -> None:
    empty = pl.DataFrame(schema={"a": pl.String, "b": pl.String, "weight": pl.Float64})
    result = detect(empty)
    assert result.names == [] and result.membership == []
