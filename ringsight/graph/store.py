"""The narrow interface every part of RingSight uses to talk to a graph store.

Two implementations exist: :class:`~ringsight.graph.falkordb_store.FalkorDBStore`
(the embedded default and remote FalkorDB) and
:class:`~ringsight.graph.neo4j_store.Neo4jStore`. Results are plain Python
values plus the small :class:`Node`, :class:`Relationship` and :class:`Path`
records below — never driver objects — so nothing above this layer depends on
which store is in use.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from ringsight.errors import QueryError

ProgressCallback = Callable[[int], None]
"""Called after each batch with the number of rows just written."""


@dataclass(frozen=True)
class Node:
    """A node as returned by a query: its store id, labels and properties."""

    id: str
    labels: tuple[str, ...]
    properties: dict[str, Any] = field(hash=False, compare=False)

    @property
    def label(self) -> str:
        """The first label (RingSight nodes carry exactly one)."""
        return self.labels[0] if self.labels else ""


@dataclass(frozen=True)
class Relationship:
    """A relationship: its store id, type, the ids of its start and end nodes, properties."""

    id: str
    type: str
    start: str
    end: str
    properties: dict[str, Any] = field(hash=False, compare=False)


@dataclass(frozen=True)
class Path:
    """A path: alternating nodes and relationships, in order."""

    nodes: tuple[Node, ...]
    relationships: tuple[Relationship, ...]


@dataclass
class QueryResult:
    """Rows of a query with their column names.

    ``truncated`` is True when the store returned more rows than the row cap
    and the rest were dropped; ``stats`` holds write counters when the store
    reports them (``nodes_created``, ``relationships_created``, …).
    """

    columns: list[str]
    rows: list[list[Any]]
    truncated: bool = False
    stats: dict[str, int] = field(default_factory=dict)

    def records(self) -> list[dict[str, Any]]:
        """Rows as dictionaries keyed by column name."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def scalar(self) -> Any:
        """The first column of the first row (None when there is no row)."""
        return self.rows[0][0] if self.rows else None

    def column(self, name: str) -> list[Any]:
        """All values of one column."""
        i = self.columns.index(name)
        return [row[i] for row in self.rows]


class ConstraintViolation(QueryError):
    """A write broke a uniqueness constraint (a CREATE of a key the graph already has)."""


def batched(rows: Iterable[Mapping[str, Any]], size: int) -> Iterator[list[Mapping[str, Any]]]:
    """Split an iterable of rows into lists of at most ``size`` rows."""
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


class GraphStore(ABC):
    """What RingSight needs from a graph database.

    Implementations must make :meth:`read` refuse writes *at the database*
    (Neo4j READ access mode, FalkorDB ``GRAPH.RO_QUERY``), apply ``timeout_ms``
    server-side, and make :meth:`write_rows` idempotent when the statement is
    (MERGE-based statements are).
    """

    backend: str = "abstract"

    @abstractmethod
    def read(
        self,
        cypher: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout_ms: int | None = None,
        row_cap: int | None = None,
    ) -> QueryResult:
        """Run a read-only query; a write inside it is refused by the database."""

    @abstractmethod
    def write(
        self,
        cypher: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout_ms: int | None = None,
    ) -> QueryResult:
        """Run one write query in its own transaction."""

    def write_rows(
        self,
        cypher: str,
        rows: Iterable[Mapping[str, Any]],
        *,
        batch_size: int = 5_000,
        progress: ProgressCallback | None = None,
        extra_params: Mapping[str, Any] | None = None,
    ) -> int:
        """Write rows in batches with one ``UNWIND $rows AS row …`` statement.

        ``cypher`` must start from ``UNWIND $rows AS row``. Each batch is one
        transaction, so a crash loses at most the batch in flight; with a
        MERGE-based statement a rerun rewrites it harmlessly. Returns the
        number of rows sent.
        """
        sent = 0
        for batch in batched(rows, batch_size):
            params = {"rows": list(batch), **(extra_params or {})}
            self.write(cypher, params)
            sent += len(batch)
            if progress is not None:
                progress(len(batch))
        return sent

    @abstractmethod
    def ensure_schema(self) -> list[str]:
        """Create the model's constraints and indexes if missing; return what was created."""

    def checkpoint(self) -> None:
        """Make everything written so far cheap to recover (after a large load or a detection run).

        The embedded FalkorDB store compacts its append-only file into a
        snapshot; stores that need nothing here do nothing.
        """
        return None

    @abstractmethod
    def clear(self) -> None:
        """Delete every node and relationship of this graph (tests and ``reset``)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections. The embedded server keeps running for other processes."""

    def count_nodes(self, label: str | None = None) -> int:
        """Number of nodes, optionally of one label."""
        pattern = f"(n:{label})" if label else "(n)"
        return int(self.read(f"MATCH {pattern} RETURN count(n) AS c").scalar() or 0)

    def count_relationships(self, rel_type: str | None = None) -> int:
        """Number of relationships, optionally of one type."""
        pattern = f"()-[r:{rel_type}]->()" if rel_type else "()-[r]->()"
        return int(self.read(f"MATCH {pattern} RETURN count(r) AS c").scalar() or 0)

    def describe(self) -> str:
        """A one-line, password-free description for logs and the CLI."""
        return self.backend

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def cap_rows(rows: Sequence[list[Any]], row_cap: int | None) -> tuple[list[list[Any]], bool]:
    """Cut rows to the cap, saying whether anything was dropped."""
    if row_cap is not None and len(rows) > row_cap:
        return list(rows[:row_cap]), True
    return list(rows), False
