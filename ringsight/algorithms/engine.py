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
PORTED = ("shared_card", "shared_phone", "shared_address")


@dataclass(frozen=True)
class Source:
    """The window's claims on one engine, as a Narwhals lazy frame (Polars or Spark underneath)."""

    claims: nw.LazyFrame[Any]
    engine: str  # "polars" | "spark"

    def collect(self, frame: nw.LazyFrame[Any]) -> pl.DataFrame:
        """The scan's result as a Polars frame on this machine (it is small: candidates only)."""
        native = frame.to_native()
        if self.engine == "polars":
            return native.collect(engine="streaming")
        return pl.from_arrow(native.toArrow())  # Spark: Arrow batches straight to the driver


def polars_source(claims: pl.DataFrame | pl.LazyFrame) -> Source:
    """A window held by Polars (the single-machine engine)."""
    return Source(nw.from_native(claims.lazy()), "polars")


def spark_source(claims: Any) -> Source:
    """A window held by Spark (a ``pyspark.sql.DataFrame`` of the staged claims columns)."""
    return Source(nw.from_native(claims), "spark")


def source_of(claims: pl.DataFrame | pl.LazyFrame | Source) -> Source:
    """``claims`` as a :class:`Source`: a Polars frame is wrapped, a Source is returned as it is."""
    return claims if isinstance(claims, Source) else polars_source(claims)


def with_key_hash(source: Source, frame: nw.LazyFrame[Any], columns: list[str], name: str) -> nw.LazyFrame[Any]:
    """``frame`` with a 64-bit hash of ``columns`` as ``name``: the one primitive Narwhals lacks.

    Polars: ``hash`` of a struct of the columns (u64); Spark: ``xxhash64`` (i64). The values differ
    between engines, which is fine: a hash here only names a group within one run on one engine
    (cheaper to group and join than the strings it stands for; collisions are negligible).
    """
    native = frame.to_native()
    if source.engine == "polars":
        return nw.from_native(native.with_columns(pl.struct(columns).hash(seed=1).alias(name)))
    from pyspark.sql import functions as F

    return nw.from_native(native.withColumn(name, F.xxhash64(*columns)))


def small_frame(source: Source, frame: pl.DataFrame) -> nw.LazyFrame[Any]:
    """A small Polars frame (a list of keys) on the source's engine, to join the window with."""
    if source.engine == "polars":
        return nw.from_native(frame.lazy())
    session = source.claims.to_native().sparkSession
    return nw.from_native(session.createDataFrame(frame.to_arrow()))
