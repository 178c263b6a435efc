"""The append-only audit trail: who did what, when, to what, with before and after.

Every write RingSight makes on behalf of a person — an annotation, a case
change, an unmasking, an export, a write query, a user change — calls
:func:`record`, which CREATEs one ``AuditEntry`` node (see
docs/graph-contract.md, "Investigation"). Nothing in this module (or anywhere
in the application API) updates or deletes an entry: the trail is what a
supervisor or a court relies on to reconstruct 全过程记录, so the only
operations offered are append, list and export.

Each entry also carries ``digest``, an HMAC of its content under the
deployment's secret key, so :func:`verify_entries` can show that an entry was
altered by someone going around the application (straight into the database).
That detects edits, not deletions; a deleted entry leaves no trace beyond a
gap a reviewer may notice in ``seq``-ordered ids.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ringsight import safecsv
from ringsight.cases.roles import Permission, Principal, may_unmask, require
from ringsight.config import get_settings
from ringsight.errors import RingSightError
from ringsight.graph.model import AUDIT
from ringsight.graph.store import GraphStore
from ringsight.private import private_dir, private_file, restrict_umask

TZ = ZoneInfo("Asia/Shanghai")
FIELDS = ("audit_id", "ts", "time", "user", "action", "target", "before", "after", "digest")

# Action names used across RingSight; other areas may use their own dotted names
# (e.g. "query.write"), these are only the ones this package writes.
ACTIONS = (
    "annotation.add",
    "case.create",
    "case.move",
    "case.assign",
    "case.update",
    "case.cover",
    "unmask",
    "export.referral",
    "export.audit",
    "query.write",
    "user.add",
    "user.disable",
    "user.enable",
    "user.passwd",
    "user.role",
    "user.login",
    "user.login_failed",
    "user.logout",
    "annotation.retract",
    "sanction.add",
)


class AuditError(RingSightError):
    """The audit trail could not be written or read as asked."""


def _json(value: Any) -> str | None:
    """JSON text for a before/after value (maps are not valid Neo4j properties)."""
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _digest(entry: dict[str, Any], key: str) -> str:
    """HMAC-SHA256 over the entry's content fields, in a fixed order."""
    body = "\x1f".join("" if entry.get(f) is None else str(entry.get(f)) for f in FIELDS if f != "digest")
    return hmac.new(key.encode(), body.encode(), hashlib.sha256).hexdigest()


def _secret() -> str:
    settings = get_settings()
    return f"audit:{settings.ui.secret_key}"


