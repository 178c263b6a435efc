"""Realistic export defects, injected at a set rate, each recorded with its file, line, column and reason.

Two lists come out of a dirty run:

- ``dirty_rows.csv`` — rows that break a rule of spec/claims-format.md and
  that a loader must reject (bad check character, day/month/year dates,
  empty required fields, negative totals, discharge before admission, a
  repeated claim_id with different content; for items: orphan claim IDs,
  non-positive quantities, empty item codes). A rejected claim's items are
  left out of the items file, so no item's fate depends on how a loader
  treats a rejected parent.
- ``dirty_variants.csv`` — rows with harmless variations a loader must accept
  and normalise (Chinese visit types, ``YYYY/MM/DD`` and ``YYYYMMDDHHMMSS``
  times, +86 and full-width phone digits, a lower-case x, exact duplicates).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
import polars as pl

CLAIM_DEFECTS = ("bad_check", "swapped_date", "missing", "negative", "discharge_first", "conflict")
_CLAIM_DEFECT_P = np.array([0.25, 0.2, 0.2, 0.1, 0.1, 0.15])
CLAIM_VARIANTS = ("visit_zh", "slash_date", "compact_date", "plus86", "fullwidth_phone", "duplicate")
_REQUIRED = ("claim_id", "visit_type", "claim_time", "patient_id", "card_id", "facility_id", "total_amount")
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_WRONG_CHECK = str.maketrans("0123456789X", "123456789X0")
_VISIT_ZH = {"outpatient": "门诊", "inpatient": "住院", "pharmacy": "药店购药"}


@dataclass
class DirtyLog:
    """Rows to reject and rows to accept, as (file, line, column, reason)."""

    bad: list[tuple[str, int, str, str]] = field(default_factory=list)
    variants: list[tuple[str, int, str, str]] = field(default_factory=list)


def as_strings(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame as the exact strings a clean CSV would hold (via a CSV round trip)."""
    buf = io.BytesIO()
    frame.write_csv(buf, datetime_format="%Y-%m-%d %H:%M:%S", float_precision=2)
    buf.seek(0)
    return pl.read_csv(buf, infer_schema=False)


def _swap_date(value: str) -> str:
    day, time = value.split(" ")
    y, m, d = day.split("-")
    return f"{d}/{m}/{y} {time}"


def _claim_defect(kind: str, row: dict[str, str | None], rng: np.random.Generator) -> tuple[str, str]:
    """Break one claim row in place; return (column, reason)."""
    if kind == "discharge_first" and row["admit_time"]:
        row["admit_time"], row["discharge_time"] = row["discharge_time"], row["admit_time"]
        return "discharge_time", "discharge_time precedes admit_time"
    if kind == "swapped_date":
        row["claim_time"] = _swap_date(str(row["claim_time"]))
        return "claim_time", "claim_time written day/month/year"
    if kind == "missing":
        column = str(rng.choice(_REQUIRED))
        row[column] = None
        return column, f"required column {column} is empty"
    if kind == "negative":
        row["total_amount"] = "-" + str(row["total_amount"])
        return "total_amount", "total_amount is negative"
    pid = str(row["patient_id"])
    row["patient_id"] = pid[:17] + pid[17].translate(_WRONG_CHECK)
    return "patient_id", "resident ID check character is wrong"


def _claim_variant(kind: str, row: dict[str, str | None]) -> str:
    """Apply one harmless variation in place; return the column it touched."""
    if kind == "visit_zh":
        row["visit_type"] = _VISIT_ZH[str(row["visit_type"])]
        return "visit_type"
    if kind in ("slash_date", "compact_date"):
        value = str(row["claim_time"])
        row["claim_time"] = (
            value.replace("-", "/")
            if kind == "slash_date"
            else (value.replace("-", "").replace(" ", "").replace(":", ""))
        )
        return "claim_time"
    if kind == "plus86" and row["patient_phone"]:
        row["patient_phone"] = "+86 " + str(row["patient_phone"])
        return "patient_phone"
    if row["patient_phone"]:
        row["patient_phone"] = str(row["patient_phone"]).translate(_FULLWIDTH)
        return "patient_phone"
    row["visit_type"] = _VISIT_ZH[str(row["visit_type"])]
    return "visit_type"


