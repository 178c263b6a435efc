"""The case workflow: 初审 → 复审 → 申诉 → 调查核实 → 处理 → closed, with deadlines and versioned edits.

The path is the one the national rules for intelligent review give a suspect
(智能审核和监控知识库、规则库管理办法, 2022; DOMAIN.md, "The workflow the rules
prescribe"): first review, second review, the facility's appeal, investigation,
handling. Each state has a deadline (``cases.deadline_days``, calendar days
from entering the state); a case past it is *overdue*.

**Versioned edits.** Every change names the ``version`` the editor saw. The
change is applied by one Cypher statement that takes the node's write lock
(``SET c._lock = true`` — Neo4j's documented way to lock before reading; on
FalkorDB every write query runs alone), compares ``version``, applies the
change only when they match, and reports whether it did; the audit entry
(in the application database, :mod:`ringsight.cases.audit`) is appended right
after the change commits. Two people editing the same version: one wins, the other gets
:class:`CaseConflict` naming who changed the case and when — nothing is lost
silently. Additive changes (evidence, coverage) re-read and retry instead.

A case's ``history`` (JSON text) keeps every step with who, when, from, to,
the note and the outcome — the 全过程记录 a referral needs.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ringsight.cases import audit
from ringsight.cases.roles import Permission, Principal, can, require
from ringsight.config import Settings, get_settings
from ringsight.errors import RingSightError
from ringsight.graph.model import CASE, NODE_TYPE_BY_LABEL, REL_TYPE_BY_NAME
from ringsight.graph.store import GraphStore

TZ = ZoneInfo("Asia/Shanghai")
CLOSED = "closed"
STATES: tuple[str, ...] = ("初审", "复审", "申诉", "调查核实", "处理", CLOSED)
STATE_NAMES_EN = {
    "初审": "first review",
    "复审": "second review",
    "申诉": "appeal",
    "调查核实": "investigation",
    "处理": "handling",
    CLOSED: "closed",
}
STATE_NAMES_ZH = {**{s: s for s in STATES}, CLOSED: "结案"}

# Allowed moves. Back-steps (复审 → 初审) and reopening (closed → 调查核实) need a note.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "初审": ("复审", CLOSED),
    "复审": ("申诉", "调查核实", "初审", CLOSED),
    "申诉": ("调查核实", CLOSED),
    "调查核实": ("处理", CLOSED),
    "处理": (CLOSED,),
    CLOSED: ("调查核实",),
}
_BACK_STEPS = {("复审", "初审"), (CLOSED, "调查核实")}

OUTCOMES: dict[str, str] = {
    "dismissed": "不予处理（排除疑点）",
    "recovered": "追回医保基金",
    "penalty": "罚款",
    "suspension": "暂停医保结算/服务",
    "agreement_terminated": "解除医保服务协议",
    "blacklisted": "列入黑名单",
    "referred_police": "移送公安机关（行刑衔接）",
    "referred_discipline": "移送纪检监察机关（行纪衔接）",
    "referred_health": "移送卫生健康部门",
}
REFERRAL_OUTCOMES = ("referred_police", "referred_discipline", "referred_health")
APPEAL_OUTCOMES: dict[str, str] = {
    "upheld": "申诉成立",
    "partly_upheld": "申诉部分成立",
    "rejected": "申诉不成立",
    "withdrawn": "撤回申诉",
}
# What a case may cover: clusters and the entity labels (model.COVERS).
COVER_LABELS: tuple[str, ...] = tuple(REL_TYPE_BY_NAME["COVERS"].end)

_CAS = f"""
MATCH (c:{CASE.label} {{case_id: $case_id}})
SET c._lock = true
WITH c, c.version = $expected AS ok
SET c += CASE WHEN ok THEN $changes ELSE {{}} END
SET c._lock = null
RETURN ok, c.version AS version
"""


class CaseError(RingSightError):
    """A case change cannot be made as asked."""


class CaseNotFound(CaseError):
    """No case with that id."""


class CaseConflict(CaseError):
    """Someone else changed the case since the editor loaded it (a stale version)."""

    def __init__(self, message: str, hint: str | None = None, *, current_version: int, changed_by: str | None) -> None:
        super().__init__(message, hint)
        self.current_version = current_version
        self.changed_by = changed_by


def _iso(ts: int | None) -> str | None:
    return datetime.fromtimestamp(ts, tz=UTC).astimezone(TZ).isoformat(timespec="seconds") if ts else None


@dataclass(frozen=True)
class Case:
    """A case as stored, with its JSON fields decoded."""

    case_id: str
    title: str
    state: str
    version: int
    created_ts: int
    updated_ts: int
    created_by: str = ""
    assignee: str | None = None
    state_since_ts: int | None = None
    deadline_ts: int | None = None
    summary: str | None = None
    outcome: tuple[str, ...] = ()
    amount_recovered: float | None = None
    penalty: float | None = None
    basis: str | None = None
    appeal_outcome: str | None = None
    referral: dict[str, Any] = field(default_factory=dict)
    evidence: tuple[dict[str, Any], ...] = ()
    history: tuple[dict[str, Any], ...] = ()

    @classmethod
    def from_props(cls, p: dict[str, Any]) -> Case:
        return cls(
            case_id=p["case_id"],
            title=p.get("title") or "",
            state=p.get("state") or STATES[0],
            version=int(p.get("version") or 0),
            created_ts=int(p.get("created_ts") or 0),
            updated_ts=int(p.get("updated_ts") or 0),
            created_by=p.get("created_by") or "",
            assignee=p.get("assignee"),
            state_since_ts=p.get("state_since_ts"),
            deadline_ts=p.get("deadline_ts"),
            summary=p.get("summary"),
            outcome=tuple(p.get("outcome") or ()),
            amount_recovered=p.get("amount_recovered"),
            penalty=p.get("penalty"),
            basis=p.get("basis"),
            appeal_outcome=p.get("appeal_outcome"),
            referral=json.loads(p.get("referral") or "{}"),
            evidence=tuple(json.loads(p.get("evidence") or "[]")),
            history=tuple(json.loads(p.get("history") or "[]")),
        )

    def is_overdue(self, now: float | None = None) -> bool:
        """True when the case is open and past its current step's deadline."""
        now = time.time() if now is None else now
        return self.state != CLOSED and self.deadline_ts is not None and now > self.deadline_ts

    def days_left(self, now: float | None = None) -> float | None:
        """Days until the current step's deadline (negative when overdue; None when closed)."""
        if self.state == CLOSED or self.deadline_ts is None:
            return None
        now = time.time() if now is None else now
        return round((self.deadline_ts - now) / 86400, 1)

    @property
    def outcome_labels(self) -> list[str]:
        """The outcomes in Chinese, for display."""
        return [OUTCOMES.get(o, o) for o in self.outcome]

    def as_dict(self, now: float | None = None) -> dict[str, Any]:
        """Plain values for JSON and tables, with ISO times, overdue and days left."""
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d.update(
            outcome=list(self.outcome),
            evidence=list(self.evidence),
            history=list(self.history),
            created=_iso(self.created_ts),
            updated=_iso(self.updated_ts),
            deadline=_iso(self.deadline_ts),
            overdue=self.is_overdue(now),
            days_left=self.days_left(now),
            outcome_labels=self.outcome_labels,
        )
        return d