def new_audit_id(now_ns: int | None = None) -> str:
    """A sortable id: 'A' + epoch microseconds (16 digits) + '-' + 8 random hex characters."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    return f"A{now_ns // 1000:016d}-{uuid.uuid4().hex[:8]}"


def entry(
    *,
    user: str,
    action: str,
    target: str,
    before: Any = None,
    after: Any = None,
) -> dict[str, Any]:
    """The properties of a new audit entry, for writing it inside another statement.

    :func:`record` writes it on its own; the case workflow passes it to the same
    Cypher statement that changes the case, so the change and its audit entry
    commit together or not at all. Arguments as for :func:`record`.
    """
    if not user or not action:
        raise AuditError("An audit entry needs a user and an action.", "Pass user= and action= to audit.record().")
    now_ns = time.time_ns()
    ts = now_ns // 1_000_000_000
    props: dict[str, Any] = {
        "audit_id": new_audit_id(now_ns),
        "ts": ts,
        "time": datetime.fromtimestamp(ts, tz=UTC).astimezone(TZ).isoformat(timespec="seconds"),
        "user": str(user),
        "action": str(action),
        "target": str(target),
        "before": _json(before),
        "after": _json(after),
    }
    props["digest"] = _digest(props, _secret())
    return props


def record(
    store: GraphStore,
    *,
    user: str,
    action: str,
    target: str,
    before: Any = None,
    after: Any = None,
) -> str:
    """Append one audit entry and return its ``audit_id``.

    Parameters
    ----------
    store : the graph store the audited change was made in.
    user : the username of the person acting (``"system"`` for batch jobs).
    action : a dotted action name, e.g. ``"case.move"`` or ``"query.write"``.
    target : what was acted on, as ``Label:key`` (``"Case:K20260101-0001"``) or free text.
    before, after : any JSON-serialisable value (dicts, lists, text); stored as JSON text.
    """
    props = entry(user=user, action=action, target=target, before=before, after=after)
    store.write(f"CREATE (a:{AUDIT.label}) SET a = $props", {"props": props})
    return props["audit_id"]


def list_entries(
    store: GraphStore,
    *,
    user: str | None = None,
    action: str | None = None,
    since_ts: int | None = None,
    limit: int = 1000,
    target: str | None = None,
    until_ts: int | None = None,
) -> list[dict[str, Any]]:
    """Audit entries, newest first, filtered by any of user, action (exact or ``prefix.*``), target and time.

    ``before`` and ``after`` are returned as the JSON text stored (parse with
    ``json.loads`` when needed), so an export shows exactly what was recorded.
    """
    where: list[str] = []
    params: dict[str, Any] = {"limit": int(limit)}
    if user:
        where.append("a.user = $user")
        params["user"] = user
    if action:
        if action.endswith(".*"):
            where.append("a.action STARTS WITH $action")
            params["action"] = action[:-1]
        else:
            where.append("a.action = $action")
            params["action"] = action
    if target:
        where.append("a.target = $target")
        params["target"] = target
    if since_ts is not None:
        where.append("a.ts >= $since")
        params["since"] = int(since_ts)
    if until_ts is not None:
        where.append("a.ts <= $until")
        params["until"] = int(until_ts)
    clause = f"WHERE {' AND '.join(where)} " if where else ""
    cypher = f"MATCH (a:{AUDIT.label}) {clause}RETURN a ORDER BY a.audit_id DESC LIMIT $limit"
    return [_entry(node.properties) for node in store.read(cypher, params).column("a")]


def _entry(props: dict[str, Any]) -> dict[str, Any]:
    return {f: props.get(f) for f in FIELDS}


def verify_entries(entries: Iterable[dict[str, Any]]) -> list[str]:
    """The ids of entries whose digest does not match their content (altered outside the app)."""
    key = _secret()
    return [e["audit_id"] for e in entries if not hmac.compare_digest(str(e.get("digest") or ""), _digest(e, key))]


def list_for(store: GraphStore, actor: Principal, **filters: Any) -> list[dict[str, Any]]:
    """:func:`list_entries` for a person: only roles with ``audit.view`` (supervisor, admin) may read the trail.

    For a role not cleared for personal data (admin), resident IDs and mobile
    numbers inside ``before``/``after`` — in notes, say — are masked.
    """
    require(actor, Permission.AUDIT_VIEW)
    entries = list_entries(store, **filters)
    if may_unmask(actor.role):
        return entries
    from ringsight.cases.access import mask_text

    for e in entries:
        for field in ("before", "after", "target"):
            if e.get(field):
                e[field] = mask_text(e[field])
    return entries


def export_entries(
    store: GraphStore,
    path: Path,
    actor: Principal,
    *,
    fmt: str | None = None,
    **filters: Any,
) -> int:
    """Write the filtered entries to ``path`` (CSV or JSON Lines by suffix or ``fmt``); audited itself.

    Needs ``audit.view``. The export is recorded as ``export.audit``. Returns the number of entries written.
    """
    entries = list_for(store, actor, **filters)
    fmt = (fmt or path.suffix.lstrip(".") or "csv").lower()
    if fmt not in ("csv", "json", "jsonl"):
        raise AuditError(f"Cannot export the audit trail as '{fmt}'.", "Use a .csv or .jsonl file name.")
    private_dir(path.parent)
    restrict_umask()  # the trail names people and what was revealed about whom
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8-sig") as fh:
            writer = safecsv.dict_writer(fh, fieldnames=list(FIELDS))
            writer.writeheader()
            writer.writerows(entries)
    else:
        with path.open("w", encoding="utf-8") as fh:
            for e in entries:
                fh.write(json.dumps(e, ensure_ascii=False) + "\n")
    private_file(path)
    record(
        store, user=actor.username, action="export.audit", target=str(path), after={"count": len(entries), **filters}
    )
    return len(entries)
