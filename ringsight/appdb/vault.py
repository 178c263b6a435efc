"""The identity vault: the clear value behind each pseudonym the graph holds.

The graph and the staged tables key persons, cards, phones and addresses by
keyed hashes (``ringsight.identity.pseudonym``); this table, in the
relational application database, is the only place their clear values are
kept. The loader writes it (:func:`store_identities`) before a chunk is
staged, so a killed load that resumes, or a load run twice, writes the same
rows again and changes nothing (insert-if-absent: the first value seen in file
order wins, as for graph properties).

Reading is deliberately narrow: :func:`lookup` is called by
``ringsight.cases.identities`` only, which checks the role and audits each
reveal. Nothing else should import it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import polars as pl
from sqlalchemy import Column, Engine, MetaData, String, Table, Text, create_engine, event, select, tuple_
from sqlalchemy.dialects import postgresql

from ringsight.config import Settings

metadata = MetaData()

identity_vault = Table(
    "identity_vault",
    metadata,
    Column("kind", String(16), primary_key=True, comment="patient | card | phone | address"),
    Column("pseudonym", String(64), primary_key=True, comment="the keyed hash the graph holds"),
    Column("value", Text, nullable=False, comment="clear value; for a patient a JSON object of its fields"),
    sqlite_with_rowid=False,
)

PATIENT_FIELDS = ("resident_id", "id_type", "person_no", "name", "birth_date")
"""Fields of a patient's vault value; each is revealed on its own (kind ``patient.<field>``)."""

_BATCH = 50_000


def database_url(settings: Settings) -> str:
    """The application database: ``app_db_url`` when set, else SQLite in the data directory."""
    url = getattr(settings, "app_db_url", None) or os.environ.get("RINGSIGHT_APP_DB_URL")
    if url:
        return str(url)
    return f"sqlite:///{Path(settings.data_dir) / 'ringsight-app.sqlite3'}"


@lru_cache(maxsize=8)
def _engine_for(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            path.touch(mode=0o600)  # personal data: readable by the service account only
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    metadata.create_all(engine)
    return engine


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MB: the loader inserts millions of keys
    cursor.close()


def engine(settings: Settings) -> Engine:
    """The vault's engine (created once per URL; the table is created when missing)."""
    return _engine_for(database_url(settings))


def store_identities(settings: Settings, rows: pl.DataFrame) -> int:
    """Insert the (kind, pseudonym, value) rows that are not in the vault yet; return how many were offered.

    Idempotent: a pseudonym already present keeps its first value, so
    re-running a chunk (resume, or the same file loaded twice) is a no-op.
    """
    if rows.height == 0:
        return 0
    rows = rows.sort("kind", "pseudonym")  # in key order: B-tree inserts stay local (several times faster)
    eng = engine(settings)
    with eng.begin() as conn:
        for batch in rows.iter_slices(_BATCH):
            if eng.dialect.name == "sqlite":  # the hot path of a load: tuples straight to the driver
                conn.exec_driver_sql(_SQLITE_INSERT, batch.rows())
            else:
                statement = postgresql.insert(identity_vault).on_conflict_do_nothing(
                    index_elements=["kind", "pseudonym"]
                )
                conn.execute(statement, batch.to_dicts())
    return rows.height


_SQLITE_INSERT = "INSERT OR IGNORE INTO identity_vault (kind, pseudonym, value) VALUES (?, ?, ?)"


def lookup(settings: Settings, refs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Clear values of (kind, pseudonym) pairs — kinds card, phone, address or ``patient.<field>``.

    Unchecked and unaudited: call it through ``ringsight.cases.identities``.
    Missing pseudonyms are absent from the answer.
    """
    wanted: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for kind, pseud in refs:
        base = kind.split(".", 1)[0]
        wanted.setdefault((base, pseud), []).append((kind, pseud))
    if not wanted:
        return {}
    out: dict[tuple[str, str], str] = {}
    keys = list(wanted)
    with engine(settings).connect() as conn:
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            query = select(identity_vault).where(tuple_(identity_vault.c.kind, identity_vault.c.pseudonym).in_(part))
            for row in conn.execute(query):
                for kind, pseud in wanted[(row.kind, row.pseudonym)]:
                    value = _field(row.value, kind) if "." in kind else row.value
                    if value is not None:
                        out[(kind, pseud)] = value
    return out


def _field(value: str, kind: str) -> str | None:
    field = kind.split(".", 1)[1]
    got = json.loads(value).get(field)
    return None if got is None else str(got)
