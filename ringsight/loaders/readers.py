"""Readers: CSV (UTF-8, UTF-8 with BOM, GB18030/GBK, UTF-16), XLSX and Parquet, in chunks.

Every reader yields Polars frames whose columns are the file's own headers,
all as strings (so that a bad value becomes a reject with a reason, never a
parse failure of the whole file), plus ``_line``: the line of the row in the
source (CSV and XLSX count the header as line 1; Parquet counts rows from 1).
Files are read in chunks of ``chunk_rows`` rows so memory does not grow with
file size. A CSV in a legacy encoding is transcoded once, block by block, to a
temporary UTF-8 file that Polars then streams.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ringsight.errors import InputError
from ringsight.loaders.safe_text import excerpt, looks_binary, plain

LINE = "_line"
_SNIFF_BYTES = 1 << 20
_TRANSCODE_BLOCK = 8 << 20


@dataclass
class Source:
    """One input file: its format, detected encoding and separator, and headers."""

    path: Path
    format: str  # csv | xlsx | parquet
    encoding: str = "utf-8"
    separator: str = ","
    headers: tuple[str, ...] = ()
    size: int = 0
    sheet: str | None = None  # the XLSX sheet read
    sheet_note: str = ""  # why that sheet (named in the profile, the only one, the best header)

    def fingerprint(self) -> str:
        """Identity of the file's content as of now (path, size, modification time)."""
        stat = self.path.stat()
        return f"{self.path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"


def open_source(
    path: Path, *, sheet: str | None = None, header_score: Callable[[list[str]], int] | None = None
) -> Source:
    """Detect a file's format, encoding and separator and read its header row.

    For a workbook, ``sheet`` names the sheet to read; without it the sheet
    whose header ``header_score`` rates highest is read (the first on a tie).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"The input file {path} does not exist.", "Check the path.")
    if path.is_dir():
        raise InputError(f"{path} is a directory, not a claims file.", "Name the CSV, XLSX or Parquet file itself.")
    suffix = path.suffix.lower()
    size = path.stat().st_size
    if suffix in (".parquet", ".pq"):
        try:
            names = pl.scan_parquet(path).collect_schema().names()
        except Exception as exc:
            raise _unreadable(path, "Parquet", exc) from exc
        return Source(path, "parquet", headers=tuple(names), size=size)
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return _open_excel(path, size, sheet, header_score)
    return _open_csv(path, size)


def _open_excel(path: Path, size: int, sheet: str | None, header_score: Callable[[list[str]], int] | None) -> Source:
    names = _sheet_names(path)
    if sheet is not None and sheet not in names:
        raise InputError(
            f"The workbook {path} has no sheet {excerpt(sheet)}.",
            f"Its sheets: {', '.join(excerpt(n, 30) for n in names)}. Fix `sheet` in the profile.",
        )
    if sheet is not None:
        chosen, note = sheet, "named in the profile"
    elif len(names) == 1:
        chosen, note = names[0], "the only sheet"
    else:
        headers = {n: list(_read_excel(path, n, n_rows=0).columns) for n in names}
        scores = {n: header_score(headers[n]) if header_score else 0 for n in names}
        chosen = max(names, key=lambda n: (scores[n], -names.index(n)))
        others = ", ".join(plain(n, 30) for n in names if n != chosen)
        note = f"its header matches best (other sheets: {others})" if scores[chosen] else "the first sheet"
    frame = _read_excel(path, chosen, n_rows=0)
    return Source(path, "xlsx", headers=tuple(frame.columns), size=size, sheet=chosen, sheet_note=note)


def _open_csv(path: Path, size: int) -> Source:
    with open(path, "rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    encoding = detect_encoding(head, complete=len(head) == size)
    text = head.decode(encoding, errors="replace")
    if len(head) < size and "\n" not in text and "\r" not in text:
        raise InputError(
            f"The file {path} has no line break in its first {_SNIFF_BYTES >> 20} MB "
            f"({size:,} bytes in all): it is not a CSV export with a header row.",
            "Check that this is the claims export (CSV, XLSX or Parquet), not another kind of file.",
        )
    first = text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    if not first.strip():
        raise InputError(f"The file {path} is empty or has no header row.", "Export it again with a header row.")
    if encoding != "utf-16" and looks_binary(text[:4096]):
        raise InputError(
            f"The file {path} does not look like text: its first line starts {excerpt(first, 24)}.",
            "Check that this is the claims export (CSV, XLSX or Parquet), not a binary or compressed file.",
        )
    separator = max((",", "\t", "|", ";"), key=first.count)
    if first.count(separator) == 0:
        separator = ","
    headers = tuple(h.strip().strip('"') for h in first.split(separator))
    return Source(path, "csv", encoding=encoding, separator=separator, headers=headers, size=size)


def detect_encoding(head: bytes, *, complete: bool = False) -> str:
    """UTF-8 (with or without BOM), UTF-16 (with BOM), else GB18030 — the superset of GBK and GB2312."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=complete)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def iter_chunks(source: Source, chunk_rows: int, *, tmp_dir: Path | None = None) -> Iterator[pl.DataFrame]:
    """Yield the file's rows in frames of at most ``chunk_rows`` rows, all columns as strings."""
    if source.format == "parquet":
        yield from _parquet_chunks(source, chunk_rows)
    elif source.format == "xlsx":
        yield from _excel_chunks(source, chunk_rows)
    else:
        yield from _csv_chunks(source, chunk_rows, tmp_dir)


