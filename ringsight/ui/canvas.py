"""The canvas as data: what is on it, how it grew, and the Cytoscape elements that draw it.

A canvas state is a small JSON-able dict kept in the browser (ids only, never
personal values): the open cluster, the node ids on the canvas, hidden ids,
the time filter and a history of operations (open, expand, add, hide,
collapse) that drives undo and the breadcrumb. Each operation here takes the
state, the current elements and the node positions the browser reported, and
returns the new state and elements.

The browser is sent *deltas* (elements added, removed, or whose data
changed), never the whole canvas again: the server keeps each canvas's
elements in a small :class:`CanvasCache` and rebuilds them from the state
when the cache has lost them (a restart), and the browser merges the delta
into what Cytoscape already holds, so unchanged elements are not touched.

Positions stay put when the graph grows: existing nodes keep the positions
the browser reported and new nodes are placed in an arc around the node they
were reached from, facing away from the rest of the graph; the canvas then
uses the ``preset`` layout, so nothing jumps. A full layout runs only when a
cluster is opened or the investigator asks for one.
"""

from __future__ import annotations

import math
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from threading import Lock
from typing import Any

from ringsight.ui.data import CLAIM_REL, SHANGHAI, Ref, UiData

MAX_NODES = 2500

Positions = dict[str, dict[str, float]]


def empty_state() -> dict[str, Any]:
    """A blank canvas."""
    return {
        "canvas_id": None,
        "cluster": None,
        "nodes": [],
        "edges": 0,
        "hidden": [],
        "members": {},
        "history": [],
        "since": None,
        "until": None,
    }


class CanvasCache:
    """The elements of recently used canvases, by canvas id (least recently used dropped first)."""

    def __init__(self, capacity: int = 64) -> None:
        self._capacity = capacity
        self._items: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        self._lock = Lock()

    def get(self, canvas_id: str | None) -> list[dict[str, Any]] | None:
        if not canvas_id:
            return None
        with self._lock:
            items = self._items.get(canvas_id)
            if items is not None:
                self._items.move_to_end(canvas_id)
            return items

    def put(self, canvas_id: str, elements: list[dict[str, Any]]) -> None:
        with self._lock:
            self._items[canvas_id] = elements
            self._items.move_to_end(canvas_id)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)


def delta(old: list[dict[str, Any]], new: list[dict[str, Any]], *, reset: bool = False) -> dict[str, Any]:
    """What the browser must change to go from ``old`` to ``new``.

    ``add`` holds whole elements (new nodes with their positions), ``update``
    only ``{"data": …}`` for elements whose data changed (a node's size, a
    link's count), ``remove`` ids. Positions of existing nodes are never sent
    back: the browser owns them.
    """
    if reset:
        return {"reset": True, "add": new, "remove": [], "update": []}
    before = {e["data"]["id"]: e for e in old}
    after_ids = {e["data"]["id"] for e in new}
    add, update = [], []
    for e in new:
        prev = before.get(e["data"]["id"])
        if prev is None:
            add.append(e)
        elif prev["data"] != e["data"]:
            update.append({"data": e["data"]})
    remove = [i for i in before if i not in after_ids]
    return {"reset": False, "add": add, "remove": remove, "update": update}


@dataclass
class Outcome:
    """What an operation did: the new state and elements, whether to run a layout, and a status message."""

    state: dict[str, Any]
    elements: list[dict[str, Any]]
    message: str
    params: dict[str, Any] = field(default_factory=dict)
    relayout: bool = False
    seconds: float = 0.0


