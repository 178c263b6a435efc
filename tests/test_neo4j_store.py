"""The Neo4j store: its transaction function's contract (no server needed) and every method on a real server.

The tests marked ``neo4j`` run when ``RINGSIGHT_TEST_NEO4J_URI`` names a
Neo4j 5 server (e.g. ``neo4j://neo4j:password@localhost:7687/neo4j``); the
others check, without a server, what the driver would be given.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from ringsight.config import Settings
from ringsight.errors import QueryError, QueryTimeout
from ringsight.graph import neo4j_store as ns
from ringsight.graph import open_store
from ringsight.graph.model import NODE_TYPES, QUERIED_PROPERTIES, REL_TYPES
from ringsight.graph.store import GraphStore, Node

NEO4J_URI_ENV = "RINGSIGHT_TEST_NEO4J_URI"


# --- the transaction function, without a server -------------------------------------------


class _Result:
    """What ``tx.run`` returns, reduced to what :func:`collect` reads."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    def keys(self) -> list[str]:
        return list(self.rows[0]) if self.rows else []

    def __iter__(self) -> Iterator[Any]:
        return iter(type("R", (), {"values": lambda _s, r=r: list(r.values())})() for r in self.rows)

    def consume(self) -> Any:
        return type("Summary", (), {"counters": type("C", (), {"nodes_created": 2})()})()


class _RecordingTx:
    """A transaction that records what ``run`` received."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.calls: list[tuple[Any, Any]] = []
        self.rows = rows

    def run(self, query: Any, parameters: Any = None, **kw: Any) -> _Result:
        self.calls.append((query, parameters))
        return _Result(self.rows)


def test_the_transaction_function_passes_cypher_text_and_parameters_to_tx_run() -> None:
    tx = _RecordingTx([{"n": 1, "name": "张三"}, {"n": 2, "name": "李四"}, {"n": 3, "name": "王五"}])
    result = ns.collect(tx, "MATCH (n) RETURN n", {"x": 1}, 2)  # type: ignore[arg-type]
    assert tx.calls == [("MATCH (n) RETURN n", {"x": 1})]
    assert type(tx.calls[0][0]) is str  # never a neo4j.Query, which driver 6 refuses inside a transaction
    assert result.columns == ["n", "name"]
    assert result.rows == [[1, "张三"], [2, "李四"]] and result.truncated
    assert result.stats == {"nodes_created": 2}


def test_the_timeout_travels_on_the_transaction_function_in_seconds() -> None:
    work = ns.transaction_work(1500)
    assert work.timeout == 1.5  # type: ignore[attr-defined]
    tx = _RecordingTx([])
    work(tx, "RETURN 1", {}, None)
    assert tx.calls == [("RETURN 1", {})]
    assert ns.transaction_work(None) is ns.collect
    assert ns.transaction_work(0) is ns.collect


def test_no_driver_query_object_is_built_anywhere() -> None:
    """``neo4j.Query`` only works with session.run; every query here goes through managed transactions."""
    import ringsight

    root = os.path.dirname(ringsight.__file__)
    offenders = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith(".py"):
                with open(os.path.join(folder, name), encoding="utf-8") as handle:
                    text = handle.read()
                if "from neo4j import" in text and ("Query(" in text or " Query," in text or "Query\n" in text):
                    offenders.append(name)
    assert offenders == []


def _run_python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True, timeout=60
    )


NOTIFY = """
    import logging, sys
    from ringsight.graph.neo4j_store import route_notifications
    route_notifications()
    if sys.argv[1:] == ["verbose"]:
        logging.getLogger("ringsight").setLevel(logging.INFO)
        logging.getLogger("ringsight").addHandler(logging.StreamHandler(sys.stdout))
    logging.getLogger("neo4j.notifications").warning(
        "Received notification from DBMS server: <GqlStatusObject gql_status='01N51' unknown type SANCTIONED>"
    )
