"""The TOML layout of a column profile, validated with pydantic.

A profile is data, never code: every key is known (an unknown key is an
error naming the closest valid one, because a silently ignored
``[claims.defaults]`` makes every row fail later), and derived columns come
from a small set of operators that :mod:`ringsight.loaders.shape` turns into
Polars expressions — nothing is evaluated.

Derived expressions (``[claims.derived]``): a string is a header of the file;
a table holds exactly one operator::

    {col = "BeneID"}                       the header BeneID
    {lit = "CN"}                           a fixed text
    {concat = ["State", "County"], sep = "-"}
    {slice = "ClaimID", start = 0, length = 6}
    {date = "ClaimEndDt", formats = ["%m/%d/%Y"]}
    {map = "Gender", values = {"1" = "M", "2" = "F"}}
    {coalesce = ["DischargeDt", "ClaimEndDt"]}
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ringsight.errors import InputError

OPERATORS: tuple[str, ...] = ("col", "lit", "concat", "slice", "date", "map", "coalesce")
_OPERATOR_KEYS: dict[str, set[str]] = {
    "col": {"col"},
    "lit": {"lit"},
    "concat": {"concat", "sep"},
    "slice": {"slice", "start", "length"},
    "date": {"date", "formats"},
    "map": {"map", "values", "default"},
    "coalesce": {"coalesce"},
}
MAX_DEPTH = 6


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JoinSpec(_Strict):
    """Another file joined onto each row of this table by a key (a beneficiary table onto claims)."""

    name: str = Field(..., min_length=1, description="a short name; columns that clash are named <name>.<header>")
    file: str = Field(..., min_length=1, description="path, relative to the profile file")
    on: str | None = Field(None, description="key header present in both files")
    left_on: str | None = Field(None, description="key header in this table's file")
    right_on: str | None = Field(None, description="key header in the joined file")
    columns: list[str] | None = Field(None, description="headers taken from the joined file (default: all)")
    sheet: str | None = None

    @model_validator(mode="after")
    def _keys(self) -> JoinSpec:
        if self.on is None and (self.left_on is None or self.right_on is None):
            raise ValueError("a join needs `on` (the key header in both files) or both `left_on` and `right_on`")
        return self

    @property
    def keys(self) -> tuple[str, str]:
        return (self.left_on or self.on or "", self.right_on or self.on or "")


class TableSpec(_Strict):
    """One table's section of a profile (``[claims]`` or ``[items]``)."""

    columns: dict[str, str | list[str]] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    constants: dict[str, str] = Field(default_factory=dict)
    derived: dict[str, Any] = Field(default_factory=dict)
    formats: dict[str, list[str]] = Field(default_factory=dict)
    date_formats: list[str] = Field(default_factory=list)
    keep_extra: str | list[str] = Field(default_factory=list)
    sheet: str | None = None
    join: list[JoinSpec] = Field(default_factory=list)

    @field_validator("constants", mode="before")
    @classmethod
    def _constants_as_text(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: v if isinstance(v, str) else str(v) for k, v in value.items()}
        return value

    @field_validator("derived")
    @classmethod
    def _derived_ok(cls, value: dict[str, Any]) -> dict[str, Any]:
        for target, node in value.items():
            check_node(node, f"derived.{target}")
        return value


class LoadSection(_Strict):
    """``[load]`` in a profile: load limits that belong to one export."""

    max_reject_share: float | None = Field(None, ge=0.0, le=1.0)


class ProfileSpec(_Strict):
    """A whole profile file."""

    name: str | None = None
    description: str | None = None
    claims: TableSpec = Field(default_factory=TableSpec)
    items: TableSpec = Field(default_factory=TableSpec)
    load: LoadSection = Field(default_factory=LoadSection)


