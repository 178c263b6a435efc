"""Graph writing: the bulk build of a new FalkorDB graph, and idempotent MERGE batches otherwise.

Both take the deduplicated node and relationship tables of
:mod:`ringsight.loaders.entities`.

- **Bulk** (embedded / FalkorDB, graph empty when the load began): node ids
  are assigned in the table layer (row positions), relationships become
  id pairs by joins, and :class:`~ringsight.loaders.bulk.BulkBuilder` sends it
  all with ``GRAPH.BULK``; the indexes and constraints are created afterwards
  (cheaper than maintaining them per insert). Interrupted, the partial graph
  is deleted and rebuilt — it was empty before.
- **MERGE** (a graph with data, or Neo4j): one ``UNWIND $rows … MERGE``
  statement per batch and label / relationship type; every batch is
  idempotent and the journal records the batches done, so a resumed load
  skips them.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import polars as pl
import redis

from ringsight.graph.model import key_of
from ringsight.graph.store import GraphStore
from ringsight.loaders.bulk import BulkBuilder
from ringsight.loaders.entities import LinkTable, NodeTable
from ringsight.loaders.journal import Journal

Tick = Callable[[int], None]


def _props_rows(frame: pl.DataFrame, key: str) -> Iterator[dict[str, Any]]:
    props = [c for c in frame.columns if c != key]
    for row in frame.iter_rows(named=True):
        yield {"key": row[key], "props": {p: row[p] for p in props if row[p] is not None}}


def merge_nodes(
    store: GraphStore,
    table: NodeTable,
    journal: Journal,
    *,
    batch_size: int,
    tick: Tick | None = None,
    part: int = 0,
) -> int:
    """MERGE the nodes of a table (properties set on creation only); return how many were created."""
    assert table.key == key_of(table.label), f"{table.label} is keyed by {key_of(table.label)}"
    cypher = f"UNWIND $rows AS row MERGE (n:{table.label} {{{table.key}: row.key}}) ON CREATE SET n += row.props"
    step = f"node:{table.label}:{part}"
    return _batches(store, cypher, table.frame, step, journal, batch_size, tick, table.key)


def merge_links(
    store: GraphStore,
    table: LinkTable,
    journal: Journal,
    *,
    batch_size: int,
    tick: Tick | None = None,
    part: int = 0,
) -> int:
    """MERGE relationships between existing nodes; return how many were created."""
    cypher = (
        f"UNWIND $rows AS row "
        f"MATCH (a:{table.start_label} {{{table.start_key}: row.start}}) "
        f"MATCH (b:{table.end_label} {{{table.end_key}: row.end}}) "
        f"MERGE (a)-[:{table.rel_type}]->(b)"
    )
    step = f"rel:{table.rel_type}:{table.start_label}:{part}"
    return _batches(store, cypher, table.frame, step, journal, batch_size, tick, None)


def _batches(
    store: GraphStore,
    cypher: str,
    frame: pl.DataFrame,
    step: str,
    journal: Journal,
    batch_size: int,
    tick: Tick | None,
    key: str | None,
) -> int:
    done = journal.batches_done(step)
    created = int(journal.get(f"created:{step}", 0))
    stat = "nodes_created" if key is not None else "relationships_created"
    for index, start in enumerate(range(0, frame.height, batch_size)):
        part = frame.slice(start, batch_size)
        if index < done:
            continue
        rows = list(_props_rows(part, key)) if key is not None else part.to_dicts()
        result = store.write(cypher, {"rows": rows})
        created += int(result.stats.get(stat, 0))
        journal.data[f"created:{step}"] = created
        journal.batch_done(step, index + 1)
        if tick is not None:
            tick(part.height)
    return created


def bulk_build(
    store: GraphStore, nodes: Iterable[NodeTable], links: Iterable[LinkTable], *, tick: Tick | None = None
) -> tuple[dict[str, int], int]:
    """Build the graph with GRAPH.BULK from empty; return (nodes created per label, relationships created).

    ``nodes`` and ``links`` are consumed one table at a time, so only one
    table and the key → id maps are in memory at once. The graph key must not
    hold anything but an empty graph: it is deleted first.
    """
    graph_name = store.graph_name  # type: ignore[attr-defined]
    connection = store.db.connection  # type: ignore[attr-defined]
    connection.delete(graph_name)
    with persistence_paused(connection):
        created, rels = _bulk(connection, graph_name, nodes, links, tick)
    store.graph = store.db.select_graph(graph_name)  # type: ignore[attr-defined]
    return created, rels


class IdMap:
    """Node ids of one label by key, for turning key pairs into GRAPH.BULK id pairs.

    Keys are hashed to 64 bits and sorted once; a lookup is a binary search
    (NumPy) instead of a join of millions of strings. Link ends are always
    keys of nodes of the same load (both come from the same staged claims),
    so when the label's hashes are all distinct a hash identifies its node
    and the keys themselves are dropped (they are most of the memory); when
    two keys of the label collide, the keys are kept and every hit is
    confirmed by comparing them.
    """

    _SEED = 4242

    def __init__(self) -> None:
        self.hashes = np.zeros(0, dtype=np.uint64)
        self.ids = np.zeros(0, dtype=np.int64)
        self.keys: pl.Series | None = None  # in hash order, only when two keys collide
        self._inserted: pl.Series | None = None  # keys in insertion order, while they may be needed
        self._dropped = False

    def add(self, keys: pl.Series, first: int) -> None:
        """Index a table's keys (ids ``first``, ``first + 1``, …)."""
        hashes = np.concatenate([self.hashes, keys.hash(self._SEED).to_numpy()])
        ids = np.concatenate([self.ids, np.arange(first, first + keys.len(), dtype=np.int64)])
        order = np.argsort(hashes, kind="stable")
        self.hashes, self.ids = hashes[order], ids[order]
        collided = len(self.hashes) > 1 and bool((self.hashes[1:] == self.hashes[:-1]).any())
        if not collided:
            self.keys, self._inserted, self._dropped = None, None, True
            return
        if self._dropped and len(hashes) > keys.len():
            raise RuntimeError("two keys of one label share a 64-bit hash across tables; load again")
        inserted = keys.rename("k") if self._inserted is None else pl.concat([self._inserted, keys.rename("k")])
        self._inserted, self.keys = inserted, inserted.gather(order)

    def freeze(self) -> IdMap:
        """Kept for callers that index first and look up later; the map is always ready."""
        return self

    def lookup(self, keys: pl.Series) -> np.ndarray:
        """The id of each key (-1 when the label has no such node)."""
        out = np.full(keys.len(), -1, dtype=np.int64)
        if keys.len() == 0 or len(self.hashes) == 0:
            return out
        hashes = keys.hash(self._SEED).to_numpy()
        at = np.searchsorted(self.hashes, hashes).clip(0, len(self.hashes) - 1)
        hit = np.flatnonzero(self.hashes[at] == hashes)
        if self.keys is None:
            out[hit] = self.ids[at[hit]]
            return out
        table = pl.DataFrame({"k": self.keys, "id": self.ids})  # colliding label: resolve exactly
        probe = pl.DataFrame({"k": keys.gather(hit), "i": hit})
        found = probe.join(table, on="k")
        out[found["i"].to_numpy()] = found["id"].to_numpy()
        return out


