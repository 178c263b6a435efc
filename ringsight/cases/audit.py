"""The audit trail: append-only, numbered, hash-chained and signed, in the application database.

Every action RingSight takes on behalf of a person — a login, a reveal, a
console query (its text), an export, a case change, an annotation, a user
change — calls :func:`record`, which appends one row to ``audit_log``
(:mod:`ringsight.appdb`). The trail is not in the graph, so an analyst's
Cypher cannot read it, and nothing in the application updates or deletes a
row: on PostgreSQL the application's role is granted only INSERT and SELECT
on the table (docs/appdb.md).

Integrity, for a supervisor or a court reconstructing 全过程记录:

- each entry has a sequence number ``seq`` (1, 2, 3 … with no gaps);
- ``entry_hash`` is SHA-256 over the entry's content *and the previous
  entry's hash* (``prev_hash``), so entries form a chain;
- ``signature`` is HMAC-SHA256 of ``entry_hash`` under the audit key — a key
  of its own (``[audit] key``, else ``<data_dir>/appdb/audit.key``, 0600),
  never the UI's session secret.

:func:`verify` walks the chain and reports an *edited* entry (content no
longer matches its hash), a *re-signed* one (hash recomputed by someone
without the key), *deleted* ones (a gap in ``seq``, or a link to an entry
that is gone) and *reordered* ones (linked to an entry that is not the one
before it). Removing the newest entries leaves no trace inside the table
itself; compare the count with an earlier ``audit verify`` (its output names
the last sequence number and hash) to catch that.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert, select

from ringsight import safecsv
from ringsight.appdb import AppDb, appdb_dir, audit_log, for_store, private_file
from ringsight.cases.roles import Permission, Principal, may_unmask, require
from ringsight.config import Settings, get_settings
from ringsight.errors import RingSightError
from ringsight.graph.store import GraphStore
from ringsight.identity import mask_text
from ringsight.private import private_dir, restrict_umask

TZ = ZoneInfo("Asia/Shanghai")
GENESIS = "0" * 64
#: What an export holds, in order.
FIELDS = (
    "seq",
    "audit_id",
    "ts",
    "time",
    "user",
    "action",
    "target",
    "before",
    "after",
    "prev_hash",
    "entry_hash",
    "signature",
)
_HASHED = ("audit_id", "ts", "time", "user", "action", "target", "before", "after", "prev_hash")

# Action names used across RingSight; other areas may use their own dotted names.
ACTIONS = (
    "annotation.add",
    "annotation.retract",
    "case.create",
    "case.move",
    "case.assign",
    "case.update",
    "case.cover",
    "unmask",
    "export.referral",
    "export.audit",
    "query.read",
    "query.write",
    "user.add",
    "user.disable",
    "user.enable",
    "user.passwd",
    "user.role",
    "user.login",
    "user.login_failed",
    "user.logout",
    "sanction.add",
)


class AuditError(RingSightError):
    """The audit trail could not be written or read as asked."""

    exit_code = 2


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _settings_of(store: GraphStore | None, settings: Settings | None = None) -> Settings:
    return settings or getattr(store, "settings", None) or get_settings()


def audit_key(settings: Settings) -> bytes:
    """The audit trail's signing key: ``[audit] key``, else the key file (created 0600 on first use)."""
    if settings.audit.key:
        return settings.audit.key.encode()
    path = appdb_dir(settings) / "audit.key"
    if not path.exists():
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    key = path.read_text().strip()
    if len(key) < 32:
        raise AuditError(f"The audit key file {path} is empty or too short.", "Restore it from the backup.")
    private_file(path)
    return key.encode()