# --- reading -------------------------------------------------------------------
def get_case(store: GraphStore, case_id: str) -> Case:
    """The case, or :class:`CaseNotFound`."""
    node = store.read(f"MATCH (c:{CASE.label} {{case_id: $id}}) RETURN c", {"id": case_id}).scalar()
    if node is None:
        raise CaseNotFound(f"There is no case {case_id}.", "List the cases with `ringsight case list`.")
    return Case.from_props(node.properties)


def list_cases(
    store: GraphStore,
    *,
    state: str | None = None,
    assignee: str | None = None,
    open_only: bool = False,
    overdue_only: bool = False,
    now: float | None = None,
    limit: int = 1000,
) -> list[Case]:
    """Cases, most urgent first (earliest deadline; closed cases last)."""
    where, params = [], {"limit": limit}
    if state:
        where.append("c.state = $state")
        params["state"] = state
    if assignee:
        where.append("c.assignee = $assignee")
        params["assignee"] = assignee
    if open_only or overdue_only:
        where.append("c.state <> $closed")
        params["closed"] = CLOSED
    clause = f"WHERE {' AND '.join(where)} " if where else ""
    nodes = store.read(f"MATCH (c:{CASE.label}) {clause}RETURN c LIMIT $limit", params).column("c")
    cases = [Case.from_props(n.properties) for n in nodes]
    if overdue_only:
        cases = [c for c in cases if c.is_overdue(now)]
    return sorted(cases, key=lambda c: (c.state == CLOSED, c.deadline_ts or 2**62, c.case_id))