class Canvas:
    """Operations on a canvas state, reading the store through :class:`UiData`."""

    def __init__(self, data: UiData) -> None:
        self.data = data

    # -- operations -------------------------------------------------------------------
    def rebuild(self, state: dict[str, Any]) -> list[dict[str, Any]]:
        """The elements of a canvas from its state alone (when the server no longer holds them)."""
        refs = self._refs(state.get("nodes") or [])
        roles = state.get("members") or {}
        members = {r: roles[i] for r in refs if (i := self.data.registry.id_for(r)) in roles}
        nodes = self.data.node_data(refs, members=members)
        since, until = state.get("since"), state.get("until")
        edges = self.data.links_between(list(nodes), list(nodes), since=since, until=until)
        elements = [{"data": d} for d in nodes.values()] + [{"data": e} for e in edges]
        _finish(elements, (since, until) if since is not None or until is not None else None)
        return elements

    def open_cluster(self, cluster_id: str) -> Outcome:
        """Put a cluster's members on a fresh canvas, with the links among them."""
        t0 = time.perf_counter()
        members = self.data.cluster_refs(cluster_id)
        refs = list(members)[:MAX_NODES]
        nodes = self.data.node_data(refs, members=members)
        edges = self.data.links_between(list(nodes), list(nodes))
        elements = [{"data": d} for d in nodes.values()] + [{"data": e} for e in edges]
        _finish(elements, None)
        ids = [d["id"] for d in nodes.values()]
        state = empty_state()
        roles = {nodes[r]["id"]: role for r, role in members.items() if r in nodes}
        state.update(
            canvas_id=uuid.uuid4().hex,
            cluster=cluster_id,
            nodes=ids,
            edges=len(edges),
            members=roles,
            history=[{"op": "open", "cluster": cluster_id, "added": ids}],
        )
        linked = {e[end] for e in edges for end in ("source", "target")}
        lonely = [i for i in ids if i not in linked]
        for e in elements:
            if e["data"]["id"] in lonely:
                e["data"]["lonely"] = 1  # drawn beside the ring; the status line says why
        return Outcome(
            state,
            elements,
            "msg.opened_lonely" if lonely and linked else "msg.opened",
            {"cluster": cluster_id, "nodes": len(nodes), "edges": len(edges), "lonely": len(lonely)},
            relayout=True,
            seconds=time.perf_counter() - t0,
        )

    def expand(
        self,
        state: dict[str, Any],
        elements: list[dict[str, Any]],
        node_id: str,
        positions: Positions,
        *,
        kind: str | None = None,
        direction: str | None = None,
        force: bool = False,
    ) -> Outcome:
        """Add a node's neighbours: along one link kind, or along all kinds unless it is a supernode."""
        t0 = time.perf_counter()
        ref = self.data.registry.ref_for(node_id)
        if ref is None:
            return Outcome(state, elements, "msg.stale")
        name = _label_of(elements, node_id)
        since, until = state.get("since"), state.get("until")
        on_canvas = self._refs(state["nodes"] + state["hidden"])
        if kind is None:
            options = self.data.expansions(ref, since=since, until=until)
            total = sum(o.count for o in options)
            if total > self.data.supernode and not force:
                return Outcome(state, elements, "msg.supernode", {"node": name, "n": total})
            wanted = [(o.kind, o.direction) for o in options]
        else:
            wanted = [(kind, direction or "out")]
        new: list[Ref] = []
        budget = self.data.expand_cap * (1 if kind else 2)  # all kinds at once share twice one kind's cap
        for k, d in wanted:
            limit = min(self.data.expand_cap, budget - len(new))
            if limit <= 0:
                break
            new.extend(self.data.neighbours(ref, k, d, exclude=on_canvas + new, limit=limit, since=since, until=until))
        if not new:
            return Outcome(state, elements, "msg.expanded_none", {"node": name}, seconds=time.perf_counter() - t0)
        outcome = self._add(state, elements, new, positions, anchor=node_id)
        entry = {"op": "expand", "node": node_id, "name": name, "kind": kind or "*", "added": outcome.params["added"]}
        outcome.state["history"].append(entry)
        outcome.message = "msg.expanded"
        outcome.params = {"node": name, "n": len(entry["added"])}
        outcome.seconds = time.perf_counter() - t0
        return outcome

    def add(
        self,
        state: dict[str, Any],
        elements: list[dict[str, Any]],
        refs: list[Ref],
        positions: Positions,
        *,
        op: str = "add",
    ) -> Outcome:
        """Drop entities on the canvas (from search or a query), linked to whatever is there."""
        t0 = time.perf_counter()
        present = set(self._refs(state["nodes"]))
        new = [r for r in dict.fromkeys(refs) if r not in present]
        if refs and not new:
            # already drawn: select and centre it instead of saying "0 added"
            name = _label_of(elements, self._focus(refs) or "")
            return Outcome(state, elements, "msg.already", {"node": name, "focus": self._focus(refs)})
        hidden_ids = {self.data.registry.id_for(r) for r in new} & set(state["hidden"])
        state = {**state, "hidden": [h for h in state["hidden"] if h not in hidden_ids]}
        outcome = self._add(state, elements, new, positions, anchor=None)
        added = outcome.params["added"]
        first = _label_of(outcome.elements, added[0]) if added else ""
        outcome.state["history"].append({"op": op, "name": first, "added": added})
        outcome.message = "msg.added"
        outcome.params = {"n": len(added), "focus": added[0] if added else self._focus(refs)}
        outcome.seconds = time.perf_counter() - t0
        return outcome

    def hide(
        self, state: dict[str, Any], elements: list[dict[str, Any]], node_id: str, positions: Positions
    ) -> Outcome:
        """Take one node off the canvas; expansions will not bring it back."""
        if node_id not in state["nodes"]:
            return Outcome(state, elements, "msg.undo_none")
        name = _label_of(elements, node_id)
        out = self._remove(state, elements, [node_id], positions)
        out.state["hidden"] = [*state["hidden"], node_id]
        out.state["history"].append(
            {"op": "hide", "node": node_id, "name": name, "removed": [node_id], "pos": _pick(positions, [node_id])}
        )
        out.message, out.params = "msg.hidden", {"node": name}
        return out

    def collapse(
        self, state: dict[str, Any], elements: list[dict[str, Any]], node_id: str, positions: Positions
    ) -> Outcome:
        """Remove what expanding this node brought in (except cluster members and nodes linked elsewhere)."""
        name = _label_of(elements, node_id)
        brought = [i for h in state["history"] if h["op"] == "expand" and h.get("node") == node_id for i in h["added"]]
        members = {e["data"]["id"] for e in elements if e["data"].get("member")}
        links = _neighbour_ids(elements)
        removable = [
            i
            for i in dict.fromkeys(brought)
            if i in state["nodes"] and i not in members and links.get(i, set()) <= {node_id}
        ]
        out = self._remove(state, elements, removable, positions)
        out.state["history"].append(
            {"op": "collapse", "node": node_id, "name": name, "removed": removable, "pos": _pick(positions, removable)}
        )
        out.message, out.params = "msg.collapsed", {"node": name, "n": len(removable)}
        return out

    def undo(self, state: dict[str, Any], elements: list[dict[str, Any]], positions: Positions) -> Outcome:
        """Revert the last expansion, addition, hide or collapse (opening a cluster is not undone)."""
        history = list(state["history"])
        if not history or history[-1]["op"] == "open":
            return Outcome(state, elements, "msg.undo_none")
        last = history.pop()
        base = {**state, "history": history}
        if last["op"] in ("hide", "collapse"):
            refs = self._refs(last["removed"])
            if len(refs) < len(last["removed"]):
                return Outcome(state, elements, "msg.stale")
            base["hidden"] = [h for h in state["hidden"] if h not in last["removed"]]
            out = self._add(base, elements, refs, {**positions, **last.get("pos", {})}, anchor=None)
        else:
            out = self._remove(base, elements, last.get("added", []), positions)
        out.state["history"] = history
        out.message, out.params = "msg.undo", {"what": last.get("name") or last["op"]}
        return out

    def refilter(
        self,
        state: dict[str, Any],
        elements: list[dict[str, Any]],
        since: int | None,
        until: int | None,
        positions: Positions,
    ) -> Outcome:
        """Recompute the claim links for a time range (None, None clears it); nodes without claims in range dim."""
        t0 = time.perf_counter()
        state = {**state, "since": since, "until": until}
        refs = self._refs(state["nodes"])
        nodes = [e for e in elements if "source" not in e["data"]]
        edges = self.data.links_between(refs, refs, since=since, until=until)
        out_elements = [_with_position(e, positions) for e in nodes] + [{"data": d} for d in edges]
        _finish(out_elements, (since, until) if since is not None or until is not None else None)
        key = "msg.filtered" if since is not None or until is not None else "msg.unfiltered"
        params = {"edges": len(edges), "start": _day(since) or "…", "end": _day(until, end=True) or "…"}
        return Outcome(state, out_elements, key, params, seconds=time.perf_counter() - t0)

    # -- internals --------------------------------------------------------------------
    def _refs(self, ids: list[str]) -> list[Ref]:
        refs = (self.data.registry.ref_for(i) for i in ids)
        return [r for r in refs if r is not None]

    def _focus(self, refs: list[Ref]) -> str | None:
        return self.data.registry.id_for(refs[0]) if refs else None

    def _add(
        self,
        state: dict[str, Any],
        elements: list[dict[str, Any]],
        new: list[Ref],
        positions: Positions,
        *,
        anchor: str | None,
    ) -> Outcome:
        room = MAX_NODES - len(state["nodes"])
        if room <= 0:
            return Outcome(state, elements, "msg.cap", {"n": MAX_NODES, "added": []})
        new = new[:room]
        existing = self._refs(state["nodes"])
        roles = state.get("members") or {}
        ids = {r: self.data.registry.id_for(r) for r in new}
        members = {r: roles[i] for r, i in ids.items() if i in roles}
        nodes = self.data.node_data(new, members=members)
        new_refs = list(nodes)
        since, until = state.get("since"), state.get("until")
        edges = self.data.links_between(new_refs, existing + new_refs, since=since, until=until)
        kept = [_with_position(e, positions) for e in elements]
        known = {e["data"]["id"] for e in kept}
        added_ids = [d["id"] for d in nodes.values() if d["id"] not in known]
        placed = _place(added_ids, edges, kept, anchor)
        kept += [{"data": d, "position": placed[d["id"]]} for d in nodes.values() if d["id"] in placed]
        kept += [{"data": e} for e in edges if e["id"] not in known]
        filt = (since, until) if since is not None or until is not None else None
        _finish(kept, filt)
        new_state = {**state, "nodes": state["nodes"] + added_ids, "history": list(state["history"])}
        return Outcome(new_state, kept, "msg.added", {"added": added_ids})

    def _remove(
        self, state: dict[str, Any], elements: list[dict[str, Any]], ids: list[str], positions: Positions
    ) -> Outcome:
        gone = set(ids)
        kept = [
            _with_position(e, positions)
            for e in elements
            if e["data"]["id"] not in gone
            and e["data"].get("source") not in gone
            and e["data"].get("target") not in gone
        ]
        filt = (state.get("since"), state.get("until")) if state.get("since") or state.get("until") else None
        _finish(kept, filt)
        new_state = {**state, "nodes": [n for n in state["nodes"] if n not in gone], "history": list(state["history"])}
        return Outcome(new_state, kept, "")


