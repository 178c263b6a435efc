"""The GRAPH.BULK records built from Arrow columns match the falkordb-bulk-loader's own encoding,
and a graph built with them reads back on the real embedded server."""

from __future__ import annotations

import struct

import numpy as np
import polars as pl
from falkordb_bulk_loader.entity_file import Type, typed_prop_to_binary

from ringsight.graph.store import GraphStore
from ringsight.loaders.bulk import BulkBuilder, encode_nodes
from ringsight.loaders.writer import IdMap, persistence_paused

FRAME = pl.DataFrame(
    {
        "k": ["a", "bé", None, "x", ""],
        "n": [1, None, 3, -4, 2**40],
        "f": [1.5, None, 2.0, float("nan"), -0.25],
        "b": [True, None, False, True, False],
        "l": [["x", "yy"], [], None, ["中文"], ["", "z"]],
    }
)


def _reference(row: tuple) -> bytes:
    """The bulk loader's per-property encoding (entity_file.typed_prop_to_binary) for one row."""
    k, n, f, b, items = row
    out = typed_prop_to_binary(k, Type.STRING) if k else b"\0"
    out += struct.pack("=Bq", Type.LONG.value, n) if n is not None else b"\0"
    out += struct.pack("=Bd", Type.DOUBLE.value, f) if f is not None and f == f else b"\0"
    out += struct.pack("=B?", Type.BOOL.value, b) if b is not None else b"\0"
    if items is None:
        return out + b"\0"
    out += struct.pack("=Bq", Type.ARRAY.value, len(items))
    return out + b"".join(struct.pack("=B", Type.STRING.value) + e.encode() + b"\0" for e in items)


def test_records_match_the_bulk_loader_encoding() -> None:
    frame = FRAME.with_columns(pl.when(pl.col("k") == "").then(None).otherwise(pl.col("k")).alias("k"))
    data, ends = encode_nodes(frame)
    expected = [_reference(r) for r in frame.rows()]
    assert data.tobytes() == b"".join(expected)
    assert ends.tolist() == np.cumsum([len(e) for e in expected]).tolist()


def test_bulk_built_graph_reads_back(store: GraphStore) -> None:
    connection = store.db.connection  # type: ignore[attr-defined]
    name = store.graph_name  # type: ignore[attr-defined]
    connection.delete(name)
    with persistence_paused(connection):
        builder = BulkBuilder(connection.execute_command, name, token_bytes=40)  # forces several calls
        first = builder.add_nodes("A", FRAME)
        builder.add_nodes("B", pl.DataFrame({"k": ["hub"]}))
        builder.add_relationships("R", np.arange(first, first + 5), np.full(5, 5))
        builder.finish()
    store.graph = store.db.select_graph(name)  # type: ignore[attr-defined]
    assert builder.nodes_created == 6 and builder.relationships_created == 5
    rows = store.read("MATCH (a:A)-[:R]->(b:B) RETURN a.k, a.n, a.f, a.b, a.l, b.k ORDER BY a.n").rows
    assert rows[0] == ["x", -4, None, True, ["中文"], "hub"]
    assert rows[1] == ["a", 1, 1.5, True, ["x", "yy"], "hub"]
    assert rows[2][:2] == [None, 3]  # a null key is no property
    assert rows[3][:2] == ["", 2**40] and rows[3][4] == ["", "z"]
    missing = store.read("MATCH (a:A) WHERE a.n IS NULL RETURN a.k, a.l").rows
    assert missing == [["bé", []]]
    saved = connection.config_get("auto-aof-rewrite-percentage")["auto-aof-rewrite-percentage"]
    assert saved != "0", "server persistence settings are restored after the build"


def test_id_map_lookup() -> None:
    ids = IdMap()
    ids.add(pl.Series(["p3", "p1"]), 10)
    ids.add(pl.Series(["p2"]), 20)
    ids.freeze()
    assert ids.lookup(pl.Series(["p1", "p2", "nope", "p3", "p1"])).tolist() == [11, 20, -1, 10, 11]


def test_id_map_resolves_colliding_hashes_exactly(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # every key hashes alike: the map must fall back to comparing the keys themselves
    monkeypatch.setattr(pl.Series, "hash", lambda self, seed=0: pl.Series([7] * self.len(), dtype=pl.UInt64))
    ids = IdMap()
    ids.add(pl.Series(["p3", "p1", "p2"]), 10)
    ids.freeze()
    assert ids.keys is not None
    assert ids.lookup(pl.Series(["p1", "p2", "nope", "p3"])).tolist() == [11, 12, -1, 10]