def overdue_cases(store: GraphStore, now: float | None = None) -> list[Case]:
    """Open cases past their step's deadline (the queue's 'overdue' list)."""
    return list_cases(store, overdue_only=True, now=now)


def case_targets(store: GraphStore, case_id: str) -> list[dict[str, Any]]:
    """What a case covers: ``{"label", "key", "properties"}`` per cluster or entity."""
    rows = store.read(f"MATCH (c:{CASE.label} {{case_id: $id}})-[:COVERS]->(e) RETURN e", {"id": case_id}).column("e")
    out = []
    for node in rows:
        label = next((lb for lb in node.labels if lb in NODE_TYPE_BY_LABEL), node.label)
        out.append(
            {"label": label, "key": node.properties.get(NODE_TYPE_BY_LABEL[label].key), "properties": node.properties}
        )
    return out


def cases_covering(store: GraphStore, label: str, key: str) -> list[Case]:
    """The cases that cover a cluster or entity (to say 'already in case K…' in the queue)."""
    nt = _node_type(label)
    cypher = f"MATCH (c:{CASE.label})-[:COVERS]->(e:{nt.label} {{{nt.key}: $key}}) RETURN c"
    return [Case.from_props(n.properties) for n in store.read(cypher, {"key": key}).column("c")]


# --- helpers ----------------------------------------------------------------------
def _node_type(label: str):  # type: ignore[no-untyped-def]
    if label not in COVER_LABELS:
        raise CaseError(f"A case cannot cover a '{label}'.", f"Cover one of: {', '.join(COVER_LABELS)}.")
    return NODE_TYPE_BY_LABEL[label]


def _deadline(state: str, since: int, settings: Settings) -> int | None:
    if state == CLOSED:
        return None
    days = settings.cases.deadline_days.get(state)
    return since + int(days) * 86400 if days is not None else None


def _event(user: Principal, action: str, now: int, **details: Any) -> dict[str, Any]:
    ev = {"ts": now, "time": _iso(now), "user": user.username, "action": action}
    ev.update({k: v for k, v in details.items() if v not in (None, "", [], ())})
    return ev


def _conflict(store: GraphStore, case_id: str, expected: int) -> CaseConflict:
    current = get_case(store, case_id)
    last = current.history[-1] if current.history else {}
    who, when, what = last.get("user"), last.get("time"), last.get("action")
    return CaseConflict(
        f"Case {case_id} was changed by {who or 'someone'} at {when or 'an unknown time'} ({what or 'an edit'}) "
        f"after you opened it: you edited version {expected}, it is now version {current.version}. "
        "Your change was not saved.",
        "Reload the case, look at their change, then apply yours again.",
        current_version=current.version,
        changed_by=who,
    )


def _commit(
    store: GraphStore,
    user: Principal,
    case: Case,
    expected_version: int,
    changes: dict[str, Any],
    event: dict[str, Any],
    action: str,
) -> Case:
    """Apply ``changes`` if the case is still at ``expected_version``, then append the audit entry.

    The case's own ``history`` is written in the same statement as the change;
    the audit entry goes to the application database once the change has
    committed (a change refused as stale is not audited).
    """
    if case.version != expected_version:
        raise _conflict(store, case.case_id, expected_version)
    now = event["ts"]
    event["version"] = expected_version + 1
    history = [*case.history, event]
    full = {
        **changes,
        "version": expected_version + 1,
        "updated_ts": now,
        "history": json.dumps(history, ensure_ascii=False),
    }
    before_props = case.as_dict()
    before = {k: before_props.get(k) for k in changes if k in before_props}
    before["version"] = case.version
    after = {k: v for k, v in changes.items()}
    after["version"] = expected_version + 1
    row = store.write(_CAS, {"case_id": case.case_id, "expected": expected_version, "changes": full}).records()
    if not row:
        raise CaseNotFound(f"There is no case {case.case_id}.", "It may have been removed; reload the list.")
    if not row[0]["ok"]:
        raise _conflict(store, case.case_id, expected_version)
    audit.record(store, user=user.username, action=action, target=f"Case:{case.case_id}", before=before, after=after)
    return get_case(store, case.case_id)


