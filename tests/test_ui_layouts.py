"""Server-side layout: members with no link drawn sit beside the ring, not at the far edge of the canvas."""

from __future__ import annotations

import math

from ringsight.ui.layouts import LINK_LENGTH, force_layout


def _elements(linked: int, lonely: int) -> list[dict]:
    nodes = [{"data": {"id": f"Patient:{i}", "size": 30}} for i in range(linked + lonely)]
    edges = [
        {"data": {"id": f"e{i}", "source": f"Patient:{i}", "target": f"Patient:{(i + 1) % linked}", "count": 3}}
        for i in range(linked)
    ]
    return nodes + edges


def test_unlinked_members_are_placed_next_to_the_ring() -> None:
    linked, lonely = 8, 6
    pos = force_layout(_elements(linked, lonely))
    ring = [pos[f"Patient:{i}"] for i in range(linked)]
    right = max(p["x"] for p in ring)
    top, bottom = min(p["y"] for p in ring), max(p["y"] for p in ring)
    span = max(right - min(p["x"] for p in ring), bottom - top)
    for i in range(linked, linked + lonely):
        p = pos[f"Patient:{i}"]
        # just right of the ring, within its height (plus a row), never far away
        assert right < p["x"] <= right + LINK_LENGTH + 2 * 110
        assert top - 1 <= p["y"] <= top + max(span, 80 * lonely)
    # and they do not sit on each other
    extra = [pos[f"Patient:{i}"] for i in range(linked, linked + lonely)]
    for a in range(len(extra)):
        for b in range(a + 1, len(extra)):
            assert math.hypot(extra[a]["x"] - extra[b]["x"], extra[a]["y"] - extra[b]["y"]) >= 60


def test_names_around_a_hub_do_not_overlap() -> None:
    leaves = 24
    names = [f"北京市丰台区第{i}社区卫生服务站" if i % 3 == 0 else f"王{i}**" for i in range(leaves)]
    nodes = [{"data": {"id": "Facility:hub", "size": 60, "label": "幸福路医院"}}]
    nodes += [{"data": {"id": f"Patient:{i}", "size": 30, "label": names[i]}} for i in range(leaves)]
    edges = [
        {"data": {"id": f"e{i}", "source": "Facility:hub", "target": f"Patient:{i}", "count": 5}} for i in range(leaves)
    ]
    pos = force_layout(nodes + edges)

    def box(i: int) -> tuple[float, float, float, float]:  # the label under the node, as the canvas draws it
        p, width = pos[f"Patient:{i}"], sum(11.0 if ord(ch) > 0x2E80 else 6.5 for ch in names[i])
        return p["x"] - width / 2, p["y"] + 19, p["x"] + width / 2, p["y"] + 33

    overlaps = []
    for a in range(leaves):
        for b in range(a + 1, leaves):
            ax0, ay0, ax1, ay1 = box(a)
            bx0, by0, bx1, by1 = box(b)
            if min(ax1, bx1) - max(ax0, bx0) > 2 and min(ay1, by1) - max(ay0, by0) > 2:
                overlaps.append((names[a], names[b]))
    assert not overlaps, overlaps
