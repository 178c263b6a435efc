"""The loader's decisions about rows, taken one hash bucket at a time (see :mod:`ringsight.loaders.buckets`).

- A staged **claim** is *new* (its claim_id was never staged and this is its
  first row in the load), an *unchanged* repeat (same content hash as the
  claim already known) or a *conflict* (same claim_id, other content — it is
  reported, never written over the known claim).
- A staged **item** is *kept* (its claim is new in this load; it gets its
  ``line_no`` within the claim), *skipped* (its claim came with an earlier
  load, whose items are already staged) or an *orphan* (no such claim: a
  reject).

Rows arrive with their staging position (``SEQ`` = input chunk, ``ROW`` =
row within it), so "first" means first in the input files, as a reader of
the files would expect.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ringsight.loaders.entities import item_aggregates
from ringsight.tables import ITEMS_SCHEMA

SEQ = "_seq"
ROW = "_row"

#: claim_ts rides along so the items of a new claim find their claim's month (the staged tables' partition).
CLAIM_INDEX_SCHEMA = {
    "claim_id": pl.String,
    "content_hash": pl.String,
    SEQ: pl.Int64,
    ROW: pl.Int64,
    "claim_ts": pl.Int64,
}
KNOWN_SCHEMA = {"claim_id": pl.String, "content_hash": pl.String}
NEW_CLAIMS_SCHEMA = {"claim_id": pl.String, "content_hash": pl.String, SEQ: pl.Int64, "claim_ts": pl.Int64}


def chunk_seq(file_index: int, chunk: int) -> int:
    """A staged chunk's position across the load (input file, then chunk within it)."""
    return file_index * 1_000_000 + chunk


@dataclass
class ClaimDecision:
    """One bucket's claims: the new ones, and the rows that are not (``unchanged`` or ``conflict``)."""

    new: pl.DataFrame  # claim_id, content_hash, SEQ, claim_ts
    repeats: pl.DataFrame  # SEQ, ROW, claim_id, existing_hash, new_hash, conflict


def decide_claims(staged: pl.DataFrame, known: pl.DataFrame) -> ClaimDecision:
    """Split a bucket's staged claims into new claims and repeats of known (or earlier) rows.

    Parameters
    ----------
    staged : claim_id, content_hash, SEQ, ROW (and claim_ts) of this load's rows in the bucket.
    known : claim_id, content_hash of the claims staged by earlier loads in the bucket.
    """
    rows = staged.sort(SEQ, ROW).join(
        known.select("claim_id", pl.col("content_hash").alias("_known")),
        on="claim_id",
        how="left",
        maintain_order="left",
    )
    reference = pl.coalesce(pl.col("_known"), pl.col("content_hash").first().over("claim_id"))
    is_new = pl.col("_known").is_null() & pl.col("claim_id").is_first_distinct()
    rows = rows.with_columns(is_new.alias("_new"), reference.alias("_ref"))
    carried = [c for c in ("claim_ts",) if c in staged.columns]
    new = rows.filter(pl.col("_new")).select("claim_id", "content_hash", SEQ, *carried)
    repeats = rows.filter(~pl.col("_new")).select(
        SEQ,
        ROW,
        "claim_id",
        pl.col("_ref").alias("existing_hash"),
        pl.col("content_hash").alias("new_hash"),
        (pl.col("_ref") != pl.col("content_hash")).alias("conflict"),
    )
    return ClaimDecision(new, repeats)


@dataclass
class ItemDecision:
    """One bucket's items: kept items (numbered), their per-claim aggregates, orphans and counts."""

    kept: pl.DataFrame  # ITEMS_SCHEMA columns
    aggregates: pl.DataFrame  # claim_id, item_count, item_codes, trace_codes, SEQ (of the claim)
    orphans: pl.DataFrame  # SEQ (of the item chunk), LINE, claim_id
    skipped: int


def decide_items(staged: pl.DataFrame, new_claims: pl.DataFrame, earlier: pl.Series, line: str) -> ItemDecision:
    """Keep the items of claims new in this load, number them within their claim, find orphans.

    Parameters
    ----------
    staged : ITEMS_SCHEMA columns plus SEQ, ROW and ``line`` of this load's items in the bucket.
    new_claims : claim_id, SEQ of the claims this load stages, in the bucket.
    earlier : claim_ids staged by earlier loads, in the bucket.
    line : the name of the input line-number column.
    """
    rows = staged.sort(SEQ, ROW)
    mine = pl.col("claim_id").is_in(new_claims.get_column("claim_id").implode())
    before = pl.col("claim_id").is_in(earlier.implode())
    rows = rows.with_columns(mine.alias("_mine"), before.alias("_before"))
    kept = rows.filter(pl.col("_mine")).with_columns(
        pl.int_range(1, pl.len() + 1).over("claim_id").cast(pl.Int32).alias("line_no")
    )
    orphans = rows.filter(~pl.col("_mine") & ~pl.col("_before")).select(SEQ, line, "claim_id")
    skipped = rows.filter(~pl.col("_mine") & pl.col("_before")).height
    aggregates = (
        item_aggregates(kept.select("claim_id", "item_code", "trace_codes"))
        .collect()
        .join(new_claims.select("claim_id", SEQ), on="claim_id", how="inner")
    )
    return ItemDecision(kept.select(list(ITEMS_SCHEMA)), aggregates, orphans, skipped)


def trace_pairs(items: pl.DataFrame) -> pl.DataFrame:
    """Distinct (claim_id, code) pairs of the trace codes settled on the given items."""
    return items.select("claim_id", pl.col("trace_codes").alias("code")).explode("code").drop_nulls().unique()
