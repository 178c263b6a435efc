"""Opening the application database: URL from settings, private files, one engine per URL, migrations.

- ``[appdb] url`` unset: a SQLite file ``<data_dir>/appdb/<graph_name>.sqlite``
  (one per graph, so a deployment's accounts and audit trail go with its
  graph). The directory is made 0700 and the file 0600 before SQLite touches
  it; SQLite gives its ``-wal``/``-shm`` files the same mode.
- ``postgresql+psycopg://user:pass@host/db``: PostgreSQL.

Every transaction that may write is ``BEGIN IMMEDIATE`` on SQLite, so a
read-then-write (the audit chain's "previous hash", the login throttle's
count) cannot interleave with another process; on PostgreSQL such code takes
a transaction-scoped advisory lock (:meth:`AppDb.lock`).

Migrations are Alembic scripts shipped inside the package
(``ringsight/appdb/migrations``) and applied by :func:`migrate` at open.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from ringsight.config import Settings, get_settings, redact_url
from ringsight.errors import RingSightError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_CACHE: dict[str, AppDb] = {}
_CACHE_LOCK = threading.Lock()


class AppDbError(RingSightError):
    """The application database cannot be opened or migrated."""


@dataclass(eq=False)
class AppDb:
    """An open application database: the SQLAlchemy engine plus the few helpers RingSight needs."""

    url: str
    engine: Engine

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @property
    def display_url(self) -> str:
        """The URL with any password hidden (safe to print)."""
        return redact_url(self.url)

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection in a write transaction (SQLite: ``BEGIN IMMEDIATE``); commits on success."""
        with self.engine.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection in a read transaction (SQLite: a plain deferred ``BEGIN``, no write lock)."""
        with self.engine.connect().execution_options(ringsight_readonly=True) as conn, conn.begin():
            yield conn

    def lock(self, conn: Connection, name: str) -> None:
        """Serialise writers on ``name`` until ``conn``'s transaction ends.

        PostgreSQL: ``pg_advisory_xact_lock`` (needs no table privilege, so the
        audit role that may only INSERT/SELECT can take it). SQLite: the
        ``BEGIN IMMEDIATE`` of :meth:`begin` already holds the database's write lock.
        """
        if self.dialect == "postgresql":
            key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})

    def dispose(self) -> None:
        """Close pooled connections (tests; a process ends its pool on exit anyway)."""
        self.engine.dispose()


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and make it 0700: the files inside hold accounts and personal data."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 if missing, else tighten it to 0600."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
    return path


def appdb_dir(settings: Settings) -> Path:
    """``<data_dir>/appdb``, 0700: the default SQLite files and the audit key file live here."""
    return private_dir(Path(settings.data_dir) / "appdb")


def appdb_url(settings: Settings) -> str:
    """The SQLAlchemy URL for ``settings`` (``[appdb] url``, else the per-graph SQLite file)."""
    if settings.appdb.url:
        return settings.appdb.url.strip()
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", settings.graph_name) or "ringsight"
    return f"sqlite:///{appdb_dir(settings) / f'{name}.sqlite'}"


def _sqlite_hooks(engine: Engine) -> None:
    """Driver-level autocommit, then our own BEGIN / BEGIN IMMEDIATE (SQLAlchemy's documented recipe)."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        readonly = conn.get_execution_options().get("ringsight_readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def _make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            db = Path(parsed.database)
            private_dir(db.parent)
            private_file(db)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _sqlite_hooks(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True)
    raise AppDbError(
        f"The app database URL '{redact_url(url)}' names a database RingSight does not support.",
        "Use sqlite:///path/file.sqlite or postgresql+psycopg://user:pass@host/db (setting [appdb] url).",
    )


def _alembic_config(conn: Connection) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = conn
    return cfg


@contextlib.contextmanager
def _migration_lock(db: AppDb) -> Iterator[None]:
    """One migrating process at a time: a file lock beside a SQLite file, an advisory lock on PostgreSQL."""
    database = db.engine.url.database
    if db.dialect == "sqlite" and database and database != ":memory:":
        lock_path = private_file(Path(f"{database}.migrate-lock"))
        with lock_path.open("w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
    else:
        yield


def current_revision(db: AppDb) -> str | None:
    """The schema revision the database is at (None before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The newest revision shipped with this RingSight."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return str(ScriptDirectory.from_config(cfg).get_current_head())


def migrate(db: AppDb) -> None:
    """Bring the schema to the newest shipped revision (no-op when it is there already)."""
    from alembic import command

    try:
        with _migration_lock(db):
            if current_revision(db) == head_revision():
                return
            with db.engine.begin() as conn:
                db.lock(conn, "ringsight.appdb.migrate")
                command.upgrade(_alembic_config(conn), "head")
    except SQLAlchemyError as exc:
        raise AppDbError(
            f"Cannot prepare the app database {db.display_url}: {str(exc).splitlines()[0]}",
            "Check that it is reachable and that this role may create tables "
            "(or run `ringsight appdb upgrade` once as the owner role; see docs/appdb.md).",
        ) from exc


def open_appdb(settings: Settings | None = None, *, url: str | None = None) -> AppDb:
    """The application database for ``settings`` (or an explicit ``url``), migrated; one per URL per process."""
    url = url or appdb_url(settings or get_settings())
    with _CACHE_LOCK:
        db = _CACHE.get(url)
        if db is None:
            db = AppDb(url=url, engine=_make_engine(url))
            migrate(db)
            _CACHE[url] = db
    return db


def for_store(store: Any, settings: Settings | None = None) -> AppDb:
    """The application database that goes with a graph store (opened from the settings it was opened with).

    :func:`ringsight.graph.open_store` remembers its settings on the store; a
    store built another way falls back to ``settings`` or the process settings.
    """
    return open_appdb(getattr(store, "settings", None) or settings or get_settings())


def close_all() -> None:
    """Dispose every cached engine (tests that drop databases)."""
    with _CACHE_LOCK:
        for db in _CACHE.values():
            db.dispose()
        _CACHE.clear()
