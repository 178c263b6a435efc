"""Validation: every rule of the claims format, each with a stable reject reason.

A row that breaks a rule is rejected whole; the first rule it breaks (in the
order below, which follows the spec's column order) names the column and the
reason. Reasons are stable codes that tests, reports and users rely on:

===============================  ==============================================
reason                           meaning
===============================  ==============================================
``missing_required``             a required column is empty in this row
``bad_identifier``               an identifier (claim, person, card, facility,
                                 doctor, item code …) holding a control
                                 character or markup (``<``, ``>``)
``control_character``            a free-text cell (name, address, …) holding
                                 a control character (NUL, escape sequences
                                 …; tabs and line breaks are allowed)
``unknown_value``                a value outside the column's vocabulary
                                 (visit type, gender, insurance type, …)
``bad_datetime``                 a date-time that cannot be read
``bad_date``                     a date that cannot be read (birth date)
``bad_resident_id``              wrong length / shape, impossible birth date or
                                 wrong ISO 7064 MOD 11-2 check character
``inpatient_without_admit_time`` an inpatient claim without admit time
``discharge_before_admit``       discharge precedes admission
``bad_amount``                   an amount that is not a non-negative number
``bad_quantity``                 an item quantity that is not a positive number
``bad_phone``                    a phone that is neither a mobile nor a landline
``too_long``                     person_no / doctor code longer than 30 characters
``orphan_item``                  an item whose claim_id is not among the claims
===============================  ==============================================

Warnings never reject a row; they are counted in the load report:
``gender_mismatch`` (gender differs from the resident ID),
``payment_sum_mismatch`` (fund + account + self ≠ total beyond 0.01),
``item_amount_mismatch`` (quantity × unit price ≠ amount beyond 0.01).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ringsight.identity import resident_id_problem
from ringsight.loaders import normalise as nz
from ringsight.loaders.profiles import TableProfile

REASONS: tuple[str, ...] = (
    "missing_required",
    "bad_identifier",
    "control_character",
    "unknown_value",
    "bad_datetime",
    "bad_date",
    "bad_resident_id",
    "inpatient_without_admit_time",
    "discharge_before_admit",
    "bad_amount",
    "bad_quantity",
    "bad_phone",
    "too_long",
    "orphan_item",
)
WARNINGS: tuple[str, ...] = ("gender_mismatch", "payment_sum_mismatch", "item_amount_mismatch")
MAX_CODE_LEN = 30

CLAIM_IDENTIFIERS: tuple[str, ...] = (
    "claim_id",
    "patient_id",
    "person_no",
    "card_id",
    "facility_id",
    "doctor_id",
    "terminal_id",
    "operator_id",
    "diagnosis_code",
    "bed_no",
)
CLAIM_PARSED: tuple[str, ...] = (
    "claim_time",
    "admit_time",
    "discharge_time",
    "patient_birth_date",
    "patient_phone",
    "contact_phone",
    "total_amount",
    "fund_paid",
    "account_paid",
    "self_paid",
)
ITEM_IDENTIFIERS: tuple[str, ...] = ("claim_id", "item_code", "item_doctor_id", "prescription_id", "trace_codes")
# identifiers become node keys, links and file names: no control, bidi or markup character
_BAD_ID_CHARS = r"[\x00-\x1f\x7f<>\x{202a}-\x{202e}\x{2066}-\x{2069}]"
# free text may break lines and hold tabs, nothing else below 0x20
_BAD_TEXT_CHARS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
# any character either rule looks for: one scan of a chunk decides whether the per-column rules run
_SCREEN = _BAD_ID_CHARS

REASON = "_reason"
COLUMN = "_column"
DETAIL = "_detail"


@dataclass(frozen=True)
class Rule:
    """One check: rows where ``bad`` is true are rejected with ``reason`` on ``column``."""

    reason: str
    column: str
    bad: pl.Expr
    detail: pl.Expr
    screened: bool = False  # skipped for a chunk in which no cell holds a character of _SCREEN


def _vocab(series: pl.Series, table: TableProfile) -> pl.Series:
    """The canonical value of a vocabulary column (null when unknown or absent).

    Values spelt exactly as in the vocabulary map directly; the others are
    folded (case, spaces) first.
    """
    column = str(series.name)
    exact = {**(table.values.get(column) or {})}
    folded = table.vocabulary(column) or {}

    def fast(e: pl.Expr) -> pl.Expr:
        return e.replace_strict(exact, default=None, return_dtype=pl.String)

    def slow(e: pl.Expr) -> pl.Expr:
        key = e.str.to_lowercase().str.replace_all(r"\s+", "")
        return key.replace_strict(folded, default=None, return_dtype=pl.String)

    return nz.fast_then_slow(series, fast, slow)


def parse_claims(frame: pl.DataFrame, table: TableProfile) -> pl.DataFrame:
    """Add the parsed forms of a claims chunk (``p_*`` columns) that the rules and the tables use."""
    col = pl.col
    vocab_cols = [c for c in table.values if c in frame.columns]
    frame = frame.with_columns(
        [_vocab(frame[c], table).alias(f"p_{c}") for c in vocab_cols]
        + [nz.epoch_series(frame[c]).alias(f"p_{c[:-5]}_ts") for c in ("claim_time", "admit_time", "discharge_time")]
        + [nz.id_series(frame[c]).alias(f"p_{c}") for c in ("patient_id", "card_id", "facility_id", "doctor_id")]
        + [nz.phone_series(frame[c]).alias(f"p_{c}") for c in ("patient_phone", "contact_phone")]
        + [
            nz.amount_series(frame[c]).alias(f"p_{c}")
            for c in ("total_amount", "fund_paid", "account_paid", "self_paid")
        ]
        + [nz.date_series(frame["patient_birth_date"]).alias("p_birth")]
    )
    id_type = col("p_patient_id_type").fill_null(pl.lit("resident_id"))
    checked = nz.by_distinct(frame["p_patient_id"], lambda v: [nz.resident_id_ok(v).alias("p_id_ok")])
    return frame.with_columns(
        id_type.alias("p_id_type"),
        (id_type == "resident_id").alias("p_is_resident"),
        checked["p_id_ok"].fill_null(False),
    )


def character_rules(table: TableProfile, identifiers: tuple[str, ...], parsed: tuple[str, ...]) -> list[Rule]:
    """Identifiers with control characters or markup, and free text with a control character, are rejected.

    A claim id carrying ``<a href>`` would become a link in the timeline, a
    NUL byte breaks the store's parser, an escape sequence repaints a terminal.
    Columns in ``parsed`` (dates, amounts, phones, vocabularies) need no rule:
    their parsers reject such a value, or keep only its digits.
    """
    rules = [
        Rule(
            "bad_identifier",
            c,
            pl.col(c).str.contains(_BAD_ID_CHARS).fill_null(False),
            pl.lit(f"{c} holds a control character or markup (<, >)"),
            screened=True,
        )
        for c in identifiers
        if c in table.columns
    ]
    for c in table.columns:
        if c not in identifiers and c not in parsed and c not in table.values:
            rules.append(
                Rule(
                    "control_character",
                    c,
                    pl.col(c).str.contains(_BAD_TEXT_CHARS).fill_null(False),
                    pl.lit(f"{c} holds a control character"),
                    screened=True,
                )
            )
    return rules


def claim_rules(table: TableProfile) -> list[Rule]:
    """The claims rules in the order they are checked."""
    col = pl.col
    rules = [Rule("missing_required", c, col(c).is_null(), pl.lit(f"{c} is empty")) for c in table.required]
    rules.extend(character_rules(table, CLAIM_IDENTIFIERS, CLAIM_PARSED))
    rules.append(_unknown("visit_type"))
    rules.append(_bad_time("claim_time", "p_claim_ts"))
    rules.append(_unknown("patient_id_type"))
    rules.append(
        Rule(
            "bad_resident_id",
            "patient_id",
            col("p_is_resident") & ~col("p_id_ok"),
            pl.lit("resident ID is not valid"),  # replaced by identity.resident_id_problem's words
        )
    )
    rules.append(_bad_amount("total_amount"))
    rules.append(
        Rule(
            "inpatient_without_admit_time",
            "admit_time",
            (col("p_visit_type") == "inpatient") & col("admit_time").is_null(),
            pl.lit("an inpatient claim needs admit_time"),
        )
    )
    rules.append(_bad_time("admit_time", "p_admit_ts"))
    rules.append(_bad_time("discharge_time", "p_discharge_ts"))
    rules.append(
        Rule(
            "discharge_before_admit",
            "discharge_time",
            (col("p_discharge_ts") < col("p_admit_ts")).fill_null(False),
            pl.format("discharge {} precedes admission {}", col("discharge_time"), col("admit_time")),
        )
    )
    rules.append(_too_long("person_no"))
    rules.append(_unknown("patient_gender"))
    rules.append(
        Rule(
            "bad_date",
            "patient_birth_date",
            col("patient_birth_date").is_not_null() & col("p_birth").is_null(),
            pl.format("cannot read '{}' as a date", col("patient_birth_date")),
        )
    )
    rules.extend(_unknown(c) for c in ("insurance_type", "card_kind"))
    rules.extend(_bad_phone(c) for c in ("patient_phone", "contact_phone"))
    rules.extend(_unknown(c) for c in ("facility_kind", "facility_ownership"))
    rules.append(_too_long("doctor_id"))
    rules.extend(_bad_amount(c) for c in ("fund_paid", "account_paid", "self_paid"))
    return rules


def parse_items(frame: pl.DataFrame, table: TableProfile) -> pl.DataFrame:
    """Add the parsed forms of an items chunk."""
    vocab_cols = [c for c in table.values if c in frame.columns]
    return frame.with_columns(
        [_vocab(frame[c], table).alias(f"p_{c}") for c in vocab_cols]
        + [nz.amount_series(frame[c]).alias(f"p_{c}") for c in ("quantity", "unit_price", "amount")]
        + [nz.id_series(frame[c]).alias(f"p_{c}") for c in ("item_code", "item_doctor_id")]
    )


def item_rules(table: TableProfile) -> list[Rule]:
    """The items rules in the order they are checked (orphans are checked against the claims later)."""
    col = pl.col
    rules = [Rule("missing_required", c, col(c).is_null(), pl.lit(f"{c} is empty")) for c in table.required]
    rules.extend(character_rules(table, ITEM_IDENTIFIERS, ("quantity", "unit_price", "amount")))
    rules.append(
        Rule(
            "bad_quantity",
            "quantity",
            ~(col("p_quantity") > 0).fill_null(False),
            pl.format("quantity '{}' is not a positive number", col("quantity")),
        )
    )
    rules.append(_bad_amount("unit_price"))
    rules.append(_bad_amount("amount"))
    rules.extend(_unknown(c) for c in ("item_category", "external_prescription"))
    rules.append(_too_long("item_doctor_id"))
    return rules


def _unknown(column: str) -> Rule:
    raw, parsed = pl.col(column), pl.col(f"p_{column}")
    return Rule(
        "unknown_value",
        column,
        raw.is_not_null() & parsed.is_null(),
        pl.format("'{}' is not a known {} (map it in a profile)", raw, pl.lit(column)),
    )


def _bad_time(column: str, parsed: str) -> Rule:
    return Rule(
        "bad_datetime",
        column,
        pl.col(column).is_not_null() & pl.col(parsed).is_null(),
        pl.format("cannot read '{}' as a date-time", pl.col(column)),
    )


def _bad_amount(column: str) -> Rule:
    raw, parsed = pl.col(column), pl.col(f"p_{column}")
    return Rule(
        "bad_amount",
        column,
        raw.is_not_null() & ~(parsed >= 0).fill_null(False),
        pl.format("'{}' is not a non-negative amount", raw),
    )


def _bad_phone(column: str) -> Rule:
    raw = pl.col(column)
    return Rule(
        "bad_phone",
        column,
        raw.is_not_null() & pl.col(f"p_{column}").is_null(),
        pl.format("'{}' is neither an 11-digit mobile nor an area-code landline", raw),
    )


def _too_long(column: str) -> Rule:
    raw = pl.col(column)
    return Rule(
        "too_long",
        column,
        (raw.str.len_chars() > MAX_CODE_LEN).fill_null(False),
        pl.format("{} has more than {} characters", pl.lit(column), pl.lit(MAX_CODE_LEN)),
    )


def apply_rules(frame: pl.DataFrame, rules: list[Rule]) -> pl.DataFrame:
    """Add ``_reason``, ``_column`` and ``_detail`` (null for good rows) from the first rule broken."""
    rules = _screen(frame, rules)
    reason = column = detail = None
    for rule in rules:
        if reason is None:
            reason = pl.when(rule.bad).then(pl.lit(rule.reason))
            column = pl.when(rule.bad).then(pl.lit(rule.column))
            detail = pl.when(rule.bad).then(rule.detail)
        else:
            reason = reason.when(rule.bad).then(pl.lit(rule.reason))
            column = column.when(rule.bad).then(pl.lit(rule.column))
            detail = detail.when(rule.bad).then(rule.detail)
    assert reason is not None and column is not None and detail is not None
    frame = frame.with_columns(
        reason.otherwise(None).alias(REASON),
        column.otherwise(None).alias(COLUMN),
        detail.otherwise(None).cast(pl.String).alias(DETAIL),
    )
    return _explain_resident_ids(frame)


def _screen(frame: pl.DataFrame, rules: list[Rule]) -> list[Rule]:
    """Keep a character rule only for a column in which some cell holds a suspicious character.

    One ``any`` scan per column; in the usual chunk no column has one, and the
    per-row rules are not evaluated at all.
    """
    columns = sorted({r.column for r in rules if r.screened and r.column in frame.columns})
    if not columns:
        return rules
    found = frame.select([pl.col(c).str.contains(_SCREEN).any().alias(c) for c in columns]).row(0, named=True)
    return [r for r in rules if not r.screened or found[r.column]]


def reject_extra_text(checked: pl.DataFrame, raw: pl.DataFrame, headers: list[str]) -> pl.DataFrame:
    """Rows whose kept extra columns (``keep_extra``, stored as Claim properties) hold a control character.

    ``checked`` and ``raw`` are the same rows in the same order (the canonical
    frame is selected from the raw chunk).
    """
    for header in headers:
        bad = raw.get_column(header).cast(pl.String).str.contains(_BAD_TEXT_CHARS).fill_null(False)
        if not bad.any():
            continue
        hit = pl.lit(bad) & pl.col(REASON).is_null()
        checked = checked.with_columns(
            pl.when(hit).then(pl.lit("control_character")).otherwise(pl.col(REASON)).alias(REASON),
            pl.when(hit).then(pl.lit(header)).otherwise(pl.col(COLUMN)).alias(COLUMN),
            pl.when(hit).then(pl.lit(f"{header} holds a control character")).otherwise(pl.col(DETAIL)).alias(DETAIL),
        )
    return checked


def _explain_resident_ids(frame: pl.DataFrame) -> pl.DataFrame:
    """Put identity.resident_id_problem's words on the (few) rows rejected for their ID."""
    mask = frame[REASON] == "bad_resident_id"
    if "p_patient_id" not in frame.columns or not mask.any():
        return frame
    ids = frame.filter(mask)["p_patient_id"].unique().to_list()
    words = {i: resident_id_problem(i) or "resident ID is not valid" for i in ids}
    explained = frame["p_patient_id"].replace_strict(words, default=None, return_dtype=pl.String)
    return frame.with_columns(pl.when(mask).then(explained).otherwise(pl.col(DETAIL)).alias(DETAIL))


def claim_warnings(frame: pl.DataFrame) -> dict[str, int]:
    """Warning counts of the accepted claims of a chunk."""
    col = pl.col
    id_gender = nz.resident_id_gender(col("p_patient_id"))
    paid = col("p_fund_paid") + col("p_account_paid") + col("p_self_paid")
    counts = frame.select(
        (col("p_is_resident") & col("p_patient_gender").is_not_null() & (col("p_patient_gender") != id_gender))
        .fill_null(False)
        .sum()
        .alias("gender_mismatch"),
        ((paid - col("p_total_amount")).abs() > 0.01).fill_null(False).sum().alias("payment_sum_mismatch"),
    ).row(0, named=True)
    return {k: int(v) for k, v in counts.items() if v}


def item_warnings(frame: pl.DataFrame) -> dict[str, int]:
    """Warning counts of the accepted items of a chunk."""
    col = pl.col
    bad = ((col("p_quantity") * col("p_unit_price") - col("p_amount")).abs() > 0.01).fill_null(False).sum()
    n = int(frame.select(bad).item())
    return {"item_amount_mismatch": n} if n else {}
