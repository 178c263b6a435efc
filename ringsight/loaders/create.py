"""The CREATE writer: create outright what the table layer knows is new, MERGE only what may exist.

This is the load path for Neo4j (and for any store with ``mode="create"``).
The table layer has already decided which claims are new (a claim staged by
an earlier load is a repeat and never reaches the writer), so:

- into an **empty graph** every node and every relationship is new: nodes by
  ``UNWIND range(0, size($c0) - 1) AS i CREATE (n:Label {key: $c0[i], …})``
  (one list parameter per column, see :func:`column_params`), relationships by
  ``UNWIND … WITH $c0[i] AS src, $c1[i] AS dst MATCH (a {key: src}) MATCH (b {key: dst})
  CREATE (a)-[:T]->(b)`` on the constrained keys (keys projected to variables first:
  a pattern keyed by ``$c0[i]`` itself was planned as a scan per row);
- into a **graph with data**, claims and the relationships from them are
  still created; entities (a patient seen before), entity links and trace
  codes may exist and are MERGEd.

MERGE costs a lookup per row and a lock on the key; CREATE only the insert.
Node batches of one table are sent from ``workers`` sessions at once (new
nodes with distinct keys do not contend); relationship batches one at a
time (they lock shared end nodes such as a facility).

Safety: each batch is one transaction and the journal records the batches
done in order. A batch can have committed without being recorded (killed
in between); on resume the first ``workers`` unrecorded batches of a step
are therefore sent with the MERGE form. A CREATE refused by a uniqueness
constraint (a claim the graph has although staging did not know it) is
retried as MERGE, and from then on the claims' relationships are MERGEd too.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import polars as pl

from ringsight.graph.model import key_of
from ringsight.graph.store import ConstraintViolation, GraphStore
from ringsight.loaders.entities import LinkTable, NodeTable
from ringsight.loaders.journal import Journal

Tick = Callable[[int], None]
EXISTED = "create:claims_existed"


def column_params(frame: pl.DataFrame) -> dict[str, list[Any]]:
    """A batch as one list per column (``$c0``, ``$c1``, …), in the frame's column order.

    Lists of plain values pack 3-6 times faster than a list of row maps
    (which repeat every key in every row) and are a third smaller on the
    wire; the statements index them by row (``$c0[i]``).
    """
    return {f"c{i}": frame.get_column(name).to_list() for i, name in enumerate(frame.columns)}


def _name(identifier: str) -> str:
    return "`" + identifier.replace("`", "``") + "`"


def node_statements(table: NodeTable) -> tuple[str, str]:
    """(CREATE form, MERGE form) of the batch statement for a node table, over :func:`column_params`.

    A null in a column sets no property (as a missing value in the loader's MERGE path).
    """
    columns = table.frame.columns or [table.key]
    k = columns.index(table.key)
    head = f"UNWIND range(0, size($c{k}) - 1) AS i "
    props = ", ".join(f"{_name(c)}: $c{i}[i]" for i, c in enumerate(columns))
    create = head + f"CREATE (n:{table.label} {{{props}}})"
    sets = ", ".join(f"n.{_name(c)} = $c{i}[i]" for i, c in enumerate(columns) if i != k)
    # the key as a plain variable: a lookup by `$c0[i]` is not planned as an index seek (FalkorDB scanned)
    merge = head + f"WITH i, $c{k}[i] AS key MERGE (n:{table.label} {{{_name(table.key)}: key}})"
    if sets:
        merge += f" ON CREATE SET {sets}"
    return create, merge


def link_statements(table: LinkTable) -> tuple[str, str]:
    """(CREATE form, MERGE form) for a relationship table: ``$c0`` start keys, ``$c1`` end keys."""
    match = (
        "UNWIND range(0, size($c0) - 1) AS i WITH $c0[i] AS src, $c1[i] AS dst "
        f"MATCH (a:{table.start_label} {{{table.start_key}: src}}) "
        f"MATCH (b:{table.end_label} {{{table.end_key}: dst}}) "
    )
    return match + f"CREATE (a)-[:{table.rel_type}]->(b)", match + f"MERGE (a)-[:{table.rel_type}]->(b)"


@dataclass
class CreateWriter:
    """Writes the node and relationship tables of one load (see the module docstring)."""

    store: GraphStore
    journal: Journal
    empty: bool
    batch_size: int = 20_000
    workers: int = 2
    tick: Tick | None = None

    def write(self, nodes: Iterable[NodeTable], links: Iterable[LinkTable]) -> tuple[dict[str, int], int]:
        """Write every table; return (nodes created per label, relationships created)."""
        created: dict[str, int] = {}
        parts: Counter[str] = Counter()
        for table in nodes:
            assert table.key == key_of(table.label), f"{table.label} is keyed by {key_of(table.label)}"
            step = f"node:{table.label}:{parts[table.label]}"
            parts[table.label] += 1
            new = self.empty or table.label == "Claim"
            made = self._table(step, table.frame, *node_statements(table), new, "nodes_created", self.workers)
            created[table.label] = created.get(table.label, 0) + made
        rels = 0
        for link in links:
            name = f"{link.rel_type}:{link.start_label}"
            step = f"rel:{name}:{parts[name]}"
            parts[name] += 1
            frame = link.frame.select("start", "end")  # $c0, $c1
            rels += self._table(
                step, frame, *link_statements(link), self._links_are_new(link), "relationships_created", 1
            )
        return created, rels

    def _links_are_new(self, link: LinkTable) -> bool:
        if self.empty:
            return True
        from_new_claims = link.start_label == "Claim" and link.rel_type != "HAS_TRACE"
        return from_new_claims and not self.journal.get(EXISTED)

    def _table(
        self, step: str, frame: pl.DataFrame, create: str, merge: str, new: bool, stat: str, workers: int
    ) -> int:
        """Send one table in batches; the journal records the batches done, in order."""
        done = self.journal.batches_done(step)
        created = int(self.journal.get(f"created:{step}", 0))
        resumed = bool(self.journal.get(f"started:{step}"))
        if not resumed:
            self.journal.set(f"started:{step}", True)
        starts = list(range(0, frame.height, self.batch_size))
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="graph-create") as pool:
            inflight: deque[tuple[int, int, Future[int]]] = deque()
            for index, start in enumerate(starts):
                if index < done:
                    continue
                unsure = resumed and index < done + max(1, workers)  # may have committed unrecorded
                part = frame.slice(start, self.batch_size)
                statement = merge if unsure or not new else create
                rows = column_params(part)
                while len(inflight) >= max(1, workers):  # at most `workers` batches unrecorded at any time
                    created = self._record(step, created, *inflight.popleft())
                inflight.append((index, part.height, pool.submit(self._send, statement, merge, rows, stat)))
            while inflight:
                created = self._record(step, created, *inflight.popleft())
        return created

    def _record(self, step: str, created: int, index: int, height: int, future: Future[int]) -> int:
        created += future.result()
        self.journal.data[f"created:{step}"] = created
        self.journal.batch_done(step, index + 1)
        if self.tick is not None:
            self.tick(height)
        return created

    def _send(self, statement: str, merge: str, rows: dict[str, list[Any]], stat: str) -> int:
        try:
            result = self.store.write(statement, rows)
        except ConstraintViolation:
            if statement == merge:
                raise
            self.journal.data[EXISTED] = True  # saved with the next batch record, before any claim link
            result = self.store.write(merge, rows)
        return int(result.stats.get(stat, 0))
