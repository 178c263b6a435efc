"""FalkorDB's ``GRAPH.BULK`` command, fed straight from Polars columns.

``GRAPH.BULK`` builds a new graph from binary tokens: per label a header
(name, property names) followed by one record per node (each property as a
type byte plus its value), per relationship type a header followed by
(source id, destination id) pairs of 8-byte node ids, which are the positions
of the nodes in creation order. The ``falkordb-bulk-loader`` package produces
the same tokens from CSV files, row by row in Python; here they are assembled
with Arrow compute kernels from whole columns, which is what makes a million claims
load in well under a minute (see bench/bench_load.py). The format is the one
of ``falkordb_bulk_loader.entity_file`` (types: 0 null, 1 bool, 2 double,
3 string, 4 long, 5 array).

Only a graph that does not exist yet can be bulk-built; the first call
carries ``BEGIN``.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

NULL, BOOL, DOUBLE, STRING, LONG, ARRAY = 0, 1, 2, 3, 4, 5
TOKEN_BYTES = 48 * 1_000_000  # keep every call well below redis' 512 MB bulk limit


def _header(name: str, props: list[str]) -> bytes:
    out = name.encode() + b"\0" + struct.pack("=I", len(props))
    return out + b"".join(p.encode() + b"\0" for p in props)


_EMPTY = pa.scalar(b"", pa.large_binary())
_NULL = pa.scalar(bytes([NULL]), pa.large_binary())
_STRING = pa.scalar(bytes([STRING]), pa.large_binary())
_NUL = pa.scalar(b"\0", pa.large_binary())


def _fixed(values: np.ndarray, code: int, fmt: str, width: int = 8) -> pa.Array:
    """A type byte followed by each value's little-endian bytes, as a binary array."""
    n = len(values)
    raw = np.empty((n, 1 + width), dtype=np.uint8)
    raw[:, 0] = code
    raw[:, 1:] = np.ascontiguousarray(values.astype(fmt)).view(np.uint8).reshape(n, width)
    array = pa.FixedSizeBinaryArray.from_buffers(pa.binary(1 + width), n, [None, pa.py_buffer(raw)])
    return array.cast(pa.large_binary())


def _strings(array: pa.Array) -> pa.Array:
    """Each string as type byte + UTF-8 bytes + NUL."""
    data = array.cast(pa.large_string()).cast(pa.large_binary())
    return pc.binary_join_element_wise(_STRING, data, _NUL, _EMPTY)


