"""Shape a chunk of an export into the canonical columns, as the profile says.

Everything is a Polars expression over whole columns: headers renamed
(one header may feed several columns), constants, derived columns from the
profile's small operator set (concat, slice, date, map, coalesce — see
:mod:`ringsight.loaders.profile_schema`), dates in the profile's formats
rewritten to the canonical ``YYYY-MM-DD HH:MM:SS``, and other files joined
on a key. A date the profile's formats cannot read is left as written, so
validation rejects it with the value in the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from ringsight.errors import InputError
from ringsight.loaders.normalise import clean_frame
from ringsight.loaders.profile_schema import JoinSpec
from ringsight.loaders.profiles import HeaderMapping, TableProfile
from ringsight.loaders.readers import LINE, iter_chunks, open_source
from ringsight.loaders.safe_text import excerpt

DATETIME_COLUMNS = ("claim_time", "admit_time", "discharge_time")
DATE_COLUMNS = ("patient_birth_date",)
CANONICAL_DATETIME = "%Y-%m-%d %H:%M:%S"
CANONICAL_DATE = "%Y-%m-%d"


def compile_node(node: Any) -> pl.Expr:
    """A validated profile expression as a Polars expression (text in, text out)."""
    if isinstance(node, str):
        return pl.col(node).cast(pl.String)
    op = next(k for k in node if k in ("col", "lit", "concat", "slice", "date", "map", "coalesce"))
    arg = node[op]
    if op == "col":
        return pl.col(str(arg)).cast(pl.String)
    if op == "lit":
        return pl.lit(str(arg), dtype=pl.String)
    if op == "concat":
        parts = [compile_node(p) for p in arg]
        return pl.concat_str(parts, separator=str(node.get("sep", "")), ignore_nulls=True)
    if op == "coalesce":
        parts = [compile_node(p) for p in arg]
        return pl.coalesce([pl.when(p.str.strip_chars() != "").then(p) for p in parts])
    inner = compile_node(arg)
    if op == "slice":
        return inner.str.slice(int(node.get("start", 0)), node.get("length"))
    if op == "date":
        return parse_formats(inner, tuple(node["formats"]), CANONICAL_DATETIME, keep=False)
    mapping = {str(k): str(v) for k, v in node["values"].items()}
    default = node.get("default")
    if default is None:
        return inner.replace(mapping)
    return inner.replace_strict(mapping, default=pl.lit(str(default)), return_dtype=pl.String)


def parse_formats(expr: pl.Expr, formats: tuple[str, ...], out: str, *, keep: bool = True) -> pl.Expr:
    """The first of ``formats`` that reads a value, written back as ``out``; the value itself when none does."""
    parsed = pl.coalesce(
        [expr.str.strip_chars().str.to_datetime(f, strict=False, time_unit="us") for f in formats]
    ).dt.strftime(out)
    return pl.coalesce(parsed, expr) if keep else parsed


@dataclass
class Joined:
    """A joined file, read whole (a beneficiary table is one row per person), keyed for a left join."""

    spec: JoinSpec
    path: Path
    frame: pl.DataFrame  # key column renamed to the left key, other columns renamed where they clash


def read_join(spec: JoinSpec, table: TableProfile, left_headers: list[str], chunk_rows: int) -> Joined:
    """Read a joined file, check its key, keep the first row per key, rename clashing headers."""
    path = table.join_path(spec)
    source = open_source(path, sheet=spec.sheet)
    left_key, right_key = spec.keys
    if right_key not in source.headers:
        raise InputError(
            f"The joined file {path} ({spec.name}) has no key header {excerpt(right_key)}.",
            f"Its headers: {', '.join(excerpt(h, 30) for h in source.headers[:20])}. Fix `on`/`right_on`.",
        )
    if left_key not in left_headers:
        raise InputError(
            f"The {spec.name} join needs the header {excerpt(left_key)} in the file it is joined onto.",
            "Fix `on`/`left_on` in the profile's join.",
        )
    wanted = spec.columns or [h for h in source.headers if h != right_key]
    lacking = [c for c in wanted if c not in source.headers]
    if lacking:
        raise InputError(f"The joined file {path} has no header {excerpt(lacking[0])}.", "Fix the join's columns.")
    frames = [c.select(right_key, *wanted) for c in iter_chunks(source, chunk_rows)]
    frame = pl.concat(frames) if frames else pl.DataFrame(schema=dict.fromkeys([right_key, *wanted], pl.String))
    frame = clean_frame(frame).filter(pl.col(right_key).is_not_null()).unique(right_key, keep="first")
    renames = {c: (f"{spec.name}.{c}" if c in left_headers or c == LINE else c) for c in wanted}
    frame = frame.rename({right_key: "__join_key", **renames})
    return Joined(spec, path, frame)


def joined_headers(joins: list[Joined]) -> list[str]:
    """The headers joined files add to the rows of the file they join."""
    return [c for j in joins for c in j.frame.columns if c != "__join_key"]


def add_joins(chunk: pl.DataFrame, joins: list[Joined]) -> pl.DataFrame:
    """Left-join each joined file onto a chunk by its key (order and row count kept)."""
    for join in joins:
        left_key = join.spec.keys[0]
        key = pl.col(left_key).cast(pl.String).str.strip_chars()
        chunk = chunk.with_columns(key.alias("__join_key")).join(
            join.frame, on="__join_key", how="left", maintain_order="left"
        )
        chunk = chunk.drop("__join_key")
    return chunk


def shape_chunk(chunk: pl.DataFrame, mapping: HeaderMapping, table: TableProfile) -> pl.DataFrame:
    """``_line`` and every canonical column of the table, as text, cleaned, dates in canonical form."""
    exprs = []
    for canonical in table.columns:
        if canonical in mapping.constants:
            exprs.append(pl.lit(mapping.constants[canonical], dtype=pl.String).alias(canonical))
        elif canonical in mapping.derived:
            exprs.append(compile_node(mapping.derived[canonical]).alias(canonical))
        elif canonical in mapping.mapped:
            exprs.append(pl.col(mapping.mapped[canonical]).cast(pl.String).alias(canonical))
        else:
            exprs.append(pl.lit(None, dtype=pl.String).alias(canonical))
    frame = clean_frame(chunk.select(pl.col(LINE), *exprs), skip=(LINE,))
    dated = []
    for column in (*DATETIME_COLUMNS, *DATE_COLUMNS):
        formats = table.formats_of(column)
        if formats and column in frame.columns:
            out = CANONICAL_DATE if column in DATE_COLUMNS else CANONICAL_DATETIME
            dated.append(parse_formats(pl.col(column), formats, out).alias(column))
    return frame.with_columns(dated) if dated else frame
