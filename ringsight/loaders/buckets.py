"""Hash buckets on disk: how the loader deduplicates a load of any size in bounded memory.

Deciding whether a claim is new, a repeat or a conflict needs every claim_id
staged before; numbering a claim's items, aggregating them and checking that
their claim exists needs all items of one claim together. Holding those
indexes in memory makes the loader grow with the file. Instead every staged
row is written to one of ``B`` bucket files chosen by a hash of its key
(claim_id, or a trace code), and each decision is taken one bucket at a time:
rows that must meet always share a bucket, and a bucket holds about
``load.bucket_claims`` claims (default 500,000) whatever the load's size (``B`` grows with the
input). This is the partitioning step of a Grace hash join (Kitsuregawa et
al., 1983).

``B`` is a power of two and a row's bucket is the low bits of its hash, so
the staged hash index of earlier loads — written with their own ``B`` — can be
read bucket by bucket for any later ``B`` (see :func:`read_index_bucket`).
The hash is Polars' (stable within one Polars version); staged indexes carry
``HASH_VERSION`` and are rebuilt when it changes, like the content hashes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from ringsight.loaders.journal import write_parquet_atomic

CSV_BYTES_PER_CLAIM = 150
"""A low estimate of a CSV/XLSX claims row's size, so that ``B`` errs on the side of more buckets."""

_SEED = 5381
_INDEX_NAME = re.compile(r"^(?P<prefix>.+)-(?P<buckets>\d{3})-(?P<bucket>\d{3})$")


def bucket_count(claim_rows: int, per_bucket: int) -> int:
    """The smallest power of two B with ``claim_rows / B <= per_bucket`` (at least 1, at most 512)."""
    needed = max(1, math.ceil(claim_rows / per_bucket))
    return min(512, 1 << (needed - 1).bit_length())


def estimate_claim_rows(paths: list[Path]) -> int:
    """Rows of the claims files: exact for Parquet (from its metadata), estimated from the size otherwise."""
    rows = 0
    for path in paths:
        if path.suffix.lower() in (".parquet", ".pq"):
            rows += int(pl.scan_parquet(path).select(pl.len()).collect().item())
        else:
            rows += path.stat().st_size // CSV_BYTES_PER_CLAIM
    return rows


def bucket_of(key: str | pl.Expr, buckets: int) -> pl.Expr:
    """The bucket of each row: the low bits of the key's hash."""
    expr = pl.col(key) if isinstance(key, str) else key
    return (expr.hash(_SEED) & (buckets - 1)).cast(pl.Int32)


def _partitions(frame: pl.DataFrame, key: str, buckets: int) -> Iterator[tuple[int, pl.DataFrame]]:
    """(bucket, rows) for each bucket that has rows; rows keep their order."""
    tagged = frame.with_columns(bucket_of(key, buckets).alias("_bucket"))
    for (bucket,), part in tagged.partition_by("_bucket", as_dict=True, maintain_order=True).items():
        yield int(bucket), part.drop("_bucket")


def write_buckets(frame: pl.DataFrame, key: str, buckets: int, directory: Path, name: str) -> None:
    """Write ``frame`` as ``directory/b<bucket>/<name>.parquet`` files, one per bucket that has rows.

    Each file is replaced atomically, so a rerun of the same chunk overwrites
    its earlier files instead of adding to them.
    """
    for bucket, part in _partitions(frame, key, buckets):
        target = directory / f"b{bucket:03d}"
        target.mkdir(parents=True, exist_ok=True)
        write_parquet_atomic(part, target / f"{name}.parquet")


def read_bucket(directory: Path, bucket: int, schema: dict) -> pl.DataFrame:
    """All rows written to one bucket under ``directory`` (an empty frame with ``schema`` when none)."""
    files = sorted((directory / f"b{bucket:03d}").glob("*.parquet"))
    if not files:
        return pl.DataFrame(schema=schema)
    return pl.read_parquet(files).select([pl.col(c).cast(t) for c, t in schema.items()])


# -- the staged index of earlier loads ---------------------------------------------------


def index_file_name(prefix: str, buckets: int, bucket: int) -> str:
    return f"{prefix}-{buckets:03d}-{bucket:03d}.parquet"


def write_index(frame: pl.DataFrame, key: str, buckets: int, directory: Path, prefix: str) -> None:
    """Write a staged index (e.g. claim_id → content hash of one load) as flat bucket files."""
    directory.mkdir(parents=True, exist_ok=True)
    for bucket, part in _partitions(frame, key, buckets):
        write_parquet_atomic(part, directory / index_file_name(prefix, buckets, bucket))


def read_index_bucket(directory: Path, key: str, bucket: int, buckets: int, schema: dict) -> pl.DataFrame:
    """The rows of bucket ``bucket`` (of ``buckets``) among index files written with any bucket count.

    A file written with B' ≥ B buckets belongs to bucket ``b' mod B`` whole;
    a file written with B' < B buckets holds bucket ``b mod B'``, which is
    filtered down to the rows of ``b``.
    """
    frames = []
    for path in sorted(directory.glob("*.parquet")):
        match = _INDEX_NAME.match(path.stem)
        if match is None:
            continue
        theirs, their_bucket = int(match["buckets"]), int(match["bucket"])
        if theirs >= buckets and their_bucket % buckets == bucket:
            frames.append(pl.read_parquet(path, columns=list(schema)))
        elif theirs < buckets and their_bucket == bucket % theirs:
            frame = pl.read_parquet(path, columns=list(schema))
            frames.append(frame.filter(bucket_of(key, buckets) == bucket))
    if not frames:
        return pl.DataFrame(schema=schema)
    return pl.concat([f.cast(schema) for f in frames], how="vertical")
