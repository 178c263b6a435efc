"""CSV cells that cannot become spreadsheet formulas (CSV injection).

A name loaded from a claims file — ``=HYPERLINK("http://…","点此")`` — ends up
in a query export, the audit export or a police referral package, and a
spreadsheet that opens the CSV would run it as a formula. Following the OWASP
guidance on CSV injection, every text cell starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return gets a leading ``'``, which spreadsheets
show as text. Numbers stay numbers: only text is touched, and text that is
just a number (``-12.50``, a negative amount in a rejected row) is left as is,
because it cannot be a formula.

Every CSV writer in RingSight goes through this module: :func:`writer` /
:func:`dict_writer` for rows of Python values, :func:`neutralise_frame` for
Polars frames.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

import polars as pl

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_TRIGGER_CLASS = r"^[=+\-@\t\r]"
_PLAIN_NUMBER = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
_PLAIN_NUMBER_RE = re.compile(_PLAIN_NUMBER)


def neutralise(value: Any) -> Any:
    """``value`` with a ``'`` in front when it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(TRIGGERS) and not _PLAIN_NUMBER_RE.match(value):
        return "'" + value
    return value


def neutralise_row(row: Iterable[Any]) -> list[Any]:
    """Every cell of a row through :func:`neutralise`."""
    return [neutralise(v) for v in row]


class _SafeWriter:
    """A ``csv.writer`` whose rows are neutralised first (the header too: it may come from a file)."""

    def __init__(self, stream: TextIO, **kwargs: Any) -> None:
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(neutralise_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class _SafeDictWriter(csv.DictWriter):
    """A ``csv.DictWriter`` whose values are neutralised first."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow({k: neutralise(v) for k, v in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        for row in rowdicts:
            self.writerow(row)


def writer(stream: TextIO, **kwargs: Any) -> _SafeWriter:
    """Like ``csv.writer``, with formula-like text cells neutralised."""
    return _SafeWriter(stream, **kwargs)


def dict_writer(stream: TextIO, fieldnames: list[str], **kwargs: Any) -> _SafeDictWriter:
    """Like ``csv.DictWriter``, with formula-like text cells neutralised."""
    return _SafeDictWriter(stream, fieldnames=fieldnames, **kwargs)


def neutralise_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with its text columns (and column names) neutralised; numeric columns untouched."""
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype == pl.String:
            risky = col.str.contains(_TRIGGER_CLASS) & ~col.str.contains(_PLAIN_NUMBER)
            col = pl.when(risky).then(pl.lit("'") + col).otherwise(col)
        exprs.append(col.alias(str(neutralise(name))))
    return frame.select(exprs) if exprs else frame
