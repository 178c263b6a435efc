"""Query results as a table on screen, or as CSV, JSON or Parquet files.

Results hold plain values plus Node / Relationship / Path records. Each
format keeps what it can: JSON keeps everything (records become objects with
``labels``/``type`` and ``properties``); Parquet keeps scalar and list
columns typed and writes anything else as JSON text; CSV writes scalars as is
and anything else as JSON text (UTF-8 with a byte-order mark when written to
a file, so Excel shows Chinese correctly); the table shows a short readable
form (``Facility P110105000001 示例大药房``).
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any, TextIO

import polars as pl
from rich.console import Console
from rich.table import Table

from ringsight import safecsv
from ringsight.errors import InputError
from ringsight.graph.model import NODE_TYPE_BY_LABEL
from ringsight.graph.store import Node, QueryResult, Relationship
from ringsight.graph.store import Path as GraphPath
from ringsight.private import private_dir, private_file, restrict_umask

FORMATS = ("table", "csv", "json", "parquet")
_CELL_MAX = 80


def plain(value: Any) -> Any:
    """A JSON-able form of any result value (records become dictionaries)."""
    if isinstance(value, Node):
        return {"id": value.id, "labels": list(value.labels), "properties": plain(value.properties)}
    if isinstance(value, Relationship):
        return {
            "id": value.id,
            "type": value.type,
            "start": value.start,
            "end": value.end,
            "properties": plain(value.properties),
        }
    if isinstance(value, GraphPath):
        return {"nodes": [plain(n) for n in value.nodes], "relationships": [plain(r) for r in value.relationships]}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def cell_text(value: Any) -> str:
    """A short human form of a value for the screen table."""
    if value is None:
        return ""
    if isinstance(value, Node):
        return node_text(value)
    if isinstance(value, Relationship):
        return f"[:{value.type}]"
    if isinstance(value, GraphPath):
        return " – ".join(node_text(n) for n in value.nodes)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, list | tuple):
        text = ", ".join(cell_text(v) for v in value)
    elif isinstance(value, dict):
        text = json.dumps(plain(value), ensure_ascii=False)
    else:
        text = str(value)
    return text if len(text) <= _CELL_MAX else text[: _CELL_MAX - 1] + "…"


def node_text(node: Node) -> str:
    """``Label key name`` for a node (name only when it has one)."""
    label = node.label
    spec = NODE_TYPE_BY_LABEL.get(label)
    key = node.properties.get(spec.key) if spec else None
    name = node.properties.get("name") or node.properties.get("text")
    return " ".join(str(p) for p in (label, key, name) if p not in (None, ""))


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str | int | float | bool):
        return value
    return json.dumps(plain(value), ensure_ascii=False)


def write_csv(result: QueryResult, stream: TextIO) -> None:
    """Rows as CSV with a header line; text a spreadsheet would run as a formula is neutralised."""
    writer = safecsv.writer(stream)
    writer.writerow(result.columns)
    for row in result.rows:
        writer.writerow([_csv_cell(v) for v in row])


def to_json(result: QueryResult) -> dict[str, Any]:
    """The result as one JSON object: columns, rows as objects, and whether the row cap cut it."""
    return {
        "columns": result.columns,
        "rows": [dict(zip(result.columns, plain(row), strict=True)) for row in result.rows],
        "row_count": len(result.rows),
        "truncated": result.truncated,
        **({"stats": result.stats} if result.stats else {}),
    }


def to_frame(result: QueryResult) -> pl.DataFrame:
    """A Polars frame: typed where a column is uniform, JSON text where it holds records or mixed values."""
    columns: list[pl.Series] = []
    for i, name in enumerate(result.columns):
        values = [row[i] for row in result.rows]
        columns.append(_series(name, values))
    return pl.DataFrame(columns)


def _series(name: str, values: list[Any]) -> pl.Series:
    if not any(isinstance(v, Node | Relationship | GraphPath | dict) for v in _flat(values)):
        try:
            series = pl.Series(name, values, strict=True)
            if series.dtype != pl.Object:
                return series
        except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
            pass
    return pl.Series(name, [None if v is None else json.dumps(plain(v), ensure_ascii=False) for v in values])


def _flat(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if isinstance(v, list | tuple):
            out.extend(v)
        else:
            out.append(v)
    return out


def table(result: QueryResult, title: str | None = None) -> Table:
    """A Rich table of the rows (short forms of records)."""
    grid = Table(*result.columns, title=title, show_lines=False, header_style="bold")
    for row in result.rows:
        grid.add_row(*(cell_text(v) for v in row))
    return grid


def emit(
    result: QueryResult,
    fmt: str,
    out: Path | None,
    console: Console,
    *,
    title: str | None = None,
) -> None:
    """Show or write a result in one of :data:`FORMATS`."""
    if fmt not in FORMATS:
        raise InputError(f"Unknown output format '{fmt}'.", f"Use one of: {', '.join(FORMATS)}.")
    if fmt == "parquet":
        if out is None:
            raise InputError("Parquet output needs a file.", "Add --out result.parquet.")
        _parent(out)
        to_frame(result).write_parquet(out)
        private_file(out)
        return
    if fmt == "table":
        grid = table(result, title)
        if out is None:
            console.print(grid)
            return
        _parent(out)
        file_console = Console(file=io.StringIO(), width=200, no_color=True, record=True)
        file_console.print(grid)
        out.write_text(file_console.export_text(), encoding="utf-8")
        private_file(out)
        return
    text = _text(result, fmt)
    if out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    _parent(out)
    out.write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8")
    private_file(out)


def _text(result: QueryResult, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(to_json(result), ensure_ascii=False, indent=2, default=str) + "\n"
    buffer = io.StringIO(newline="")
    write_csv(result, buffer)
    return buffer.getvalue()


def _parent(out: Path) -> None:
    """New folders for ``out`` are 0700, and the file (created next) 0600: results may hold personal data."""
    private_dir(out.parent)
    restrict_umask()