def _combined(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def encode_field(series: pl.Series) -> pa.Array:
    """One property column encoded per row (a null or non-finite value becomes the null type byte)."""
    dtype = series.dtype
    valid = series.is_not_null()
    if dtype == pl.String:
        encoded = _strings(_combined(series.to_arrow()))
    elif dtype == pl.Boolean:
        encoded = _fixed(series.fill_null(False).to_numpy().astype(np.uint8), BOOL, "u1", 1)
    elif dtype.is_integer():
        encoded = _fixed(series.fill_null(0).cast(pl.Int64).to_numpy(), LONG, "<i8")
    elif dtype.is_float():
        valid = valid & series.is_finite().fill_null(False)
        encoded = _fixed(series.fill_null(0.0).fill_nan(0.0).cast(pl.Float64).to_numpy(), DOUBLE, "<f8")
    elif dtype == pl.List(pl.String):
        lists = _combined(series.to_arrow()).cast(pa.large_list(pa.large_string()))
        elements = pa.LargeListArray.from_arrays(lists.offsets, _strings(lists.values))
        body = pc.binary_join(elements, _EMPTY)
        counts = _fixed(series.list.len().fill_null(0).cast(pl.Int64).to_numpy(), ARRAY, "<i8")
        encoded = pc.binary_join_element_wise(counts, body, _EMPTY)
    else:
        raise TypeError(f"no bulk encoding for {series.name}: {dtype}")
    return pc.if_else(pa.array(valid.to_numpy()), encoded, _NULL)


def encode_nodes(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(bytes, row end offsets) of every row of ``frame`` encoded as node records.

    Each column becomes a binary array of per-row field encodings (Arrow
    compute, in C++), the fields are joined row-wise, and the joined array's
    data buffer is exactly the records laid end to end.
    """
    if frame.height == 0:
        return np.zeros(0, dtype=np.uint8), np.zeros(0, dtype=np.int64)
    fields = [encode_field(frame[c]) for c in frame.columns]
    rows = _combined(pc.binary_join_element_wise(*fields, _EMPTY))
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)[rows.offset : rows.offset + len(rows) + 1]
    data = np.frombuffer(rows.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data, offsets[1:] - offsets[0]


class BulkBuilder:
    """Sends labels and relationship types to one new graph in ``GRAPH.BULK`` calls.

    Nodes get ids in the order they are sent (0, 1, 2, …); :meth:`add_nodes`
    returns the id of a frame's first row so callers can map keys to ids.
    All nodes must be sent before the relationships that use them.
    """

    def __init__(self, execute: Callable[..., object], graph_name: str, token_bytes: int = TOKEN_BYTES) -> None:
        self.execute = execute
        self.graph_name = graph_name
        self.token_bytes = token_bytes
        self.next_id = 0
        self.begun = False
        self.nodes_created = 0
        self.relationships_created = 0
        # One sender thread: the server inserts a batch while the next one is encoded.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="graph-bulk")
        self._inflight: deque[Future[object]] = deque()

    def _send(self, nodes: int, rels: int, label_tokens: list[bytes], rel_tokens: list[bytes]) -> None:
        args: list[object] = [self.graph_name]
        if not self.begun:
            args.append("BEGIN")
            self.begun = True
        args += [nodes, rels, len(label_tokens), len(rel_tokens), *label_tokens, *rel_tokens]
        self._inflight.append(self._pool.submit(self.execute, "GRAPH.BULK", *args))
        while len(self._inflight) > 2:
            self._collect(self._inflight.popleft())

    def _collect(self, future: Future[object]) -> None:
        reply = future.result()
        text = reply.decode() if isinstance(reply, bytes) else str(reply)
        parts = text.split(", ")
        self.nodes_created += int(parts[0].split(" ")[0])
        self.relationships_created += int(parts[1].split(" ")[0])

    def finish(self) -> None:
        """Wait for every call sent so far (and raise the first error, if any)."""
        try:
            while self._inflight:
                self._collect(self._inflight.popleft())
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def add_nodes(self, label: str, frame: pl.DataFrame, chunk_rows: int = 200_000) -> int:
        """Create one node per row with the frame's columns as properties; return the first id."""
        first = self.next_id
        header = _header(label, frame.columns)
        for start in range(0, frame.height, chunk_rows):
            part = frame.slice(start, chunk_rows)
            buf, ends = encode_nodes(part)
            row = 0
            while row < part.height:
                base = int(ends[row - 1]) if row else 0
                stop = int(np.searchsorted(ends, base + self.token_bytes, side="right"))
                stop = max(stop, row + 1)
                token = header + buf[base : int(ends[stop - 1])].tobytes()
                self._send(stop - row, 0, [token], [])
                row = stop
        self.next_id += frame.height
        return first

    def add_relationships(self, rel_type: str, src: np.ndarray, dst: np.ndarray) -> None:
        """Create one relationship per (src, dst) node-id pair, without properties."""
        header = _header(rel_type, [])
        pairs = np.empty((len(src), 2), dtype="<u8")
        pairs[:, 0], pairs[:, 1] = src, dst
        per_token = max(1, self.token_bytes // 16)
        for start in range(0, len(pairs), per_token):
            part = pairs[start : start + per_token]
            self._send(0, len(part), [], [header + part.tobytes()])
