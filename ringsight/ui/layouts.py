"""Server-side layout of a canvas with igraph, so the browser only draws.

Force-directed layouts in the browser (fCoSE, CoSE-Bilkent) are pleasant on
small networks but grow to seconds on a few hundred nodes in a plain office
browser; igraph's Fruchterman–Reingold in C lays out a few thousand nodes in
tens of milliseconds. The default "auto" layout therefore runs here and the
canvas uses Cytoscape's ``preset`` layout; the browser layouts stay
available for re-layout on request.

Reference: T. M. J. Fruchterman and E. M. Reingold, "Graph drawing by
force-directed placement", Software: Practice and Experience 21(11), 1991.
"""

from __future__ import annotations

import math
import random
from threading import Lock
from typing import Any

import igraph as ig
import numpy as np

#: Target median link length on screen, in pixels at zoom 1.
LINK_LENGTH = 150.0
_RNG_LOCK = Lock()


def force_layout(elements: list[dict[str, Any]], *, iterations: int | None = None) -> dict[str, dict[str, float]]:
    """Positions for every node of ``elements`` (Cytoscape element dicts), deterministic.

    Links pull harder the more claims they carry (weight 1 + log10(count)),
    so a ring's dense core stays together. Starts from a circle, so the
    result does not depend on a random seed.
    """
    ids = [e["data"]["id"] for e in elements if "source" not in e["data"]]
    if not ids:
        return {}
    if len(ids) == 1:
        return {ids[0]: {"x": 0.0, "y": 0.0}}
    index = {nid: i for i, nid in enumerate(ids)}
    pairs: dict[tuple[int, int], float] = {}
    for e in elements:
        d = e["data"]
        if "source" not in d or d["source"] not in index or d["target"] not in index:
            continue
        a, b = sorted((index[d["source"]], index[d["target"]]))
        if a != b:
            pairs[(a, b)] = pairs.get((a, b), 0.0) + 1.0 + math.log10(1 + float(d.get("count") or 0))
    graph = ig.Graph(n=len(ids), edges=list(pairs))
    iterations = iterations or max(100, min(500, 150_000 // len(ids)))
    start = [[math.cos(2 * math.pi * i / len(ids)), math.sin(2 * math.pi * i / len(ids))] for i in range(len(ids))]
    with _RNG_LOCK:  # igraph's random generator is process-wide: seed it for this call only
        ig.set_random_number_generator(random.Random(7))
        try:
            coords = graph.layout_fruchterman_reingold(
                weights=list(pairs.values()) or None, niter=iterations, seed=start, grid="auto"
            ).coords
        finally:
            ig.set_random_number_generator(random)
    scale = LINK_LENGTH / _median_length(coords, list(pairs)) if pairs else LINK_LENGTH
    xy = np.asarray(coords, dtype=float) * scale
    xy -= xy.mean(axis=0)
    room = {e["data"]["id"]: _room(e["data"]) for e in elements if "source" not in e["data"]}
    xy = separate(xy, np.array([room.get(nid, 15.0 + LABEL_ROOM) for nid in ids]))
    xy = _beside(xy, {i for pair in pairs for i in pair})
    return {nid: {"x": round(float(xy[i, 0]), 1), "y": round(float(xy[i, 1]), 1)} for nid, i in index.items()}


def _beside(xy: np.ndarray, linked: set[int]) -> np.ndarray:
    """Nodes with no link on the canvas in a tidy column block just right of the linked ones.

    A force layout pushes unlinked nodes to the far edge (nothing pulls them
    in); a cluster's members that are linked only through things not drawn
    (a shared stay, a phone off the canvas) belong next to the ring.
    """
    lonely = [i for i in range(len(xy)) if i not in linked]
    if not lonely or not linked:
        return xy
    core = xy[sorted(linked)]
    right, top = float(core[:, 0].max()) + LINK_LENGTH, float(core[:, 1].min())
    rows = max(1, math.ceil(math.sqrt(len(lonely)) * 1.5))
    out = xy.copy()
    for k, i in enumerate(lonely):
        out[i] = (right + (k // rows) * 110.0, top + (k % rows) * 80.0)
    return out


#: Extra room around a node for its label, in pixels.
LABEL_ROOM = 20.0


def _room(data: dict[str, Any]) -> float:
    """How far another node's centre must keep away: the node, or its label when that is wider.

    Labels sit under nodes and are wider than they are tall; around a hub,
    neighbours packed by node size alone put their names on top of each other.
    """
    text = str(data.get("label") or "")
    label_px = sum(11.0 if ord(ch) > 0x2E80 else 6.5 for ch in text) + 6.0
    return max(float(data.get("size") or 30.0) / 2 + LABEL_ROOM, label_px / 2 + 8.0)


def separate(xy: np.ndarray, radius: np.ndarray, *, rounds: int | None = None, limit: int = 1500) -> np.ndarray:
    """Push overlapping nodes apart (a hub pulled into the middle by all its links would hide others).

    Each round moves every overlapping pair apart along the line joining
    them by half the overlap each; stops when nothing overlaps. Pairwise, so
    only for canvases up to ``limit`` nodes, and with fewer rounds the bigger
    the canvas (about 4 million pair checks in all).
    """
    n = len(xy)
    if n < 2 or n > limit:
        return xy
    rounds = rounds or int(min(30, max(3, 4_000_000 // (n * n))))
    x, y = xy[:, 0].copy(), xy[:, 1].copy()
    rng = np.random.default_rng(0)
    need = radius[:, None] + radius[None, :]
    np.fill_diagonal(need, 0.0)
    for _ in range(rounds):
        dx = x[:, None] - x[None, :]
        dy = y[:, None] - y[None, :]
        dist = np.hypot(dx, dy)
        overlap = need - dist
        np.fill_diagonal(overlap, 0.0)
        if not (overlap > 0).any():
            break
        np.clip(overlap, 0.0, None, out=overlap)
        tiny = dist < 1e-6
        if tiny.any():  # coincident nodes: give them a direction to move in
            dx = dx + rng.normal(scale=0.5, size=dx.shape) * tiny
            dist = np.hypot(dx, dy)
        factor = overlap / np.maximum(dist, 1e-6) / 2.0
        x += (factor * dx).sum(axis=1)
        y += (factor * dy).sum(axis=1)
    xy = np.column_stack([x, y])
    return xy


def _median_length(coords: list[list[float]], edges: list[tuple[int, int]]) -> float:
    lengths = sorted(math.dist(coords[a], coords[b]) for a, b in edges)
    return max(lengths[len(lengths) // 2], 1e-6)
