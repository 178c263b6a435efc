"""The same drug traceability code settled twice (回流药): linking sellers and re-sellers.

A trace code (追溯码) identifies one package; it legitimately sells once. When
it is settled on ``trace_min_claims`` or more claims, the package came back
into the market. Codes are grouped by the pair (first seller → later
re-seller) so that one lead says "pharmacies A and B share 14 resold codes",
with the cards that bought them.
"""

from __future__ import annotations

import polars as pl

from ringsight.algorithms.leads import finish, member_list, numbers_json
from ringsight.config import DetectThresholds


def trace_code_resale(claims: pl.DataFrame, items: pl.DataFrame, t: DetectThresholds) -> pl.DataFrame:
    """Pharmacies and cards linked by trace codes settled more than once."""
    if items.is_empty():
        return finish(items, "trace_code_resale", "trace_code_resale")
    codes = (
        items.select("claim_id", "trace_codes")
        .explode("trace_codes")
        .drop_nulls("trace_codes")
        .filter(pl.col("trace_codes") != "")
        .rename({"trace_codes": "code"})
        .unique()
        .join(claims.select("claim_id", "facility_code", "card_id", "pid", "claim_ts", "total_amount"), on="claim_id")
    )
    codes = codes.with_columns(pl.col("claim_id").n_unique().over("code").alias("uses")).filter(
        pl.col("uses") >= t.trace_min_claims
    )
    if codes.is_empty():
        return finish(codes, "trace_code_resale", "trace_code_resale")
    per_code = (
        codes.sort("code", "claim_ts", "claim_id")
        .group_by("code", maintain_order=True)
        .agg(
            pl.col("facility_code").first().alias("seller"),
            pl.col("facility_code").unique().sort().alias("facilities"),
            pl.col("card_id").drop_nulls().unique().sort().alias("cards"),
            pl.col("pid").drop_nulls().unique().sort().alias("pids"),
            pl.col("claim_id").alias("claim_ids"),
            pl.col("total_amount").sum().alias("amount"),
        )
        .with_columns(pl.col("facilities").list.join(",").alias("fac_key"))
    )
    leads = (
        per_code.group_by("fac_key")
        .agg(
            pl.len().alias("codes"),
            pl.col("facilities").first(),
            pl.col("cards").list.explode(keep_nulls=False, empty_as_null=False).unique().sort(),
            pl.col("pids").list.explode(keep_nulls=False, empty_as_null=False).unique().sort(),
            pl.col("claim_ids").list.explode(keep_nulls=False, empty_as_null=False),
            pl.col("amount").sum().round(2),
        )
        .with_columns(pl.col("facilities").list.len().alias("n_fac"))
    )
    out = leads.with_columns(
        ((pl.col("codes") / 5).clip(0, 1) * 0.7 + (pl.col("cards").list.len() / 6).clip(0, 1) * 0.3).alias("strength"),
        pl.format("{} 个药品追溯码被重复结算，涉及机构 {}（回流药）", pl.col("codes"), pl.col("fac_key")).alias(
            "evidence_zh"
        ),
        pl.format(
            "{} drug trace codes settled more than once across {} (resold drugs)", pl.col("codes"), pl.col("fac_key")
        ).alias("evidence_en"),
        numbers_json("codes", "n_fac", "amount").alias("numbers"),
        pl.concat_list(
            member_list("Facility", "facilities", "reseller"),
            member_list("Card", "cards", "trace_card"),
            member_list("Patient", "pids", "trace_buyer"),
        ).alias("members"),
    )
    return finish(out, "trace_code_resale", "trace_code_resale")