def _bulk(
    connection: Any, graph_name: str, nodes: Iterable[NodeTable], links: Iterable[LinkTable], tick: Tick | None
) -> tuple[dict[str, int], int]:
    builder = BulkBuilder(connection.execute_command, graph_name)
    maps: dict[str, IdMap] = {}
    first: dict[str, int] = {}
    created: dict[str, int] = {}
    for table in nodes:
        created.setdefault(table.label, 0)
        if table.frame.height == 0:
            continue
        start = builder.add_nodes(table.label, table.frame)
        first.setdefault(table.label, start)
        if table.label != "Claim":  # claims are linked by position, not by key
            maps.setdefault(table.label, IdMap()).add(table.frame.get_column(table.key), start)
        created[table.label] += table.frame.height
        if tick is not None:
            tick(table.frame.height)
    frozen = {label: m.freeze() for label, m in maps.items()}
    for link in links:
        if link.frame.height == 0 or link.end_label not in frozen:
            continue
        if link.positional:
            src = link.frame.get_column("start").to_numpy() + first[link.start_label]
        elif link.start_label in frozen:
            src = frozen[link.start_label].lookup(link.frame.get_column("start"))
        else:
            continue
        dst = frozen[link.end_label].lookup(link.frame.get_column("end"))
        keep = (src >= 0) & (dst >= 0)
        builder.add_relationships(link.rel_type, src[keep], dst[keep])
        if tick is not None:
            tick(int(keep.sum()))
    builder.finish()
    return created, builder.relationships_created


@contextlib.contextmanager
def persistence_paused(connection: Any, timeout_s: float = 600.0) -> Iterator[None]:
    """No snapshot or append-only-file rewrite (both fork the server) while a graph is bulk-built.

    Each ``GRAPH.BULK`` call carries tens of megabytes. Appended to the
    append-only file they trigger automatic rewrites in the middle of the
    build, and FalkorDB was seen to hang for good when such a fork met a bulk
    build in progress. The calls are still appended to the file (so the graph
    is durable the moment the build ends; no wait for a rewrite); only the
    forks are held back, and the server's own settings are restored after,
    when a rewrite compacts the file in the background. Servers that refuse
    CONFIG (managed ones) are left alone.
    """
    try:
        saved = _original_settings(connection)
        _wait_forks(connection, timeout_s)
        connection.config_set("save", "")
        connection.config_set("auto-aof-rewrite-percentage", 0)
    except redis.ResponseError:
        yield
        return
    try:
        yield
    finally:
        connection.config_set("auto-aof-rewrite-percentage", saved["auto-aof-rewrite-percentage"])
        connection.config_set("save", saved["save"])
        connection.delete(_SAVED_KEY)


_SAVED_KEY = "ringsight:bulk:saved-persistence"


def _original_settings(connection: Any) -> dict[str, str]:
    """The server's own persistence settings, remembered on the server while a bulk build runs.

    A loader killed mid-build cannot restore them; the next build finds them
    under ``_SAVED_KEY`` instead of taking the paused values for the real ones.
    """
    remembered = connection.get(_SAVED_KEY)
    if remembered:
        return json.loads(remembered)
    saved = {
        "save": connection.config_get("save").get("save", ""),
        "auto-aof-rewrite-percentage": connection.config_get("auto-aof-rewrite-percentage").get(
            "auto-aof-rewrite-percentage", "100"
        ),
    }
    connection.set(_SAVED_KEY, json.dumps(saved))
    return saved


def _wait_forks(connection: Any, timeout_s: float) -> None:
    """Wait while an append-only-file rewrite or snapshot is running or scheduled."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        info = connection.info("persistence")
        busy = (
            info.get("aof_rewrite_in_progress")
            or info.get("aof_rewrite_scheduled")
            or info.get("rdb_bgsave_in_progress")
        )
        if not busy:
            return
        time.sleep(0.05)


def supports_bulk(store: GraphStore) -> bool:
    """True for FalkorDB stores (embedded or remote), which accept GRAPH.BULK."""
    return store.backend == "falkordb" and hasattr(store, "db")
