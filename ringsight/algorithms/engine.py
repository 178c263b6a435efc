"""Where a detector's heavy stage runs: Polars on this machine, or Apache Spark on a cluster.

Why this shape (docs/engines.md has the measurements): a detector is two
stages. The *scan* reads the whole window (tens of millions of claims at a
province) and keeps the few rows worth a closer look — values shared by
enough persons, burst windows, concentrated doctor–pharmacy pairs. It is
written once against Narwhals, the Polars-API subset that runs natively on a
Polars LazyFrame and on a PySpark DataFrame, so the same expression tree is
executed by Polars' streaming engine here and by Spark on a cluster. The
*finish* turns those few rows into leads (lists of members, evidence
sentences, strengths); it needs list aggregations and structs Narwhals does
not have, and it runs on the collected rows in Polars on the driver whatever
the engine. Neither stage exists twice.

A :class:`Source` is the window as Narwhals frames on one engine; a
detector that is ported takes one (``source_of`` wraps a plain Polars
frame, so the single-machine callers and tests pass frames as before).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import narwhals as nw
import polars as pl

#: Detectors whose scan stage is written once on Narwhals (run on Polars or on Spark).
PORTED = ("shared_card", "shared_phone", "shared_address", "goods_as_drugs")


@dataclass(frozen=True)
class Source:
    """The window's claims (and claim items) on one engine, as Narwhals lazy frames (Polars or Spark underneath)."""

    claims: nw.LazyFrame[Any]
    engine: str  # "polars" | "spark"
    #: the window's claim items; None when none were read
    items: nw.LazyFrame[Any] | None = None

    def collect(self, frame: nw.LazyFrame[Any]) -> pl.DataFrame:
        """The scan's result as a Polars frame on this machine (it is small: candidates only)."""
        native = frame.to_native()
        if self.engine == "polars":
            return native.collect(engine="streaming")
        return pl.from_arrow(native.toArrow())  # Spark: Arrow batches straight to the driver


def polars_source(claims: pl.DataFrame | pl.LazyFrame, items: pl.DataFrame | pl.LazyFrame | None = None) -> Source:
    """A window held by Polars (the single-machine engine); ``items`` a frame or a lazy scan."""
    return Source(nw.from_native(claims.lazy()), "polars", None if items is None else nw.from_native(items.lazy()))


def spark_source(claims: Any, items: Any = None) -> Source:
    """A window held by Spark (``pyspark.sql.DataFrame`` s of the staged claims and items columns)."""
    return Source(nw.from_native(claims), "spark", None if items is None else nw.from_native(items))


def source_of(claims: pl.DataFrame | pl.LazyFrame | Source, items: pl.DataFrame | pl.LazyFrame | None = None) -> Source:
    """``claims`` as a :class:`Source`: a Polars frame is wrapped (with ``items``), a Source is returned as it is."""
    return claims if isinstance(claims, Source) else polars_source(claims, items)
