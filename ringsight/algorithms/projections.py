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

from ringsight.algorithms.lazy import Items, collect, trace_rows
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


def contexts(claims: pl.DataFrame, items: Items, t: DetectThresholds, focus: pl.Series | None = None) -> pl.DataFrame:
    """Every (context kind, context id, pid) membership the projection is built from.

    With ``focus`` (pids), only the contexts that hold one of those persons are
    kept — with all their members, so group sizes stay right.

    A context id is a 64-bit hash of what defines it (a phone number; a
    facility, terminal and burst window; …): cheaper than strings to group
    and join, and collisions are negligible at this scale.
    """
    base = claims.lazy().filter(pl.col("pid").is_not_null())
    day = (pl.col("admit_ts") + 8 * 3600) // 86_400
    inpatient = pl.col("admit_ts").is_not_null() & pl.col("discharge_ts").is_not_null()
    parts = [
        _ctx(base, "card", pl.col("card_id").is_not_null(), "card_id"),
        _ctx(base, "phone", pl.col("patient_phone").is_not_null(), "patient_phone"),
        _ctx(base, "contact", pl.col("contact_phone").is_not_null(), "contact_phone"),
        _ctx(base, "address", pl.col("address_key").is_not_null(), "address_key"),
        # swipes at the same terminal (or counter) within the same burst window
        _ctx(
            base,
            "burst",
            ~inpatient,
            "facility_code",
            pl.col("terminal_id").fill_null("-"),
            pl.col("claim_ts") // (t.burst_minutes * 60),
        ),
        # admitted and discharged on the same days at the same facility
        _ctx(base, "co_admission", inpatient, "facility_code", day, (pl.col("discharge_ts") + 8 * 3600) // 86_400),
        # booked on the same bed of the same facility within one admission week
        _ctx(base, "bed", inpatient & pl.col("bed_no").is_not_null(), "facility_code", "bed_no", day // 7),
        _traces(base, items),
    ]
    # One kind at a time, and with a focus only the contexts around it: the memberships of a
    # 10M-claim window are never all in memory at once.
    if focus is not None:
        keep = focus.implode()
        parts = [
            part.join(part.filter(pl.col("pid").is_in(keep)).select("ctx").unique(), on="ctx", how="semi")
            for part in parts
        ]
    return pl.concat([collect(part.unique()) for part in parts], how="vertical")


def _ctx(base: pl.LazyFrame, kind: str, where: pl.Expr, *keys: str | pl.Expr) -> pl.LazyFrame:
    return base.filter(where).select(pl.lit(kind).alias("kind"), pl.struct(*keys).hash(seed=1).alias("ctx"), "pid")


def _traces(base: pl.LazyFrame, items: Items) -> pl.LazyFrame:
    codes = (
        trace_rows(items, 2).rename({"code": "trace_codes"}).lazy().join(base.select("claim_id", "pid"), on="claim_id")
    )
    return codes.select(pl.lit("trace").alias("kind"), pl.struct("trace_codes").hash(seed=1).alias("ctx"), "pid")


def person_edges(
    ctx: pl.DataFrame, max_group: int, min_weight: float = 0.0, focus: pl.Series | None = None
) -> pl.DataFrame:
    """Weighted person pairs (a < b) from context memberships.

    Parameters
    ----------
    ctx : frame with columns kind, ctx, pid (from :func:`contexts`).
    max_group : contexts with more persons than this add nothing (crowds, hubs).
    min_weight : pairs whose summed weight is below this are dropped.
    focus : when given, only pairs that involve one of these pids (the persons
        named in leads) are built; group sizes still count everyone, so the
        weights are those of the full projection.

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
    right = sized
    if focus is not None:
        near = sized.filter(pl.col("pid").is_in(focus.implode())).select("kind", "ctx").unique()
        right = sized.join(near, on=["kind", "ctx"], how="semi")
        sized = right.filter(pl.col("pid").is_in(focus.implode()))
    pairs = (
        sized.join(right.select("kind", "ctx", pl.col("pid").alias("pid_b")), on=["kind", "ctx"])
        .filter(pl.col("pid") != pl.col("pid_b"))
        .with_columns(pl.min_horizontal("pid", "pid_b").alias("lo"), pl.max_horizontal("pid", "pid_b").alias("pid_b"))
        .with_columns(pl.col("lo").alias("pid"))
        .unique(["kind", "ctx", "pid", "pid_b"])
        .group_by("pid", "pid_b")
        .agg(pl.col("w").sum().alias("weight"))
        .filter(pl.col("weight") >= min_weight)
        .rename({"pid": "a", "pid_b": "b"})
        .sort("a", "b")
    )
    return pairs.select(list(EDGE_SCHEMA))
