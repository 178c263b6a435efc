"""Leads: what every detector returns, in one shape.

A *lead* is one suspicious pattern a named detector found ("card 6217… used by
4 persons"), with the entities it involves, the claims behind it, a strength
in [0, 1] and evidence in plain Chinese and English. Leads are Polars frames,
not Python objects, so a detector over a million claims stays vectorised.

Columns of a leads frame (:data:`LEAD_SCHEMA`):

- ``detector`` — the detector's name (also the signal name in scores);
- ``typology`` — a typology code from docs/graph-contract.md;
- ``strength`` — how strong the pattern is, 0..1;
- ``evidence_zh`` / ``evidence_en`` — one sentence an investigator can read;
- ``numbers`` — JSON text with the figures behind the sentence;
- ``members`` — list of ``{label, key, role}``: the entities involved;
- ``claim_ids`` — list of the claims behind the lead.
"""

from __future__ import annotations

import polars as pl

MEMBER = pl.Struct({"label": pl.String, "key": pl.String, "role": pl.String})

LEAD_SCHEMA: dict[str, pl.DataType] = {
    "detector": pl.String(),
    "typology": pl.String(),
    "strength": pl.Float64(),
    "evidence_zh": pl.String(),
    "evidence_en": pl.String(),
    "numbers": pl.String(),
    "members": pl.List(MEMBER),
    "claim_ids": pl.List(pl.String()),
}


def empty_leads() -> pl.DataFrame:
    """A leads frame with no rows."""
    return pl.DataFrame(schema=LEAD_SCHEMA)


def member(label: str, key: pl.Expr | str, role: str) -> pl.Expr:
    """One ``{label, key, role}`` struct expression (key from a column name or an expression)."""
    key_expr = pl.col(key) if isinstance(key, str) else key
    return pl.struct(
        pl.lit(label).alias("label"),
        key_expr.cast(pl.String).alias("key"),
        pl.lit(role).alias("role"),
    )


def member_list(label: str, keys: str, role: str) -> pl.Expr:
    """A list of member structs from a list column of keys (e.g. the patients of a group)."""
    return pl.col(keys).list.eval(
        pl.struct(
            pl.lit(label).alias("label"),
            pl.element().cast(pl.String).alias("key"),
            pl.lit(role).alias("role"),
        )
    )


def numbers_json(*cols: str) -> pl.Expr:
    """The named columns as one JSON object per row (the figures behind the evidence)."""
    return pl.struct([pl.col(c) for c in cols]).struct.json_encode()


def finish(frame: pl.DataFrame, detector: str, typology: str | pl.Expr) -> pl.DataFrame:
    """Add the detector and typology columns and keep the lead columns, in order."""
    if frame.is_empty():
        return empty_leads()
    typ = pl.lit(typology) if isinstance(typology, str) else typology
    out = frame.with_columns(
        pl.lit(detector).alias("detector"),
        typ.alias("typology"),
        pl.col("strength").clip(0.0, 1.0).cast(pl.Float64),
    )
    out = out.with_columns(
        # a figure missing from the data (a distance, a quantity) must not blank the whole sentence
        pl.col("evidence_zh").fill_null(pl.lit(detector)),
        pl.col("evidence_en").fill_null(pl.lit(detector)),
        pl.col("members").list.filter(pl.element().struct.field("key").is_not_null()),
        pl.col("claim_ids").list.unique().list.sort(),
    )
    return out.select([pl.col(c).cast(t) for c, t in LEAD_SCHEMA.items()])


def concat_leads(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """All detectors' leads in one frame with a ``lead_id`` (row number, deterministic order)."""
    frames = [f for f in frames if not f.is_empty()]
    leads = pl.concat(frames, how="vertical") if frames else empty_leads()
    # group_by order is not deterministic in Polars: sort so that lead ids are (two leads can read
    # alike, e.g. two persons buying the same drug as much at as many pharmacies: their claims differ).
    leads = leads.sort("detector", "evidence_en", "numbers", "strength", pl.col("claim_ids").list.first())
    return leads.with_row_index("lead_id").with_columns(pl.col("lead_id").cast(pl.Int64))


def lead_members(leads: pl.DataFrame) -> pl.DataFrame:
    """One row per (lead, member entity): lead_id, detector, label, key, role."""
    if leads.is_empty():
        return pl.DataFrame(
            schema={"lead_id": pl.Int64, "detector": pl.String, "label": pl.String, "key": pl.String, "role": pl.String}
        )
    return (
        leads.select("lead_id", "detector", "members")
        .explode("members")
        .drop_nulls("members")
        .unnest("members")
        .unique(["lead_id", "label", "key"], keep="first", maintain_order=True)
    )
