"""Typed query parameters: declared in a query's header, parsed from text or Python values.

Values reach the database only as Cypher ``$parameters`` — never pasted into
query text — so parsing here is about *meaning*, not safety: an analyst who
types ``--param since=2024-13-01`` gets a message naming ``since`` instead of
an empty result. Dates and date-times become integer epoch seconds, because
the graph stores every time as ``*_ts`` epoch seconds (docs/graph-contract.md)
and integer comparisons behave the same on FalkorDB and Neo4j. A date or a
date-time without an offset is read in Asia/Shanghai, the time zone of the
claims.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ringsight.errors import QueryError

TZ = ZoneInfo("Asia/Shanghai")

SCALAR_TYPES = ("int", "float", "string", "bool", "date", "datetime", "tag")
LIST_TYPES = ("list", "list[int]", "list[float]", "list[string]", "list[date]")
TYPES = SCALAR_TYPES + LIST_TYPES

#: Parameters the runner fills in itself for every query; a header may not declare them.
RESERVED = ("user", "now_ts")

_TRUE = {"true", "t", "yes", "y", "1", "on", "是", "真"}
_FALSE = {"false", "f", "no", "n", "0", "off", "否", "假"}
_REQUIRED = object()


class ParameterError(QueryError):
    """A parameter is missing, unknown, or does not fit its declared type (bad input: exit 2)."""

    exit_code = 2


@dataclass(frozen=True)
class ParamSpec:
    """One declared parameter of a named query.

    ``default`` is used when no value is given; a parameter declared without a
    default is required. ``choices``, ``min`` and ``max`` are checked after
    conversion.
    """

    name: str
    type: str
    default: Any = None
    example: Any = None
    description: str = ""
    required: bool = False
    choices: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None

    def hint(self) -> str:
        """How to give this parameter on the command line."""
        example = self.example if self.example is not None else _EXAMPLES.get(self.type, "…")
        if isinstance(example, list):
            example = ",".join(str(v) for v in example)
        return f"--param {self.name}={example}"


_EXAMPLES = {
    "int": 3,
    "float": 0.5,
    "string": "text",
    "bool": "true",
    "date": "2024-01-01",
    "datetime": "2024-01-01T08:30",
}


def parse_value(spec: ParamSpec, raw: Any, query: str = "") -> Any:
    """Convert one raw value (text from the CLI or a Python value from the UI) to its declared type."""
    if raw is None or (isinstance(raw, str) and raw.strip().lower() in ("", "null", "none")):
        if spec.required:
            raise _error(spec, query, "is required but no value was given")
        return None
    try:
        value = _convert(spec.type, raw)
    except (TypeError, ValueError) as exc:
        raise _error(spec, query, f"must be {_describe(spec.type)}, got {raw!r} ({exc})") from exc
    _check_bounds(spec, value, query)
    return value


def parse_params(specs: list[ParamSpec], raw: Mapping[str, Any], query: str = "") -> dict[str, Any]:
    """All parameters of a query: raw values converted, defaults filled in, unknown names refused."""
    by_name = {s.name: s for s in specs}
    unknown = sorted(set(raw) - set(by_name))
    if unknown:
        known = ", ".join(by_name) or "none"
        raise ParameterError(
            f"Query '{query}' has no parameter {', '.join(repr(u) for u in unknown)}; its parameters are: {known}.",
            f"Run `ringsight query show {query}` to see them." if query else None,
        )
    values: dict[str, Any] = {}
    for spec in specs:
        if spec.name in raw:
            values[spec.name] = parse_value(spec, raw[spec.name], query)
        elif spec.required:
            raise _error(spec, query, "is required but no value was given")
        else:
            values[spec.name] = parse_value(spec, spec.default, query) if spec.default is not None else None
    return values


def parse_assignments(items: list[str] | None) -> dict[str, str]:
    """``["k=v", …]`` from ``--param`` options into a dict of raw text values."""
    out: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError(
                f"The parameter '{item}' is not of the form name=value.",
                "Write --param since=2024-01-01 (no spaces around '=', quote values with spaces).",
            )
        out[name.strip()] = value
    return out


def parse_adhoc(items: list[str] | None) -> dict[str, Any]:
    """Parameters of an ad-hoc query: ``name=value`` is text, ``name:type=value`` is typed.

    Ad-hoc parameters have no declared types, and guessing would turn a phone
    number such as ``01062345678`` into an integer; so text stays text unless
    the analyst names a type (``n:int=5``, ``since:date=2024-01-01``,
    ``codes:list=A,B``, or ``x:json=[1, 2]`` for any JSON value).
    """
    values: dict[str, Any] = {}
    for name, raw in parse_assignments(items).items():
        pname, _, ptype = name.partition(":")
        pname, ptype = pname.strip(), (ptype.strip() or "string")
        if ptype == "json":
            try:
                values[pname] = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ParameterError(f"Parameter '{pname}' is not valid JSON: {exc}.") from exc
            continue
        if ptype not in TYPES:
            raise ParameterError(
                f"Parameter '{pname}' names an unknown type '{ptype}'.",
                f"Use one of: {', '.join((*TYPES, 'json'))}.",
            )
        values[pname] = parse_value(ParamSpec(pname, ptype), raw)
    return values


# -- conversions ----------------------------------------------------------------


def _convert(ptype: str, raw: Any) -> Any:
    if ptype.startswith("list"):
        inner = ptype[5:-1] if "[" in ptype else "string"
        return [_convert(inner, v) for v in _as_list(raw)]
    return _SCALAR[ptype](raw)


def _as_list(raw: Any) -> list[Any]:
    if isinstance(raw, list | tuple | set):
        return list(raw)
    text = str(raw).strip()
    if text.startswith("["):
        parsed = json.loads(text)
        if not isinstance(parsed, list):
            raise ValueError("not a JSON list")
        return parsed
    return [part.strip() for part in re.split(r"[,;，；]", text) if part.strip()]


def _to_int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError("a yes/no value is not a number")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        if not raw.is_integer():
            raise ValueError("has a fractional part")
        return int(raw)
    return int(str(raw).strip().replace(",", "").replace("_", ""))


def _to_float(raw: Any) -> float:
    if isinstance(raw, bool):
        raise ValueError("a yes/no value is not a number")
    if isinstance(raw, int | float):
        return float(raw)
    value = float(str(raw).strip().replace(",", "").replace("_", ""))
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("not a finite number")
    return value


def _to_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("expected true/false, yes/no or 1/0")


def _to_string(raw: Any) -> str:
    if isinstance(raw, list | dict | tuple | set):
        raise ValueError("a list is not a text value")
    return str(raw)


def _to_date(raw: Any) -> int:
    """Midnight (Asia/Shanghai) of a date, as epoch seconds."""
    if isinstance(raw, bool):
        raise ValueError("a yes/no value is not a date")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, datetime):
        return _epoch(raw)
    if isinstance(raw, date):
        return _epoch(datetime(raw.year, raw.month, raw.day))
    text = str(raw).strip()
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    day = date.fromisoformat(text.replace("/", "-"))
    return _epoch(datetime(day.year, day.month, day.day))


def _to_datetime(raw: Any) -> int:
    """A moment as epoch seconds; without an offset it is Asia/Shanghai time."""
    if isinstance(raw, bool):
        raise ValueError("a yes/no value is not a time")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return _to_date(raw)
    if isinstance(raw, datetime):
        return _epoch(raw)
    text = str(raw).strip().replace("/", "-")
    if re.fullmatch(r"\d{14}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:8]}T{text[8:10]}:{text[10:12]}:{text[12:]}"
    return _epoch(datetime.fromisoformat(text))


def _epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=TZ)
    return int(moment.astimezone(UTC).timestamp())


_SCALAR = {
    "tag": lambda raw: str(raw).strip(),
    "int": _to_int,
    "float": _to_float,
    "string": _to_string,
    "bool": _to_bool,
    "date": _to_date,
    "datetime": _to_datetime,
}


def _check_bounds(spec: ParamSpec, value: Any, query: str) -> None:
    items = value if isinstance(value, list) else [value]
    for item in items:
        if spec.choices is not None and item not in spec.choices:
            allowed = ", ".join(str(c) for c in spec.choices)
            raise _error(spec, query, f"must be one of {allowed}, got {item!r}")
        if spec.min is not None and item < spec.min:
            raise _error(spec, query, f"must be at least {spec.min}, got {item!r}")
        if spec.max is not None and item > spec.max:
            raise _error(spec, query, f"must be at most {spec.max}, got {item!r}")


def _describe(ptype: str) -> str:
    return {
        "int": "a whole number",
        "float": "a number",
        "string": "text",
        "bool": "true or false",
        "date": "a date (YYYY-MM-DD)",
        "datetime": "a date-time (YYYY-MM-DDTHH:MM[:SS], Asia/Shanghai unless an offset is given)",
        "tag": "a tag of the vocabulary (cases.tags)",
    }.get(ptype, f"a {ptype} (comma-separated or a JSON list)")


def _error(spec: ParamSpec, query: str, what: str) -> ParameterError:
    where = f" of query '{query}'" if query else ""
    return ParameterError(f"Parameter '{spec.name}'{where} {what}.", f"For example: {spec.hint()}")