def _retrying(store: GraphStore, user: Principal, case_id: str, build, action: str, tries: int = 5) -> Case:  # type: ignore[no-untyped-def]
    """Apply an additive change on the latest version, re-reading after a concurrent edit."""
    for attempt in range(tries):
        case = get_case(store, case_id)
        changes, event = build(case)
        try:
            return _commit(store, user, case, case.version, changes, event, action)
        except CaseConflict:
            if attempt == tries - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def _check_assignee(store: GraphStore, username: str) -> str:
    from ringsight.cases.accounts import get_user

    assignee = get_user(store, username)
    if assignee is None:
        raise CaseError(f"There is no user '{username}' to assign.", "List the users with `ringsight users list`.")
    if not can(assignee, Permission.CASE_EDIT):
        raise CaseError(
            f"'{username}' ({assignee.role}{'' if assignee.active else ', disabled'}) cannot work on cases.",
            "Assign an active investigator or supervisor.",
        )
    return assignee.username


def _cover(store: GraphStore, case_id: str, targets: Iterable[tuple[str, str]]) -> list[str]:
    """MERGE COVERS edges to existing targets; return the targets that are not in the graph."""
    by_label: dict[str, list[str]] = {}
    for label, key in targets:
        by_label.setdefault(label, []).append(str(key))
    missing: list[str] = []
    for label, keys in by_label.items():
        nt = _node_type(label)
        found = store.write(
            f"MATCH (c:{CASE.label} {{case_id: $id}}) UNWIND $keys AS k "
            f"MATCH (e:{nt.label} {{{nt.key}: k}}) MERGE (c)-[:COVERS]->(e) RETURN e.{nt.key}",
            {"id": case_id, "keys": keys},
        ).column(f"e.{nt.key}")
        missing += [f"{label}:{k}" for k in keys if k not in set(map(str, found))]
    return missing


# --- changing -------------------------------------------------------------------------
def create_case(
    store: GraphStore,
    user: Principal,
    title: str,
    *,
    clusters: Sequence[str] = (),
    entities: Sequence[tuple[str, str]] = (),
    summary: str | None = None,
    assignee: str | None = None,
    settings: Settings | None = None,
) -> Case:
    """Open a case in 初审 covering clusters (by id) and entities (``(label, key)``); audited.

    The assignee defaults to the creator. Refused when any target is not in the graph.
    """
    require(user, Permission.CASE_EDIT)
    settings = settings or get_settings()
    if not title or not title.strip():
        raise CaseError("A case needs a title.", "Give it a short title, e.g. the facility and the pattern.")
    targets = [("Cluster", c) for c in clusters] + [(lb, k) for lb, k in entities]
    for label, _ in targets:
        _node_type(label)
    assignee = _check_assignee(store, assignee) if assignee else user.username
    now = int(time.time())
    case_id = f"K{datetime.fromtimestamp(now, tz=TZ):%Y%m%d}-{uuid.uuid4().hex[:6].upper()}"
    state = STATES[0]
    event = _event(user, "create", now, to=state, title=title, covers=[f"{lb}:{k}" for lb, k in targets], version=1)
    props = {
        "case_id": case_id,
        "title": title.strip(),
        "state": state,
        "version": 1,
        "created_ts": now,
        "updated_ts": now,
        "created_by": user.username,
        "assignee": assignee,
        "state_since_ts": now,
        "deadline_ts": _deadline(state, now, settings),
        "summary": summary,
        "outcome": [],
        "history": json.dumps([event], ensure_ascii=False),
    }
    props = {k: v for k, v in props.items() if v is not None}
    store.write(f"CREATE (c:{CASE.label}) SET c = $props", {"props": props})
    missing = _cover(store, case_id, targets)
    if missing:
        store.write(f"MATCH (c:{CASE.label} {{case_id: $id}}) DETACH DELETE c", {"id": case_id})
        raise CaseError(f"Cannot open the case: {', '.join(missing)} not in the graph.", "Check the ids and try again.")
    audit.record(
        store, user=user.username, action="case.create", target=f"Case:{case_id}", after=props | {"history": None}
    )
    return get_case(store, case_id)