def dirty_claims(
    claims: pl.DataFrame, rate: float, first_line: int, file: str, rng: np.random.Generator, log: DirtyLog
) -> tuple[pl.DataFrame, set[str]]:
    """Inject defects and variations into one block of claims (strings); return it and the rejected claim IDs.

    ``first_line`` is the file line number of the block's first row. Only the
    touched rows are handled one by one; the rest of the block stays columnar.
    """
    n = claims.height
    picked = rng.choice(n, size=min(n, 2 * rng.binomial(n, rate)), replace=False)
    bad_rows, variant_rows = np.sort(picked[: len(picked) // 2]), np.sort(picked[len(picked) // 2 :])
    records = claims[np.concatenate([bad_rows, variant_rows]).astype(np.int64)].to_dicts()
    changed: dict[int, dict[str, str | None]] = {}
    extra: list[tuple[int, dict[str, str | None]]] = []  # (row it follows, record)
    notes: list[tuple[int, str, str, bool]] = []  # (sort key, column, reason, must be rejected)
    rejected: set[str] = set()
    for pos, rec in zip(bad_rows.tolist(), records[: len(bad_rows)], strict=True):
        kind = str(rng.choice(CLAIM_DEFECTS, p=_CLAIM_DEFECT_P))
        if kind == "conflict":
            twin = dict(rec)
            twin["total_amount"] = f"{float(str(rec['total_amount'])) + 10:.2f}"
            extra.append((pos, twin))
            notes.append((pos * 2 + 1, "claim_id", "claim_id repeated with different content", True))
            continue
        rejected.add(str(rec["claim_id"]))
        column, reason = _claim_defect(kind, rec, rng)
        changed[pos] = rec
        notes.append((pos * 2, column, reason, True))
    for pos, rec in zip(variant_rows.tolist(), records[len(bad_rows) :], strict=True):
        kind = str(rng.choice(CLAIM_VARIANTS))
        if kind == "duplicate":
            extra.append((pos, dict(rec)))
            notes.append((pos * 2 + 1, "claim_id", "variation: exact duplicate row (no-op)", False))
            continue
        column = _claim_variant(kind, rec)
        changed[pos] = rec
        notes.append((pos * 2, column, f"variation: {kind}", False))
    if changed:
        rows = np.array(sorted(changed), np.int64)
        patch = pl.DataFrame([changed[r] for r in rows.tolist()], schema=claims.schema, orient="row")
        claims = claims.with_columns(claims[c].scatter(rows, patch[c]) for c in claims.columns)
    key = np.arange(n, dtype=np.int64) * 2
    if extra:
        claims = pl.concat([claims, pl.DataFrame([e[1] for e in extra], schema=claims.schema, orient="row")])
        key = np.concatenate([key, np.array([after * 2 + 1 for after, _ in extra], np.int64)])
    claims = claims.with_columns(_key=pl.Series(key)).sort("_key")
    line_of = {k: first_line + i for i, k in enumerate(claims["_key"].to_list())}
    for k, column, reason, bad in sorted(notes):
        (log.bad if bad else log.variants).append((file, line_of[k], column, reason))
    return claims.drop("_key"), rejected


def dirty_items(
    items: pl.DataFrame,
    rejected: set[str],
    rate: float,
    first_line: int,
    file: str,
    rng: np.random.Generator,
    log: DirtyLog,
) -> pl.DataFrame:
    """Drop the items of rejected claims, then break some item rows (orphan, zero quantity, empty code)."""
    if rejected:
        items = items.filter(~pl.col("claim_id").is_in(list(rejected)))
    n = items.height
    rows = np.sort(rng.choice(n, size=min(n, rng.binomial(n, rate / 2)), replace=False)).astype(np.int64)
    if not len(rows):
        return items
    kinds = rng.integers(0, 3, len(rows))
    claim_id, quantity, code = items["claim_id"].clone(), items["quantity"].clone(), items["item_code"].clone()
    for row, kind in zip(rows.tolist(), kinds.tolist(), strict=True):
        if kind == 0:
            claim_id[row] = "X" + str(claim_id[row])[1:]
            log.bad.append((file, first_line + row, "claim_id", "claim_id not in claims (orphan item)"))
        elif kind == 1:
            quantity[row] = "0"
            log.bad.append((file, first_line + row, "quantity", "quantity is not positive"))
        else:
            code[row] = None
            log.bad.append((file, first_line + row, "item_code", "required column item_code is empty"))
    return items.with_columns(claim_id, quantity, code)
