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