def move_case(
    store: GraphStore,
    user: Principal,
    case_id: str,
    to_state: str,
    expected_version: int,
    *,
    outcome: Sequence[str] | None = None,
    note: str | None = None,
    appeal_outcome: str | None = None,
    amount_recovered: float | None = None,
    penalty: float | None = None,
    basis: str | None = None,
    settings: Settings | None = None,
) -> Case:
    """Move a case to its next state, with the outcome where the step needs one; versioned and audited.

    Rules: only moves in :data:`TRANSITIONS`; entering 处理 or closing needs
    ``case.decide`` (supervisor). Entering 处理 needs ``outcome`` (codes from
    :data:`OUTCOMES`, not ``dismissed``) and ``basis`` (the legal basis);
    ``recovered`` needs ``amount_recovered``, ``penalty`` needs ``penalty``.
    Closing before 处理 means dismissal (``outcome=["dismissed"]``, the
    default). Leaving 申诉 needs ``appeal_outcome`` (:data:`APPEAL_OUTCOMES`).
    Back-steps and reopening need a ``note``. Raises :class:`CaseConflict`
    when ``expected_version`` is stale.
    """
    settings = settings or get_settings()
    case = get_case(store, case_id)
    if case.version != expected_version:
        raise _conflict(store, case_id, expected_version)
    frm = case.state
    if to_state not in STATES:
        raise CaseError(f"'{to_state}' is not a case state.", f"States: {' → '.join(STATES)}.")
    if to_state not in TRANSITIONS[frm]:
        raise CaseError(
            f"A case cannot move from {frm} to {to_state}.",
            f"From {frm} it may move to: {', '.join(TRANSITIONS[frm])}.",
        )
    deciding = to_state in ("处理", CLOSED) or frm == CLOSED
    require(user, Permission.CASE_DECIDE if deciding else Permission.CASE_EDIT)
    if (frm, to_state) in _BACK_STEPS and not (note and note.strip()):
        raise CaseError(f"Moving back from {frm} to {to_state} needs a note saying why.", "Add --note.")
    now = int(time.time())
    changes: dict[str, Any] = {
        "state": to_state,
        "state_since_ts": now,
        "deadline_ts": _deadline(to_state, now, settings),
    }
    outcomes = _check_outcomes(case, frm, to_state, outcome, amount_recovered, penalty, basis)
    if outcomes is not None:
        changes["outcome"] = outcomes
    for key, value in (("amount_recovered", amount_recovered), ("penalty", penalty), ("basis", basis)):
        if value is not None:
            changes[key] = value
    if frm == "申诉":
        if appeal_outcome not in APPEAL_OUTCOMES:
            raise CaseError(
                "Leaving 申诉 needs the appeal's outcome.", f"Give appeal_outcome: {', '.join(APPEAL_OUTCOMES)}."
            )
        changes["appeal_outcome"] = appeal_outcome
    if to_state == "申诉":
        changes["appeal_outcome"] = None
    if outcomes and any(o in REFERRAL_OUTCOMES for o in outcomes):
        referral = dict(case.referral)
        referral.update(to=[o for o in outcomes if o in REFERRAL_OUTCOMES], decided_ts=now)
        changes["referral"] = json.dumps(referral, ensure_ascii=False)
    event = _event(
        user,
        "move",
        now,
        **{"from": frm},
        to=to_state,
        note=note,
        outcome=outcomes,
        appeal_outcome=changes.get("appeal_outcome"),
        amount_recovered=amount_recovered,
        penalty=penalty,
        basis=basis,
    )
    return _commit(store, user, case, expected_version, changes, event, "case.move")


def _check_outcomes(
    case: Case,
    frm: str,
    to_state: str,
    outcome: Sequence[str] | None,
    amount_recovered: float | None,
    penalty: float | None,
    basis: str | None,
) -> list[str] | None:
    """Validate the outcome for a move; return the outcome list to store (None: leave as is)."""
    given = list(dict.fromkeys(outcome or ()))
    unknown = [o for o in given if o not in OUTCOMES]
    if unknown:
        raise CaseError(f"Unknown outcome(s): {', '.join(unknown)}.", f"Outcomes: {', '.join(OUTCOMES)}.")
    if to_state == CLOSED and frm != "处理":
        if given and given != ["dismissed"]:
            raise CaseError(
                f"Closing from {frm} dismisses the case; outcomes such as {', '.join(given)} are decided in 处理.",
                "Move the case to 处理 with its outcome, or close it as dismissed.",
            )
        return ["dismissed"]
    if to_state == "处理":
        if not given or "dismissed" in given:
            raise CaseError(
                "Entering 处理 needs the handling outcome (not 'dismissed').",
                f"Give one or more of: {', '.join(o for o in OUTCOMES if o != 'dismissed')}; or close as dismissed.",
            )
        if not (basis or case.basis):
            raise CaseError(
                "Entering 处理 needs the legal basis of the decision.", "Give --basis, e.g. 国务院令735 第四十条."
            )
    outcomes = given or None
    effective = given or list(case.outcome)
    if "recovered" in effective and not (amount_recovered or case.amount_recovered):
        raise CaseError("The outcome 'recovered' needs the amount recovered.", "Give --recovered AMOUNT (yuan).")
    if "penalty" in effective and not (penalty or case.penalty):
        raise CaseError("The outcome 'penalty' needs the penalty amount.", "Give --penalty AMOUNT (yuan).")
    if to_state == "调查核实" and frm == CLOSED:
        return []
    return outcomes