def entry_hash(e: dict[str, Any]) -> str:
    """SHA-256 over the hashed fields (including ``prev_hash``) as canonical JSON."""
    body = json.dumps([e.get(f) for f in _HASHED], ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def sign(key: bytes, digest: str) -> str:
    """The HMAC-SHA256 signature of an entry hash."""
    return hmac.new(key, digest.encode(), hashlib.sha256).hexdigest()


def new_audit_id(now_ns: int | None = None) -> str:
    """A sortable id: 'A' + epoch microseconds (16 digits) + '-' + 8 random hex characters."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    return f"A{now_ns // 1000:016d}-{uuid.uuid4().hex[:8]}"


def _append(db: AppDb, conn: Connection, key: bytes, content: dict[str, Any]) -> dict[str, Any]:
    db.lock(conn, "ringsight.audit")
    last = conn.execute(
        select(audit_log.c.seq, audit_log.c.entry_hash).order_by(audit_log.c.seq.desc()).limit(1)
    ).first()
    row = {**content, "seq": (last.seq + 1) if last else 1, "prev_hash": last.entry_hash if last else GENESIS}
    row["entry_hash"] = entry_hash(row)
    row["signature"] = sign(key, row["entry_hash"])
    conn.execute(insert(audit_log).values(**row))
    return row


def record(
    store: GraphStore,
    *,
    user: str,
    action: str,
    target: str,
    before: Any = None,
    after: Any = None,
    settings: Settings | None = None,
) -> str:
    """Append one audit entry and return its ``audit_id``.

    Parameters
    ----------
    store : the graph store the audited action concerns (its app database holds the trail).
    user : the username of the person acting (``"system"`` for batch jobs).
    action : a dotted action name, e.g. ``"case.move"`` or ``"query.read"``.
    target : what was acted on, as ``Label:key`` (``"Case:K20260101-0001"``) or free text.
    before, after : any JSON-serialisable value (dicts, lists, text); stored as JSON text.
    """
    if not user or not action:
        raise AuditError("An audit entry needs a user and an action.", "Pass user= and action= to audit.record().")
    cfg = _settings_of(store, settings)
    now_ns = time.time_ns()
    ts = now_ns // 1_000_000_000
    content = {
        "audit_id": new_audit_id(now_ns),
        "ts": ts,
        "time": datetime.fromtimestamp(ts, tz=UTC).astimezone(TZ).isoformat(timespec="seconds"),
        "user": str(user)[:150],
        "action": str(action)[:64],
        "target": str(target),
        "before": _json(before),
        "after": _json(after),
    }
    db = for_store(store, cfg)
    key = audit_key(cfg)
    with db.begin() as conn:
        _append(db, conn, key, content)
    return content["audit_id"]


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
    c = audit_log.c
    q = select(audit_log)
    if user:
        q = q.where(c.user == user)
    if action:
        q = q.where(c.action.startswith(action[:-1], autoescape=True) if action.endswith(".*") else c.action == action)
    if target:
        q = q.where(c.target == target)
    if since_ts is not None:
        q = q.where(c.ts >= int(since_ts))
    if until_ts is not None:
        q = q.where(c.ts <= int(until_ts))
    q = q.order_by(c.seq.desc()).limit(int(limit))
    with for_store(store).read() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


@dataclass(frozen=True)
class Problem:
    """One finding of :func:`verify`: which entry, what kind (edited, re-signed, deleted, reordered), details."""

    seq: int
    audit_id: str
    kind: str
    detail: str


@dataclass
class Verification:
    """What :func:`verify` found: the number of entries checked, the chain's head and any problems."""

    count: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_rows(rows: Iterable[dict[str, Any]], key: bytes) -> Verification:
    """Walk entries in ``seq`` order and report every break in content, signature, numbering or chain."""
    rows = sorted(rows, key=lambda r: r["seq"])
    by_hash = {r["entry_hash"]: r["seq"] for r in rows}
    out = Verification(count=len(rows))
    prev_seq, prev_hash = 0, GENESIS
    for r in rows:
        seq, aid = int(r["seq"]), str(r["audit_id"])
        if entry_hash(r) != r["entry_hash"]:
            out.problems.append(Problem(seq, aid, "edited", "the content no longer matches the entry's hash"))
        elif not hmac.compare_digest(sign(key, r["entry_hash"]), str(r["signature"])):
            out.problems.append(Problem(seq, aid, "re-signed", "the hash was recomputed without the audit key"))
        if seq != prev_seq + 1:
            missing = f"{prev_seq + 1}" if seq == prev_seq + 2 else f"{prev_seq + 1}–{seq - 1}"
            out.problems.append(Problem(seq, aid, "deleted", f"entries {missing} are missing before this one"))
        elif r["prev_hash"] != prev_hash:
            linked = by_hash.get(r["prev_hash"])
            if linked is not None:
                out.problems.append(
                    Problem(seq, aid, "reordered", f"it was written after entry {linked}, not after entry {prev_seq}")
                )
            else:
                out.problems.append(Problem(seq, aid, "deleted", "the entry it was written after is gone"))
        prev_seq, prev_hash = seq, r["entry_hash"]
    out.last_seq, out.last_hash = prev_seq, prev_hash
    return out


def verify(store: GraphStore, *, settings: Settings | None = None) -> Verification:
    """Check the whole trail's chain and signatures (needs the audit key)."""
    cfg = _settings_of(store, settings)
    with for_store(store, cfg).read() as conn:
        rows = [dict(r) for r in conn.execute(select(audit_log).order_by(audit_log.c.seq)).mappings()]
    return verify_rows(rows, audit_key(cfg))


def list_for(store: GraphStore, actor: Principal, **filters: Any) -> list[dict[str, Any]]:
    """:func:`list_entries` for a person: only roles with ``audit.view`` (supervisor, admin) may read the trail.

    For a role not cleared for personal data (admin), resident IDs and mobile
    numbers inside ``before``/``after`` — in notes, say — are masked.
    """
    require(actor, Permission.AUDIT_VIEW)
    entries = list_entries(store, **filters)
    if may_unmask(actor.role):
        return entries
    for e in entries:
        for name in ("before", "after", "target"):
            if e.get(name):
                e[name] = mask_text(e[name])
    return entries


def export_entries(
    store: GraphStore,
    path: Path,
    actor: Principal,
    *,
    fmt: str | None = None,
    **filters: Any,
) -> int:
    """Write the filtered entries to ``path`` (CSV or JSON Lines by suffix or ``fmt``), 0600; audited itself.

    Needs ``audit.view``. The export is recorded as ``export.audit``. Returns the number of entries written.
    """
    entries = list_for(store, actor, **filters)
    fmt = (fmt or path.suffix.lstrip(".") or "csv").lower()
    if fmt not in ("csv", "json", "jsonl"):
        raise AuditError(f"Cannot export the audit trail as '{fmt}'.", "Use a .csv or .jsonl file name.")
    private_dir(path.parent)
    restrict_umask()  # the trail names people and what was revealed about whom
    private_file(path)
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8-sig") as fh:
            writer = safecsv.dict_writer(fh, fieldnames=list(FIELDS), extrasaction="ignore")
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
