"""The application database opens, migrates itself and keeps its files private, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import stat
import threading
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


def test_concurrent_first_open_migrates_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh' / 'app.sqlite'}"
    errors: list[BaseException] = []

    def opener() -> None:
        try:
            open_appdb(url=url)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
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