# -- element helpers -------------------------------------------------------------------
def _day(ts: int | None, *, end: bool = False) -> str:
    """An epoch bound as an ISO date (an exclusive end bound shows as the day before)."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts - (1 if end else 0), SHANGHAI).date().isoformat()


def _label_of(elements: list[dict[str, Any]], node_id: str) -> str:
    for e in elements:
        if e["data"]["id"] == node_id:
            return str(e["data"].get("label") or node_id)
    return node_id.split(":", 1)[0]


def _pick(positions: Positions, ids: list[str]) -> Positions:
    return {i: positions[i] for i in ids if i in positions}


def _with_position(element: dict[str, Any], positions: Positions) -> dict[str, Any]:
    """A copy of an element (its data copied too: :func:`_finish` rewrites data in place) with its position."""
    data = dict(element["data"])
    if "source" in data:
        return {"data": data}
    pos = positions.get(data["id"]) or element.get("position")
    return {"data": data, "position": pos} if pos else {"data": data}


def _neighbour_ids(elements: list[dict[str, Any]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for e in elements:
        d = e["data"]
        if "source" in d:
            out.setdefault(d["source"], set()).add(d["target"])
            out.setdefault(d["target"], set()).add(d["source"])
    return out


def _finish(elements: list[dict[str, Any]], time_filter: tuple[int | None, int | None] | None) -> None:
    """Size nodes by the claim amount in view, weight links, dim nodes with no claims in the time range."""
    amount: dict[str, float] = {}
    claims: dict[str, int] = {}
    for e in elements:
        d = e["data"]
        if "source" not in d:
            continue
        if d.get("folded"):
            n, a = int(d.get("count", 0)), float(d.get("amount", 0.0))
            d["w_count"] = round(min(12.0, 1.2 + 2.2 * math.log10(1 + n)), 2)
            d["w_amount"] = round(min(12.0, 1.2 + 1.6 * math.log10(1 + a / 100)), 2)
            for end in (d["source"], d["target"]):
                amount[end] = amount.get(end, 0.0) + a
                claims[end] = claims.get(end, 0) + n
        else:
            d["w_count"] = d["w_amount"] = 1.4
    for e in elements:
        d = e["data"]
        if "source" in d:
            continue
        # in 2-pixel steps: a link added elsewhere rarely changes a node's drawn size, so the
        # browser is not asked to restyle hundreds of nodes after each expansion
        a = amount.get(d["id"], 0.0)
        d.pop("amount", None)
        d.pop("claims", None)
        d["size"] = 2 * round(min(64.0, 24 + 8 * math.log10(1 + a / 500)) / 2)
        d["dim"] = 1 if time_filter and d.get("type") in CLAIM_REL and not claims.get(d["id"]) else 0


def _place(
    new_ids: list[str], edges: list[dict[str, Any]], elements: list[dict[str, Any]], anchor: str | None
) -> Positions:
    """Positions for new nodes: an arc around the node that brought them in, facing outwards."""
    pos = {e["data"]["id"]: e["position"] for e in elements if e.get("position") and "source" not in e["data"]}
    if not pos:
        return _grid(new_ids, 0.0, 0.0)
    cx = sum(p["x"] for p in pos.values()) / len(pos)
    cy = sum(p["y"] for p in pos.values()) / len(pos)
    groups: dict[str | None, list[str]] = {}
    new_set = set(new_ids)
    for nid in new_ids:
        group = anchor if anchor in pos else _linked_anchor(nid, edges, pos, new_set)
        groups.setdefault(group, []).append(nid)
    out: Positions = {}
    for group, ids in groups.items():
        if group is None:
            right = max(p["x"] for p in pos.values()) + 160
            out.update(_grid(ids, right, cy))
        else:
            out.update(_arc(ids, pos[group], (cx, cy)))
    return _clear_of(out, pos, groups, (cx, cy))


#: Closest two node centres may be after an expansion (a node with its label is about this wide).
MIN_GAP = 64.0


def _clear_of(
    placed: Positions, drawn: Positions, groups: dict[str | None, list[str]], centre: tuple[float, float]
) -> Positions:
    """Move each new node outwards, away from the node that brought it in, until it overlaps nothing drawn.

    The arc is where new nodes belong; when a node already on the canvas (or a
    new one placed before) sits there, the new one steps further out along
    the same ray, turning a little each step, so nothing lands on anything.
    """
    anchor_of = {nid: group for group, ids in groups.items() for nid in ids}
    taken = [(p["x"], p["y"]) for p in drawn.values()]
    out: Positions = {}
    for nid, p in placed.items():
        origin = drawn.get(anchor_of.get(nid) or "", {"x": centre[0], "y": centre[1]})
        x, y = p["x"], p["y"]
        angle = math.atan2(y - origin["y"], x - origin["x"]) if (x, y) != (origin["x"], origin["y"]) else 0.0
        dist = math.hypot(x - origin["x"], y - origin["y"])
        for step in range(200):
            if all((x - a) ** 2 + (y - b) ** 2 >= MIN_GAP**2 for a, b in taken):
                break
            dist += 18.0
            angle += 0.21 if step % 2 else -0.17
            x, y = origin["x"] + dist * math.cos(angle), origin["y"] + dist * math.sin(angle)
        out[nid] = {"x": round(x, 1), "y": round(y, 1)}
        taken.append((x, y))
    return out


def _linked_anchor(nid: str, edges: list[dict[str, Any]], pos: Positions, new_set: set[str]) -> str | None:
    for e in edges:
        d = e if "source" in e else e.get("data", {})
        other = d["target"] if d["source"] == nid else d["source"] if d["target"] == nid else None
        if other and other in pos and other not in new_set:
            return other
    return None


def _arc(ids: list[str], centre: dict[str, float], away_from: tuple[float, float]) -> Positions:
    n = len(ids)
    dx, dy = centre["x"] - away_from[0], centre["y"] - away_from[1]
    heading = math.atan2(dy, dx) if (dx or dy) else 0.0
    width = min(2 * math.pi, max(math.pi / 2, n * 0.42))
    radius = max(130.0, n * 52.0 / width)
    out: Positions = {}
    for i, nid in enumerate(ids):
        angle = heading + (0.0 if n == 1 else -width / 2 + width * i / (n - (0 if width >= 2 * math.pi else 1)))
        out[nid] = {
            "x": round(centre["x"] + radius * math.cos(angle), 1),
            "y": round(centre["y"] + radius * math.sin(angle), 1),
        }
    return out


def _grid(ids: list[str], x0: float, y0: float) -> Positions:
    cols = max(1, math.ceil(math.sqrt(len(ids))))
    return {
        nid: {"x": x0 + 90.0 * (i % cols), "y": y0 + 90.0 * (i // cols) - 45.0 * (len(ids) // cols)}
        for i, nid in enumerate(ids)
    }
