"""Shared fixtures: a real embedded FalkorDB server per test session, a fresh graph per test.

Nothing here mocks a store. The session starts the embedded server in a
temporary directory (and points ``RINGSIGHT_DATA_DIR`` there, so no test ever
touches a user's data); each test that asks for ``store`` gets its own graph
name and the graph is deleted afterwards. ``any_store`` runs a test on the
embedded store and, when ``RINGSIGHT_TEST_NEO4J_URI`` is set, on Neo4j too.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ringsight.config import Settings, get_settings
from ringsight.graph import open_store
from ringsight.graph.embedded import EmbeddedServer
from ringsight.graph.store import GraphStore

NEO4J_URI_ENV = "RINGSIGHT_TEST_NEO4J_URI"
TEST_ID_HASH_KEY = "test-pseudonym-key-0123456789abcdef"
# The default id_hash_key is refused outside the demo; tests (and the CLIs they start) use their own key.
os.environ.setdefault("RINGSIGHT_ID_HASH_KEY", TEST_ID_HASH_KEY)


def require_tool(name: str, package: str) -> str:
    """Path of a system tool; skip without it locally, fail under CI (where .ci/run installs it)."""
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} not found (Debian package {package}; .ci/run installs it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The session's RingSight data directory; also exported for CLI subprocesses."""
    path = tmp_path_factory.mktemp("ringsight-data")
    old = os.environ.get("RINGSIGHT_DATA_DIR")
    os.environ["RINGSIGHT_DATA_DIR"] = str(path)
    os.environ.pop("RINGSIGHT_GRAPH", None)
    get_settings.cache_clear()
    yield path
    if old is None:
        os.environ.pop("RINGSIGHT_DATA_DIR", None)
    else:
        os.environ["RINGSIGHT_DATA_DIR"] = old
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def embedded_server(data_dir: Path) -> Iterator[EmbeddedServer]:
    """The real embedded FalkorDB server, started once per session and stopped at the end."""
    server = EmbeddedServer(data_dir)
    server.ensure_running()
    yield server
    server.stop()


@pytest.fixture
def graph_name() -> str:
    """A graph name no other test uses."""
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def settings(data_dir: Path, graph_name: str) -> Settings:
    """Settings for the embedded store and this test's own graph."""
    return Settings(graph="embedded", data_dir=data_dir, graph_name=graph_name)


@pytest.fixture
def store(embedded_server: EmbeddedServer, settings: Settings) -> Iterator[GraphStore]:
    """An empty graph on the embedded store, with the schema created, deleted afterwards."""
    graph = open_store(settings)
    graph.ensure_schema()
    yield graph
    graph.clear()
    graph.close()


@pytest.fixture(params=["falkordb", "neo4j"])
def any_store(
    request: pytest.FixtureRequest, embedded_server: EmbeddedServer, settings: Settings
) -> Iterator[GraphStore]:
    """The same test on the embedded store and (when configured) on Neo4j."""
    if request.param == "neo4j":
        uri = os.environ.get(NEO4J_URI_ENV)
        if not uri:
            pytest.skip(f"no Neo4j configured for tests: set {NEO4J_URI_ENV}=neo4j://user:pass@host:7687/neo4j")
        graph = open_store(settings.model_copy(update={"graph": uri}))
        graph.clear()
    else:
        graph = open_store(settings)
    graph.ensure_schema()
    yield graph
    graph.clear()
    graph.close()


# --- the application database on SQLite and on a real PostgreSQL ----------------------------
@pytest.fixture(scope="session")
def pg_server():  # type: ignore[no-untyped-def]
    """A PostgreSQL 15 cluster for the session (skipped locally, failing under CI, when not installed)."""
    from pg_harness import PgServer, pg_available

    if not pg_available():
        message = "PostgreSQL 15 binaries not found (Debian package postgresql; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    server = PgServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def appdb_settings(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Settings]:
    """This test's settings with the app database on SQLite (a file per graph) or on a fresh PostgreSQL database."""
    from ringsight.appdb import close_all

    if request.param == "sqlite":
        yield settings
        close_all()
        return
    server = request.getfixturevalue("pg_server")
    name = server.new_database()
    yield settings.model_copy(update={"appdb": settings.appdb.model_copy(update={"url": server.url(name)})})
    close_all()
    server.drop_database(name)


@pytest.fixture
def app_store(embedded_server: EmbeddedServer, appdb_settings: Settings) -> Iterator[GraphStore]:
    """A fresh graph whose application database is :func:`appdb_settings`' (SQLite or PostgreSQL)."""
    graph = open_store(appdb_settings)
    graph.ensure_schema()
    yield graph
    graph.clear()
    graph.close()


@pytest.fixture(scope="session")
def spark_session():  # type: ignore[no-untyped-def]
    """A local Spark session (``local[1]``) for the session: skipped locally, failing under CI, without Java/PySpark.

    CI installs PySpark from the dev extras and Debian's Java runtime in .ci/run.
    """
    require_tool("java", "default-jre-headless")
    try:
        import pyspark  # noqa: F401
    except ImportError:
        message = "pyspark not installed (pip install -e '.[dev]')"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from ringsight.algorithms import spark
    from ringsight.config import DetectSparkSettings

    cfg = DetectSparkSettings(
        master="local[1]",
        app_name="ringsight-tests",
        conf={"spark.sql.shuffle.partitions": "2", "spark.ui.enabled": "false", "spark.driver.memory": "1g"},
    )
    session = spark.open_session(cfg)
    yield session
    session.stop()
