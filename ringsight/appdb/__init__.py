"""The application database: accounts, sessions, login throttling and the audit trail — not in the graph.

The graph is for analysis, and analysts may run any read-only Cypher on it,
so nothing that must stay secret from them (password hashes, session ids,
the audit trail, later the identity vault) lives there. It lives here, in a
relational database reached through SQLAlchemy Core 2.x: a SQLite file in the
data directory by default, PostgreSQL when ``[appdb] url`` says so. Why and
how: docs/appdb.md.

API
---
``open_appdb(settings=None, *, url=None) -> AppDb``
    Open (once per URL per process) and migrate to the newest schema.
``for_store(store, settings=None) -> AppDb``
    The app database that belongs with a graph store (from the settings
    ``ringsight.graph.open_store`` was given).
``AppDb.engine``
    The SQLAlchemy ``Engine``.
``AppDb.begin()`` / ``AppDb.read()``
    Context managers yielding a ``Connection`` in a write transaction
    (SQLite ``BEGIN IMMEDIATE``; commits on success) or a read transaction.
``AppDb.lock(conn, name)``
    Serialise writers on a name for the rest of the transaction
    (PostgreSQL advisory lock; SQLite already holds the write lock).
``AppDb.dialect``
    ``"sqlite"`` or ``"postgresql"``.
``metadata``, ``users``, ``sessions``, ``login_attempts``, ``audit_log``
    The SQLAlchemy ``MetaData`` and ``Table`` objects (``ringsight.appdb.tables``).
``private_dir(path)`` / ``private_file(path)``
    Make a 0700 directory / a 0600 file (for anything holding personal data).

Adding a table: declare it in ``tables.py`` on ``metadata`` and add a
migration ``migrations/versions/NNNN_<what>.py`` whose ``down_revision`` is the
current head (``0001``); it runs automatically at the next open. Never edit a
shipped migration.
"""

from __future__ import annotations

from ringsight.appdb.engine import (
    AppDb,
    AppDbError,
    appdb_dir,
    appdb_url,
    close_all,
    current_revision,
    for_store,
    head_revision,
    migrate,
    open_appdb,
    private_dir,
    private_file,
)
from ringsight.appdb.tables import USERNAME_MAX, audit_log, login_attempts, metadata, sessions, users

__all__ = [
    "USERNAME_MAX",
    "AppDb",
    "AppDbError",
    "appdb_dir",
    "appdb_url",
    "audit_log",
    "close_all",
    "current_revision",
    "for_store",
    "head_revision",
    "login_attempts",
    "metadata",
    "migrate",
    "open_appdb",
    "private_dir",
    "private_file",
    "sessions",
    "users",
]
