"""FalkorDB store: the embedded default, or a FalkorDB server run elsewhere.

Reads go through ``GRAPH.RO_QUERY``, which FalkorDB refuses to execute when
the query would write, so read-only is enforced by the database, not by
inspecting query text. Timeouts are passed to the server per query.

On the embedded store, a server that has died (killed by the kernel, say) is
restarted on the next request: a read is then run again transparently; a
write is not (it may or may not have been applied), and says so. While the
restart takes longer than ``restart_wait_s``, requests get
:class:`~ringsight.errors.StoreRestarting` (the web UI answers 503).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path as FsPath
from typing import TYPE_CHECKING, Any, TypeVar

import falkordb
import redis
from falkordb.edge import Edge as FEdge
from falkordb.node import Node as FNode
from falkordb.path import Path as FPath

from ringsight.errors import QueryError, QueryTimeout, QueryTooLarge, StoreRestarting, StoreUnavailable
from ringsight.graph.model import NODE_TYPES
from ringsight.graph.store import ConstraintViolation, GraphStore, Node, Path, QueryResult, Relationship, cap_rows

if TYPE_CHECKING:
    from ringsight.graph.embedded import EmbeddedServer

T = TypeVar("T")

_STAT_NAMES = {
    "nodes_created": "nodes_created",
    "nodes_deleted": "nodes_deleted",
    "relationships_created": "relationships_created",
    "relationships_deleted": "relationships_deleted",
    "properties_set": "properties_set",
    "indices_created": "indexes_created",
}


class FalkorDBStore(GraphStore):
    """A named graph on a FalkorDB server."""

    backend = "falkordb"

    def __init__(
        self,
        *,
        graph_name: str,
        unix_socket: FsPath | None = None,
        host: str = "localhost",
        port: int = 6379,
        password: str | None = None,
        default_timeout_ms: int | None = None,
        server: EmbeddedServer | None = None,
        restart_wait_s: float = 10.0,
    ) -> None:
        self.graph_name = graph_name
        self.unix_socket = unix_socket
        self.default_timeout_ms = default_timeout_ms
        self.server = server
        self.restart_wait_s = restart_wait_s
        self._where = f"unix://{unix_socket}" if unix_socket else f"{host}:{port}"
        try:
            if unix_socket is not None:
                self.db = falkordb.FalkorDB(unix_socket_path=str(unix_socket))
            else:
                self.db = falkordb.FalkorDB(host=host, port=port, password=password)
            self.db.connection.ping()
        except redis.AuthenticationError as exc:
            from ringsight.errors import StoreAuthError

            raise StoreAuthError(
                f"The FalkorDB server at {self._where} refused the password.",
                "Check the password in RINGSIGHT_GRAPH (falkordb://:PASSWORD@host:port/graph).",
            ) from exc
        except (redis.ConnectionError, OSError) as exc:
            raise StoreUnavailable(
                f"Cannot reach the FalkorDB server at {self._where} ({exc}).",
                "Start it, or unset RINGSIGHT_GRAPH to use the embedded store.",
            ) from exc
        self.graph = self.db.select_graph(graph_name)

    def describe(self) -> str:
        return f"FalkorDB {self._where} graph '{self.graph_name}'"

    # -- queries ----------------------------------------------------------------
    def read(
        self,
        cypher: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout_ms: int | None = None,
        row_cap: int | None = None,
    ) -> QueryResult:
        result = self._run(self.graph.ro_query, cypher, params, timeout_ms)
        rows, truncated = cap_rows(result.rows, row_cap)
        result.rows, result.truncated = rows, truncated
        return result

    def write(
        self,
        cypher: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout_ms: int | None = None,
    ) -> QueryResult:
        return self._run(self.graph.query, cypher, params, timeout_ms)

    def _run(self, method: Any, cypher: str, params: Mapping[str, Any] | None, timeout_ms: int | None) -> QueryResult:
        timeout = timeout_ms if timeout_ms is not None else self.default_timeout_ms
        if timeout is not None and self.server is not None:
            timeout = min(timeout, self.server.limits.timeout_max_ms)  # the server refuses a larger one
        call = lambda: method(cypher, dict(params or {}), timeout=timeout)  # noqa: E731
        try:
            raw = self._call(call, retry=method == self.graph.ro_query)
        except redis.ResponseError as exc:
            if method == self.graph.ro_query and "empty key" in str(exc).lower():
                return QueryResult(columns=[], rows=[])  # no graph yet (nothing loaded): a read finds nothing
            raise _query_error(str(exc), timeout) from exc
        columns = [h[1] for h in (raw.header or [])]
        rows = [[_convert(v) for v in row] for row in (raw.result_set or [])]
        stats = {}
        for attr, name in _STAT_NAMES.items():
            value = getattr(raw, attr, 0)
            if value:
                stats[name] = int(value)
        return QueryResult(columns=columns, rows=rows, stats=stats)

    def _call(self, call: Callable[[], T], *, retry: bool) -> T:
        """Run ``call``; when the embedded server has died, restart it and run a read again."""
        try:
            return _when_not_busy(call)
        except (redis.ConnectionError, OSError) as exc:
            if self.server is None:
                raise StoreUnavailable(
                    f"Lost the connection to the FalkorDB server at {self._where} ({exc}).",
                    "Check that the server is running (`ringsight store status`).",
                ) from exc
            self._restart(exc)
            if not retry:
                raise StoreUnavailable(
                    "The embedded graph store had stopped and has been restarted; the change may not have been saved.",
                    "Run it again (RingSight's writes can be repeated safely).",
                ) from exc
        try:
            return _when_not_busy(call)
        except (redis.ConnectionError, OSError) as exc:
            raise StoreUnavailable(f"The restarted embedded graph store does not answer ({exc}).") from exc

    def _restart(self, cause: Exception) -> None:
        """Start the embedded server again (one restart at a time per directory) and wait a bounded time for it."""
        assert self.server is not None
        future = _restart_of(self.server)
        try:
            future.result(timeout=self.restart_wait_s)
        except FutureTimeout as exc:
            raise StoreRestarting(
                "图库正在重启 / The graph store is restarting after it stopped.",
                "Try again in a few seconds.",
            ) from exc
        self.db.connection.connection_pool.disconnect()

    # -- schema -----------------------------------------------------------------
    def ensure_schema(self) -> list[str]:
        created: list[str] = []
        for node_type in NODE_TYPES:
            for prop in (node_type.key, *node_type.indexed):
                if self._create_index(node_type.label, prop):
                    created.append(f"index {node_type.label}.{prop}")
            if self._create_unique(node_type.label, node_type.key):
                created.append(f"unique {node_type.label}.{node_type.key}")
        return created

    def _create_index(self, label: str, prop: str) -> bool:
        try:
            _when_not_busy(lambda: self.graph.query(f"CREATE INDEX FOR (n:{label}) ON (n.{prop})"))
        except redis.ResponseError as exc:
            if "already indexed" in str(exc):
                return False
            raise
        return True

    def _create_unique(self, label: str, prop: str) -> bool:
        try:
            _when_not_busy(
                lambda: self.db.connection.execute_command(
                    "GRAPH.CONSTRAINT", "CREATE", self.graph_name, "UNIQUE", "NODE", label, "PROPERTIES", 1, prop
                )
            )
        except redis.ResponseError as exc:
            if "already exists" in str(exc).lower():
                return False
            raise
        return True

    def checkpoint(self) -> None:
        from ringsight.graph.embedded import checkpoint

        # a remote server may lack AOF or the permission; then there is nothing to compact
        with contextlib.suppress(redis.ResponseError):
            checkpoint(self.db.connection)

    def clear(self) -> None:
        try:
            self.graph.delete()
        except redis.ResponseError as exc:
            if "empty key" not in str(exc).lower() and "invalid graph" not in str(exc).lower():
                raise
        self.graph = self.db.select_graph(self.graph_name)

    def close(self) -> None:
        self.db.connection.close()


_RESTART_LOCK = threading.Lock()
_RESTARTS: dict[FsPath, Future[FsPath]] = {}


def _restart_of(server: EmbeddedServer) -> Future[FsPath]:
    """The restart in progress for this server's directory, or a new one in a background thread."""
    with _RESTART_LOCK:
        future = _RESTARTS.get(server.directory)
        if future is None or future.done():
            future = Future()
            _RESTARTS[server.directory] = future
            threading.Thread(target=_run_restart, args=(server, future), daemon=True).start()
        return future


