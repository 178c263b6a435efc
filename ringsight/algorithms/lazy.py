"""Lazy claim items and streaming collection: detection over a 10M-claim window within a few GB.

Why: at 10M claims the ~30M claim items take ~2 GB as a frame, and a whole-frame
intermediate (a filter copies every column, an exploded list of trace codes, the
two offsets of every swipe) several more. So a run holds only the claims in
memory; items stay a :class:`polars.LazyFrame` scanned from the staged Parquet
(an in-memory frame works the same: ``.lazy()`` on it is free), and the heavy
reductions run on Polars' streaming engine, which processes the input in
batches and keeps only each reduction's state. What comes out of a streaming
collection is small (the rows of the few candidates) and is then handled in
memory as before.

The streaming engine does not keep row order, so nothing order-dependent
(``first()``, ``maintain_order``) is computed on a streamed result without an
explicit sort first.
"""

from __future__ import annotations

import polars as pl

#: Claim items: a frame, or a lazy scan of the staged items (same columns).
Items = pl.DataFrame | pl.LazyFrame


def collect(frame: pl.LazyFrame) -> pl.DataFrame:
    """Collect with the streaming engine (bounded memory for scans, joins and group-bys)."""
    return frame.collect(engine="streaming")


def trace_rows(items: Items, min_rows: int) -> pl.DataFrame:
    """The (claim_id, code) rows of trace codes that occur on ``min_rows`` or more item rows.

    Most codes sell once; counting all of them as strings would hold every code
    in memory. A first streaming pass counts rows per 64-bit hash of the code
    (a superset of the repeated codes: a collision only adds a candidate), a
    second keeps the exploded rows of the candidates; the exact count by code
    is then applied to those few rows. Rows are not de-duplicated (a code twice
    on one claim counts twice, as ``pl.len().over(code)`` would).
    """
    exploded = items.lazy().select("claim_id", pl.col("trace_codes").alias("code")).explode("code").drop_nulls("code")
    counts = exploded.group_by(pl.col("code").hash(seed=11).alias("h")).agg(pl.len().alias("n"))
    candidates = collect(counts.filter(pl.col("n") >= min_rows).select("h"))["h"]
    rows = collect(exploded.filter(pl.col("code").hash(seed=11).is_in(candidates.implode())))
    return rows.filter(pl.len().over("code") >= min_rows).sort("code", "claim_id")