"""


def test_server_notifications_never_print_raw() -> None:
    quiet = _run_python(NOTIFY)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == "" and quiet.stdout == ""


def test_server_notifications_reach_the_verbose_log() -> None:
    verbose = _run_python(NOTIFY, "verbose")
    assert verbose.returncode == 0, verbose.stderr
    assert "Neo4j notification" in verbose.stdout and "SANCTIONED" in verbose.stdout
    assert verbose.stderr == ""


def test_without_routing_the_driver_would_print_raw() -> None:
    """The way around: the driver's logger alone falls through to Python's last-resort handler."""
    raw = _run_python(
        """
        import logging
        logging.getLogger("neo4j.notifications").warning("Received notification from DBMS server: x")
        """
    )
    assert "Received notification from DBMS server" in raw.stderr


def test_clear_uses_the_variable_scope_clause() -> None:
    import inspect

    assert "CALL (n) {" in ns.CLEAR and "WITH n" not in ns.CLEAR
    assert "session.run(CLEAR)" in inspect.getsource(ns.Neo4jStore.clear)  # IN TRANSACTIONS needs auto-commit


def test_the_schema_declares_every_relationship_type_and_queried_property() -> None:
    assert {"SANCTIONED", "HAS_MEMBER", "FOUND"} <= {r.type for r in REL_TYPES}
    assert {"from_ts", "until_ts", "run_id", "role", "weight"} <= set(QUERIED_PROPERTIES)


# --- every method on a real server ---------------------------------------------------------


@pytest.fixture
def neo4j(data_dir: Any) -> Iterator[GraphStore]:
    uri = os.environ.get(NEO4J_URI_ENV)
    if not uri:
        pytest.skip(f"no Neo4j configured for tests: set {NEO4J_URI_ENV}")
    store = open_store(Settings(graph=uri, data_dir=data_dir, graph_name=f"t_{uuid.uuid4().hex[:8]}"))
    store.clear()
    store.ensure_schema()
    yield store
    store.clear()
    store.close()


SLOW = "UNWIND range(1, 100000000) AS i WITH i WHERE i % 7 = 3 RETURN count(i)"


@pytest.mark.neo4j
def test_read_with_a_timeout_returns_rows(neo4j: GraphStore) -> None:
    neo4j.write("CREATE (:Card {card_id: $id, card_kind: '社保卡'})", {"id": "C1"}, timeout_ms=5000)
    result = neo4j.read("MATCH (c:Card) RETURN c, c.card_kind AS kind", timeout_ms=5000, row_cap=10)
    node = result.rows[0][0]
    assert isinstance(node, Node) and node.properties["card_id"] == "C1" and result.rows[0][1] == "社保卡"


@pytest.mark.neo4j
def test_read_past_its_timeout_is_stopped_by_the_server(neo4j: GraphStore) -> None:
    with pytest.raises(QueryTimeout):
        neo4j.read(SLOW, timeout_ms=200)


@pytest.mark.neo4j
def test_write_past_its_timeout_is_stopped_and_leaves_nothing(neo4j: GraphStore) -> None:
    with pytest.raises(QueryTimeout):
        neo4j.write("CREATE (:Card {card_id: 'T'}) WITH 1 AS x " + SLOW, timeout_ms=200)
    assert neo4j.count_nodes("Card") == 0


@pytest.mark.neo4j
def test_default_timeout_applies_when_none_is_given(neo4j: GraphStore) -> None:
    neo4j.default_timeout_ms = 200  # type: ignore[attr-defined]
    with pytest.raises(QueryTimeout):
        neo4j.read(SLOW)


@pytest.mark.neo4j
def test_write_reports_counters_and_read_refuses_writes(neo4j: GraphStore) -> None:
    stats = neo4j.write("CREATE (:Phone {number: '13800000000'})", timeout_ms=5000).stats
    assert stats.get("nodes_created") == 1
    with pytest.raises(QueryError):
        neo4j.read("CREATE (:Phone {number: 'x'})", timeout_ms=5000)


@pytest.mark.neo4j
def test_write_rows_counts_and_relationship_counts(neo4j: GraphStore) -> None:
    rows = [{"key": f"P{i}"} for i in range(25)]
    sent = neo4j.write_rows("UNWIND $rows AS row MERGE (:Patient {pid: row.key})", rows, batch_size=10)
    neo4j.write("MATCH (p:Patient) MERGE (p)-[:HAS_CARD]->(:Card {card_id: 'K' + p.pid})")
    assert sent == 25 and neo4j.count_nodes("Patient") == 25
    assert neo4j.count_relationships("HAS_CARD") == 25 and neo4j.count_relationships() == 25


@pytest.mark.neo4j
def test_a_duplicate_create_is_a_constraint_violation(neo4j: GraphStore) -> None:
    neo4j.write("CREATE (:Claim {claim_id: 'X1'})")
    with pytest.raises(ns.ConstraintViolation):
        neo4j.write("CREATE (:Claim {claim_id: 'X1'})")


@pytest.mark.neo4j
def test_schema_is_idempotent_and_declares_tokens(neo4j: GraphStore) -> None:
    assert neo4j.ensure_schema() == []
    names = set(neo4j.read("SHOW CONSTRAINTS YIELD name RETURN name").column("name"))
    assert {f"{nt.label.lower()}_{nt.key}_unique" for nt in NODE_TYPES} <= names
    props = set(neo4j.read("CALL db.propertyKeys() YIELD propertyKey RETURN propertyKey").column("propertyKey"))
    assert set(QUERIED_PROPERTIES) <= props


@pytest.mark.neo4j
def test_detection_queries_on_a_fresh_graph_raise_no_notification(neo4j: GraphStore) -> None:
    """The names detection asks about exist on an empty database, so the server has nothing to warn about."""
    result = neo4j.driver.execute_query(  # type: ignore[attr-defined]
        "MATCH (s:Sanction)-[:SANCTIONED]->(e) RETURN s.from_ts, s.until_ts, s.kind",
        database_=neo4j.database,  # type: ignore[attr-defined]
    )
    warnings = [s for s in result.summary.gql_status_objects if s.is_notification and s.severity == "WARNING"]
    assert warnings == [], [w.status_description for w in warnings]


@pytest.mark.neo4j
def test_clear_deletes_everything_in_batches(neo4j: GraphStore) -> None:
    neo4j.write("UNWIND range(1, 25000) AS i CREATE (:Phone {number: toString(i)})")
    neo4j.clear()
    assert neo4j.count_nodes() == 0


@pytest.mark.neo4j
def test_describe_has_no_password_and_close_releases(neo4j: GraphStore) -> None:
    assert "Neo4j" in neo4j.describe() and "@" not in neo4j.describe()


def test_parameters_are_packed_by_the_rust_extension() -> None:
    """Pure-Python packing took 145 µs per claim row (145 s per million claims); neo4j-rust-ext about 6 µs."""
    from neo4j._codec.packstream import v1

    assert v1._rust_pack is not None, "neo4j-rust-ext is not installed"


def test_cli_verbose_shows_notifications_on_stderr() -> None:
    done = _run_python(
        """
        import logging
        from ringsight.cli import _log_verbosely
        from ringsight.graph.neo4j_store import route_notifications
        route_notifications()
        _log_verbosely()
        logging.getLogger("neo4j.notifications").warning("Received notification from DBMS server: SANCTIONED")
        """
    )
    assert done.returncode == 0, done.stderr
    assert "Neo4j notification" in done.stderr and "SANCTIONED" in done.stderr and done.stdout == ""


def test_cli_accepts_verbose() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ringsight", "--verbose", "store", "model"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "SANCTIONED" in done.stdout
