"""The audit trail proves its own integrity: ``audit verify`` finds edited, deleted, reordered and re-signed entries.

Each tampering goes around RingSight straight into the application database,
as someone with the database's owner rights would; every test runs on SQLite
and on a real PostgreSQL. The PostgreSQL role test checks that the
application's own role cannot UPDATE or DELETE the trail at all.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from ringsight.appdb import audit_log, close_all, for_store, open_appdb
from ringsight.appdb.grants import grant_statements
from ringsight.cases import audit
from ringsight.config import Settings
from ringsight.graph.store import GraphStore

N = 6


def _fill(store: GraphStore) -> list[dict]:
    for i in range(1, N + 1):
        audit.record(store, user="inv", action="case.update", target=f"Case:K{i}", after={"step": i, "注": "核实"})
    with for_store(store).read() as conn:
        return [dict(r) for r in conn.execute(select(audit_log).order_by(audit_log.c.seq)).mappings()]


def _kinds(store: GraphStore) -> list[tuple[int, str]]:
    return [(p.seq, p.kind) for p in audit.verify(store).problems]


def test_an_untouched_trail_verifies(app_store: GraphStore) -> None:
    rows = _fill(app_store)
    result = audit.verify(app_store)
    assert result.ok and result.count == N and result.last_seq == N and result.last_hash == rows[-1]["entry_hash"]
    assert [r["prev_hash"] for r in rows[1:]] == [r["entry_hash"] for r in rows[:-1]]


def test_an_edited_entry_is_reported(app_store: GraphStore) -> None:
    _fill(app_store)
    with for_store(app_store).begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(after='{"step": 99}'))
    assert _kinds(app_store) == [(3, "edited")]


def test_a_deleted_entry_is_reported_even_when_the_rest_are_renumbered(app_store: GraphStore) -> None:
    _fill(app_store)
    with for_store(app_store).begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 3))
    assert _kinds(app_store) == [(4, "deleted")]
    with for_store(app_store).begin() as conn:  # close the gap: seq 4.. become 3..
        for seq in range(4, N + 1):
            conn.execute(update(audit_log).where(audit_log.c.seq == seq).values(seq=seq - 1))
    assert _kinds(app_store) == [(3, "deleted")]


def test_reordered_entries_are_reported(app_store: GraphStore) -> None:
    _fill(app_store)
    with for_store(app_store).begin() as conn:  # swap entries 3 and 4
        conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(seq=-3))
        conn.execute(update(audit_log).where(audit_log.c.seq == 4).values(seq=3))
        conn.execute(update(audit_log).where(audit_log.c.seq == -3).values(seq=4))
    problems = audit.verify(app_store).problems
    assert {p.kind for p in problems} == {"reordered"} and {p.seq for p in problems} == {3, 4, 5}


def test_a_re_signed_chain_is_reported(app_store: GraphStore, appdb_settings: Settings) -> None:
    """Someone rewrites an entry and recomputes every hash after it, signing with a key they guessed."""
    rows = _fill(app_store)
    forged_key = appdb_settings.ui.secret_key.encode()  # e.g. the UI secret: not the audit key
    prev = rows[1]["entry_hash"]
    with for_store(app_store).begin() as conn:
        for r in rows[2:]:
            r = {**r, "prev_hash": prev, "user": "someone-else" if r["seq"] == 3 else r["user"]}
            r["entry_hash"] = audit.entry_hash(r)
            r["signature"] = audit.sign(forged_key, r["entry_hash"])
            conn.execute(update(audit_log).where(audit_log.c.seq == r["seq"]).values(**r))
            prev = r["entry_hash"]
    assert _kinds(app_store) == [(s, "re-signed") for s in range(3, N + 1)]


def test_the_key_is_its_own_and_private(app_store: GraphStore, appdb_settings: Settings) -> None:
    _fill(app_store)
    key = audit.audit_key(appdb_settings)
    assert key != appdb_settings.ui.secret_key.encode() and len(key) >= 32
    path = Path(appdb_settings.data_dir) / "appdb" / "audit.key"
    assert path.stat().st_mode & 0o777 == 0o600
    other = appdb_settings.model_copy(update={"audit": appdb_settings.audit.model_copy(update={"key": "k" * 40})})
    assert {p.kind for p in audit.verify(app_store, settings=other).problems} == {"re-signed"}


def test_cli_verify_list_and_export_report_tampering(store: GraphStore, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ringsight.cli import app

    monkeypatch.setenv("RINGSIGHT_GRAPH_NAME", store.settings.graph_name)  # type: ignore[attr-defined]
    from ringsight.config import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    _fill(store)
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0 and f"{N} entries" in ok.output, ok.output
    with for_store(store).begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(user="nobody"))
    bad = runner.invoke(app, ["audit", "verify"])
    assert bad.exit_code == 9 and "edited" in bad.output
    listed = runner.invoke(app, ["audit", "list"])
    assert listed.exit_code == 0 and "fails verification" in listed.output
    exported = runner.invoke(app, ["audit", "export", str(tmp_path / "a.csv")])
    assert exported.exit_code == 0 and "fails verification" in exported.output
    get_settings.cache_clear()


def test_postgresql_app_role_may_only_append_to_the_trail(pg_server, embedded_server, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    """The owner migrates and grants; RingSight runs as a role that cannot UPDATE or DELETE audit entries."""
    from ringsight.graph import open_store

    db_name = pg_server.new_database()
    role = f"rs_app_{uuid.uuid4().hex[:8]}"
    try:
        open_appdb(url=pg_server.url(db_name))  # the owner creates the schema
        pg_server.execute(f"CREATE ROLE {role} LOGIN")
        for stmt in grant_statements(role, db_name):
            pg_server.execute(stmt, database=db_name)
        app_settings = settings.model_copy(
            update={"appdb": settings.appdb.model_copy(update={"url": pg_server.url(db_name, user=role)})}
        )
        with open_store(app_settings) as store:
            audit.record(store, user="inv", action="user.login", target="User:inv")
            audit.record(store, user="inv", action="unmask", target="Patient:p1")
            db = for_store(store)
            assert db.url.endswith(f"{role}@127.0.0.1:{pg_server.port}/{db_name}")
            for stmt in (
                update(audit_log).values(user="x"),
                delete(audit_log),
                text("TRUNCATE audit_log"),
            ):
                with pytest.raises(DBAPIError, match="permission denied"), db.begin() as conn:
                    conn.execute(stmt)
            assert audit.verify(store).ok and audit.verify(store).count == 2
    finally:
        close_all()
        pg_server.drop_database(db_name)
        pg_server.execute(f"DROP ROLE IF EXISTS {role}")
