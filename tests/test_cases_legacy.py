"""A graph written by an earlier RingSight (User and AuditEntry nodes) is emptied of them into the app database."""

from __future__ import annotations

import hashlib
import hmac

from argon2 import PasswordHasher
from typer.testing import CliRunner

from ringsight.cases import accounts, audit
from ringsight.cases.legacy import legacy_nodes, move_out_of_graph
from ringsight.config import Settings, get_settings
from ringsight.errors import RingSightError
from ringsight.graph.store import GraphStore

OLD_FIELDS = ("audit_id", "ts", "time", "user", "action", "target", "before", "after")


def _old_entry(i: int, secret: str, **changes: object) -> dict:
    props = {
        "audit_id": f"A{1_700_000_000_000_000 + i:016d}-0000000{i}",
        "ts": 1_700_000_000 + i,
        "time": "2023-11-15T06:13:20+08:00",
        "user": "wang",
        "action": "case.move",
        "target": f"Case:K{i}",
        "before": None,
        "after": '{"state": "复审"}',
    }
    body = "\x1f".join("" if props.get(f) is None else str(props.get(f)) for f in OLD_FIELDS)
    props["digest"] = hmac.new(f"audit:{secret}".encode(), body.encode(), hashlib.sha256).hexdigest()
    props.update(changes)
    return props


def _old_graph(store: GraphStore, settings: Settings) -> None:
    user = {
        "username": "wang",
        "display_name": "王芳",
        "role": "supervisor",
        "password_hash": PasswordHasher().hash("黄河远上白云间 2026"),
        "active": True,
        "created_ts": 1_700_000_000,
        "updated_ts": 1_700_000_000,
        "session_ids": ["abc:1700000000"],
    }
    store.write("CREATE (u:User) SET u = $p", {"p": user})
    store.write("CREATE (c:Case {case_id: 'K1', assignee: 'wang'})")
    store.write("MATCH (c:Case), (u:User) CREATE (c)-[:ASSIGNED_TO]->(u)")
    secret = settings.ui.secret_key
    entries = [_old_entry(1, secret), _old_entry(2, secret, user="mallory"), _old_entry(3, secret)]
    store.write("UNWIND $rows AS r CREATE (a:AuditEntry) SET a = r", {"rows": entries})


def test_accounts_and_audit_entries_leave_the_graph(store: GraphStore, settings: Settings) -> None:
    _old_graph(store, settings)
    assert legacy_nodes(store) == 4
    moved = move_out_of_graph(store)
    assert (moved.users, moved.entries) == (1, 3) and moved.altered == [_old_entry(2, "")["audit_id"]]
    assert legacy_nodes(store) == 0 and store.count_relationships("ASSIGNED_TO") == 0
    assert store.count_nodes("Case") == 1
    # the password keeps working; the trail holds the old entries, in order, chained and verifying
    user = accounts.authenticate(store, "wang", "黄河远上白云间 2026", "10.0.0.1", settings=settings)
    assert user.role == "supervisor" and user.display_name == "王芳"
    old = [e for e in audit.list_entries(store)[::-1] if e["target"].startswith("Case:")]
    assert [e["target"] for e in old] == ["Case:K1", "Case:K2", "Case:K3"]
    assert [e["action"] for e in old] == ["case.move", "case.move.unverified", "case.move"]
    assert old[0]["ts"] == 1_700_000_001 and audit.verify(store).ok
    again = move_out_of_graph(store)  # nothing left: re-running is harmless
    assert (again.users, again.entries) == (0, 0)


def test_the_workbench_refuses_to_serve_until_moved(store: GraphStore, settings: Settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ringsight.cli import app

    _old_graph(store, settings)
    monkeypatch.setenv("RINGSIGHT_GRAPH_NAME", settings.graph_name)
    get_settings.cache_clear()
    try:
        refused = CliRunner().invoke(app, ["ui", "--port", "1"])
        assert isinstance(refused.exception, RingSightError) and "move-from-graph" in str(refused.exception)
        moved = CliRunner().invoke(app, ["users", "move-from-graph"])
        assert moved.exit_code == 0 and "moved 1 user(s)" in moved.output, moved.output
    finally:
        get_settings.cache_clear()
    assert legacy_nodes(store) == 0


def test_nothing_to_move_is_fine(store: GraphStore) -> None:
    assert legacy_nodes(store) == 0 and move_out_of_graph(store).entries == 0
