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

Two primitives differ by engine and are kept here, not in detectors: a
64-bit hash of a key column (:meth:`Source.with_hash`), which lets a scan
count near-unique keys (trace codes, drug codes) without holding their
strings — the two engines' hash values differ, and a scan only compares
hashes it made itself on one engine — and :meth:`Source.to_engine`, which
sends the few keys a first scan kept back to the engine, so a second scan
gathers their rows with a join (count, keep, gather).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import narwhals as nw
import polars as pl

from ringsight.algorithms.frames import DETECT_ITEM_COLUMNS
from ringsight.tables import ITEMS_SCHEMA

#: Detectors whose scan stage is written once on Narwhals (run on Polars or on Spark).
PORTED = (
    "shared_card",
    "shared_phone",
    "shared_address",
    "contact_stays",
    "doctor_pharmacy",
    "drug_shopping",
    "trace_code_resale",
)


@dataclass(frozen=True)
class Source:
    """The window's claims (and claim items) on one engine, as Narwhals lazy frames (Polars or Spark underneath)."""

    claims: nw.LazyFrame[Any]
    engine: str  # "polars" | "spark"
    #: the window's claim items (columns ``frames.DETECT_ITEM_COLUMNS``); None when none were read
    items: nw.LazyFrame[Any] | None = None

    def item_lines(self) -> nw.LazyFrame[Any]:
        """The items, or an empty items frame on this engine when the Source has none."""
        if self.items is not None:
            return self.items
        return nw.from_native(pl.LazyFrame(schema=_ITEM_SCHEMA))  # only a Polars Source is made without items

    def to_engine(self, rows: pl.DataFrame) -> nw.LazyFrame[Any]:
        """Small rows held here (keys kept by an earlier collect) as a lazy frame on this engine, to join with.

        Spark gets them through Arrow (a broadcast-sized frame); Polars uses them as they are.
        """
        if self.engine == "polars":
            return nw.from_native(rows.lazy())
        session = self.claims.to_native().sparkSession
        return nw.from_native(session.createDataFrame(rows.to_arrow(compat_level=pl.CompatLevel.oldest())))

    def with_hash(self, frame: nw.LazyFrame[Any], col: str, name: str) -> nw.LazyFrame[Any]:
        """``frame`` with ``name``: a 64-bit hash of ``col`` (as text) made by this engine (values differ by engine)."""
        native = frame.to_native()
        if self.engine == "polars":
            return nw.from_native(native.with_columns(pl.col(col).cast(pl.String).hash(seed=11).alias(name)))
        from pyspark.sql import functions as F  # only a Spark Source gets here

        return nw.from_native(native.withColumn(name, F.xxhash64(F.col(col).cast("string"))))

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


_ITEM_SCHEMA = {c: ITEMS_SCHEMA[c] for c in DETECT_ITEM_COLUMNS}