def assign_case(
    store: GraphStore, user: Principal, case_id: str, assignee: str, expected_version: int, *, note: str | None = None
) -> Case:
    """Assign the case to an investigator or supervisor (``case.assign``); versioned and audited."""
    require(user, Permission.CASE_ASSIGN)
    case = get_case(store, case_id)
    name = _check_assignee(store, assignee)
    event = _event(user, "assign", int(time.time()), **{"from": case.assignee}, to=name, note=note)
    return _commit(store, user, case, expected_version, {"assignee": name}, event, "case.assign")


def update_case(
    store: GraphStore,
    user: Principal,
    case_id: str,
    expected_version: int,
    *,
    title: str | None = None,
    summary: str | None = None,
    basis: str | None = None,
    amount_recovered: float | None = None,
    penalty: float | None = None,
    referral_receipt_ts: int | None = None,
    referral_decision: str | None = None,
    note: str | None = None,
) -> Case:
    """Edit a case's text and figures, or track a referral (回执 received, 立案 decision); versioned, audited."""
    require(user, Permission.CASE_EDIT)
    case = get_case(store, case_id)
    changes: dict[str, Any] = {}
    for key, value in (
        ("title", title),
        ("summary", summary),
        ("basis", basis),
        ("amount_recovered", amount_recovered),
        ("penalty", penalty),
    ):
        if value is not None:
            changes[key] = value
    if referral_receipt_ts is not None or referral_decision is not None:
        referral = dict(case.referral)
        if referral_receipt_ts is not None:
            referral["receipt_ts"] = int(referral_receipt_ts)
        if referral_decision is not None:
            referral["decision"] = referral_decision
        changes["referral"] = json.dumps(referral, ensure_ascii=False)
    if not changes:
        raise CaseError("Nothing to change.", "Give at least one field to update.")
    shown = {k: (json.loads(v) if k == "referral" else v) for k, v in changes.items()}
    event = _event(user, "update", int(time.time()), changes=shown, note=note)
    return _commit(store, user, case, expected_version, changes, event, "case.update")


def add_evidence(
    store: GraphStore, user: Principal, case_id: str, title: str, *, kind: str = "document", ref: str | None = None
) -> Case:
    """Append an item to the case's evidence list (证据清单); retried on concurrent edits, audited."""
    require(user, Permission.CASE_EDIT)
    if not title.strip():
        raise CaseError("An evidence item needs a title.", "Describe the document or material.")

    def build(case: Case) -> tuple[dict[str, Any], dict[str, Any]]:
        now = int(time.time())
        item = {"title": title.strip(), "kind": kind, "ref": ref, "added_by": user.username, "added_ts": now}
        items = [*case.evidence, item]
        return {"evidence": json.dumps(items, ensure_ascii=False)}, _event(user, "evidence", now, title=title, ref=ref)

    return _retrying(store, user, case_id, build, "case.evidence")


def cover(store: GraphStore, user: Principal, case_id: str, label: str, key: str) -> Case:
    """Add a cluster or entity to what the case covers; audited."""
    require(user, Permission.CASE_EDIT)
    missing = _cover(store, get_case(store, case_id).case_id, [(label, key)])
    if missing:
        raise CaseError(f"{missing[0]} is not in the graph.", "Check the id.")

    def build(case: Case) -> tuple[dict[str, Any], dict[str, Any]]:
        return {}, _event(user, "cover", int(time.time()), target=f"{label}:{key}")

    return _retrying(store, user, case_id, build, "case.cover")
