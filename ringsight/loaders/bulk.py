"""FalkorDB's ``GRAPH.BULK`` command, fed straight from Polars columns.

``GRAPH.BULK`` builds a new graph from binary tokens: per label a header
(name, property names) followed by one record per node (each property as a
type byte plus its value), per relationship type a header followed by
(source id, destination id) pairs of 8-byte node ids, which are the positions
of the nodes in creation order. The ``falkordb-bulk-loader`` package produces
the same tokens from CSV files, row by row in Python; here they are assembled
with NumPy from whole Arrow columns, which is what makes a million claims
load in well under a minute (see bench/bench_load.py). The format is the one
of ``falkordb_bulk_loader.entity_file`` (types: 0 null, 1 bool, 2 double,
3 string, 4 long, 5 array).

Only a graph that does not exist yet can be bulk-built; the first call
carries ``BEGIN``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import numpy as np
import polars as pl
import pyarrow as pa

NULL, BOOL, DOUBLE, STRING, LONG, ARRAY = 0, 1, 2, 3, 4, 5
TOKEN_BYTES = 48 * 1_000_000  # keep every call well below redis' 512 MB bulk limit


def _header(name: str, props: list[str]) -> bytes:
    out = name.encode() + b"\0" + struct.pack("=I", len(props))
    return out + b"".join(p.encode() + b"\0" for p in props)


def _string_buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(offsets[n+1] int64, data uint8, valid bool[n]) of a string array."""
    arr = arr.cast(pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    n = len(arr)
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    valid = ~np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    return offsets, data, valid


class _Column:
    """One property column: its per-row encoded length and how to write it into the buffer."""

    def __init__(self, series: pl.Series) -> None:
        self.series = series
        dtype = series.dtype
        n = len(series)
        self.valid = series.is_not_null().to_numpy()
        if dtype == pl.String:
            self.offsets, self.data, _ = _string_buffers(series.to_arrow())
            lens = np.diff(self.offsets)
            self.lengths = np.where(self.valid, lens + 2, 1)
            self.kind = "str"
        elif dtype == pl.Boolean:
            self.values = series.fill_null(False).to_numpy().astype(np.uint8)
            self.lengths = np.where(self.valid, 2, 1)
            self.kind = "bool"
        elif dtype.is_integer():
            self.values = series.fill_null(0).cast(pl.Int64).to_numpy()
            self.lengths = np.where(self.valid, 9, 1)
            self.kind = "long"
        elif dtype.is_float():
            finite = series.is_finite().fill_null(False).to_numpy()
            self.valid = self.valid & finite
            self.values = series.fill_null(0.0).fill_nan(0.0).cast(pl.Float64).to_numpy()
            self.lengths = np.where(self.valid, 9, 1)
            self.kind = "double"
        elif dtype == pl.List(pl.String):
            arr = series.to_arrow().cast(pa.large_list(pa.large_string()))
            if isinstance(arr, pa.ChunkedArray):
                arr = arr.combine_chunks()
            list_offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
            values = arr.values
            self.e_offsets, self.e_data, _ = _string_buffers(values)
            first, last = list_offsets[0], list_offsets[-1]
            self.list_offsets = list_offsets - first
            self.e_offsets = self.e_offsets[first : last + 1]
            elem_len = np.diff(self.e_offsets) + 2  # type byte + bytes + NUL
            cum = np.concatenate([[0], np.cumsum(elem_len)])
            per_row = cum[self.list_offsets[1:]] - cum[self.list_offsets[:-1]]
            self.elem_cum = cum
            self.lengths = np.where(self.valid, 9 + per_row, 1)
            self.kind = "list"
        else:
            raise TypeError(f"no bulk encoding for {series.name}: {dtype}")
        self.lengths = self.lengths.astype(np.int64)

    def write(self, buf: np.ndarray, pos: np.ndarray) -> None:
        """Write every row's encoding at ``pos`` (the start of this field in each row)."""
        valid = self.valid
        buf[pos[~valid]] = NULL
        vpos = pos[valid]
        if self.kind == "str":
            buf[vpos] = STRING
            _scatter_strings(buf, pos + 1, self.offsets, self.data, valid)
        elif self.kind == "bool":
            buf[vpos] = BOOL
            buf[vpos + 1] = self.values[valid]
        elif self.kind in ("long", "double"):
            buf[vpos] = LONG if self.kind == "long" else DOUBLE
            raw = self.values[valid].astype("<i8" if self.kind == "long" else "<f8").view(np.uint8).reshape(-1, 8)
            buf[vpos[:, None] + np.arange(1, 9)] = raw
        else:
            buf[vpos] = ARRAY
            counts = np.diff(self.list_offsets)[valid].astype("<i8").view(np.uint8).reshape(-1, 8)
            buf[vpos[:, None] + np.arange(1, 9)] = counts
            n_elems = len(self.e_offsets) - 1
            if n_elems == 0:
                return
            row_of_elem = np.repeat(np.arange(len(pos)), np.diff(self.list_offsets))
            elem_start = pos[row_of_elem] + 9 + (self.elem_cum[:-1] - self.elem_cum[self.list_offsets[row_of_elem]])
            buf[elem_start] = STRING
            _scatter_strings(buf, elem_start + 1, self.e_offsets, self.e_data, np.ones(n_elems, dtype=bool))


def _scatter_strings(
    buf: np.ndarray, starts: np.ndarray, offsets: np.ndarray, data: np.ndarray, valid: np.ndarray
) -> None:
    """Copy string i's bytes to buf[starts[i]:]; the NUL after it is already zero."""
    lens = np.diff(offsets)
    lens = np.where(valid, lens, 0)
    total = int(lens.sum())
    if total == 0:
        return
    src = np.repeat(offsets[:-1], lens) + (np.arange(total) - np.repeat(np.cumsum(lens) - lens, lens))
    dst = np.repeat(starts, lens) + (np.arange(total) - np.repeat(np.cumsum(lens) - lens, lens))
    buf[dst] = data[src]


def encode_nodes(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(buffer, row end offsets) of every row of ``frame`` encoded as node records."""
    columns = [_Column(frame[c]) for c in frame.columns]
    n = frame.height
    lengths = np.zeros(n, dtype=np.int64)
    for column in columns:
        lengths += column.lengths
    ends = np.cumsum(lengths)
    buf = np.zeros(int(ends[-1]) if n else 0, dtype=np.uint8)
    pos = ends - lengths
    for column in columns:
        column.write(buf, pos)
        pos = pos + column.lengths
    return buf, ends


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

    def _send(self, nodes: int, rels: int, label_tokens: list[bytes], rel_tokens: list[bytes]) -> None:
        args: list[object] = [self.graph_name]
        if not self.begun:
            args.append("BEGIN")
            self.begun = True
        args += [nodes, rels, len(label_tokens), len(rel_tokens), *label_tokens, *rel_tokens]
        reply = self.execute("GRAPH.BULK", *args)
        text = reply.decode() if isinstance(reply, bytes) else str(reply)
        parts = text.split(", ")
        self.nodes_created += int(parts[0].split(" ")[0])
        self.relationships_created += int(parts[1].split(" ")[0])

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
