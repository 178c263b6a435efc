"""Neo4j 5 store through the official driver.

Managed transactions (``execute_read`` / ``execute_write``) retry transient
errors; reads run in a session whose access mode is READ, so the server
refuses a write inside them. Constraints and indexes are created with
``IF NOT EXISTS`` and are therefore idempotent.

The transaction function is the module-level :func:`collect`: it receives the
Cypher *text* and its parameters. Driver 6 refuses a ``neo4j.Query`` object
inside a managed transaction; the per-query timeout is given instead with the
``neo4j.unit_of_work(timeout=…)`` decorator (:func:`transaction_work`), which
``execute_read`` / ``execute_write`` read from the function.

Notifications the server sends (unknown label, deprecated syntax, …) are
logged by the driver on ``neo4j.notifications``; :func:`route_notifications`
sends them to RingSight's own log at INFO, so they appear with ``--verbose``
and never as raw lines on the terminal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import neo4j
from neo4j import READ_ACCESS, WRITE_ACCESS, GraphDatabase
from neo4j import exceptions as nex
from neo4j import graph as ng

from ringsight.config import redact_url
from ringsight.errors import QueryError, QueryTimeout, StoreAuthError, StoreUnavailable
from ringsight.graph.model import NODE_TYPES, QUERIED_PROPERTIES, REL_TYPES
from ringsight.graph.store import ConstraintViolation, GraphStore, Node, Path, QueryResult, Relationship

log = logging.getLogger("ringsight.graph.neo4j")

NOTIFICATIONS_LOGGER = "neo4j.notifications"

# Statements of the store itself (the tests lint them with Neo4j's own Cypher front end).
CLEAR = "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
SHOW_SCHEMA = ("SHOW CONSTRAINTS YIELD name RETURN name", "SHOW INDEXES YIELD name RETURN name")
KNOWN_TYPES = "CALL db.relationshipTypes() YIELD relationshipType RETURN relationshipType"
KNOWN_PROPERTIES = "CALL db.propertyKeys() YIELD propertyKey RETURN propertyKey"
CREATE_TYPE = "CALL db.createRelationshipType($name)"
CREATE_PROPERTY = "CALL db.createProperty($name)"


def schema_statements() -> list[tuple[str, str, str]]:
    """(name, what, DDL) of every constraint and index of the model, each idempotent."""
    out = []
    for nt in NODE_TYPES:
        name = f"{nt.label.lower()}_{nt.key}_unique"
        ddl = f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{nt.label}) REQUIRE n.{nt.key} IS UNIQUE"
        out.append((name, f"unique {nt.label}.{nt.key}", ddl))
        for prop in nt.indexed:
            name = f"{nt.label.lower()}_{prop}"
            ddl = f"CREATE INDEX {name} IF NOT EXISTS FOR (n:{nt.label}) ON (n.{prop})"
            out.append((name, f"index {nt.label}.{prop}", ddl))
    return out


class _ToRingSightLog(logging.Handler):
    """Re-logs a driver notification on RingSight's logger at INFO (shown with ``--verbose``)."""

    def emit(self, record: logging.LogRecord) -> None:
        log.info("Neo4j notification: %s", record.getMessage())


def route_notifications() -> None:
    """Send the driver's notification log records to RingSight's log instead of stderr (idempotent).

    Without a handler of its own the driver's ``neo4j.notifications`` logger
    falls through to Python's last-resort handler, which prints every
    warning raw ("Received notification from DBMS server: …").
    """
    logger = logging.getLogger(NOTIFICATIONS_LOGGER)
    if not any(isinstance(h, _ToRingSightLog) for h in logger.handlers):
        logger.addHandler(_ToRingSightLog())
    logger.propagate = False


def collect(tx: neo4j.ManagedTransaction, cypher: str, params: dict[str, Any], row_cap: int | None) -> QueryResult:
    """The transaction function: run the Cypher text with its parameters and read the rows.

    ``tx.run`` gets a string, never a ``neo4j.Query`` (driver 6 refuses that
    inside a managed transaction).
    """
    result = tx.run(cypher, params)
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


def transaction_work(timeout_ms: int | None) -> Callable[..., QueryResult]:
    """:func:`collect`, carrying the server-side timeout (in seconds) when there is one."""
    if not timeout_ms:
        return collect
    return neo4j.unit_of_work(timeout=timeout_ms / 1000)(collect)


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
        route_notifications()
        auth = (user, password or "") if user else None
        # Only WARNING notifications are sent (the server skips the INFORMATION
        # ones, e.g. performance hints); they go to the log, see route_notifications.
        self.driver = GraphDatabase.driver(uri, auth=auth, notifications_min_severity="WARNING")
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
        work = transaction_work(timeout)
        try:
            with self.driver.session(database=self.database, default_access_mode=mode) as session:
                if mode == READ_ACCESS:
                    return session.execute_read(work, cypher, dict(params or {}), row_cap)
                return session.execute_write(work, cypher, dict(params or {}), row_cap)
        except nex.ClientError as exc:
            raise _client_error(exc, timeout) from exc
        except nex.ServiceUnavailable as exc:
            raise StoreUnavailable(f"Lost the connection to Neo4j at {redact_url(self.uri)} ({exc}).") from exc

    # -- schema -----------------------------------------------------------------
    def ensure_schema(self) -> list[str]:
        existing: set[str] = set()
        for show in SHOW_SCHEMA:
            existing |= set(self.read(show).column("name"))
        created: list[str] = []
        for name, what, ddl in schema_statements():
            if name not in existing:
                self.write(ddl)
                created.append(what)
        self.declare_tokens()
        return created

    def declare_tokens(self) -> None:
        """Register every relationship type and queried property name, even before any data has them.

        Neo4j warns about a type or property name it has never seen
        ("unknown relationship type SANCTIONED") whenever a query mentions
        one; detection asks about sanctions, clusters and optional claim
        properties on a graph that may not have any yet. The built-in
        procedures ``db.createRelationshipType`` / ``db.createProperty``
        register a name without creating data, and do nothing when it exists.
        """
        known_types = set(self.read(KNOWN_TYPES).column("relationshipType"))
        known_props = set(self.read(KNOWN_PROPERTIES).column("propertyKey"))
        for rel in REL_TYPES:
            if rel.type not in known_types:
                self.write(CREATE_TYPE, {"name": rel.type})
        for prop in QUERIED_PROPERTIES:
            if prop not in known_props:
                self.write(CREATE_PROPERTY, {"name": prop})

    def clear(self) -> None:
        """Delete everything in batches; ``IN TRANSACTIONS`` needs an auto-commit transaction (``session.run``)."""
        with self.driver.session(database=self.database) as session:
            session.run(CLEAR).consume()

    def close(self) -> None:
        self.driver.close()


def _client_error(exc: nex.ClientError, timeout_ms: int | None) -> QueryError:
    code = exc.code or ""
    if "TransactionTimedOut" in code or "Timeout" in code:
        return QueryTimeout(
            f"The query ran past its time limit of {timeout_ms} ms and was stopped.",
            "Narrow it (a label, a LIMIT, a time window) or raise RINGSIGHT_QUERY__TIMEOUT_MS.",
        )
    if "ConstraintValidationFailed" in code:
        return ConstraintViolation(f"Neo4j refused a duplicate key: {exc.message}")
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
