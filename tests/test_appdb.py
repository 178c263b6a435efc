"""The application database opens, migrates itself and keeps its files private, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, insert, inspect, select

from ringsight.appdb import appdb_url, close_all, current_revision, head_revision, open_appdb, users
from ringsight.appdb.engine import AppDbError
from ringsight.config import Settings


def test_open_migrates_to_head_and_is_reused(appdb_settings: Settings) -> None:
    db = open_appdb(appdb_settings)
    assert current_revision(db) == head_revision() == "0002"
    assert {"users", "sessions", "login_attempts", "audit_log"} <= set(inspect(db.engine).get_table_names())
    assert open_appdb(appdb_settings) is db
    with db.begin() as conn:
        conn.execute(
            insert(users).values(
                username="zhang.wei",
                display_name="张伟",
                role="analyst",
                password_hash="x",
                active=True,
                created_ts=1,
                updated_ts=1,
            )
        )
    close_all()  # a new process: opening again keeps the data and migrates nothing
    again = open_appdb(appdb_settings)
    with again.read() as conn:
        assert conn.execute(select(users.c.display_name)).scalar_one() == "张伟"


def test_sqlite_file_is_private_and_per_graph(settings: Settings) -> None:
    db = open_appdb(settings)
    path = Path(db.engine.url.database or "")
    assert path.parent == Path(settings.data_dir) / "appdb"
    assert path.name == f"{settings.graph_name}.sqlite"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    other = settings.model_copy(update={"graph_name": "other/../graph"})
    assert appdb_url(other).endswith("/appdb/other_.._graph.sqlite")
    close_all()


def test_concurrent_first_open_from_several_processes_migrates_once(tmp_path: Path) -> None:
    """Four processes opening a new database at once: one migrates, the others wait and find it done."""
    url = f"sqlite:///{tmp_path / 'fresh' / 'app.sqlite'}"
    code = f"from ringsight.appdb import open_appdb, current_revision; print(current_revision(open_appdb(url={url!r})))"
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in results]
    assert [out.strip() for out, _ in results] == [head_revision()] * 4
    db = open_appdb(url=url)
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(users)).scalar_one() == 0
    close_all()


def test_unknown_backend_and_unreachable_server_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(AppDbError, match="does not support"):
        open_appdb(url="mysql://u:secret@localhost/x")
    with pytest.raises(AppDbError, match=r"Cannot prepare the app database postgresql\+psycopg://u:\*\*\*@"):
        open_appdb(url="postgresql+psycopg://u:secret@127.0.0.1:1/x?connect_timeout=2")
    close_all()


def test_the_migrations_build_exactly_the_declared_tables(appdb_settings: Settings) -> None:
    """tables.py and the migrations agree (a table or column added to one only fails here)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from ringsight.appdb import metadata

    db = open_appdb(appdb_settings)
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
