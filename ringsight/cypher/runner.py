"""Run named and ad-hoc queries with the configured limits.

Safety rests on the database, not on inspecting query text:

- read queries (every ad-hoc query, and library queries with ``mode: read``)
  go through :meth:`GraphStore.read`, which FalkorDB runs as
  ``GRAPH.RO_QUERY`` and Neo4j in a READ transaction — a CREATE, MERGE, SET
  or DELETE is refused by the server;
- values travel as ``$parameters``, parsed to their declared types first;
- before anything reaches the store, :mod:`ringsight.cypher.guard` refuses
  what read-only mode does not stop: ``LOAD CSV``, procedures that reach
  files, the network or the server, and path searches a store cannot stop
  at its time limit;
- every query gets ``settings.query.timeout_ms`` (enforced by the server) and
  ``settings.query.row_cap``; a result cut by the cap has ``truncated`` set
  and :func:`limit_notice` says so in words;
- a library query with ``mode: write`` runs only with ``allow_write=True``
  and leaves an entry in the audit trail (``query.write``).
"""

from __future__ import annotations

import getpass
import hashlib
import math
import time
from collections import defaultdict
from datetime import date, datetime
from typing import Any

from ringsight.config import Settings
from ringsight.cypher import guard
from ringsight.cypher.library import NamedQuery, QueryLibrary, SampleSpec, referenced_params
from ringsight.cypher.params import ParameterError, ParamSpec, parse_params, parse_value
from ringsight.errors import QueryError, QueryTimeout
from ringsight.graph.store import GraphStore, QueryResult, cap_rows
from ringsight.money import money_rows

SAMPLE_COLUMNS = ("stratum_size", "sample_size", "draw_rank", "draw_hash")


class WriteNotAllowed(QueryError):
    """A write query was run without the explicit permission to write."""


def run_named(
    store: GraphStore,
    library: QueryLibrary,
    name: str,
    raw_params: dict[str, Any] | None,
    *,
    settings: Settings,
    allow_write: bool = False,
    user: str | None = None,
) -> QueryResult:
    """Run the library query ``name`` with parameters parsed to their declared types.

    Raises :class:`~ringsight.cypher.params.ParameterError` naming a bad
    parameter, :class:`WriteNotAllowed` for a write query without
    ``allow_write``, and the store's ``QueryError`` / ``QueryTimeout``.
    """
    query = library.get(name)
    given = parse_params(query.params, raw_params or {}, query.name)
    check_tags(query, given, settings)
    params = {**given, **_reserved(query.text, user)}
    if query.deepen is not None:
        return _run_deepening(store, query, params, settings)
    guard.check(query.text, backend=store.backend)
    if query.is_write:
        return _run_write(store, query, params, given, settings, allow_write, user)
    result = _read(store, query.text, params, settings)
    if query.sample is not None:
        result = _sample(query, result, params, settings)
    return in_cents(result)


def in_cents(result: QueryResult) -> QueryResult:
    """The result with amounts of money rounded to cents (see :mod:`ringsight.money`)."""
    result.rows = money_rows(result.columns, result.rows)
    return result


def run_adhoc(
    store: GraphStore,
    text: str,
    params: dict[str, Any] | None,
    *,
    settings: Settings,
) -> QueryResult:
    """Run an analyst's own Cypher read-only, with the configured timeout and row cap.

    A statement that writes is refused by the database (the store's read-only
    mode); nothing here looks at the text to decide. Values are passed as
    given, except ``date`` / ``datetime`` objects, which become epoch seconds
    like the graph's ``*_ts`` properties.
    """
    if not text or not text.strip():
        raise QueryError(
            "The query is empty.", 'Give the Cypher text, e.g. ringsight cypher "MATCH (n) RETURN count(n)".'
        )
    bad = [k for k in (params or {}) if not isinstance(k, str) or not k]
    if bad:
        raise QueryError(f"Parameter names must be text; got {bad!r}.")
    guard.check(text, backend=store.backend)
    return in_cents(_read(store, text, {k: _epoch_if_time(v) for k, v in (params or {}).items()}, settings))


