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
from collections.abc import Iterable

import polars as pl
from sqlalchemy import select, tuple_
from sqlalchemy.dialects import postgresql

from ringsight.appdb.engine import AppDb
from ringsight.appdb.tables import identity_vault

PATIENT_FIELDS = ("resident_id", "id_type", "person_no", "name", "birth_date")
"""Fields of a patient's vault value; each is revealed on its own (kind ``patient.<field>``)."""

_BATCH = 50_000
_SQLITE_INSERT = "INSERT OR IGNORE INTO identity_vault (kind, pseudonym, value) VALUES (?, ?, ?)"


def store_identities(db: AppDb, rows: pl.DataFrame) -> int:
    """Insert the (kind, pseudonym, value) rows that are not in the vault yet; return how many were offered.

    Idempotent: a pseudonym already present keeps its first value, so
    re-running a chunk (resume, or the same file loaded twice) is a no-op.
    """
    if rows.height == 0:
        return 0
    rows = rows.sort("kind", "pseudonym")  # in key order: B-tree inserts stay local (several times faster)
    with db.begin() as conn:
        if db.dialect == "sqlite":  # the hot path of a load: tuples straight to the driver
            conn.exec_driver_sql("PRAGMA cache_size=-65536")  # 64 MB for this connection's inserts
            for batch in rows.iter_slices(_BATCH):
                conn.exec_driver_sql(_SQLITE_INSERT, batch.rows())
        else:
            statement = postgresql.insert(identity_vault).on_conflict_do_nothing(index_elements=["kind", "pseudonym"])
            for batch in rows.iter_slices(_BATCH):
                conn.execute(statement, batch.to_dicts())
    return rows.height


def lookup(db: AppDb, refs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
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
    with db.read() as conn:
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