def check_node(node: Any, where: str, depth: int = 0) -> None:
    """Refuse anything that is not a header name or one of the known operators."""
    if depth > MAX_DEPTH:
        raise ValueError(f"{where}: expressions nest at most {MAX_DEPTH} deep")
    if isinstance(node, str):
        return
    if not isinstance(node, dict):
        raise ValueError(f"{where}: expected a header name or a table with one of {', '.join(OPERATORS)}")
    ops = [k for k in node if k in OPERATORS]
    if len(ops) != 1:
        unknown = [k for k in node if k not in OPERATORS]
        near = closest(unknown[0], OPERATORS) if unknown else None
        tip = f" (did you mean '{near}'?)" if near else ""
        raise ValueError(f"{where}: needs exactly one operator of {', '.join(OPERATORS)}{tip}")
    op = ops[0]
    extra = set(node) - _OPERATOR_KEYS[op]
    if extra:
        key = sorted(extra)[0]
        near = closest(key, sorted(_OPERATOR_KEYS[op]))
        raise ValueError(f"{where}: unknown key '{key}' for {op}" + (f" (did you mean '{near}'?)" if near else ""))
    arg = node[op]
    if op in ("concat", "coalesce"):
        if not isinstance(arg, list) or not arg:
            raise ValueError(f"{where}: {op} takes a non-empty list")
        for i, part in enumerate(arg):
            check_node(part, f"{where}.{op}[{i}]", depth + 1)
    elif op == "lit":
        if not isinstance(arg, str | int | float):
            raise ValueError(f"{where}: lit takes a text")
    elif op == "col":
        if not isinstance(arg, str):
            raise ValueError(f"{where}: col takes a header name")
    else:
        check_node(arg, f"{where}.{op}", depth + 1)
    if op == "slice" and not all(isinstance(node.get(k, 0), int) for k in ("start", "length")):
        raise ValueError(f"{where}: slice start and length are whole numbers")
    if op == "date" and not (isinstance(node.get("formats"), list) and node["formats"]):
        raise ValueError(f'{where}: date needs formats = ["%m/%d/%Y", …]')
    if op == "map" and not isinstance(node.get("values"), dict):
        raise ValueError(f'{where}: map needs values = {{"in the file" = "canonical"}}')


_SYNONYMS = {
    "defaults": "constants",
    "default": "constants",
    "fixed": "constants",
    "constant": "constants",
    "mapping": "columns",
    "aliases": "columns",
    "headers": "columns",
    "vocabulary": "values",
    "dateformat": "date_formats",
    "datetime_formats": "date_formats",
    "joins": "join",
    "expressions": "derived",
}


def closest(word: str, choices: Any) -> str | None:
    """The valid key a mistyped one most resembles, if any is close (a few synonyms first)."""
    choices = [str(c) for c in choices]
    meant = _SYNONYMS.get(str(word).casefold())
    if meant in choices:
        return meant
    found = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.5)
    return found[0] if found else None


def _valid_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed where a validation error points (walks the nested models)."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        annotation = fields[part].annotation
        args = getattr(annotation, "__args__", ())
        current = next((a for a in (annotation, *args) if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if current is None:
            return []
    return list(getattr(current, "model_fields", {}))


def parse_profile_text(text: str, path: Path) -> ProfileSpec:
    """Parse and validate a profile; errors name the file, the key and the closest valid key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(
            f"The profile {path} is not valid TOML: {exc}.",
            "Fix the file; docs/claims-format.md shows the profile layout.",
        ) from exc
    if "profile" in data and isinstance(data["profile"], dict) and "name" not in data:
        data["name"] = data.pop("profile").get("name")
    try:
        return ProfileSpec.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"The profile {path} is not valid: {_explain(exc)}.", _HINT) from exc


_HINT = "Fix the profile; docs/claims-format.md lists every key, and `ringsight profile init FILE` writes a start."


def _explain(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        loc = tuple(error["loc"])
        where = ".".join(str(p) for p in loc)
        if error["type"] == "extra_forbidden":
            near = closest(str(loc[-1]), _valid_keys(ProfileSpec, loc))
            parts.append(f"unknown key '{where}'" + (f" (did you mean '{near}'?)" if near else ""))
        else:
            parts.append(f"{where or 'profile'}: {error['msg']}")
    return "; ".join(parts)
