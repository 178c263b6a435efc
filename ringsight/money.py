"""Money is shown and exported in cents: one rule for query results, reports and the UI.

Sums of yuan amounts come out of both stores as binary floats
(9960766.989999995); rounding happens here, at the output layer, in Python,
because the stores' Cypher ``round`` does not agree (FalkorDB's takes no
precision argument). A value is money when its column or map key names an
amount: ``amount``, ``fund``, ``paid``, ``total_amount``, ``fund_loss``, …
Other floats (shares, scores, lifts) are left as they are.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from typing import Any

from ringsight.graph.store import Node, Path, Relationship

_MONEY = re.compile(r"(amount|fund|paid|cost|price|fee|loss|金额|费用|基金)", re.IGNORECASE)
_NOT_MONEY = re.compile(r"(share|ratio|rate|pct|percent|lift|count|claims|score|weight|占比|比例)", re.IGNORECASE)


def is_money(name: str) -> bool:
    """True when a column or property name denotes an amount of money (``fund_paid``, not ``fund_share``)."""
    return bool(_MONEY.search(name)) and not _NOT_MONEY.search(name)


def cents(value: Any) -> Any:
    """A finite float rounded to cents; anything else unchanged."""
    if isinstance(value, float) and math.isfinite(value):
        return round(value, 2)
    return value


def money_value(name: str, value: Any) -> Any:
    """``value`` with every amount in it rounded to cents (maps and lists are walked by key)."""
    if isinstance(value, dict):
        return money_record(value)
    if isinstance(value, Node | Relationship):  # a returned node's amounts are shown too
        return replace(value, properties=money_record(value.properties))
    if isinstance(value, Path):
        return Path(
            tuple(money_value(name, n) for n in value.nodes), tuple(money_value(name, r) for r in value.relationships)
        )
    if isinstance(value, list):
        return [money_value(name, v) for v in value]
    return cents(value) if is_money(name) else value


def money_record(record: dict[str, Any]) -> dict[str, Any]:
    """A record with its amounts rounded to cents."""
    return {k: money_value(str(k), v) for k, v in record.items()}


def money_rows(columns: list[str], rows: list[list[Any]]) -> list[list[Any]]:
    """Rows of a result with the amounts in money columns (and in maps inside any column) rounded."""
    nested = (dict, list, Node, Relationship, Path)
    if not any(is_money(c) for c in columns) and not any(isinstance(v, nested) for row in rows for v in row):
        return rows
    return [[money_value(c, v) for c, v in zip(columns, row, strict=True)] for row in rows]
