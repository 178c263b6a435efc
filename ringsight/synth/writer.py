"""Append blocks of claims and items to CSV (UTF-8 or GBK) or Parquet files, keeping line numbers.

Each block is written as soon as it is generated, so memory holds one block
at a time whatever the claim count. CSV is written by Polars (multi-threaded)
into memory and then appended; GBK output re-encodes that buffer.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import IO

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from ringsight.synth.config import SynthConfig
from ringsight.synth.dirty import DirtyLog, as_strings, dirty_claims, dirty_items

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


class TableWriter:
    """One output table (claims or items) written block by block."""

    def __init__(self, path: Path, file_format: str, encoding: str) -> None:
        self.path = path
        self.file_format = file_format
        self.encoding = encoding
        self.rows = 0
        self._fh: IO[bytes] | None = None
        self._parquet: pq.ParquetWriter | None = None

    @property
    def next_line(self) -> int:
        """Line number of the next row: in CSV the header is line 1; in Parquet rows count from 1."""
        return self.rows + (1 if self.file_format == "parquet" else 2)

    def write(self, frame: pl.DataFrame) -> None:
        """Append a block."""
        if self.file_format == "parquet":
            table = frame.to_arrow()
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.path, table.schema, compression="zstd")
            self._parquet.write_table(table)
        else:
            if self._fh is None:
                self._fh = self.path.open("wb")
            buf = io.BytesIO()
            frame.write_csv(buf, include_header=self.rows == 0, datetime_format=DATETIME_FORMAT, float_precision=2)
            data = buf.getvalue()
            self._fh.write(data if self.encoding == "utf-8" else data.decode("utf-8").encode("gbk"))
        self.rows += frame.height

    def close(self) -> None:
        """Flush and close the file."""
        if self._parquet is not None:
            self._parquet.close()
        if self._fh is not None:
            self._fh.close()


class Writer:
    """Writes claims (and items) blocks, injecting dirt when asked and logging it."""

    def __init__(self, out_dir: Path, config: SynthConfig) -> None:
        ext = "parquet" if config.file_format == "parquet" else "csv"
        self.config = config
        self.claims = TableWriter(out_dir / f"claims.{ext}", config.file_format, config.encoding)
        self.items = (
            TableWriter(out_dir / f"claim_items.{ext}", config.file_format, config.encoding) if config.items else None
        )
        self.dirty_rows_path = out_dir / "dirty_rows.csv" if config.dirty_rate > 0 else None
        self.variants_path = out_dir / "dirty_variants.csv" if config.dirty_rate > 0 else None
        self.log = DirtyLog()

    def write(self, claims: pl.DataFrame, items: pl.DataFrame, dirty_rng: np.random.Generator | None) -> None:
        """Write one block (claims sorted as they should appear)."""
        if self.dirty_rows_path is not None and dirty_rng is not None:
            claims, rejected = dirty_claims(
                as_strings(claims),
                self.config.dirty_rate,
                self.claims.next_line,
                self.claims.path.name,
                dirty_rng,
                self.log,
            )
            if self.items is not None:
                items = dirty_items(
                    as_strings(items),
                    rejected,
                    self.config.dirty_rate,
                    self.items.next_line,
                    self.items.path.name,
                    dirty_rng,
                    self.log,
                )
        self.claims.write(claims)
        if self.items is not None:
            self.items.write(items)

    def close(self) -> None:
        """Close the tables and write the dirt logs."""
        self.claims.close()
        if self.items is not None:
            self.items.close()
        for path, rows in ((self.dirty_rows_path, self.log.bad), (self.variants_path, self.log.variants)):
            if path is None:
                continue
            with path.open("w", newline="", encoding="utf-8") as fh:
                out = csv.writer(fh, lineterminator="\n")
                out.writerow(["file", "line", "column", "reason"])
                out.writerows(sorted(rows, key=lambda r: (r[0], r[1])))