_SYNTAX = ("invalid input", "syntax", "errmsg", "unknown function", "not defined", "mismatched input")


def _read(store: GraphStore, text: str, params: dict[str, Any], settings: Settings) -> QueryResult:
    """A read with the configured limits; a syntax error says what to do (a missing graph is the store's: no rows)."""
    try:
        return store.read(text, params, timeout_ms=settings.query.timeout_ms, row_cap=settings.query.row_cap)
    except QueryTimeout:
        raise
    except QueryError as exc:
        lowered = exc.message.lower()
        if exc.hint is None and any(m in lowered for m in _SYNTAX):
            raise QueryError(
                exc.message,
                "Fix the Cypher at the position shown; the Cypher both stores accept is in "
                "ringsight/cypher/SUBSET.md, and `ringsight query show NAME` prints worked examples.",
            ) from exc
        raise


def check_tags(query: NamedQuery, values: dict[str, Any], settings: Settings) -> None:
    """Refuse a ``tag`` parameter outside the tag vocabulary (``cases.tags``), as the workbench does.

    The library lets an annotation's tag come only from such a parameter
    (see ``library._check_tag_writes``), so a write query cannot put an
    arbitrary tag on a facility either.
    """
    vocabulary = list(settings.cases.tags)
    for spec in query.params:
        value = values.get(spec.name)
        if spec.type == "tag" and value is not None and value not in vocabulary:
            raise ParameterError(
                f"'{value}' is not in the tag vocabulary, so '{query.name}' does not use it as {spec.name}.",
                f"Use one of: {', '.join(vocabulary)} (the vocabulary is the setting cases.tags).",
            )


def _run_deepening(store: GraphStore, query: NamedQuery, params: dict[str, Any], settings: Settings) -> QueryResult:
    """Run a ``deepen`` query with path bound 1, 2, … until rows come back, all within one time limit.

    The first bound with rows gives the shortest paths; every run is a
    bounded pattern the store stops at the time limit, and the runs share
    that limit, so the whole query never outlives it.
    """
    assert query.deepen is not None
    limit = int(params[query.deepen])
    deadline = time.monotonic() + settings.query.timeout_ms / 1000
    result = QueryResult(columns=[], rows=[])
    for hops in range(1, limit + 1):
        text = query.bounded_text(hops)
        guard.check(text, backend=store.backend)
        left_ms = int((deadline - time.monotonic()) * 1000)
        if left_ms < 1:
            raise QueryTimeout(
                f"'{query.name}' ran past its time limit of {settings.query.timeout_ms} ms "
                f"while searching paths of {hops} steps, and was stopped.",
                "Lower max_hops, or raise RINGSIGHT_QUERY__TIMEOUT_MS.",
            )
        result = store.read(text, params, timeout_ms=left_ms, row_cap=settings.query.row_cap)
        if result.rows:
            return in_cents(result)
    return result


def _epoch_if_time(value: Any) -> Any:
    """Dates and date-times become epoch seconds, as every ``*_ts`` in the graph (Beijing time when naive)."""
    if isinstance(value, datetime):
        return parse_value(ParamSpec("value", "datetime"), value)
    if isinstance(value, date):
        return parse_value(ParamSpec("value", "date"), value)
    return value


def limit_notice(result: QueryResult, settings: Settings, lang: str = "en") -> str | None:
    """One sentence saying the row cap cut the result, or None when it did not."""
    if not result.truncated:
        return None
    cap = settings.query.row_cap
    if lang == "zh":
        return f"结果超过行数上限，只显示前 {cap} 行（设置 query.row_cap / RINGSIGHT_QUERY__ROW_CAP）。请缩小查询范围。"
    return (
        f"Only the first {cap} rows are shown: the row cap (query.row_cap, RINGSIGHT_QUERY__ROW_CAP) was reached. "
        "Narrow the query or raise the cap."
    )


# -- writes ---------------------------------------------------------------------


