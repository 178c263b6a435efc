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
47-bit hash of key columns (:meth:`Source.with_hash`), which lets a scan
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
    "co_admission",
    "repeated_admission",
    "split_charges",
    "stay_overlap",
    "shared_bed",
    "identical_baskets",
    "goods_as_drugs",
    "contact_stays",
    "doctor_pharmacy",
    "drug_shopping",
    "trace_code_resale",
    "burst_swiping",
    "impossible_travel",
    "card_lending",
)

#: Hashes are cut to 47 bits: a sum of up to 65,536 of them fits a signed 64-bit integer on both
#: engines (Spark's ANSI mode fails on overflow, Polars' unsigned sums would wrap).
_HASH_MOD = 1 << 47


@dataclass(frozen=True)
class Source:
    """The window's claims (and claim items) on one engine, as Narwhals lazy frames (Polars or Spark underneath)."""

    claims: nw.LazyFrame[Any]
    engine: str  # "polars" | "spark"
    #: the window's claim items (columns ``frames.DETECT_ITEM_COLUMNS``); None when none were read
    items: nw.LazyFrame[Any] | None = None

    def item_lines(self) -> nw.LazyFrame[Any]:
        """The claim items; on Polars an empty items frame when the Source has none.

        A Spark Source without items raises: the detectors that read items are run on it only when
        it holds them (``detectors._on_source``), and a Polars frame could not join a Spark scan.
        """
        if self.items is not None:
            return self.items
        if self.engine != "polars":
            raise ValueError(f"this {self.engine} window was made without its claim items")
        return nw.from_native(pl.LazyFrame(schema=_ITEM_SCHEMA))

    def to_engine(self, rows: pl.DataFrame) -> nw.LazyFrame[Any]:
        """Small rows held here (keys kept by an earlier collect) as a lazy frame on this engine, to join with.

        Spark gets them through Arrow (a broadcast-sized frame); Polars uses them as they are.
        """
        if self.engine == "polars":
            return nw.from_native(rows.lazy())
        session = self.claims.to_native().sparkSession
        return nw.from_native(session.createDataFrame(rows.to_arrow(compat_level=pl.CompatLevel.oldest())))

    def table(self, frame: pl.DataFrame, like: nw.LazyFrame[Any] | None = None) -> nw.LazyFrame[Any]:
        """:meth:`to_engine` for keys to join with a scan of categorical columns.

        On Polars, the columns that are categorical in ``like`` (default: the claims) become
        categorical too (Polars refuses to join a categorical key with a string one); on Spark
        categoricals are sent as strings.
        """
        if self.engine == "polars":
            schema = (like if like is not None else self.claims).collect_schema()
            cats = [c for c in frame.columns if schema.get(c) == nw.Categorical]
            return nw.from_native(frame.lazy().with_columns([pl.col(c).cast(pl.Categorical) for c in cats]))
        return self.to_engine(plain(frame))

    def columns(self) -> list[str]:
        """The window's column names (a hand-made frame may lack optional ones such as ``terminal_id``)."""
        return list(self.claims.collect_schema().names())

    def collect(self, frame: nw.LazyFrame[Any]) -> pl.DataFrame:
        """The scan's result as a Polars frame on this machine (it is small: candidates only)."""
        native = frame.to_native()
        if self.engine == "polars":
            return native.collect(engine="streaming")
        return pl.from_arrow(native.toArrow())  # Spark: Arrow batches straight to the driver

    def shards(self, frame: nw.LazyFrame[Any], key: str, rows_per_shard: int) -> list[nw.LazyFrame[Any]]:
        """``frame`` cut by a hash of ``key`` into parts of about ``rows_per_shard`` rows.

        For a scan whose groups never span two values of ``key`` (each part gives its own rows).

        Why: Polars holds a scan's intermediate frames (sorts, window group-bys) in memory at once,
        so a scan over every swipe of a 10M-claim window added 1.7 GB; run one shard at a time and
        it adds none over the window itself, and runs no slower. Spark bounds each task's memory
        itself, so it gets the frame whole.
        """
        if self.engine != "polars":
            return [frame]
        rows = int(frame.select(nw.len()).collect().item())
        n = max(1, -(-rows // rows_per_shard))
        if n == 1:
            return [frame]
        native = frame.to_native()
        return [nw.from_native(native.filter(pl.col(key).hash(seed=0) % n == i)) for i in range(n)]

    def with_hash(self, frame: nw.LazyFrame[Any], name: str, *cols: str) -> nw.LazyFrame[Any]:
        """``frame`` with ``name``: a non-negative 47-bit Int64 hash of ``cols`` (Polars ``hash``, Spark ``xxhash64``).

        Equal inputs hash equal within one engine; the values differ between engines, so a
        hash may group or match rows inside a scan but must never reach a lead.
        """
        native = frame.to_native()
        if self.engine == "polars":
            key = pl.col(cols[0]) if len(cols) == 1 else pl.struct(*cols)  # a one-field struct hashes slower
            h = (key.hash(seed=0) % _HASH_MOD).cast(pl.Int64)
            return nw.from_native(native.with_columns(h.alias(name)))
        from pyspark.sql import functions as F

        return nw.from_native(native.withColumn(name, F.pmod(F.xxhash64(*cols), F.lit(_HASH_MOD))))

    def cached(self, frame: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
        """``frame`` computed once for a scan that reads it more than once.

        Polars re-ran a twice-read Narwhals plan in full (3x the time of one run at 1M claims), so
        the Polars path holds it in memory; Spark keeps it in the executors' cache.
        """
        native = frame.to_native()
        if self.engine == "polars":
            return nw.from_native(native.collect(engine="streaming").lazy())
        return nw.from_native(native.cache())


def polars_source(claims: pl.DataFrame | pl.LazyFrame, items: pl.DataFrame | pl.LazyFrame | None = None) -> Source:
    """A window held by Polars (the single-machine engine); ``items`` may be a lazy scan."""
    return Source(nw.from_native(claims.lazy()), "polars", None if items is None else nw.from_native(items.lazy()))


def spark_source(claims: Any, items: Any = None) -> Source:
    """A window held by Spark (``pyspark.sql.DataFrame`` s of the staged claims and, optionally, items columns)."""
    return Source(nw.from_native(claims), "spark", None if items is None else nw.from_native(items))


def source_of(claims: pl.DataFrame | pl.LazyFrame | Source, items: pl.DataFrame | pl.LazyFrame | None = None) -> Source:
    """``claims`` as a :class:`Source`: Polars frames are wrapped, a Source is returned as it is."""
    return claims if isinstance(claims, Source) else polars_source(claims, items)


_ITEM_SCHEMA = {c: ITEMS_SCHEMA[c] for c in DETECT_ITEM_COLUMNS}


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
