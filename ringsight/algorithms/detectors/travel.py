"""One card in two places too fast to travel (冒名就医, 盗刷).

Consecutive settlements of one card at facilities in different administrative
regions (the 6-digit region code of the national facility code) closer in
time than ``travel_max_hours``, given under a phone number that is not the
holder's usual one or in another city (people do cross a city in a few
hours). Facilities in different cities (first four digits differ) make a
stronger lead than two districts of one city. Phone
numbers given on the far claim that are not the card holder's usual number
are members too: impostors who use several cards under one phone are then
linked into one cluster.
"""

from __future__ import annotations

import polars as pl

from ringsight.algorithms.evidence import entity_ref
from ringsight.algorithms.leads import finish, member, member_list, numbers_json
from ringsight.config import DetectThresholds


def _region(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.String).str.slice(1, 6)


def impossible_travel(claims: pl.DataFrame, t: DetectThresholds) -> pl.DataFrame:
    """Cards settled in two regions within ``travel_max_hours``."""
    seq = (
        claims.select("card_id", "pid", "facility_code", "claim_ts", "claim_id", "total_amount", "patient_phone")
        .filter(pl.col("card_id").is_not_null() & pl.col("facility_code").is_not_null())
        .with_columns(pl.col("card_id").hash(seed=3).alias("h"))  # sorting integers is much cheaper
        .sort("h", "claim_ts", "claim_id")
        .with_columns(
            # sorted by card, so the previous row is the card's previous claim when the card matches
            pl.when(pl.col("h").shift(1) == pl.col("h")).then(pl.col("facility_code").shift(1)).alias("prev_fac"),
            pl.col("claim_ts").shift(1).alias("prev_ts"),
            pl.col("claim_id").shift(1).alias("prev_claim"),
        )
    )
    jumps = seq.filter(
        pl.col("prev_fac").is_not_null()
        & (_region("facility_code") != _region("prev_fac"))
        & ((pl.col("claim_ts") - pl.col("prev_ts")) < t.travel_max_hours * 3600)
    ).with_columns(
        (
            pl.col("facility_code").cast(pl.String).str.slice(1, 4)
            != pl.col("prev_fac").cast(pl.String).str.slice(1, 4)
        ).alias("other_city"),
        ((pl.col("claim_ts") - pl.col("prev_ts")) / 60).round(0).alias("minutes"),
    )
    usual = (
        claims.lazy()
        .select("card_id", "patient_phone")
        .filter(pl.col("patient_phone").is_not_null())
        .join(jumps.lazy().select("card_id").unique(), on="card_id", how="semi")
        .group_by("card_id", "patient_phone")
        .agg(pl.len().alias("n"))
        .sort("n", "patient_phone", descending=[True, False])
        .unique("card_id", keep="first")
        .select("card_id", pl.col("patient_phone").alias("usual_phone"))
        .collect()
    )
    jumps = jumps.join(usual, on="card_id", how="left").with_columns(
        pl.when(pl.col("patient_phone") != pl.col("usual_phone")).then(pl.col("patient_phone")).alias("odd_phone")
    )
    leads = jumps.group_by("card_id").agg(
        pl.col("odd_phone").drop_nulls().unique().sort().alias("odd_phones"),
        pl.len().alias("jumps"),
        pl.col("other_city").any(),
        pl.col("minutes").min().alias("min_minutes"),
        pl.col("pid").drop_nulls().unique().sort().alias("pids"),
        pl.concat_list("facility_code", "prev_fac")
        .list.explode(keep_nulls=False, empty_as_null=False)
        .unique()
        .sort()
        .alias("facilities"),
        pl.concat_list("claim_id", "prev_claim").list.explode(keep_nulls=False, empty_as_null=False).alias("claim_ids"),
        pl.col("total_amount").sum().round(2).alias("amount"),
    )
    leads = leads.filter((pl.col("odd_phones").list.len() > 0) | pl.col("other_city"))
    out = leads.with_columns(
        (
            (pl.col("jumps") / 4).clip(0, 1) * 0.5
            + pl.col("other_city").cast(pl.Float64) * 0.3
            + (pl.col("odd_phones").list.len() > 0).cast(pl.Float64) * 0.2
        ).alias("strength"),
        pl.format(
            "医保卡 {} 有 {} 次在 {} 小时内于不同地区结算（最短间隔 {} 分钟）",
            entity_ref("card", "card_id"),
            pl.col("jumps"),
            pl.lit(t.travel_max_hours),
            pl.col("min_minutes"),
        ).alias("evidence_zh"),
        pl.format(
            "card {} settled in different regions {} times within {} h (shortest gap {} min)",
            entity_ref("card", "card_id"),
            pl.col("jumps"),
            pl.lit(t.travel_max_hours),
            pl.col("min_minutes"),
        ).alias("evidence_en"),
        numbers_json("jumps", "other_city", "min_minutes", "amount").alias("numbers"),
        pl.concat_list(
            pl.concat_list(member("Card", "card_id", "travelling_card")),
            member_list("Patient", "pids", "card_holder"),
            member_list("Facility", "facilities", "facility"),
            member_list("Phone", "odd_phones", "impostor_phone"),
        ).alias("members"),
    )
    return finish(out, "impossible_travel", "impersonation")
