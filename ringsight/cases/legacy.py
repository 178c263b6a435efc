"""Moving accounts and the audit trail out of a graph written by an earlier RingSight.

Earlier versions kept ``User`` nodes (with password hashes and session ids)
and ``AuditEntry`` nodes in the graph, where any Cypher could read them.
:func:`move_out_of_graph` copies them into the application database and then
deletes them from the graph:

- users keep their name, role, display name, state and argon2 hash (so
  passwords keep working); their sessions are not copied (everyone logs in
  again);
- audit entries are appended to the new chained trail in their old order
  (by ``audit_id``, which sorts by time) with their original time, user,
  action, target, before and after; the old per-entry digest is checked
  first and each entry that fails it is reported (and copied, marked);
- ``(Case)-[:ASSIGNED_TO]->(User)`` links go with the nodes (cases keep
  their ``assignee`` property).

Re-running is safe: users and entries already in the database are kept as
they are (not copied twice), and the graph nodes are deleted only after the
copy committed.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select

from ringsight.appdb import audit_log, for_store, users
from ringsight.cases.audit import _append, _settings_of, audit_key
from ringsight.graph.store import GraphStore

_OLD_FIELDS = ("audit_id", "ts", "time", "user", "action", "target", "before", "after")


@dataclass
class Moved:
    """What :func:`move_out_of_graph` did."""

    users: int = 0
    users_kept: int = 0
    entries: int = 0
    altered: list[str] = field(default_factory=list)


def legacy_nodes(store: GraphStore) -> int:
    """How many ``User`` and ``AuditEntry`` nodes the graph still holds (0 once moved)."""
    return store.count_nodes("User") + store.count_nodes("AuditEntry")


def _old_digest_ok(props: dict[str, Any], ui_secret: str) -> bool:
    body = "\x1f".join("" if props.get(f) is None else str(props.get(f)) for f in _OLD_FIELDS)
    expected = hmac.new(f"audit:{ui_secret}".encode(), body.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, str(props.get("digest") or ""))


def move_out_of_graph(store: GraphStore) -> Moved:
    """Copy ``User`` and ``AuditEntry`` nodes into the application database, then delete them from the graph."""
    cfg = _settings_of(store)
    db = for_store(store)
    key = audit_key(cfg)
    moved = Moved()
    people = [dict(n.properties) for n in store.read("MATCH (u:User) RETURN u ORDER BY u.username").column("u")]
    old = [dict(n.properties) for n in store.read("MATCH (a:AuditEntry) RETURN a ORDER BY a.audit_id").column("a")]
    with db.begin() as conn:
        have = set(conn.execute(select(users.c.username)).scalars())
        done = set(conn.execute(select(audit_log.c.audit_id)).scalars())
        for p in people:
            if p.get("username") in have or not p.get("password_hash"):
                moved.users_kept += 1
                continue
            conn.execute(
                insert(users).values(
                    username=str(p["username"])[:150],
                    display_name=str(p.get("display_name") or p["username"])[:200],
                    role=str(p.get("role") or ""),
                    password_hash=str(p["password_hash"]),
                    active=bool(p.get("active", False)),
                    created_ts=int(p.get("created_ts") or 0),
                    updated_ts=int(p.get("updated_ts") or p.get("created_ts") or 0),
                    last_login_ts=p.get("last_login_ts"),
                )
            )
            moved.users += 1
        for a in old:
            if str(a.get("audit_id")) in done:  # copied by an earlier run that stopped before deleting
                continue
            ok = _old_digest_ok(a, cfg.ui.secret_key)
            if not ok:
                moved.altered.append(str(a.get("audit_id")))
            content = {f: a.get(f) for f in _OLD_FIELDS}
            content["ts"] = int(content["ts"] or 0)
            content["time"] = str(content["time"] or "")
            content["user"] = str(content["user"] or "?")[:150]
            content["action"] = str(content["action"] or "?")[:64]
            content["target"] = str(content["target"] or "")
            content["audit_id"] = str(content["audit_id"])
            if not ok:
                content["action"] = f"{content['action']}"[:52] + ".unverified"
            _append(db, conn, key, content)
            moved.entries += 1
    store.write("MATCH (n:AuditEntry) DETACH DELETE n")
    store.write("MATCH (n:User) DETACH DELETE n")
    return moved
