"""The network picture of a case, drawn on the server as a PNG (matplotlib, igraph layout).

The receiving body reads the picture on paper, so it is drawn for print: one
colour per kind of entity with a legend in Chinese, a name on every node,
line width growing with the number of claims behind a link, and a
deterministic layout (Kamada–Kawai from a circle, so the same case always
gives the same picture).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ringsight.cases.fonts import CjkFont
from ringsight.cases.labels_zh import PARTY_ZH

#: Legend names; the picture stands alone on paper, so a terminal is named as the card terminal it is.
LABEL_ZH = {
    **PARTY_ZH,
    "Terminal": "刷卡终端",
    "Operator": "操作员",
    "TraceCode": "追溯码",
}
COLOURS = {
    "Patient": "#4C72B0",
    "Card": "#55A868",
    "Phone": "#C44E52",
    "Address": "#8172B2",
    "Facility": "#DD8452",
    "Doctor": "#937860",
    "Terminal": "#DA8BC3",
    "Operator": "#8C8C8C",
    "TraceCode": "#CCB974",
}


@dataclass(frozen=True)
class PictureNode:
    """A node to draw: its id (``Label:key``), label, caption, and whether it is a cluster member."""

    id: str
    label: str
    caption: str
    member: bool = True


def draw_network(
    nodes: Sequence[PictureNode],
    edges: Sequence[tuple[str, str, int]],
    out: Path,
    font: CjkFont,
    *,
    title: str = "",
    max_nodes: int = 150,
) -> Path:
    """Draw ``nodes`` and weighted ``edges`` (``(id, id, claims)``) to a PNG at ``out``; return ``out``.

    Members are drawn first; when there are more than ``max_nodes`` nodes the
    non-members with the fewest links are left out (the title says so).
    """
    import igraph as ig
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager
    from matplotlib.lines import Line2D

    font_manager.fontManager.addfont(str(font.path))
    fp = font_manager.FontProperties(family=font.family)

    degree: dict[str, int] = {}
    for a, b, _ in edges:
        degree[a] = degree.get(a, 0) + 1
        degree[b] = degree.get(b, 0) + 1
    ranked = sorted(nodes, key=lambda n: (not n.member, -degree.get(n.id, 0), n.id))
    kept = ranked[:max_nodes]
    dropped = len(ranked) - len(kept)
    index = {n.id: i for i, n in enumerate(kept)}
    kept_edges = [(index[a], index[b], w) for a, b, w in edges if a in index and b in index and a != b]

    g = ig.Graph(n=len(kept), edges=[(a, b) for a, b, _ in kept_edges])
    coords = g.layout_kamada_kawai() if len(kept) > 1 else ig.Layout([[0.0, 0.0]] * len(kept))
    xy = [tuple(c) for c in coords.coords] if len(kept) else []

    size = max(7.0, min(14.0, 4.0 + math.sqrt(max(len(kept), 1)) * 1.2))
    fig, ax = plt.subplots(figsize=(size + 1.8, size * 0.8), dpi=150)
    max_w = max((w for *_, w in kept_edges), default=1)
    for a, b, w in kept_edges:
        (x1, y1), (x2, y2) = xy[a], xy[b]
        ax.plot([x1, x2], [y1, y2], color="#999999", linewidth=0.6 + 2.4 * w / max_w, alpha=0.7, zorder=1)
    for n, (x, y) in zip(kept, xy, strict=True):
        ax.scatter(
            [x],
            [y],
            s=260 if n.member else 140,
            color=COLOURS.get(n.label, "#777777"),
            edgecolors="black" if n.member else "white",
            linewidths=1.2 if n.member else 0.5,
            zorder=2,
        )
    order = list(LABEL_ZH)
    present = sorted({n.label for n in kept}, key=lambda lb: order.index(lb) if lb in order else len(order))
    handles = [
        Line2D([0], [0], marker="o", linestyle="", color=COLOURS.get(lb, "#777777"), label=LABEL_ZH.get(lb, lb))
        for lb in present
    ]
    if handles:
        # outside the drawing area, so no node or label can hide under it
        ax.legend(handles=handles, prop=fp, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    caption = title + (f"（另有 {dropped} 个关联节点未画出）" if dropped else "")
    ax.set_title(caption, fontproperties=fp, fontsize=11)
    ax.set_axis_off()
    ax.margins(0.12)
    fig.tight_layout(rect=(0, 0, 0.86, 1))
    _place_labels(fig, ax, kept, xy, fp)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    plt.close(fig)
    return out


#: Where a label may go around its node (points): below, above, right, left, then further out.
_SPOTS = (
    (0, -15, "center", "top"),
    (0, 11, "center", "bottom"),
    (11, -3, "left", "center"),
    (-11, -3, "right", "center"),
    (0, -27, "center", "top"),
    (0, 23, "center", "bottom"),
    (14, 10, "left", "bottom"),
    (-14, 10, "right", "bottom"),
    (14, -16, "left", "top"),
    (-14, -16, "right", "top"),
)


def _place_labels(fig, ax, nodes: Sequence[PictureNode], xy: list[tuple[float, float]], fp) -> None:  # type: ignore[no-untyped-def]
    """Put each caption at the first spot around its node that overlaps no other caption and no node.

    Captions are placed greedily, members first; a caption with no free spot
    takes the one that overlaps least, so every node keeps its name.
    """
    fig.canvas.draw()
    px = fig.dpi / 72.0
    centres = [tuple(ax.transData.transform(p)) for p in xy]
    radius = 9 * px
    circles = [(cx - radius, cy - radius, cx + radius, cy + radius) for cx, cy in centres]
    placed: list[tuple[float, float, float, float]] = []
    order = sorted(range(len(nodes)), key=lambda i: (not nodes[i].member, i))
    for i in order:
        cx, cy = centres[i]
        width = sum(7.2 if ord(ch) > 0x2E80 else 4.2 for ch in nodes[i].caption) * px
        height = 8.5 * px
        best = None
        for dx, dy, ha, va in _SPOTS:
            x0 = cx + dx * px - (width / 2 if ha == "center" else width if ha == "right" else 0)
            y0 = cy + dy * px - (height / 2 if va == "center" else height if va == "top" else 0)
            box = (x0, y0, x0 + width, y0 + height)
            others = [c for j, c in enumerate(circles) if j != i]
            cost = sum(_overlap(box, b) for b in placed) + sum(_overlap(box, c) for c in others)
            if best is None or cost < best[0]:
                best = (cost, dx, dy, ha, va, box)
            if cost == 0:
                break
        assert best is not None
        _, dx, dy, ha, va, box = best
        placed.append(box)
        ax.annotate(
            nodes[i].caption,
            xy[i],
            xytext=(dx, dy),
            textcoords="offset points",
            ha=ha,
            va=va,
            fontproperties=fp,
            fontsize=7,
            zorder=3,
            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.75},
        )


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0
