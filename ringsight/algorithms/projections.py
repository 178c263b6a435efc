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

import narwhals as nw
import polars as pl

from ringsight.algorithms.detectors.trace_codes import repeated_code_rows
from ringsight.algorithms.engine import Source, polars_source
from ringsight.algorithms.lazy import Items
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


#: The key of the projection's scans in ``run.engines`` (every context kind scans where the window is).
PROJECTION = "projection"


def contexts(
    claims: pl.DataFrame,
    items: Items,
    t: DetectThresholds,
    focus: pl.Series | None = None,
    source: Source | None = None,
) -> pl.DataFrame:
    """Every (context kind, context id, pid) membership the projection is built from.

    With ``focus`` (pids), only the contexts that hold one of those persons are
    kept — with all their members, so group sizes stay right.

    The scan over every claim (the heavy part) is written once on Narwhals and runs where the
    window is: on ``source`` (the same window on Spark) when given, else on ``claims`` in Polars;
    only the memberships of the kept contexts come back. Trace-code contexts come from the items,
    read on this machine (with ``claims``' pids) until the items are on the Source too.

    A context id is a 64-bit hash of what defines it (a phone number; a
    facility, terminal and burst window; …): cheaper than strings to group
    and join, and collisions are negligible at this scale.
    """
    source = source if source is not None else polars_source(claims, items)
    base = source.claims.filter(~nw.col("pid").is_null())
    day = (nw.col("admit_ts") + 8 * 3600) // 86_400
    inpatient = ~nw.col("admit_ts").is_null() & ~nw.col("discharge_ts").is_null()
    kinds: list[tuple[str, nw.Expr, list[nw.Expr]]] = [
        ("card", ~nw.col("card_id").is_null(), [nw.col("card_id")]),
        ("phone", ~nw.col("patient_phone").is_null(), [nw.col("patient_phone")]),
        ("contact", ~nw.col("contact_phone").is_null(), [nw.col("contact_phone")]),
        ("address", ~nw.col("address_key").is_null(), [nw.col("address_key")]),
        # swipes at the same terminal (or counter) within the same burst window
        (
            "burst",
            ~inpatient,
            [
                nw.col("facility_code"),
                nw.col("terminal_id").fill_null("-"),
                nw.col("claim_ts") // (t.burst_minutes * 60),
            ],
        ),
        # admitted and discharged on the same days at the same facility
        ("co_admission", inpatient, [nw.col("facility_code"), day, (nw.col("discharge_ts") + 8 * 3600) // 86_400]),
        # booked on the same bed of the same facility within one admission week
        ("bed", inpatient & ~nw.col("bed_no").is_null(), [nw.col("facility_code"), nw.col("bed_no"), day // 7]),
    ]
    near = None if focus is None else source.to_engine(_focus_frame(source, focus))
    members = [
        _members(source, base, where, keys, near).select(nw.lit(kind).alias("kind"), "ctx", "pid")
        for kind, where, keys in kinds
    ]
    # With a focus only the contexts around it come back. On Polars one kind at a time: the
    # memberships of a 10M-claim window are never all in memory at once. On Spark all kinds in
    # one job (each job costs seconds of scheduling; what comes back is small either way).
    if source.engine == "polars":
        parts = [source.collect(part) for part in members]
    else:
        parts = [source.collect(nw.concat(members, how="vertical"))]
    # the trace codes are read from the items: on the source's engine when it carries them
    parts.append(_traces(source if source.items is not None else polars_source(claims, items), focus))
    pid_type = claims.schema["pid"]  # the window's (categorical on Polars), whatever engine scanned
    return pl.concat([_as_polars(part, pid_type) for part in parts], how="vertical")


def _members(
    source: Source, base: nw.LazyFrame, where: nw.Expr, keys: list[nw.Expr], near: nw.LazyFrame | None
) -> nw.LazyFrame:
    """(ctx, pid) of one context kind, only the contexts holding a focus person when ``near`` is given."""
    names = [f"_k{i}" for i in range(len(keys))]
    keyed = base.filter(where).select(*[k.alias(n) for k, n in zip(keys, names, strict=True)], nw.col("pid"))
    part = source.with_hash(keyed, "ctx", *names).select("ctx", "pid")
    if near is not None:
        touched = part.join(near, on="pid", how="semi").select("ctx").unique()
        part = part.join(touched, on="ctx", how="semi")
    return part.unique()


def _focus_frame(source: Source, focus: pl.Series) -> pl.DataFrame:
    """The focus pids as a one-column frame of the window's pid type (categorical on Polars)."""
    frame = pl.DataFrame({"pid": focus.cast(pl.String).unique()})
    if source.engine == "polars":
        frame = frame.with_columns(pl.col("pid").cast(source.claims.to_native().collect_schema()["pid"]))
    return frame


def _as_polars(part: pl.DataFrame, pid_type: pl.DataType) -> pl.DataFrame:
    """One engine's memberships in the projection's column types (ctx u64 — Spark's i64 bits —, pid as the window's)."""
    return part.with_columns(pl.col("ctx").reinterpret(signed=False), pl.col("pid").cast(pid_type))


def _traces(source: Source, focus: pl.Series | None) -> pl.DataFrame:
    """(kind, ctx, pid) of the trace codes settled on two or more item rows (the scan of ``trace_code_resale``)."""
    rows = repeated_code_rows(source, 2)
    codes = rows.filter(pl.len().over("code") >= 2).filter(pl.col("pid").is_not_null()).rename({"code": "trace_codes"})
    part = codes.select(pl.lit("trace").alias("kind"), pl.struct("trace_codes").hash(seed=1).alias("ctx"), "pid")
    if focus is not None:
        keep = focus.cast(pl.String).implode()
        part = part.join(part.filter(pl.col("pid").is_in(keep)).select("ctx").unique(), on="ctx", how="semi")
    return part.unique()


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
        .with_columns(pl.col("pid", "pid_b").cast(pl.String))
        # a < b as text: the pair's orientation above follows categorical codes, which depend on
        # the order the window's strings were read in, so the same data gave a ↔ b swapped between runs
        .select(pl.min_horizontal("pid", "pid_b").alias("a"), pl.max_horizontal("pid", "pid_b").alias("b"), "weight")
        .sort("a", "b")
    )
    return pairs.select(list(EDGE_SCHEMA))
