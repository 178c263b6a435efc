"""The application database's tables (SQLAlchemy Core): one ``MetaData``, one ``Table`` per job.

Migrations (``migrations/versions``) create these; this module is what code
reads and writes through. A new table goes here *and* in a new migration
(never edit a shipped migration).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Float, ForeignKey, Index, Integer, MetaData, String, Table, Text

#: Constraint names are fixed so migrations can refer to them on every backend.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: Longest user name anything stores (longer ones are refused before touching the database).
USERNAME_MAX = 150

users = Table(
    "users",
    metadata,
    Column("username", String(USERNAME_MAX), primary_key=True),
    Column("display_name", String(200), nullable=False, default=""),
    Column("role", String(32), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_ts", BigInteger, nullable=False),
    Column("updated_ts", BigInteger, nullable=False),
    Column("last_login_ts", BigInteger),
)

#: One row per live login session; deleting the row ends every token carrying its id.
sessions = Table(
    "sessions",
    metadata,
    Column("sid", String(64), primary_key=True),
    Column("username", String(USERNAME_MAX), ForeignKey("users.username", ondelete="CASCADE"), nullable=False),
    Column("created_ts", BigInteger, nullable=False),
    Column("issued_ts", BigInteger, nullable=False),
    Index("ix_sessions_username", "username"),
)

#: Login attempts being checked or failed, per user name and client address (throttling).
login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(USERNAME_MAX), nullable=False),
    Column("addr", String(64), nullable=False),
    Column("ts", Float, nullable=False),
    Index("ix_login_attempts_user_addr_ts", "username", "addr", "ts"),
    Index("ix_login_attempts_addr_ts", "addr", "ts"),
)

#: The audit trail: append-only, numbered, hash-chained and signed (ringsight.cases.audit).
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("audit_id", String(40), nullable=False, unique=True),
    Column("ts", BigInteger, nullable=False),
    Column("time", String(40), nullable=False),
    Column("user", String(USERNAME_MAX), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", Text, nullable=False),
    Column("before", Text),
    Column("after", Text),
    Column("prev_hash", String(64), nullable=False),
    Column("entry_hash", String(64), nullable=False),
    Column("signature", String(64), nullable=False),
    Index("ix_audit_log_ts", "ts"),
    Index("ix_audit_log_target", "target", postgresql_using="hash"),
)

#: The identity vault: the clear value behind each pseudonym in the graph (ringsight.appdb.vault).
#: Read only through ringsight.cases.identities (role check + audited reveal).
identity_vault = Table(
    "identity_vault",
    metadata,
    Column("kind", String(16), primary_key=True),  # patient | card | phone | address
    Column("pseudonym", String(64), primary_key=True),  # the keyed hash the graph holds
    Column("value", Text, nullable=False),  # clear value; a patient's is a JSON object of its fields
    sqlite_with_rowid=False,
)
