"""Person-to-person projections of the claims, weighted by how surprising each link is.

Two insured persons are linked when they share a *context*: a card, an own
phone, an emergency-contact phone, an address, a burst of swipes at one
terminal, a co-admission (same facility, same admit and discharge day), a
drug trace code. Contexts are everywhere in honest data (a big hospital, a
nursing home's address), so each context of size *k* adds
``context_weight / (k - 1)`` to every pair inside it — the *resource
allocation* index (Zhou, Lü & Zhang 2009), an inverse-hub-degree weighting —
and contexts larger than ``covisit_max_group`` add nothing. A hub therefore
cannot glue the city together, while a small group that meets again and again
(the same cards swiped together every week) accumulates weight.

Reference: T. Zhou, L. Lü, Y.-C. Zhang, "Predicting missing links via local
information", Eur. Phys. J. B 71 (2009) 623–630.
"""

from __future__ import annotations

import polars as pl

from ringsight.config import DetectThresholds

#: Weight of one shared context of each kind (before the 1/(k-1) hub discount).
CONTEXT_WEIGHTS: dict[str, float] = {
    "card": 1.0,
    "phone": 1.0,
    "contact": 0.8,
    "address": 0.4,
    "burst": 0.5,
    "co_admission": 1.0,
    "trace": 1.0,
    "bed": 0.8,
}

EDGE_SCHEMA = {"a": pl.String, "b": pl.String, "weight": pl.Float64}


def contexts(claims: pl.DataFrame, items: pl.DataFrame, t: DetectThresholds) -> pl.DataFrame:
    """Every (context kind, context id, pid) membership the projection is built from."""
    base = claims.select(
        "pid",
        "card_id",
        "patient_phone",
        "contact_phone",
        "address_key",
        "facility_code",
        "terminal_id",
        "claim_ts",
        "admit_ts",
        "discharge_ts",
        "visit_type",
        "bed_no",
        "claim_id",
    ).filter(pl.col("pid").is_not_null())
    parts = [
        _attr(base, "card", "card_id"),
        _attr(base, "phone", "patient_phone"),
        _attr(base, "contact", "contact_phone"),
        _attr(base, "address", "address_key"),
        _bursts(base, t),
        _co_admissions(base),
        _beds(base),
        _traces(base, items),
    ]
    return pl.concat(parts, how="vertical").unique()


def _attr(base: pl.DataFrame, kind: str, col: str) -> pl.DataFrame:
    return (
        base.filter(pl.col(col).is_not_null() & (pl.col(col) != ""))
        .select(pl.lit(kind).alias("kind"), pl.col(col).cast(pl.String).alias("ctx"), "pid")
        .unique()
    )


def _bursts(base: pl.DataFrame, t: DetectThresholds) -> pl.DataFrame:
    """Swipes at the same terminal (or pharmacy counter) within the same burst window."""
    window = t.burst_minutes * 60
    return base.select(
        pl.lit("burst").alias("kind"),
        pl.concat_str(
            [
                pl.col("facility_code"),
                pl.col("terminal_id").fill_null("-"),
                (pl.col("claim_ts") // window).cast(pl.String),
            ],
            separator="|",
        ).alias("ctx"),
        "pid",
    ).unique()


def _co_admissions(base: pl.DataFrame) -> pl.DataFrame:
    """Inpatients admitted and discharged on the same days at the same facility."""
    inpatient = base.filter(pl.col("admit_ts").is_not_null() & pl.col("discharge_ts").is_not_null())
    day = 86_400
    return inpatient.select(
        pl.lit("co_admission").alias("kind"),
        pl.concat_str(
            [
                pl.col("facility_code"),
                ((pl.col("admit_ts") + 8 * 3600) // day).cast(pl.String),
                ((pl.col("discharge_ts") + 8 * 3600) // day).cast(pl.String),
            ],
            separator="|",
        ).alias("ctx"),
        "pid",
    ).unique()


def _beds(base: pl.DataFrame) -> pl.DataFrame:
    """Inpatients booked on the same bed of the same facility within one admission week."""
    beds = base.filter(pl.col("bed_no").is_not_null() & pl.col("admit_ts").is_not_null())
    return beds.select(
        pl.lit("bed").alias("kind"),
        pl.concat_str(
            [pl.col("facility_code"), pl.col("bed_no"), (pl.col("admit_ts") // (7 * 86_400)).cast(pl.String)],
            separator="|",
        ).alias("ctx"),
        "pid",
    ).unique()


def _traces(base: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    if items.is_empty() or "trace_codes" not in items.columns:
        return pl.DataFrame(schema={"kind": pl.String, "ctx": pl.String, "pid": pl.String})
    codes = (
        items.select("claim_id", "trace_codes")
        .explode("trace_codes")
        .drop_nulls("trace_codes")
        .join(base.select("claim_id", "pid"), on="claim_id")
    )
    return codes.select(pl.lit("trace").alias("kind"), pl.col("trace_codes").alias("ctx"), "pid").unique()


def person_edges(ctx: pl.DataFrame, max_group: int, min_weight: float = 0.0) -> pl.DataFrame:
    """Weighted person pairs (a < b) from context memberships.

    Parameters
    ----------
    ctx : frame with columns kind, ctx, pid (from :func:`contexts`).
    max_group : contexts with more persons than this add nothing (crowds, hubs).
    min_weight : pairs whose summed weight is below this are dropped.

    Returns a frame ``a, b, weight`` where weight is the sum over shared
    contexts of ``CONTEXT_WEIGHTS[kind] / (k - 1)``.
    """
    if ctx.is_empty():
        return pl.DataFrame(schema=EDGE_SCHEMA)
    kinds = pl.DataFrame({"kind": list(CONTEXT_WEIGHTS), "cw": list(CONTEXT_WEIGHTS.values())})
    sized = (
        ctx.with_columns(pl.len().over("kind", "ctx").alias("k"))
        .filter((pl.col("k") >= 2) & (pl.col("k") <= max_group))
        .join(kinds, on="kind")
        .with_columns((pl.col("cw") / (pl.col("k") - 1)).alias("w"))
        .select("kind", "ctx", "pid", "w")
    )
    pairs = (
        sized.join(sized.select("kind", "ctx", pl.col("pid").alias("pid_b")), on=["kind", "ctx"])
        .filter(pl.col("pid") < pl.col("pid_b"))
        .group_by("pid", "pid_b")
        .agg(pl.col("w").sum().alias("weight"))
        .filter(pl.col("weight") >= min_weight)
        .rename({"pid": "a", "pid_b": "b"})
        .sort("a", "b")
    )
    return pairs.select(list(EDGE_SCHEMA))
