"""Rectifications and sanctions on facilities and persons, and the repeat offenders they reveal.

A ``Sanction`` node records what was imposed on a facility, patient or doctor
— a rectification order (整改) with its period, a penalty, a suspension, a
blacklisting… — linked by ``SANCTIONED`` (docs/graph-contract.md).

**屡查屡犯 (repeat offender).** The seeds ask the weekly screening to say what
"came back after a rectification period". An entity is a repeat offender when
a detection run that *started after* a sanction's reference date — the end of
the rectification period (``until_ts``) when there is one, else the date it
was imposed (``from_ts``) — found a cluster that contains it (as a member, or
for a facility, in the cluster's ``facilities``) *and* whose claims reach past
that date (``date_to`` on or after it). Re-finding only the old claims is not a
relapse; new activity after the rectification is.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ringsight.cases import audit
from ringsight.cases.roles import Permission, Principal, require
from ringsight.errors import RingSightError
from ringsight.graph.model import CASE, CLUSTER, NODE_TYPE_BY_LABEL, REL_TYPE_BY_NAME, SANCTION
from ringsight.graph.store import GraphStore, Node

TZ = ZoneInfo("Asia/Shanghai")
SANCTION_KINDS: dict[str, str] = {
    "rectification": "责令整改",
    "warning": "约谈/警告",
    "recovery": "追回医保基金",
    "penalty": "罚款",
    "suspension": "暂停医保结算/支付资格",
    "agreement_terminated": "解除医保服务协议",
    "blacklist": "列入黑名单",
    "points": "医保医师记分",
}
SANCTION_LABELS: tuple[str, ...] = tuple(REL_TYPE_BY_NAME["SANCTIONED"].end)
REPEAT_LABEL_ZH = "屡查屡犯"


def _flagged_member_query(label: str) -> str:
    """Clusters containing the entity, found by a done run that started after $ref."""
    nt = NODE_TYPE_BY_LABEL[label]
    return (
        f"MATCH (r:Run {{status: 'done'}})-[:FOUND]->(c:{CLUSTER.label})"
        f"-[m:HAS_MEMBER]->(e:{nt.label} {{{nt.key}: $key}}) WHERE r.started_ts > $ref "
        "AND (m.run_id IS NULL OR m.run_id = c.run_id) "
        "RETURN DISTINCT c.cluster_id AS cluster_id, c.date_to AS date_to, "
        "r.run_id AS run_id, r.started_ts AS started_ts"
    )


_FLAGGED_FACILITY = f"""
MATCH (r:Run {{status: 'done'}})-[:FOUND]->(c:{CLUSTER.label})
WHERE r.started_ts > $ref AND $key IN coalesce(c.facilities, [])
RETURN DISTINCT c.cluster_id AS cluster_id, c.date_to AS date_to, r.run_id AS run_id, r.started_ts AS started_ts
"""


class SanctionError(RingSightError):
    """A sanction cannot be recorded as asked."""

    exit_code = 2


def _iso_date(ts: int | None) -> str | None:
    return datetime.fromtimestamp(ts, tz=UTC).astimezone(TZ).date().isoformat() if ts else None


@dataclass(frozen=True)
class Sanction:
    """One rectification or sanction."""

    sanction_id: str
    kind: str
    target_label: str
    target_key: str
    from_ts: int
    until_ts: int | None = None
    note: str | None = None
    amount: float | None = None
    case_id: str | None = None
    created_by: str | None = None
    created_ts: int | None = None

    @classmethod
    def from_props(cls, p: dict[str, Any]) -> Sanction:
        return cls(**{k: p.get(k) for k in cls.__dataclass_fields__})

    @property
    def reference_ts(self) -> int:
        """From when a new flag counts as a relapse: the end of the rectification period, else the start."""
        return int(self.until_ts or self.from_ts)

    @property
    def kind_zh(self) -> str:
        return SANCTION_KINDS.get(self.kind, self.kind)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(kind_zh=self.kind_zh, from_date=_iso_date(self.from_ts), until_date=_iso_date(self.until_ts))
        return d


@dataclass(frozen=True)
class RepeatStatus:
    """Whether an entity was flagged again after a rectification or sanction, and the evidence."""

    label: str
    key: str
    repeat: bool
    sanctions: tuple[Sanction, ...] = ()
    reflagged: tuple[dict[str, Any], ...] = field(default=())

    @property
    def label_zh(self) -> str | None:
        """``屡查屡犯`` when a repeat offender, else None."""
        return REPEAT_LABEL_ZH if self.repeat else None

    @property
    def explanation_zh(self) -> str:
        """One sentence for the queue and the case."""
        if not self.repeat:
            return "无整改或处罚后再次被筛查发现的记录"
        first = self.reflagged[0]
        s = next(x for x in self.sanctions if x.sanction_id == first["sanction_id"])
        period = f"（整改期至 {_iso_date(s.until_ts)}）" if s.until_ts else ""
        return (
            f"{REPEAT_LABEL_ZH}：{_iso_date(s.from_ts)} {s.kind_zh}{period}后，"
            f"{_iso_date(first['started_ts'])} 的筛查（{first['run_id']}）再次发现其在团伙 {first['cluster_id']} 中"
            f"（数据截至 {first.get('date_to') or '未知'}）。"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "key": self.key,
            "repeat": self.repeat,
            "label_zh": self.label_zh,
            "explanation_zh": self.explanation_zh,
            "sanctions": [s.as_dict() for s in self.sanctions],
            "reflagged": list(self.reflagged),
        }


def _target(entity: Any) -> tuple[str, str]:
    """(label, key) from a ``(label, key)`` pair, a Node, or a dict with ``label`` and ``key``."""
    if isinstance(entity, Node):
        label = next((lb for lb in entity.labels if lb in NODE_TYPE_BY_LABEL), entity.label)
        return label, str(entity.properties[NODE_TYPE_BY_LABEL[label].key])
    if isinstance(entity, dict):
        return str(entity["label"]), str(entity["key"])
    label, key = entity
    return str(label), str(key)


def add_sanction(
    store: GraphStore,
    user: Principal,
    target_label: str,
    target_key: str,
    kind: str,
    from_ts: int,
    *,
    until_ts: int | None = None,
    note: str | None = None,
    amount: float | None = None,
    case_id: str | None = None,
) -> Sanction:
    """Record a rectification or sanction on a facility, patient or doctor (``sanction.add``); audited."""
    require(user, Permission.SANCTION_ADD)
    if target_label not in SANCTION_LABELS:
        raise SanctionError(f"Sanctions apply to {', '.join(SANCTION_LABELS)}, not {target_label}.", "Pick one.")
    if kind not in SANCTION_KINDS:
        raise SanctionError(f"'{kind}' is not a sanction kind.", f"Kinds: {', '.join(SANCTION_KINDS)}.")
    if until_ts is not None and until_ts < from_ts:
        raise SanctionError("The sanction ends before it starts.", "Check the dates.")
    nt = NODE_TYPE_BY_LABEL[target_label]
    now = int(time.time())
    props = {
        "sanction_id": f"S{time.time_ns() // 1000:016d}-{uuid.uuid4().hex[:6]}",
        "kind": kind,
        "target_label": target_label,
        "target_key": str(target_key),
        "from_ts": int(from_ts),
        "until_ts": int(until_ts) if until_ts is not None else None,
        "note": note,
        "amount": amount,
        "case_id": case_id,
        "created_by": user.username,
        "created_ts": now,
    }
    props = {k: v for k, v in props.items() if v is not None}
    if (
        case_id
        and store.read(f"MATCH (k:{CASE.label} {{case_id: $id}}) RETURN k.case_id", {"id": case_id}).scalar() is None
    ):
        raise SanctionError(f"There is no case {case_id}.", "Check the case id, or leave it out.")
    created = store.write(
        f"MATCH (e:{nt.label} {{{nt.key}: $key}}) CREATE (s:{SANCTION.label}) SET s = $props "
        "CREATE (s)-[:SANCTIONED]->(e) RETURN s.sanction_id",
        {"key": str(target_key), "props": props},
    ).scalar()
    if created is None:
        raise SanctionError(f"{target_label} {target_key} is not in the graph.", "Check the code or key.")
    audit.record(store, user=user.username, action="sanction.add", target=f"{target_label}:{target_key}", after=props)
    return Sanction.from_props(props)


def list_sanctions(store: GraphStore, label: str | None = None, key: str | None = None) -> list[Sanction]:
    """Sanctions, optionally on one target, oldest first."""
    where, params = [], {}
    if label:
        where.append("s.target_label = $label")
        params["label"] = label
    if key is not None:
        where.append("s.target_key = $key")
        params["key"] = str(key)
    clause = f"WHERE {' AND '.join(where)} " if where else ""
    nodes = store.read(f"MATCH (s:{SANCTION.label}) {clause}RETURN s ORDER BY s.from_ts, s.sanction_id", params)
    return [Sanction.from_props(n.properties) for n in nodes.column("s")]


def repeat_offender_status(store: GraphStore, entity: Any) -> RepeatStatus:
    """Whether ``entity`` — ``(label, key)``, a Node, or ``{"label", "key"}`` — was flagged again after a sanction.

    See the module docstring for the rule. ``reflagged`` lists each later
    cluster with the run that found it and the sanction it follows.
    """
    label, key = _target(entity)
    sanctions = tuple(list_sanctions(store, label, key)) if label in SANCTION_LABELS else ()
    reflagged: list[dict[str, Any]] = []
    seen: set[str] = set()
    for s in sanctions:
        ref_date = _iso_date(s.reference_ts) or ""
        queries = [_flagged_member_query(label)]
        if label == "Facility":
            queries.append(_FLAGGED_FACILITY)
        for cypher in queries:
            for row in store.read(cypher, {"key": key, "ref": s.reference_ts}).records():
                date_to = row["date_to"]
                if date_to and str(date_to)[:10] < ref_date:
                    continue  # the run re-found only activity from before the sanction
                if row["cluster_id"] in seen:
                    continue
                seen.add(row["cluster_id"])
                reflagged.append({**row, "sanction_id": s.sanction_id, "sanction_kind": s.kind})
    reflagged.sort(key=lambda r: r["started_ts"] or 0)
    return RepeatStatus(label, key, bool(reflagged), sanctions, tuple(reflagged))


def repeat_offenders(store: GraphStore, entities: Iterable[Any]) -> list[RepeatStatus]:
    """:func:`repeat_offender_status` for many entities, keeping only the repeat offenders."""
    out = []
    for entity in entities:
        label, _ = _target(entity)
        if label in SANCTION_LABELS:
            status = repeat_offender_status(store, entity)
            if status.repeat:
                out.append(status)
    return out


def repeat_offender_clusters(store: GraphStore, cluster_ids: Iterable[str]) -> dict[str, list[RepeatStatus]]:
    """For the clusters of a queue: which of their members (or facilities) are repeat offenders.

    Only sanctioned entities are examined, so this costs one query per
    sanctioned member, not per cluster member.
    """
    ids = [str(c) for c in cluster_ids]
    rows = store.read(
        f"MATCH (s:{SANCTION.label})-[:SANCTIONED]->(e) "
        f"MATCH (c:{CLUSTER.label})-[m:HAS_MEMBER]->(e) WHERE c.cluster_id IN $ids "
        "AND (m.run_id IS NULL OR m.run_id = c.run_id) "
        "RETURN DISTINCT c.cluster_id AS cluster_id, s.target_label AS label, s.target_key AS key",
        {"ids": ids},
    ).records()
    rows += store.read(
        f"MATCH (s:{SANCTION.label})-[:SANCTIONED]->(f:Facility) MATCH (c:{CLUSTER.label}) "
        "WHERE c.cluster_id IN $ids AND f.code IN coalesce(c.facilities, []) "
        "RETURN DISTINCT c.cluster_id AS cluster_id, 'Facility' AS label, f.code AS key",
        {"ids": ids},
    ).records()
    cache: dict[tuple[str, str], RepeatStatus] = {}
    out: dict[str, list[RepeatStatus]] = {}
    for row in rows:
        target = (row["label"], row["key"])
        if target not in cache:
            cache[target] = repeat_offender_status(store, target)
        status = cache[target]
        if status.repeat and row["cluster_id"] in {r["cluster_id"] for r in status.reflagged}:
            bucket = out.setdefault(row["cluster_id"], [])
            if status not in bucket:
                bucket.append(status)
    return out


def case_repeat_offenders(store: GraphStore, case_id: str) -> list[RepeatStatus]:
    """The repeat offenders among what a case covers: its entities, its clusters' members and facilities."""
    rows = store.read(
        f"MATCH (k:{CASE.label} {{case_id: $id}})-[:COVERS]->(x) "
        f"OPTIONAL MATCH (x)-[h:HAS_MEMBER]->(m) WHERE h.run_id IS NULL OR h.run_id = x.run_id "
        "RETURN labels(x)[0] AS xl, x.code AS xcode, x.pid AS xpid, x.facilities AS facs, "
        "labels(m)[0] AS ml, m.code AS mcode, m.pid AS mpid",
        {"id": case_id},
    ).records()
    targets: set[tuple[str, str]] = set()
    for r in rows:
        for label, code, pid in ((r["xl"], r["xcode"], r["xpid"]), (r["ml"], r["mcode"], r["mpid"])):
            key = pid if label == "Patient" else code
            if label in SANCTION_LABELS and key:
                targets.add((label, str(key)))
        targets.update(("Facility", str(f)) for f in r["facs"] or [])
    return repeat_offenders(store, sorted(targets))
