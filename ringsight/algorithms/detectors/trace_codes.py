"""The same drug traceability code settled twice (回流药): linking sellers and re-sellers.

A trace code (追溯码) identifies one package; it legitimately sells once. When
it is settled on ``trace_min_claims`` or more claims, the package came back
into the market. Codes are grouped by where they were settled *again* (the
re-sellers), so that one lead says "14 codes first sold at 5 pharmacies came
back at pharmacy B", with the cards on both sides; the first sellers are
context (they sold the package honestly once).

The scan (:func:`repeated_code_rows`, Narwhals: Polars here or Spark) keeps the
item rows of codes on ``trace_min_claims`` or more item rows, joined to their
claims; the exact count by distinct claim and the grouping run in Polars on
those few rows.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
import polars as pl

from ringsight.algorithms.engine import Source, source_of
from ringsight.algorithms.lazy import Items
from ringsight.algorithms.leads import finish, member_list, numbers_json
from ringsight.config import DetectThresholds

_EXPLODE = {"keep_nulls": False, "empty_as_null": False}
_CLAIM_COLS = ("claim_id", "facility_code", "card_id", "pid", "claim_ts", "total_amount")
#: The scan's rows as the finish reads them, whatever the engine (Spark has no categoricals, other int widths).
_ROW_SCHEMA = {
    "code": pl.String,
    "claim_id": pl.String,
    "facility_code": pl.String,
    "card_id": pl.String,
    "pid": pl.String,
    "claim_ts": pl.Int64,
    "total_amount": pl.Float64,
}


def repeated_code_rows(src: Source, min_rows: int) -> pl.DataFrame:
    """The scan: (code, claim columns) of the window's trace codes on ``min_rows`` or more item rows.

    Most codes sell once; grouping all of them by their text would hold every code in memory. A
    first pass counts rows per 47-bit hash of the code (a superset of the repeated codes: a
    collision only adds a candidate), a second gathers the rows of the kept hashes, joined to their
    claims (which also leaves out items of claims outside the window). Rows are not de-duplicated.
    """
    rows = (
        src.item_lines()
        .select("claim_id", nw.col("trace_codes").alias("code"))
        .explode("code")
        .filter(~nw.col("code").is_null() & (nw.col("code") != ""))
    )
    hashed = src.with_hash(rows, "h", "code")
    counts = hashed.group_by("h").agg(nw.len().alias("n")).filter(nw.col("n") >= min_rows).select("h")
    keep = src.collect(counts)
    if keep.is_empty():
        return pl.DataFrame(schema=_ROW_SCHEMA)
    kept: nw.LazyFrame[Any] = hashed.join(src.to_engine(keep), on="h", how="semi")
    found = src.collect(kept.select("claim_id", "code").join(src.claims.select(_CLAIM_COLS), on="claim_id"))
    return found.select(pl.col(c).cast(t) for c, t in _ROW_SCHEMA.items())


def trace_code_resale(claims: pl.DataFrame | Source, items: Items, t: DetectThresholds) -> pl.DataFrame:
    """Re-selling pharmacies and the cards linked by trace codes settled more than once."""
    codes = repeated_code_rows(source_of(claims, items), t.trace_min_claims)  # fewer rows: fewer claims too
    codes = codes.unique().filter(pl.col("claim_id").n_unique().over("code") >= t.trace_min_claims)
    if codes.is_empty():
        return finish(codes, "trace_code_resale", "trace_code_resale")
    per_code = (
        codes.sort("code", "claim_ts", "claim_id")
        .group_by("code", maintain_order=True)
        .agg(
            pl.col("facility_code").first().alias("seller"),
            pl.col("facility_code").slice(1).unique().sort().alias("resellers"),
            pl.col("card_id").drop_nulls().unique().sort().alias("cards"),
            pl.col("pid").drop_nulls().unique().sort().alias("pids"),
            pl.col("claim_id").alias("claim_ids"),
            pl.col("total_amount").sum().alias("amount"),
        )
        .with_columns(pl.col("resellers").cast(pl.List(pl.String)).list.join(",").alias("fac_key"))
    )
    leads = per_code.group_by("fac_key").agg(
        pl.len().alias("codes"),
        pl.col("resellers").first(),
        pl.col("seller").unique().sort().alias("sellers"),
        pl.col("cards").list.explode(**_EXPLODE).unique().sort(),
        pl.col("pids").list.explode(**_EXPLODE).unique().sort(),
        pl.col("claim_ids").list.explode(**_EXPLODE),
        pl.col("amount").sum().round(2),
    )
    leads = leads.with_columns(pl.col("sellers").list.len().alias("n_sellers"))
    out = leads.with_columns(
        ((pl.col("codes") / 5).clip(0, 1) * 0.7 + (pl.col("cards").list.len() / 6).clip(0, 1) * 0.3).alias("strength"),
        pl.format(
            "{} 个药品追溯码在 {} 家药店售出后又在 {} 再次结算（回流药）",
            pl.col("codes"),
            pl.col("n_sellers"),
            pl.col("fac_key"),
        ).alias("evidence_zh"),
        pl.format(
            "{} drug trace codes first sold at {} pharmacies settled again at {} (resold drugs)",
            pl.col("codes"),
            pl.col("n_sellers"),
            pl.col("fac_key"),
        ).alias("evidence_en"),
        numbers_json("codes", "n_sellers", "amount").alias("numbers"),
        pl.concat_list(
            member_list("Facility", "resellers", "reseller"),
            member_list("Facility", "sellers", "first_seller"),
            member_list("Card", "cards", "trace_card"),
            member_list("Patient", "pids", "trace_buyer"),
        ).alias("members"),
    )
    return finish(out, "trace_code_resale", "trace_code_resale")
