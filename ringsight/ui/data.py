"""Every store read the workbench makes: queue, networks, expansion, search, details, timelines.

The canvas shows *entities* (persons, cards, phones, addresses, facilities,
doctors, terminals, operators, trace codes), never individual claims: claims
are folded into entity-to-entity links that carry a count, an amount and a
date range (a pharmacy with 20,000 claims is one node with a few thick links,
not 20,000 nodes). :data:`LINK_KINDS` lists the direct relationships and the
claim folds the canvas draws; expansion, folding and unfolding all use the
same list, so a link the canvas draws is always one the investigator can
expand along and unfold into its claims.

Every query is parameterised, spells labels and relationship types from the
model, and runs on FalkorDB and Neo4j 5 alike (see docs/graph-contract.md).

Canvas ids are ``Label:key``. Where the key itself is personal (card numbers,
phone numbers, address keys) the id carries an opaque token instead and the
server keeps the mapping in a :class:`NodeRegistry`, so the browser never
holds an unmasked identifier it was not cleared to see.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from threading import Lock
from typing import Any

from ringsight.algorithms.results import cluster_members, cluster_queue, latest_run
from ringsight.cases.identities import search_pseudonyms
from ringsight.config import Settings
from ringsight.graph.model import ENTITY_LABELS, key_of
from ringsight.graph.store import GraphStore, Node, Path, Relationship
from ringsight.identity import keyed_hash
from ringsight.money import money_record
from ringsight.ui.present import display_label, property_rows

SHANGHAI = timezone(timedelta(hours=8))

#: Labels the canvas draws.
CANVAS_LABELS: tuple[str, ...] = (*ENTITY_LABELS, "TraceCode")
#: Labels whose key is itself a personal identifier: their canvas ids are opaque tokens.
PERSONAL_KEY_LABELS = frozenset({"Card", "Phone", "Address"})
#: Result columns whose values are entity keys (so "show on canvas" can find them).
KEY_COLUMNS: dict[str, str] = {
    "pid": "Patient",
    "card_id": "Card",
    "card": "Card",
    "phone": "Phone",
    "facility_code": "Facility",
    "doctor_code": "Doctor",
}
#: The relationship from a claim to each label claims point at.
CLAIM_REL: dict[str, str] = {
    "Patient": "BY_PATIENT",
    "Card": "WITH_CARD",
    "Facility": "AT_FACILITY",
    "Doctor": "BY_DOCTOR",
    "Terminal": "ON_TERMINAL",
    "Operator": "BY_OPERATOR",
    "TraceCode": "HAS_TRACE",
}


@dataclass(frozen=True)
class LinkKind:
    """One kind of link the canvas draws between two entity labels.

    ``pattern`` joins ``(a:A)`` to ``(b:B)``: a direct relationship, or two
    claim relationships through ``(c:Claim)`` when ``folded``.
    """

    name: str
    rel: str
    a: str
    b: str
    pattern: str
    folded: bool


def _direct(name: str, rel: str, a: str, b: str) -> LinkKind:
    return LinkKind(name, rel, a, b, f"(a:{a})-[:{rel}]->(b:{b})", False)


def _fold(name: str, a: str, rel_a: str, b: str, rel_b: str) -> LinkKind:
    return LinkKind(name, name, a, b, f"(a:{a})<-[:{rel_a}]-(c:Claim)-[:{rel_b}]->(b:{b})", True)


LINK_KINDS: tuple[LinkKind, ...] = (
    _direct("HAS_CARD", "HAS_CARD", "Patient", "Card"),
    _direct("HAS_PHONE", "HAS_PHONE", "Patient", "Phone"),
    _direct("CONTACT_PHONE", "CONTACT_PHONE", "Patient", "Phone"),
    _direct("LIVES_AT", "LIVES_AT", "Patient", "Address"),
    _direct("WORKS_AT", "WORKS_AT", "Doctor", "Facility"),
    _direct("TERMINAL_IN", "IN_FACILITY", "Terminal", "Facility"),
    _direct("OPERATOR_IN", "IN_FACILITY", "Operator", "Facility"),
    _fold("VISITED", "Patient", "BY_PATIENT", "Facility", "AT_FACILITY"),
    _fold("USED_CARD", "Patient", "BY_PATIENT", "Card", "WITH_CARD"),
    _fold("SWIPED_AT", "Card", "WITH_CARD", "Facility", "AT_FACILITY"),
    _fold("TREATED_BY", "Patient", "BY_PATIENT", "Doctor", "BY_DOCTOR"),
    _fold("PRESCRIBED_AT", "Doctor", "BY_DOCTOR", "Facility", "AT_FACILITY"),
    _fold("SWIPED_ON", "Card", "WITH_CARD", "Terminal", "ON_TERMINAL"),
    _fold("SETTLED_BY", "Card", "WITH_CARD", "Operator", "BY_OPERATOR"),
    _fold("TRACE_AT", "TraceCode", "HAS_TRACE", "Facility", "AT_FACILITY"),
)
LINK_KIND_BY_NAME = {k.name: k for k in LINK_KINDS}


@dataclass(frozen=True)
class Ref:
    """An entity by label and key."""

    label: str
    key: str


@dataclass
class Expansion:
    """One way to expand a node: the link kind, the side the node is on, and how many neighbours."""

    kind: str
    direction: str  # "out": the node is the link's a-side; "in": its b-side
    neighbour_label: str
    count: int
    capped: bool = False

    @property
    def token(self) -> str:
        return f"{self.kind}:{self.direction}"


@dataclass
class SearchHit:
    """A search result: the entity, its masked label and what matched."""

    ref: Ref
    display: str
    matched_by: str
    extra: str = ""
    claim_refs: list[Ref] = field(default_factory=list)


class NodeRegistry:
    """Canvas id <-> entity, with opaque tokens for entities whose key is personal.

    Bounded (least recently used entries go first); tokens are keyed hashes,
    so the same entity gets the same id across calls and sessions of one
    server process.
    """

    def __init__(self, secret: str, capacity: int = 500_000) -> None:
        self._secret = secret
        self._capacity = capacity
        self._refs: OrderedDict[str, Ref] = OrderedDict()
        self._lock = Lock()

    def id_for(self, ref: Ref) -> str:
        if ref.label not in PERSONAL_KEY_LABELS:
            return f"{ref.label}:{ref.key}"
        node_id = f"{ref.label}:~{keyed_hash(ref.label + ':' + ref.key, self._secret)[:20]}"
        with self._lock:
            self._refs[node_id] = ref
            self._refs.move_to_end(node_id)
            while len(self._refs) > self._capacity:
                self._refs.popitem(last=False)
        return node_id

    def ref_for(self, node_id: str) -> Ref | None:
        label, _, key = node_id.partition(":")
        if not key or label not in CANVAS_LABELS:
            return None
        if key.startswith("~"):
            with self._lock:
                return self._refs.get(node_id)
        return Ref(label, key)


def _ts_to_date(ts: int | None) -> str:
    return datetime.fromtimestamp(ts, SHANGHAI).date().isoformat() if ts is not None else ""


def date_to_ts(value: str | None, *, end: bool = False) -> int | None:
    """An ISO date (Asia/Shanghai) to epoch seconds; ``end`` gives the start of the next day."""
    if not value:
        return None
    day = datetime.fromisoformat(str(value)[:10]).replace(tzinfo=SHANGHAI)
    if end:
        day += timedelta(days=1)
    return int(day.timestamp())


def _time_clause(since: int | None, until: int | None) -> str:
    parts = []
    if since is not None:
        parts.append("c.time_ts >= $since")
    if until is not None:
        parts.append("c.time_ts < $until")
    return (" AND " + " AND ".join(parts)) if parts else ""


class UiData:
    """All reads the workbench makes, bound to one store and its settings.

    ``supernode`` is the number of linked entities above which a node is not
    expanded by a double-click (its counts are shown first); ``expand_cap``
    how many neighbours one expansion adds per link kind.
    """

    def __init__(
        self,
        store: GraphStore,
        settings: Settings,
        *,
        supernode: int = 150,
        expand_cap: int = 25,
        claims_cap: int = 500,
        count_cap: int = 10_000,
    ) -> None:
        self.store = store
        self.settings = settings
        self.supernode = supernode
        self.expand_cap = expand_cap
        self.claims_cap = claims_cap
        self.count_cap = count_cap
        self.registry = NodeRegistry(settings.pseudonym_key() + "|" + settings.ui.secret_key)
        self.timeout_ms = settings.query.timeout_ms

    def _read(self, cypher: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        rows = self.store.read(cypher, params or {}, timeout_ms=self.timeout_ms).records()
        return [money_record(r) for r in rows]

    # -- queue ----------------------------------------------------------------------
    def run(self) -> dict[str, Any] | None:
        """The latest finished detection run."""
        return latest_run(self.store)

    def queue(self) -> list[dict[str, Any]]:
        """The ranked clusters of the latest run, with facility names and case status."""
        rows = [money_record(r) for r in cluster_queue(self.store)]
        if not rows:
            return rows
        codes = sorted({code for r in rows for code in (r.get("facilities") or [])})
        names = {
            rec["code"]: rec["name"]
            for rec in self._read(
                "MATCH (f:Facility) WHERE f.code IN $codes RETURN f.code AS code, f.name AS name", {"codes": codes}
            )
        }
        cases = {
            rec["cluster"]: rec
            for rec in self._read(
                "MATCH (k:Case)-[:COVERS]->(c:Cluster) WHERE c.cluster_id IN $ids "
                "RETURN c.cluster_id AS cluster, k.case_id AS case_id, k.state AS state, k.assignee AS assignee",
                {"ids": [r["cluster_id"] for r in rows]},
            )
        }
        for r in rows:
            r["facility_names"] = [names.get(c) or c for c in (r.get("facilities") or [])]  # a code when unnamed
            case = cases.get(r["cluster_id"])
            r["case_state"] = case["state"] if case else None
            r["case_id"] = case["case_id"] if case else None
            r["assignee"] = case["assignee"] if case else None
        return rows

    def cluster(self, cluster_id: str) -> dict[str, Any] | None:
        """One cluster's properties with its signals decoded."""
        recs = self._read("MATCH (c:Cluster {cluster_id: $id}) RETURN c", {"id": cluster_id})
        if not recs:
            return None
        props = dict(recs[0]["c"].properties)
        try:
            props["signals"] = json.loads(props.get("signals") or "[]")
        except (TypeError, json.JSONDecodeError):
            props["signals"] = []
        return props

    def cluster_refs(self, cluster_id: str) -> dict[Ref, str]:
        """The members of a cluster and their roles."""
        return {
            Ref(m["label"], str(m["key"])): m.get("role") or "member"
            for m in cluster_members(self.store, cluster_id)
            if m["label"] in CANVAS_LABELS and m["key"] is not None
        }

    # -- nodes ----------------------------------------------------------------------
    def node_data(self, refs: list[Ref], *, members: dict[Ref, str] | None = None) -> dict[Ref, dict[str, Any]]:
        """Cytoscape ``data`` for each entity that exists: id, type, masked label, cluster flags."""
        members = members or {}
        out: dict[Ref, dict[str, Any]] = {}
        for label, keys in _by_label(refs).items():
            key = key_of(label)
            recs = self._read(f"MATCH (n:{label}) WHERE n.{key} IN $keys RETURN n", {"keys": keys})
            clusters = self._memberships_by_key(label, keys)
            notes = self._annotations_by_key(label, keys)
            for rec in recs:
                node: Node = rec["n"]
                ref = Ref(label, str(node.properties.get(key)))
                data = {
                    "id": self.registry.id_for(ref),
                    "type": label,
                    "label": display_label(label, node.properties),
                    "member": 1 if ref in members else 0,
                    "role": members.get(ref, ""),
                    "flagged": 1 if clusters.get(ref.key) else 0,
                    "clusters": len(clusters.get(ref.key, ())),
                    "annotated": notes.get(ref.key, 0),
                }
                if label == "Facility":
                    data["kind"] = node.properties.get("kind") or ""
                out[ref] = data
        return out

    def _annotations_by_key(self, label: str, keys: list[str]) -> dict[str, int]:
        """How many notes and tags (not retracted) each entity has: the canvas marks annotated nodes."""
        recs = self._read(
            "MATCH (a:Annotation) WHERE a.target_label = $label AND a.target_key IN $keys "
            "AND a.retracted_ts IS NULL RETURN a.target_key AS k, count(a) AS n",
            {"label": label, "keys": keys},
        )
        return {str(rec["k"]): int(rec["n"]) for rec in recs}

    def _memberships_by_key(self, label: str, keys: list[str]) -> dict[str, list[str]]:
        key = key_of(label)
        recs = self._read(
            f"MATCH (c:Cluster)-[m:HAS_MEMBER]->(n:{label}) WHERE n.{key} IN $keys "
            "AND (m.run_id IS NULL OR m.run_id = c.run_id) "
            f"RETURN n.{key} AS k, c.cluster_id AS cluster",
            {"keys": keys},
        )
        out: dict[str, list[str]] = {}
        for rec in recs:
            out.setdefault(str(rec["k"]), []).append(rec["cluster"])
        return out

    # -- links ----------------------------------------------------------------------
    def links_between(
        self,
        new: list[Ref],
        all_refs: list[Ref],
        *,
        since: int | None = None,
        until: int | None = None,
    ) -> list[dict[str, Any]]:
        """Links (direct and folded claims) with at least one end in ``new`` and both ends in ``all_refs``."""
        new_by = _by_label(new)
        all_by = _by_label(all_refs)
        old_by = _by_label([r for r in all_refs if r not in set(new)])
        found: dict[str, dict[str, Any]] = {}
        for kind in LINK_KINDS:
            for a_keys, b_keys in ((new_by.get(kind.a), all_by.get(kind.b)), (old_by.get(kind.a), new_by.get(kind.b))):
                if not a_keys or not b_keys:
                    continue
                for rec in self._link_rows(kind, a_keys, b_keys, since, until):
                    edge = self._edge(kind, rec)
                    found[edge["id"]] = edge
        return list(found.values())

    def _link_rows(
        self, kind: LinkKind, a_keys: list[str], b_keys: list[str], since: int | None, until: int | None
    ) -> list[dict[str, Any]]:
        """One link kind between two key sets, walked from the a-side.

        The a-side of every kind is the end with few claims (a person, a card,
        a doctor next to a facility), so the query is anchored there with its
        own MATCH; left to the planner, a facility with 50,000 claims could be
        chosen as the starting point.
        """
        ka, kb = key_of(kind.a), key_of(kind.b)
        rest = kind.pattern.replace(f"(a:{kind.a})", "(a)", 1)
        anchor = f"MATCH (a:{kind.a}) WHERE a.{ka} IN $a_keys MATCH {rest} WHERE b.{kb} IN $b_keys"
        if kind.folded:
            cypher = (
                f"{anchor}{_time_clause(since, until)} "
                f"RETURN a.{ka} AS a, b.{kb} AS b, count(c) AS n, sum(c.total_amount) AS amount, "
                f"min(c.time_ts) AS t0, max(c.time_ts) AS t1"
            )
        else:
            cypher = f"{anchor} RETURN a.{ka} AS a, b.{kb} AS b, count(*) AS n"
        params = {"a_keys": a_keys, "b_keys": b_keys, "since": since, "until": until}
        return self._read(cypher, params)

    def _edge(self, kind: LinkKind, rec: dict[str, Any]) -> dict[str, Any]:
        source = self.registry.id_for(Ref(kind.a, str(rec["a"])))
        target = self.registry.id_for(Ref(kind.b, str(rec["b"])))
        data: dict[str, Any] = {
            "id": f"{kind.name}|{source}|{target}",
            "source": source,
            "target": target,
            "rel": kind.name,
            "folded": 1 if kind.folded else 0,
        }
        if kind.folded:
            n, amount = int(rec["n"] or 0), float(rec["amount"] or 0.0)
            data.update(
                count=n,
                amount=round(amount, 2),
                date_from=_ts_to_date(rec.get("t0")),
                date_to=_ts_to_date(rec.get("t1")),
                label=f"{n} · ¥{amount:,.0f}",
            )
        return data

    # -- expansion ------------------------------------------------------------------
    def expansions(self, ref: Ref, *, since: int | None = None, until: int | None = None) -> list[Expansion]:
        """How many neighbours the node has along each link kind (the count shown before expanding).

        Counting stops at :attr:`count_cap` distinct neighbours per kind
        (``capped`` is then set): a hospital's 80,000 patients need not be
        counted exactly to know it is a supernode.
        """
        out = []
        for kind, direction in _kinds_for(ref.label):
            me, other = ("a", "b") if direction == "out" else ("b", "a")
            time = _time_clause(since, until) if kind.folded else ""
            cypher = (
                f"{_anchored(kind, me, ref.label)} WHERE true{time} "
                f"WITH DISTINCT {other} LIMIT $cap RETURN count({other}) AS n"
            )
            params = {"key": ref.key, "since": since, "until": until, "cap": self.count_cap}
            n = int(self.store.read(cypher, params, timeout_ms=self.timeout_ms).scalar() or 0)
            if n:
                other_label = kind.b if direction == "out" else kind.a
                out.append(Expansion(kind.name, direction, other_label, n, capped=n >= self.count_cap))
        return out

    def neighbours(
        self,
        ref: Ref,
        kind_name: str,
        direction: str,
        *,
        exclude: list[Ref] | None = None,
        limit: int | None = None,
        since: int | None = None,
        until: int | None = None,
    ) -> list[Ref]:
        """The node's neighbours along one link kind, most claims first, skipping ``exclude``."""
        kind = LINK_KIND_BY_NAME[kind_name]
        me, other = ("a", "b") if direction == "out" else ("b", "a")
        other_label = kind.b if direction == "out" else kind.a
        ok = key_of(other_label)
        excluded = [r.key for r in (exclude or []) if r.label == other_label]
        time = _time_clause(since, until) if kind.folded else ""
        weight = "count(c)" if kind.folded else "count(*)"
        # exclusion after the aggregation: a filter on the far end next to the pattern
        # makes FalkorDB's planner scan that end's whole label instead of walking from the node
        cypher = (
            f"{_anchored(kind, me, ref.label)} WHERE true{time} "
            f"WITH {other}.{ok} AS k, {weight} AS n WHERE NOT k IN $exclude "
            f"RETURN k, n ORDER BY n DESC, k LIMIT $limit"
        )
        params = {
            "key": ref.key,
            "exclude": excluded,
            "limit": limit or self.expand_cap,
            "since": since,
            "until": until,
        }
        return [Ref(other_label, str(rec["k"])) for rec in self._read(cypher, params)]

    # -- details --------------------------------------------------------------------
    def entity(self, ref: Ref) -> dict[str, Any] | None:
        """An entity's masked properties, label and cluster memberships (with their signals)."""
        key = key_of(ref.label)
        recs = self._read(f"MATCH (n:{ref.label} {{{key}: $key}}) RETURN n", {"key": ref.key})
        if not recs:
            return None
        props = recs[0]["n"].properties
        memberships = []
        for rec in self._read(
            f"MATCH (c:Cluster)-[m:HAS_MEMBER]->(n:{ref.label} {{{key}: $key}}) "
            "WHERE m.run_id IS NULL OR m.run_id = c.run_id "
            "RETURN c, m.role AS role ORDER BY c.score DESC",
            {"key": ref.key},
        ):
            cp = dict(rec["c"].properties)
            try:
                signals = json.loads(cp.get("signals") or "[]")
            except (TypeError, json.JSONDecodeError):
                signals = []
            memberships.append(
                {
                    "cluster_id": cp.get("cluster_id"),
                    "score": cp.get("score"),
                    "typologies": cp.get("typologies") or [],
                    "role": rec["role"],
                    "signals": signals,
                    "explanation_zh": cp.get("explanation_zh"),
                    "explanation_en": cp.get("explanation_en"),
                }
            )
        return {
            "label": ref.label,
            "display": display_label(ref.label, props),
            "properties": property_rows(ref.label, props),
            "memberships": memberships,
        }

    def timeline(
        self, ref: Ref, *, since: int | None = None, until: int | None = None, cap: int = 1000
    ) -> dict[str, Any]:
        """The entity's claims over time: each claim when there are few, daily totals otherwise."""
        rel = CLAIM_REL.get(ref.label)
        if rel is None:
            return {"mode": "none", "points": [], "total": 0}
        arrow = f"(n:{ref.label} {{{key_of(ref.label)}: $key}})<-[:{rel}]-(c:Claim)"
        params = {"key": ref.key, "since": since, "until": until}
        time = _time_clause(since, until)
        total = int(self.store.read(f"MATCH {arrow} WHERE true{time} RETURN count(c)", params).scalar() or 0)
        if total <= cap:
            recs = self._read(
                f"MATCH {arrow} WHERE true{time} "
                "RETURN c.claim_id AS claim_id, c.time_ts AS ts, c.total_amount AS amount, c.visit_type AS visit "
                "ORDER BY ts",
                params,
            )
            points = [
                {
                    "claim_id": r["claim_id"],
                    "time": datetime.fromtimestamp(r["ts"], SHANGHAI).isoformat(timespec="minutes"),
                    "amount": r["amount"],
                    "visit": r["visit"],
                }
                for r in recs
                if r["ts"] is not None
            ]
            return {"mode": "claims", "points": points, "total": total}
        recs = self._read(
            f"MATCH {arrow} WHERE true{time} "
            "WITH toInteger((c.time_ts + 28800) / 86400) AS day, c "
            "RETURN day, count(c) AS n, sum(c.total_amount) AS amount ORDER BY day",
            params,
        )
        points = [
            {
                "day": (datetime(1970, 1, 1) + timedelta(days=int(r["day"]))).date().isoformat(),
                "n": r["n"],
                "amount": r["amount"],
            }
            for r in recs
        ]
        return {"mode": "daily", "points": points, "total": total}

    def link_claims(
        self, kind_name: str, a: Ref, b: Ref, *, since: int | None = None, until: int | None = None
    ) -> dict[str, Any]:
        """Unfold one folded link into its claims (the first ``claims_cap``), with totals."""
        kind = LINK_KIND_BY_NAME[kind_name]
        if not kind.folded:
            return {"rows": [], "count": 0, "amount": 0.0}
        rest = kind.pattern.replace(f"(a:{kind.a})", "(a)", 1)
        match = f"MATCH (a:{kind.a} {{{key_of(kind.a)}: $a}}) MATCH {rest}"
        where = f"b.{key_of(kind.b)} = $b{_time_clause(since, until)}"
        params = {"a": a.key, "b": b.key, "since": since, "until": until, "cap": self.claims_cap}
        totals = self._read(
            f"{match} WHERE {where} "
            "RETURN count(c) AS n, sum(c.total_amount) AS amount, min(c.time_ts) AS t0, max(c.time_ts) AS t1",
            params,
        )[0]
        recs = self._read(
            f"{match} WHERE {where} "
            "WITH c ORDER BY c.time_ts LIMIT $cap "
            "OPTIONAL MATCH (c)-[:AT_FACILITY]->(f:Facility) "
            "OPTIONAL MATCH (c)-[:BY_DOCTOR]->(d:Doctor) "
            "RETURN c, f.name AS facility, d.name AS doctor ORDER BY c.time_ts LIMIT $cap",
            params,
        )
        rows = []
        for rec in recs:
            p = rec["c"].properties
            rows.append(
                {
                    "claim_id": p.get("claim_id"),
                    "time": (p.get("time") or "")[:16].replace("T", " "),
                    "visit_type": p.get("visit_type"),
                    "total_amount": p.get("total_amount"),
                    "fund_paid": p.get("fund_paid"),
                    "diagnosis_name": p.get("diagnosis_name"),
                    "department": p.get("department"),
                    "facility": rec["facility"],
                    "doctor": rec["doctor"],
                }
            )
        return {
            "rows": rows,
            "count": int(totals["n"] or 0),
            "amount": float(totals["amount"] or 0.0),
            "date_from": _ts_to_date(totals["t0"]),
            "date_to": _ts_to_date(totals["t1"]),
        }

    # -- search ---------------------------------------------------------------------
    def search(self, text: str, limit: int = 20) -> list[SearchHit]:
        """Find entities by resident ID, phone, card, facility code/name, doctor code/name or claim id.

        Resident IDs, card numbers and phones are not in the graph: the typed
        value is normalised and hashed with the same key as the loader's, and
        the pseudonym is looked up (``identities.search_pseudonyms``).
        """
        value = (text or "").strip()
        if not value:
            return []
        compact = re.sub(r"[\s\-()]", "", value)
        upper = compact.upper()
        hits: dict[Ref, SearchHit] = {}

        def add(label: str, props: dict[str, Any], matched_by: str) -> None:
            ref = Ref(label, str(props.get(key_of(label))))
            if ref not in hits:
                hits[ref] = SearchHit(ref, display_label(label, props), matched_by)

        matched_by = {"Patient": "id_raw", "Card": "card_id", "Phone": "number"}
        exact = [
            (label, key_of(label), key, matched_by[label]) for label, key in search_pseudonyms(value, self.settings)
        ]
        exact += [
            ("Facility", "code", upper, "code"),
            ("Doctor", "code", upper, "code"),
            ("Doctor", "name", value, "name"),
        ]
        for label, prop, v, matched in exact:
            for rec in self._read(
                f"MATCH (n:{label}) WHERE n.{prop} = $v RETURN n LIMIT $limit", {"v": v, "limit": limit}
            ):
                add(label, rec["n"].properties, matched)
        if len(value) >= 2 and not compact.isdigit():
            for rec in self._read(
                "MATCH (f:Facility) WHERE f.name CONTAINS $v RETURN f LIMIT $limit", {"v": value, "limit": limit}
            ):
                add("Facility", rec["f"].properties, "name")
        for hit in self._claim_hits(upper):
            hits.setdefault(hit.ref, hit)
        return list(hits.values())[:limit]

    def _claim_hits(self, claim_id: str) -> list[SearchHit]:
        recs = self._read(
            "MATCH (c:Claim {claim_id: $id}) "
            "OPTIONAL MATCH (c)-[:BY_PATIENT]->(p:Patient) OPTIONAL MATCH (c)-[:WITH_CARD]->(k:Card) "
            "OPTIONAL MATCH (c)-[:AT_FACILITY]->(f:Facility) OPTIONAL MATCH (c)-[:BY_DOCTOR]->(d:Doctor) "
            "RETURN c, p.pid AS pid, k.card_id AS card, f.code AS facility, d.code AS doctor, f.name AS fname",
            {"id": claim_id},
        )
        hits = []
        for rec in recs:
            refs = [
                Ref(label, str(rec[col]))
                for label, col in (("Patient", "pid"), ("Card", "card"), ("Facility", "facility"), ("Doctor", "doctor"))
                if rec[col] is not None
            ]
            props = rec["c"].properties
            hit = SearchHit(Ref("Claim", claim_id), claim_id, "claim_id", extra=str(rec["fname"] or ""))
            hit.extra = f"{(props.get('time') or '')[:10]} ¥{props.get('total_amount', 0):,.2f} {rec['fname'] or ''}"
            hit.claim_refs = refs
            hits.append(hit)
        return hits

    # -- query results ----------------------------------------------------------------
    def refs_in_result(self, columns: list[str], rows: list[list[Any]]) -> list[Ref]:
        """Entities in a query result: node values, plus key columns (``phone``, ``card_id``, ``pid``, …)."""
        refs = self.refs_in_values([v for row in rows for v in row])
        for i, column in enumerate(columns):
            label = KEY_COLUMNS.get(column.rsplit(".", 1)[-1].lower())
            if label:
                refs += [Ref(label, str(row[i])) for row in rows if isinstance(row[i], (str, int))]
        return list(dict.fromkeys(refs))

    def refs_in_values(self, values: list[Any]) -> list[Ref]:
        """Entities (nodes of canvas labels) found in query-result values, paths and lists included."""
        out: dict[Ref, None] = {}

        def visit(v: Any) -> None:
            if isinstance(v, Node):
                label = next((lb for lb in v.labels if lb in CANVAS_LABELS), None)
                if label and v.properties.get(key_of(label)) is not None:
                    out[Ref(label, str(v.properties[key_of(label)]))] = None
            elif isinstance(v, Path):
                for n in v.nodes:
                    visit(n)
            elif isinstance(v, (list, tuple)):
                for x in v:
                    visit(x)
            elif isinstance(v, dict):
                for x in v.values():
                    visit(x)
            elif isinstance(v, Relationship):
                return

        for v in values:
            visit(v)
        return list(out)


def _by_label(refs: list[Ref]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in refs:
        out.setdefault(r.label, []).append(r.key)
    return out


def _anchored(kind: LinkKind, side: str, label: str) -> str:
    """``MATCH`` clauses that start at the node ``side`` ('a' or 'b') found by its key ``$key``.

    Written as two clauses so every store starts from the one known node: with
    a single pattern and ``NOT x IN $exclude`` on the other end, FalkorDB may
    scan every person to find a doctor's patients.
    """
    rest = kind.pattern.replace(f"({side}:{label})", f"({side})", 1)
    return f"MATCH ({side}:{label} {{{key_of(label)}: $key}}) MATCH {rest}"


def _kinds_for(label: str) -> list[tuple[LinkKind, str]]:
    """Link kinds touching ``label``, with the side it is on ('out' = a-side)."""
    out = []
    for kind in LINK_KINDS:
        if kind.a == label:
            out.append((kind, "out"))
        if kind.b == label:
            out.append((kind, "in"))
    return out
