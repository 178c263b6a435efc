"""Neo4j 5 store through the official driver.

Managed transactions (``execute_read`` / ``execute_write``) retry transient
errors; reads run in a session whose access mode is READ, so the server
refuses a write inside them. Constraints and indexes are created with
``IF NOT EXISTS`` and are therefore idempotent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import neo4j
from neo4j import READ_ACCESS, WRITE_ACCESS, GraphDatabase, Query
from neo4j import exceptions as nex
from neo4j import graph as ng

from ringsight.config import redact_url
from ringsight.errors import QueryError, QueryTimeout, StoreAuthError, StoreUnavailable
from ringsight.graph.model import NODE_TYPES
from ringsight.graph.store import GraphStore, Node, Path, QueryResult, Relationship


class Neo4jStore(GraphStore):
    """One database on a Neo4j 5 server (or cluster / Aura)."""

    backend = "neo4j"

    def __init__(
        self,
        uri: str,
        *,
        user: str | None,
        password: str | None,
        database: str = "neo4j",
        default_timeout_ms: int | None = None,
    ) -> None:
        self.uri = uri
        self.database = database
        self.default_timeout_ms = default_timeout_ms
        auth = (user, password or "") if user else None
        self.driver = GraphDatabase.driver(uri, auth=auth)
        try:
            self.driver.verify_connectivity()
        except nex.AuthError as exc:
            self.driver.close()
            raise StoreAuthError(
                f"Neo4j at {redact_url(uri)} refused the user name or password for user '{user}'.",
                "Fix the credentials in RINGSIGHT_GRAPH (neo4j://USER:PASSWORD@host:7687/db).",
            ) from exc
        except (nex.ServiceUnavailable, OSError, ValueError) as exc:
            self.driver.close()
            raise StoreUnavailable(
                f"Cannot reach Neo4j at {redact_url(uri)} ({exc}).",
                "Start it (`docker compose up -d neo4j`), check host and port, or unset "
                "RINGSIGHT_GRAPH to use the embedded store.",
            ) from exc

    def describe(self) -> str:
        return f"Neo4j {redact_url(self.uri)} database '{self.database}'"

    # -- queries ----------------------------------------------------------------
    def read(
        self,
        cypher: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout_ms: int | None = None,
        row_cap: int | None = None,
    ) -> QueryResult:
        return self._run(READ_ACCESS, cypher, params, timeout_ms, row_cap)

    def write(
        self,
        cypher: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout_ms: int | None = None,
    ) -> QueryResult:
        return self._run(WRITE_ACCESS, cypher, params, timeout_ms, None)

    def _run(
        self,
        mode: str,
        cypher: str,
        params: Mapping[str, Any] | None,
        timeout_ms: int | None,
        row_cap: int | None,
    ) -> QueryResult:
        timeout = timeout_ms if timeout_ms is not None else self.default_timeout_ms
        query = Query(cypher, timeout=timeout / 1000 if timeout else None)

        def work(tx: neo4j.ManagedTransaction) -> QueryResult:
            result = tx.run(query, dict(params or {}))
            columns = list(result.keys())
            rows: list[list[Any]] = []
            truncated = False
            for record in result:
                if row_cap is not None and len(rows) >= row_cap:
                    truncated = True
                    break
                rows.append([_convert(v) for v in record.values()])
            summary = result.consume()
            return QueryResult(columns, rows, truncated, _counters(summary.counters))

        try:
            with self.driver.session(database=self.database, default_access_mode=mode) as session:
                if mode == READ_ACCESS:
                    return session.execute_read(work)
                return session.execute_write(work)
        except nex.ClientError as exc:
            raise _client_error(exc, timeout) from exc
        except nex.ServiceUnavailable as exc:
            raise StoreUnavailable(f"Lost the connection to Neo4j at {redact_url(self.uri)} ({exc}).") from exc

    # -- schema -----------------------------------------------------------------
    def ensure_schema(self) -> list[str]:
        existing = set(self.read("SHOW CONSTRAINTS YIELD name RETURN name").column("name"))
        existing |= set(self.read("SHOW INDEXES YIELD name RETURN name").column("name"))
        created: list[str] = []
        for nt in NODE_TYPES:
            name = f"{nt.label.lower()}_{nt.key}_unique"
            if name not in existing:
                self.write(f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{nt.label}) REQUIRE n.{nt.key} IS UNIQUE")
                created.append(f"unique {nt.label}.{nt.key}")
            for prop in nt.indexed:
                name = f"{nt.label.lower()}_{prop}"
                if name not in existing:
                    self.write(f"CREATE INDEX {name} IF NOT EXISTS FOR (n:{nt.label}) ON (n.{prop})")
                    created.append(f"index {nt.label}.{prop}")
        return created

    def clear(self) -> None:
        with self.driver.session(database=self.database) as session:
            session.run("MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()

    def close(self) -> None:
        self.driver.close()


def _client_error(exc: nex.ClientError, timeout_ms: int | None) -> QueryError:
    code = exc.code or ""
    if "TransactionTimedOut" in code or "Timeout" in code:
        return QueryTimeout(
            f"The query ran past its time limit of {timeout_ms} ms and was stopped.",
            "Narrow it (a label, a LIMIT, a time window) or raise RINGSIGHT_QUERY__TIMEOUT_MS.",
        )
    if "ForbiddenOnReadOnlyDatabase" in code or "AccessMode" in code or "WriteOnReadOnlyAccessDatabase" in code:
        return QueryError(
            "The query tries to change the graph, but it was run read-only and the database refused it.",
            "Analyst queries cannot write; write queries in the library need --allow-write.",
        )
    return QueryError(f"Neo4j rejected the query: {exc.message}")


def _counters(counters: Any) -> dict[str, int]:
    names = ("nodes_created", "nodes_deleted", "relationships_created", "relationships_deleted", "properties_set")
    out = {n: int(getattr(counters, n, 0)) for n in names if getattr(counters, n, 0)}
    if getattr(counters, "indexes_added", 0):
        out["indexes_created"] = int(counters.indexes_added)
    return out


def _convert(value: Any) -> Any:
    """Turn driver objects into RingSight's plain records and values."""
    if isinstance(value, ng.Node):
        return Node(value.element_id, tuple(value.labels), {k: _convert(v) for k, v in value.items()})
    if isinstance(value, ng.Relationship):
        return Relationship(
            value.element_id,
            value.type,
            value.start_node.element_id if value.start_node is not None else "",
            value.end_node.element_id if value.end_node is not None else "",
            {k: _convert(v) for k, v in value.items()},
        )
    if isinstance(value, ng.Path):
        return Path(tuple(_convert(n) for n in value.nodes), tuple(_convert(r) for r in value.relationships))
    if isinstance(value, list):
        return [_convert(v) for v in value]
    if isinstance(value, dict):
        return {k: _convert(v) for k, v in value.items()}
    if hasattr(value, "iso_format"):  # neo4j.time types
        return value.iso_format()
    return value