def _csv_chunks(source: Source, chunk_rows: int, tmp_dir: Path | None) -> Iterator[pl.DataFrame]:
    with _utf8_copy(source, tmp_dir) as path:
        lazy = pl.scan_csv(
            path,
            separator=source.separator,
            infer_schema=False,
            row_index_name=LINE,
            row_index_offset=2,
            truncate_ragged_lines=True,
            encoding="utf8-lossy",
            raise_if_empty=False,
        )
        try:
            embedded = 0  # line breaks inside quoted fields of the records read so far
            for frame in lazy.collect_batches(chunk_size=chunk_rows):
                frame, embedded = _physical_lines(frame, embedded)
                yield _tidy(frame)
        except pl.exceptions.PolarsError as exc:
            raise _unreadable(source.path, "CSV", exc) from exc


@contextlib.contextmanager
def _utf8_copy(source: Source, tmp_dir: Path | None) -> Iterator[Path]:
    """The file itself when it is UTF-8, else a temporary UTF-8 transcoding of it."""
    if source.encoding in ("utf-8", "utf-8-sig"):
        yield source.path
        return
    if tmp_dir is not None:
        tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(suffix=".csv", prefix="ringsight-utf8-", dir=tmp_dir)
    try:
        decoder = codecs.getincrementaldecoder(source.encoding)(errors="replace")
        with open(source.path, "rb") as src, os.fdopen(fd, "wb") as dst:
            while block := src.read(_TRANSCODE_BLOCK):
                dst.write(decoder.decode(block).encode("utf-8"))
            dst.write(decoder.decode(b"", final=True).encode("utf-8"))
        yield Path(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def _parquet_chunks(source: Source, chunk_rows: int) -> Iterator[pl.DataFrame]:
    lazy = pl.scan_parquet(source.path).with_row_index(LINE, offset=1)
    lazy = lazy.with_columns(pl.col(LINE).cast(pl.Int64))
    for frame in lazy.collect_batches(chunk_size=chunk_rows):
        yield _tidy(_as_strings(frame))


def _excel_chunks(source: Source, chunk_rows: int) -> Iterator[pl.DataFrame]:
    # An XLSX sheet holds at most 1,048,576 rows, so it is read whole and cut in chunks.
    frame = _read_excel(source.path, source.sheet if source.sheet is not None else 0)
    frame = _as_strings(frame).with_row_index(LINE, offset=2).with_columns(pl.col(LINE).cast(pl.Int64))
    for start in range(0, max(frame.height, 1), chunk_rows):
        chunk = frame.slice(start, chunk_rows)
        if chunk.height:
            yield _tidy(chunk)


def _sheet_names(path: Path) -> list[str]:
    try:
        import fastexcel

        return list(fastexcel.read_excel(str(path)).sheet_names)
    except Exception as exc:
        raise _unreadable(path, "Excel", exc) from exc


def _read_excel(path: Path, sheet: str | int = 0, n_rows: int | None = None) -> pl.DataFrame:
    try:
        import fastexcel

        reader = fastexcel.read_excel(str(path))
        loaded = reader.load_sheet(sheet, n_rows=n_rows, dtypes="string")
        return loaded.to_polars()
    except Exception as exc:
        raise _unreadable(path, "Excel", exc) from exc


def _as_strings(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column except the line number as a string column."""
    exprs = []
    for name, dtype in frame.schema.items():
        if name == LINE or dtype == pl.String:
            exprs.append(pl.col(name))
        elif dtype == pl.Datetime or isinstance(dtype, pl.Datetime):
            exprs.append(pl.col(name).dt.strftime("%Y-%m-%d %H:%M:%S").alias(name))
        elif isinstance(dtype, pl.List | pl.Array):
            exprs.append(pl.col(name).cast(pl.List(pl.String)).list.join(";").alias(name))
        else:
            exprs.append(pl.col(name).cast(pl.String).alias(name))
    return frame.select(exprs)


def _physical_lines(frame: pl.DataFrame, embedded: int) -> tuple[pl.DataFrame, int]:
    """Turn record numbers into the file's line numbers, which a quoted line break (an address,
    a note) pushes down; returns the frame and the line breaks counted so far.

    The reader numbers records (header = line 1); a user opening the file in
    an editor needs the line where the record starts.
    """
    breaks = pl.sum_horizontal(
        [pl.col(c).str.count_matches("\n", literal=True).fill_null(0) for c in frame.columns if c != LINE]
    ).cast(pl.Int64)
    counts = frame.select(breaks.alias("_breaks")).get_column("_breaks")
    total = int(counts.sum() or 0)
    if total == 0:
        return frame.with_columns((pl.col(LINE).cast(pl.Int64) + embedded).alias(LINE)), embedded
    before = counts.cum_sum().shift(1, fill_value=0) + embedded
    return frame.with_columns((pl.col(LINE).cast(pl.Int64) + before).alias(LINE)), embedded + total


def _tidy(frame: pl.DataFrame) -> pl.DataFrame:
    """Trim headers (a BOM or spaces) and put the line number last."""
    renames = {c: c.lstrip("\ufeff").strip() for c in frame.columns if c != c.lstrip("\ufeff").strip()}
    if renames:
        frame = frame.rename(renames)
    return frame


def _unreadable(path: Path, kind: str, exc: Exception) -> InputError:
    lines = str(exc).splitlines() or [type(exc).__name__]
    return InputError(
        f"The {kind} file {path} cannot be read: {plain(lines[0], 200)}",
        "Check that the file is complete and really is that format (open it, or export it again).",
    )
