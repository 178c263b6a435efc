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
PORTED = ("shared_card", "shared_phone", "shared_address", "burst_swiping", "impossible_travel")


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

    def table(self, frame: pl.DataFrame, like: nw.LazyFrame[Any] | None = None) -> nw.LazyFrame[Any]:
        """A small Polars table (candidate keys) on this source's engine, to join with the window.

        Why: a finish often sends its few candidates back to gather their rows from the window.
        On Polars, the columns that are categorical in ``like`` (default: the claims) become
        categorical too (join keys must match); on Spark the table is created from Arrow in the
        window's own session.
        """
        if self.engine == "polars":
            schema = (like if like is not None else self.claims).collect_schema()
            cats = [c for c in frame.columns if schema.get(c) == nw.Categorical]
            return nw.from_native(frame.lazy().with_columns([pl.col(c).cast(pl.Categorical) for c in cats]))
        plain = frame.with_columns(pl.col(pl.Categorical, pl.Enum).cast(pl.String))
        native = self.claims.to_native()
        return nw.from_native(native.sparkSession.createDataFrame(plain.to_arrow()))

    def columns(self) -> list[str]:
        """The window's column names (a hand-made frame may lack optional ones such as ``terminal_id``)."""
        return list(self.claims.collect_schema().names())


def polars_source(claims: pl.DataFrame | pl.LazyFrame) -> Source:
    """A window held by Polars (the single-machine engine)."""
    return Source(nw.from_native(claims.lazy()), "polars")


def spark_source(claims: Any) -> Source:
    """A window held by Spark (a ``pyspark.sql.DataFrame`` of the staged claims columns)."""
    return Source(nw.from_native(claims), "spark")


def source_of(claims: pl.DataFrame | pl.LazyFrame | Source) -> Source:
    """``claims`` as a :class:`Source`: a Polars frame is wrapped, a Source is returned as it is."""
    return claims if isinstance(claims, Source) else polars_source(claims)


def with_optional(src: Source, names: tuple[str, ...]) -> nw.LazyFrame[Any]:
    """The window with the optional columns ``names`` it lacks added as (string) nulls.

    A hand-made frame or a bureau's own table may lack a terminal, operator or phone column; a
    scan then reads it as empty instead of failing, on either engine.
    """
    missing = [nw.lit(None, dtype=nw.String).alias(c) for c in names if c not in src.columns()]
    return src.claims.with_columns(*missing) if missing else src.claims


def plain(frame: pl.DataFrame) -> pl.DataFrame:
    """A collected scan with categoricals as strings: the same frame whichever engine scanned it."""
    return frame.with_columns(pl.col(pl.Categorical).cast(pl.String))
