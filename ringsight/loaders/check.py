"""Predict a load: run the loader's own shaping and rules on a sample of rows, write nothing.

``ringsight profile check`` said "ready to load" for a file whose every row
the load then rejected (a date format the profile did not name); it now
reads the first rows through exactly the code path of the load
(:func:`ringsight.loaders.shape.shape_chunk`, :mod:`ringsight.loaders.validate`)
and reports what would be rejected, why, how often, with an example line.
Items are not checked against the claims here (orphans need the claims file).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl
from rich.table import Table

from ringsight.loaders import validate as val
from ringsight.loaders.profiles import TableProfile
from ringsight.loaders.readers import LINE, iter_chunks
from ringsight.loaders.safe_text import plain
from ringsight.loaders.shape import add_joins, shape_chunk


@dataclass
class Prediction:
    """What a load of the sampled rows would do."""

    read: int
    rejected: int
    reasons: list[tuple[str, str, int, int, str]] = field(default_factory=list)  # reason, column, n, line, detail
    end_of_file: bool = True  # the sample is the whole file

    @property
    def share(self) -> float:
        return self.rejected / self.read if self.read else 0.0

    def render(self) -> Table | str:
        """The prediction as a table a person reads (one line when nothing would be rejected)."""
        scope = "all" if self.end_of_file else "the first"
        title = f"{scope} {self.read:,} rows: {self.read - self.rejected:,} would load, {self.rejected:,} be rejected"
        if not self.reasons:
            return title
        grid = Table("reason", "column", "rows", "first line", "example", title=title)
        for reason, column, n, line, detail in self.reasons:
            grid.add_row(reason, column, f"{n:,}", str(line), plain(detail, 70))
        return grid


def predict(inp, table: TableProfile, kind: str, sample: int) -> Prediction:  # type: ignore[no-untyped-def]
    """Shape and validate the first ``sample`` rows of an input as the load would."""
    chunks = iter_chunks(inp.source, max(sample, 1000))
    chunk = next(chunks, None)
    if chunk is None or chunk.height == 0:
        return Prediction(0, 0)
    end = chunk.height <= sample and next(chunks, None) is None
    chunk = chunk.head(sample)
    canon = shape_chunk(add_joins(chunk, inp.joins), inp.mapping, table)
    if kind == "items":
        checked = val.apply_rules(val.parse_items(canon, table), val.item_rules(table))
    else:
        checked = val.apply_rules(val.parse_claims(canon, table), val.claim_rules(table))
    bad = checked.filter(pl.col(val.REASON).is_not_null())
    grouped = (
        bad.group_by(val.REASON, val.COLUMN)
        .agg(
            pl.len().alias("n"),
            pl.col(LINE).min().alias("line"),
            pl.col(val.DETAIL).sort_by(LINE).first().alias("detail"),
        )
        .sort(["n", "line"], descending=[True, False])
    )
    reasons = [(str(r), str(c), int(n), int(line), str(d or "")) for r, c, n, line, d in grouped.iter_rows()]
    return Prediction(chunk.height, bad.height, reasons, end)