def _run_write(
    store: GraphStore,
    query: NamedQuery,
    params: dict[str, Any],
    given: dict[str, Any],
    settings: Settings,
    allow_write: bool,
    user: str | None,
) -> QueryResult:
    if not allow_write:
        raise WriteNotAllowed(
            f"'{query.name}' is a write query: it changes the graph, so it does not run without permission.",
            "Run it again with --allow-write (the change is recorded in the audit trail).",
        )
    from ringsight.cases.audit import record

    who = user or os_user()
    result = store.write(query.text, params, timeout_ms=settings.query.timeout_ms)
    result.rows, result.truncated = cap_rows(result.rows, settings.query.row_cap)
    record(
        store,
        user=who,
        action="query.write",
        target=f"Query:{query.name}",
        after={"query": query.name, "params": _jsonable(given), "stats": result.stats},
    )
    return result


def _reserved(text: str, user: str | None) -> dict[str, Any]:
    """Values RingSight supplies itself (``$user``, ``$now_ts``) when the text refers to them."""
    used = referenced_params(text)
    values: dict[str, Any] = {}
    if "user" in used:
        values["user"] = user or os_user()
    if "now_ts" in used:
        values["now_ts"] = int(time.time())
    return values


def os_user() -> str:
    """The OS account running this process (``unknown`` when it has no name)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in params.items()}


# -- seeded sampling ------------------------------------------------------------


def _sample(query: NamedQuery, population: QueryResult, params: dict[str, Any], settings: Settings) -> QueryResult:
    spec = query.sample
    assert spec is not None
    if population.truncated:
        raise QueryError(
            f"The population of '{query.name}' has more than {settings.query.row_cap} rows (the row cap), "
            "so a sample drawn from it would not be fair.",
            "Narrow the population (kind, region, ownership) or raise RINGSIGHT_QUERY__ROW_CAP for this run.",
        )
    return sample_rows(population, spec, fraction=float(params[spec.fraction]), seed=str(params[spec.seed]))


def draw_hash(seed: str, key: Any) -> str:
    """The hex SHA-256 of ``"<seed>:<key>"`` — the order of the draw, recomputable by anyone."""
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()


def sample_rows(population: QueryResult, spec: SampleSpec, *, fraction: float, seed: str) -> QueryResult:
    """Draw a reproducible sample: in each stratum, the ``ceil(fraction · n)`` rows of smallest hash.

    Ranking rows by a keyed hash of their key is a seeded random permutation
    that does not depend on the store, the row order or the platform; the
    inspection plan can publish the seed, and anyone can recompute
    ``sha256(seed + ':' + key)`` to check that the draw was not chosen by hand
    (the "双随机" requirement). Columns ``stratum_size``, ``sample_size``,
    ``draw_rank`` (1 = first drawn) and ``draw_hash`` are added.
    """
    if spec.key not in population.columns or (spec.stratum and spec.stratum not in population.columns):
        raise QueryError(
            f"The sample needs columns '{spec.key}'" + (f" and '{spec.stratum}'" if spec.stratum else "") + ".",
            "Return them from the query text (see the query's 'sample:' header).",
        )
    key_i = population.columns.index(spec.key)
    stratum_i = population.columns.index(spec.stratum) if spec.stratum else None
    strata: dict[Any, list[tuple[str, list[Any]]]] = defaultdict(list)
    for row in population.rows:
        stratum = row[stratum_i] if stratum_i is not None else None
        strata[stratum].append((draw_hash(seed, row[key_i]), row))
    rows: list[list[Any]] = []
    for stratum in sorted(strata, key=lambda s: (s is None, str(s))):
        members = sorted(strata[stratum], key=lambda pair: pair[0])
        size = min(len(members), math.ceil(fraction * len(members) - 1e-9))
        for rank, (digest, row) in enumerate(members[:size], start=1):
            rows.append([*row, len(members), size, rank, digest[:16]])
    return QueryResult(columns=[*population.columns, *SAMPLE_COLUMNS], rows=rows)
