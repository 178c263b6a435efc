"""The graph model and the stores; :func:`open_store` picks one from settings."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from ringsight.config import Settings, get_settings
from ringsight.errors import RingSightError
from ringsight.graph.store import GraphStore, Node, QueryResult, Relationship
from ringsight.graph.store import Path as GraphPath

__all__ = ["GraphPath", "GraphStore", "Node", "QueryResult", "Relationship", "embedded_server", "open_store"]

_NEO4J_SCHEMES = {"neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc"}


def embedded_server(settings: Settings | None = None):  # type: ignore[no-untyped-def]
    """The embedded FalkorDB server for the configured data directory (not started)."""
    from ringsight.graph.embedded import EmbeddedServer

    settings = settings or get_settings()
    return EmbeddedServer(Path(settings.data_dir))


def open_store(settings: Settings | None = None, *, graph_name: str | None = None) -> GraphStore:
    """Open the store the ``graph`` setting names, starting the embedded server if needed.

    The store remembers its settings (``store.settings``) so the application
    database that goes with the graph (``ringsight.appdb.for_store``) can be found from it.
    """
    settings = settings or get_settings()
    store = _open(settings, graph_name)
    store.settings = settings.model_copy(update={"graph_name": graph_name or settings.graph_name})  # type: ignore[attr-defined]
    return store


def _open(settings: Settings, graph_name: str | None) -> GraphStore:
    url = settings.graph.strip()
    name = graph_name or settings.graph_name
    if url in ("", "embedded"):
        from ringsight.graph.falkordb_store import FalkorDBStore

        socket = embedded_server(settings).ensure_running()
        return FalkorDBStore(graph_name=name, unix_socket=socket)
    parts = urlsplit(url)
    if parts.scheme in _NEO4J_SCHEMES:
        from ringsight.graph.neo4j_store import Neo4jStore

        host = parts.hostname or "localhost"
        netloc = f"{host}:{parts.port}" if parts.port else host
        database = parts.path.strip("/") or "neo4j"
        return Neo4jStore(
            f"{parts.scheme}://{netloc}",
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            database=database,
        )
    if parts.scheme == "falkordb":
        from ringsight.graph.falkordb_store import FalkorDBStore

        return FalkorDBStore(
            graph_name=parts.path.strip("/") or name,
            host=parts.hostname or "localhost",
            port=parts.port or 6379,
            password=unquote(parts.password) if parts.password else None,
        )
    raise RingSightError(
        f"The graph setting '{settings.graph_display}' names no store RingSight knows.",
        "Use 'embedded', neo4j://user:pass@host:7687/db, bolt://…, or falkordb://host:port/graph.",
    )
