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
