"""The layout of the staged tables: Hive-style partitions by claim month and claim-key bucket.

Why: a cluster (or Polars here) asked for a quarter's window must not read
years of claims. The loader writes every staged claims and items file under

    <staging>/{claims,items}/month=YYYY-MM/bucket=NN/<load_id>-YYYY-MM-NN.parquet

with Parquet statistics on, so a reader that filters on ``month`` opens only
the window's months (Polars' hive pruning, Spark's partition pruning) and a
``claim_ts`` filter can skip row groups inside them.

- ``month`` is the claim's settlement month in Asia/Shanghai (the month a
  bureau files it under), from ``claim_ts``; items take their claim's month.
- ``bucket`` is ``crc32(utf-8 claim_id) mod B``. CRC-32 (ISO-HDLC, the one in
  zlib, Java's ``java.util.zip.CRC32`` and Spark SQL's ``crc32()``) is chosen
  because it is the same everywhere and forever: Python's ``hash()`` is salted
  per process and Polars' ``hash()`` may change between versions. A bureau can
  write compatible tables with ``pmod(crc32(claim_id), B)`` in Spark SQL.
  ``B`` (default 8) is fixed per staging area on its first partitioned load
  and recorded in ``LAYOUT.json``, so one table never mixes two moduli.
- File names are unique across the tree (load id, month, bucket), so every
  file's stem names it alone.

Tables staged by earlier versions (flat ``claims/*.parquet``) are still read
beside the partitions, whole (no pruning for them), by every reader: detection
on Polars and Spark, the loader's index of earlier claims, the Neo4j import
export. They are not rewritten: new loads add partitions next to them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

MONTH = "month"
BUCKET = "bucket"
DEFAULT_BUCKETS = 8
LAYOUT_FILE = "LAYOUT.json"
HIVE_SCHEMA = {MONTH: pl.String, BUCKET: pl.Int32}
NO_MONTH = "0000-00"  # claims without a settlement time (never in a window)
_ZONE = ZoneInfo("Asia/Shanghai")


def _crc_table() -> np.ndarray:
    table = np.zeros(256, dtype=np.uint32)
    for n in range(256):
        c = n
        for _ in range(8):
            c = (0xEDB88320 ^ (c >> 1)) if c & 1 else (c >> 1)
        table[n] = c
    return table


_CRC = _crc_table()


def crc32(values: pl.Series) -> pl.Series:
    """CRC-32 of each string's UTF-8 bytes (equal to ``zlib.crc32``); null → CRC of the empty string (0).

    Vectorised over byte positions on the Arrow buffers: one table lookup per byte for all strings
    at once, so 10M claim ids cost well under a second.
    """
    import pyarrow as pa

    text = values.cast(pl.String).fill_null("")
    arr = text.to_arrow().cast(pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    _, offsets_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    starts, lengths = offsets[:-1], np.diff(offsets)
    crc = np.full(len(arr), 0xFFFFFFFF, dtype=np.uint32)
    shortest = int(lengths.min(initial=0))
    for pos in range(shortest):  # every string has this byte: no masking
        crc = _CRC[(crc ^ data[starts + pos]) & 0xFF] ^ (crc >> 8)
    for pos in range(shortest, int(lengths.max(initial=0))):
        live = np.nonzero(lengths > pos)[0]
        c = crc[live]
        crc[live] = _CRC[(c ^ data[starts[live] + pos]) & 0xFF] ^ (c >> 8)
    return pl.Series(values.name, crc ^ np.uint32(0xFFFFFFFF), dtype=pl.UInt32)


def bucket_of(claim_ids: pl.Series, buckets: int) -> pl.Series:
    """The partition bucket of each claim id: ``crc32(claim_id) mod buckets``."""
    return (crc32(claim_ids) % buckets).cast(pl.Int32).alias(BUCKET)


def month_expr(ts: str = "claim_ts") -> pl.Expr:
    """The Asia/Shanghai settlement month (``YYYY-MM``) of an epoch-seconds column."""
    local = pl.from_epoch(pl.col(ts), time_unit="s").dt.replace_time_zone("UTC").dt.convert_time_zone("Asia/Shanghai")
    return local.dt.strftime("%Y-%m").fill_null(NO_MONTH).alias(MONTH)


def window_months(since_ts: int, until_ts: int) -> list[str]:
    """Every ``YYYY-MM`` (Asia/Shanghai) that overlaps ``[since_ts, until_ts)``."""
    if until_ts <= since_ts:
        return []
    lo = datetime.fromtimestamp(since_ts, UTC).astimezone(_ZONE)
    hi = datetime.fromtimestamp(until_ts - 1, UTC).astimezone(_ZONE)
    months, (y, m) = [], (lo.year, lo.month)
    while (y, m) <= (hi.year, hi.month):
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months


# -- writing -----------------------------------------------------------------------


def layout_buckets(staging: Path, default: int) -> int:
    """The bucket count of this staging area (recorded on its first partitioned load, else ``default``)."""
    path = staging / LAYOUT_FILE
    if path.exists():
        return int(json.loads(path.read_text(encoding="utf-8"))["buckets"])
    return default


def record_layout(staging: Path, buckets: int) -> None:
    """Write ``LAYOUT.json`` (atomically) when it is not there yet."""
    path = staging / LAYOUT_FILE
    if path.exists():
        return
    staging.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        json.dumps({"layout": "month/bucket", "hash": "crc32(claim_id) mod buckets", "buckets": buckets}),
        encoding="utf-8",
    )
    os.replace(tmp, path)


def write_partitioned(frame: pl.DataFrame, root: Path, name: str) -> list[Path]:
    """Write ``frame`` (with ``month`` and ``bucket`` columns) as one file per partition below ``root``.

    Each file is written under a temporary name and renamed (a crash leaves no half file), with
    Parquet statistics; the partition columns live in the path only. Returns the files written.
    """
    written: list[Path] = []
    for (month, bucket), part in sorted(frame.partition_by(MONTH, BUCKET, as_dict=True).items()):
        folder = root / f"{MONTH}={month}" / f"{BUCKET}={int(bucket):02d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}-{month}-{int(bucket):02d}.parquet"
        tmp = path.with_name(path.name + ".tmp")
        part.drop(MONTH, BUCKET).write_parquet(tmp, compression="lz4", statistics=True)
        os.replace(tmp, path)
        written.append(path)
    return written


# -- reading -----------------------------------------------------------------------


def flat_files(root: Path) -> list[Path]:
    """Files of the flat layout earlier versions staged (``root/*.parquet``), in name (load) order."""
    return sorted(root.glob("*.parquet"))


def partition_files(root: Path, months: Iterable[str] | None = None) -> list[Path]:
    """Partitioned files below ``root`` (only ``months`` when given), in name order (load, month, bucket)."""
    if months is None:
        files = root.glob(f"{MONTH}=*/{BUCKET}=*/*.parquet")
    else:
        files = (f for m in months for f in (root / f"{MONTH}={m}").glob(f"{BUCKET}=*/*.parquet"))
    return sorted(files, key=lambda p: p.name)


def staged_files(root: Path) -> list[Path]:
    """Every staged file of one table, flat ones first (older loads), then partitioned, in name order."""
    return flat_files(root) + partition_files(root)


def staged_months(root: Path) -> list[str]:
    """The months that have a partition below ``root`` (local folders only)."""
    return sorted(p.name.split("=", 1)[1] for p in root.glob(f"{MONTH}=*") if p.is_dir())


def is_remote(root: str | Path) -> bool:
    """Whether a staged-tables root is a URL (s3://, gs://, hdfs://) rather than a local folder."""
    return isinstance(root, str) and "://" in root


def scan_table(root: str | Path, months: list[str] | None = None) -> pl.LazyFrame | None:
    """One staged table (claims or items) as a lazy scan, pruned to ``months`` when given.

    Partitioned files are scanned with hive partitioning and filtered on ``month`` (Polars opens
    only the matching partitions); flat files of an earlier layout are added whole. The partition
    columns are dropped, so the frame has the table's own columns. ``root`` may be a URL Polars
    reads (s3://, gs://): then the partitioned layout is read when it is there, else flat ``*.parquet``
    (a URL cannot be listed here to read both). Returns None when nothing is staged.
    """
    if is_remote(root):
        hive = pl.scan_parquet(
            f"{root.rstrip('/')}/{MONTH}=*/{BUCKET}=*/*.parquet", hive_partitioning=True, hive_schema=HIVE_SCHEMA
        )
        try:
            hive.collect_schema()  # reads one footer; fails when no file matches
        except (OSError, pl.exceptions.PolarsError):
            return pl.scan_parquet(f"{root.rstrip('/')}/*.parquet")
        return _pruned(hive, months)
    base = Path(root)
    flat, parts = flat_files(base), partition_files(base, months)
    scans = []
    if parts:
        hive = pl.scan_parquet(parts, hive_partitioning=True, hive_schema=HIVE_SCHEMA)
        scans.append(_pruned(hive, months))
    if flat:
        scans.append(pl.scan_parquet(flat))
    if not scans:
        return None
    return scans[0] if len(scans) == 1 else pl.concat(scans, how="diagonal_relaxed")


def _pruned(hive: pl.LazyFrame, months: list[str] | None) -> pl.LazyFrame:
    if months is not None:
        hive = hive.filter(pl.col(MONTH).is_in(months))
    return hive.drop(MONTH, BUCKET)