def _run_restart(server: EmbeddedServer, future: Future[FsPath]) -> None:
    try:
        future.set_result(server.ensure_running())
    except BaseException as exc:  # handed to whoever waits for the restart
        future.set_exception(exc)


BUSY_WAIT_S = 120.0
"""How long a statement waits for a server that is busy (forking for a snapshot, loading its data)."""


def _when_not_busy(call: Callable[[], T]) -> T:
    """Run ``call``, again and again while the server refuses it as busy.

    FalkorDB refuses a query with ``BUSY preparing to fork`` while the server
    forks for a snapshot or an append-only rewrite (after a bulk build, say),
    and Redis answers ``LOADING`` while it reads its data back. The statement
    was not run, so running it again is safe; any other error is raised at once.
    """
    deadline = time.monotonic() + BUSY_WAIT_S
    pause = 0.05
    while True:
        try:
            return call()
        except redis.BusyLoadingError:
            if time.monotonic() > deadline:
                raise
        except redis.ResponseError as exc:
            if not str(exc).startswith("BUSY") or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 1.0)


def _query_error(message: str, timeout_ms: int | None) -> QueryError:
    lowered = message.lower()
    if "mem consumption exceeded capacity" in lowered:
        return QueryTooLarge(
            "The query needed more memory than one query may use (store.query_memory_mb) and was stopped; "
            "the graph store carries on.",
            "Narrow it (a label, a LIMIT, a smaller range or time window), or raise RINGSIGHT_STORE__QUERY_MEMORY_MB.",
        )
    if lowered.startswith("oom") or "maxmemory" in lowered:
        return QueryTooLarge(
            "The graph store has reached its memory cap (store.max_memory_mb) and refuses to grow further.",
            "Raise RINGSIGHT_STORE__MAX_MEMORY_MB on a machine with the memory, or use Neo4j for this size.",
        )
    if "timed out" in lowered or "timeout" in lowered:
        return QueryTimeout(
            f"The query ran past its time limit of {timeout_ms} ms and was stopped.",
            "Narrow it (a label, a LIMIT, a time window) or raise RINGSIGHT_QUERY__TIMEOUT_MS.",
        )
    if "read-only" in lowered or "ro_query" in lowered:
        return QueryError(
            "The query tries to change the graph, but it was run read-only and the database refused it.",
            "Analyst queries cannot write; write queries in the library need --allow-write.",
        )
    if "unique constraint" in lowered or "constraint violation" in lowered:
        return ConstraintViolation(f"The graph store refused a duplicate key: {message}")
    return QueryError(f"The graph store rejected the query: {message}")


def _convert(value: Any) -> Any:
    """Turn FalkorDB client objects into RingSight's plain records."""
    if isinstance(value, FNode):
        return Node(str(value.id), tuple(value.labels or ()), dict(value.properties or {}))
    if isinstance(value, FEdge):
        return Relationship(
            str(value.id),
            value.relation,
            str(_node_id(value.src_node)),
            str(_node_id(value.dest_node)),
            dict(value.properties or {}),
        )
    if isinstance(value, FPath):
        return Path(
            tuple(_convert(n) for n in value.nodes()),
            tuple(_convert(e) for e in value.edges()),
        )
    if isinstance(value, list):
        return [_convert(v) for v in value]
    if isinstance(value, dict):
        return {k: _convert(v) for k, v in value.items()}
    return value


def _node_id(ref: Any) -> Any:
    return ref.id if isinstance(ref, FNode) else ref
