"""Cypher for analysts: the library of named investigative queries and the ad-hoc console.

Public API (used by the CLI and the UI console)::

    from ringsight.cypher import QueryLibrary, run_named, run_adhoc

    library = QueryLibrary.load(settings)
    result = run_named(store, library, "cards_shared_by_persons", {"min_persons": "3"}, settings=settings)
    result = run_adhoc(store, "MATCH (c:Card) RETURN count(c)", None, settings=settings)

Both return a :class:`ringsight.graph.store.QueryResult`; ``result.truncated``
says the row cap was reached (see :func:`limit_notice`).
"""

from __future__ import annotations

from ringsight.cypher.library import LibraryError, NamedQuery, QueryLibrary
from ringsight.cypher.params import ParameterError, ParamSpec
from ringsight.cypher.runner import WriteNotAllowed, limit_notice, run_adhoc, run_named

__all__ = [
    "LibraryError",
    "NamedQuery",
    "ParamSpec",
    "ParameterError",
    "QueryLibrary",
    "WriteNotAllowed",
    "limit_notice",
    "run_adhoc",
    "run_named",
]
