"""No query takes the embedded store down: memory caps, a timeout that stops every query, restart after death.

These tests run their own embedded server (in a temporary directory), since
they set small limits and kill it; the limits are tiny, so nothing here can
exhaust the machine.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from ringsight.config import Settings, StoreSettings
from ringsight.cypher import QueryLibrary, run_adhoc, run_named
from ringsight.cypher.guard import QueryRefused
from ringsight.errors import QueryTimeout, QueryTooLarge, StoreUnavailable
from ringsight.graph import embedded_server, open_store
from ringsight.graph.embedded import EmbeddedServer
from ringsight.graph.falkordb_store import FalkorDBStore

SMALL = StoreSettings(max_memory_mb=512, query_memory_mb=10, timeout_max_ms=60_000)


@pytest.fixture(scope="module")
def own_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("own-store")
    yield path
    EmbeddedServer(path).stop()


def _settings(own_dir: Path, store: StoreSettings = SMALL, **query: int) -> Settings:
    settings = Settings(graph="embedded", data_dir=own_dir, graph_name=f"h_{uuid.uuid4().hex[:10]}", store=store)
    if query:
        settings = settings.model_copy(update={"query": settings.query.model_copy(update=query)})
    return settings


@pytest.fixture
def small(own_dir: Path) -> Iterator[tuple[FalkorDBStore, Settings]]:
    settings = _settings(own_dir)
    store = open_store(settings)
    assert isinstance(store, FalkorDBStore)
    store.ensure_schema()
    yield store, settings
    store.clear()
    store.close()


def _config(store: FalkorDBStore) -> dict[str, int]:
    client = redis.Redis(unix_socket_path=str(store.unix_socket))
    try:
        graph = {k.decode(): v for k, v in client.execute_command("GRAPH.CONFIG", "GET", "*")}
        return {
            "maxmemory": int(client.config_get("maxmemory")["maxmemory"]),
            **{k: int(graph[k]) for k in ("QUERY_MEM_CAPACITY", "TIMEOUT_MAX", "TIMEOUT_DEFAULT")},
        }
    finally:
        client.close()


def test_limits_come_from_the_settings_and_reach_a_running_server(small, own_dir: Path) -> None:  # type: ignore[no-untyped-def]
    store, _ = small
    assert _config(store) == {
        "maxmemory": 512 * 2**20,
        "QUERY_MEM_CAPACITY": 10 * 2**20,
        "TIMEOUT_MAX": 60_000,
        "TIMEOUT_DEFAULT": 60_000,
    }
    other = open_store(_settings(own_dir, StoreSettings(max_memory_mb=600, query_memory_mb=20, timeout_max_ms=5_000)))
    try:
        assert _config(other) == {
            "maxmemory": 600 * 2**20,
            "QUERY_MEM_CAPACITY": 20 * 2**20,
            "TIMEOUT_MAX": 5_000,
            "TIMEOUT_DEFAULT": 5_000,
        }
    finally:
        other.close()
        open_store(_settings(own_dir)).close()  # back to SMALL


def test_default_caps_are_sized_from_the_machine() -> None:
    total_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    assert StoreSettings().server_memory_mb() == pytest.approx(total_mb * 0.6, rel=0.01)
    assert StoreSettings().query_memory_mb == 2048 and StoreSettings(max_memory_mb=999).server_memory_mb() == 999


def test_a_query_above_the_memory_cap_is_refused_and_the_store_stays_up(small) -> None:  # type: ignore[no-untyped-def]
    store, settings = small
    pid = store.server.pid()
    # 200k integers fit in 10 MB; 400k do not (FalkorDB keeps the whole range() list)
    assert run_adhoc(store, "UNWIND range(1, 200000) AS x RETURN count(x)", None, settings=settings).scalar() == 200_000
    with pytest.raises(QueryTooLarge, match="more memory than one query may use"):
        run_adhoc(store, "UNWIND range(1, 400000) AS x RETURN count(x)", None, settings=settings)
    with pytest.raises(QueryTooLarge):
        run_adhoc(store, "UNWIND range(1, 300000) AS x WITH collect(x) AS c RETURN size(c)", None, settings=settings)
    assert store.read("RETURN 1").scalar() == 1 and store.server.pid() == pid


def test_timeout_max_stops_a_query_run_without_a_timeout(own_dir: Path) -> None:
    settings = _settings(own_dir, SMALL.model_copy(update={"timeout_max_ms": 1_000}))
    store = open_store(settings)
    store.ensure_schema()
    try:
        t0 = time.monotonic()
        with pytest.raises(QueryTimeout):
            store.read("UNWIND range(1, 20000) AS a UNWIND range(1, 20000) AS b RETURN count(*)")  # 400M rows
        assert time.monotonic() - t0 < 5
        # a per-query timeout above the server's maximum is lowered to it, not refused
        with pytest.raises(QueryTimeout):
            store.read("UNWIND range(1, 20000) AS a UNWIND range(1, 20000) AS b RETURN count(*)", timeout_ms=90_000)
    finally:
        store.clear()
        store.close()
        open_store(_settings(own_dir)).close()


def _layered_graph(store: FalkorDBStore, width: int, tag: str) -> None:
    """Card <tag>-SRC … 7 layers of `width` patients / phones, each joined to the next … Card <tag>-DST: 8 steps.

    There are width**7 shortest paths (2·10^10 at width 30): allShortestPaths never finishes
    enumerating them, and FalkorDB ignores its time limit meanwhile. Card <tag>-FAR has no link at all.
    """
    store.write(
        "CREATE (:Card {card_id: $t + '-SRC'}), (:Card {card_id: $t + '-DST'}), (:Card {card_id: $t + '-FAR'})",
        {"t": tag},
    )
    for layer in range(1, 8):
        label, key = ("Patient", "pid") if layer % 2 else ("Phone", "number")
        store.write(
            f"UNWIND range(1, $w) AS i CREATE (:{label} {{{key}: $p + toString(i)}})",
            {"w": width, "p": f"{tag}{layer}-"},
        )
    for card, layer in (("SRC", 1), ("DST", 7)):
        store.write(
            "MATCH (c:Card {card_id: $c}), (p:Patient) WHERE p.pid STARTS WITH $p CREATE (p)-[:HAS_CARD]->(c)",
            {"c": f"{tag}-{card}", "p": f"{tag}{layer}-"},
        )
    for patients, phones in ((1, 2), (3, 2), (3, 4), (5, 4), (5, 6), (7, 6)):
        store.write(
            "MATCH (p:Patient), (f:Phone) WHERE p.pid STARTS WITH $p AND f.number STARTS WITH $f "
            "CREATE (p)-[:HAS_PHONE]->(f)",
            {"p": f"{tag}{patients}-", "f": f"{tag}{phones}-"},
        )


def _named_within(seconds: float, *args, **kwargs):  # type: ignore[no-untyped-def]
    """run_named in a thread: its result (or error) and time taken; fails when still running after ``seconds``."""
    out: dict = {}

    def work() -> None:
        t0 = time.monotonic()
        try:
            out["result"] = run_named(*args, **kwargs)
        except Exception as exc:  # handed to the test
            out["error"] = exc
        out["seconds"] = time.monotonic() - t0

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    return out


def test_shortest_paths_stops_at_the_timeout(small) -> None:  # type: ignore[no-untyped-def]
    store, settings = small
    settings = settings.model_copy(update={"query": settings.query.model_copy(update={"timeout_ms": 3_000})})
    _layered_graph(store, 3, "S")
    _layered_graph(store, 30, "W")
    library = QueryLibrary.load(settings)
    params = {"from_label": "Card", "to_label": "Card", "max_hops": 8}
    # a narrow graph: the shortest paths (3**7 of them, 8 steps) come back, max_paths of them
    few = _named_within(20, store, library, "shortest_paths", {**params, "from_key": "S-SRC", "to_key": "S-DST"},
                        settings=settings)  # fmt: skip
    assert "error" not in few, few.get("error")
    rows = few["result"].records()
    assert len(rows) == 20 and {r["hops"] for r in rows} == {8}
    assert rows[0]["route"][0] == "Card S-SRC" and rows[0]["route"][-1] == "Card S-DST"
    # a wide graph (2·10^10 shortest paths, 10^9 shorter walks to try first), and a card nothing reaches:
    # each search stops at the 3 s limit, with the server free again at once
    for far in ("W-DST", "W-FAR", "S-FAR"):
        done = _named_within(20, store, library, "shortest_paths", {**params, "from_key": "W-SRC", "to_key": far},
                             settings=settings)  # fmt: skip
        assert done["seconds"] < 3 + 3, (far, done)
        assert isinstance(done.get("error"), QueryTimeout) or done["result"].rows == [] or far == "W-DST", done
        t0 = time.monotonic()
        assert store.read("RETURN 1").scalar() == 1 and time.monotonic() - t0 < 2, far  # nothing left running
    # an analyst's own allShortestPaths is refused on this store
    with pytest.raises(QueryRefused, match="allShortestPaths"):
        run_adhoc(
            store,
            "MATCH (a:Card {card_id: 'W-SRC'}), (b:Card {card_id: 'W-DST'}) WITH a, b "
            "MATCH p = allShortestPaths((a)-[*..8]-(b)) RETURN p LIMIT 5",
            None,
            settings=settings,
        )


def _kill(server: EmbeddedServer) -> None:
    pid = server.pid()
    assert pid
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and server.ping():
        time.sleep(0.02)


def test_a_killed_server_is_back_for_the_next_read(small) -> None:  # type: ignore[no-untyped-def]
    store, settings = small
    store.write("CREATE (:Facility {code: 'F-KEEP'})")
    store.checkpoint()
    old = store.server.pid()
    _kill(store.server)
    t0 = time.monotonic()
    assert store.count_nodes("Facility") == 1  # restarted and read again, transparently
    assert time.monotonic() - t0 < 10 and store.server.pid() != old
    # a write is not repeated behind the caller's back: it is told, and the next one works
    _kill(store.server)
    with pytest.raises(StoreUnavailable, match="restarted"):
        store.write("CREATE (:Facility {code: 'F-NEW'})")
    store.write("MERGE (:Facility {code: 'F-NEW'})")
    assert store.count_nodes("Facility") == 2
    assert embedded_server(settings).status().running


def test_the_workbench_says_store_restarting_then_recovers(own_dir: Path) -> None:
    from ui_harness import PASSWORD, make_accounts

    from ringsight.ui.app import create_app
    from ringsight.ui.store_down import RESTARTING

    settings = _settings(own_dir, SMALL.model_copy(update={"restart_wait_s": 0}))
    store = open_store(settings)
    store.ensure_schema()
    users = make_accounts(store, "investigator")
    app = create_app(settings, store)
    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = "127.0.0.9"
    reply = client.post("/login", data={"username": users["investigator"], "password": PASSWORD, "next": "/"})
    assert reply.status_code == 302
    payload = {
        "output": next(k for k in app.callback_map if "query-grid.rowData" in k),
        "outputs": [
            {"id": i, "property": p}
            for i, p in (
                ("query-grid", "rowData"),
                ("query-grid", "columnDefs"),
                ("query-summary", "children"),
                ("query-nodes", "data"),
                ("console-show", "disabled"),
                ("console-message", "children"),
            )
        ],
        "inputs": [
            {"id": "query-run", "property": "n_clicks", "value": None},
            {"id": "adhoc-run", "property": "n_clicks", "value": 1},
        ],
        "state": [
            {"id": "query-select", "property": "value", "value": None},
            [],
            [],
            {"id": "adhoc-text", "property": "value", "value": "RETURN 41 + 1 AS answer"},
            {"id": "lang", "property": "data", "value": "zh"},
        ],
        "changedPropIds": ["adhoc-run.n_clicks"],
    }
    try:
        assert client.post("/_dash-update-component", json=payload).status_code == 200
        _kill(store.server)
        t0 = time.monotonic()
        reply = client.post("/_dash-update-component", json=payload)
        assert reply.status_code == 503, reply.data[:300]
        assert reply.get_json()["error"] == RESTARTING and reply.headers["Retry-After"]
        page = client.get("/")
        assert page.status_code in (200, 503)  # the restart may already be done
        if page.status_code == 503:
            assert "图库正在重启" in page.get_data(as_text=True)
        while time.monotonic() - t0 < 10:
            reply = client.post("/_dash-update-component", json=payload)
            if reply.status_code == 200:
                break
            assert reply.status_code == 503
            time.sleep(0.2)
        assert reply.status_code == 200 and "42" in reply.get_data(as_text=True)
    finally:
        store.clear()
        store.close()


@pytest.mark.neo4j
def test_shortest_paths_stops_at_the_timeout_on_any_store(any_store, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    """The same bounded search on the embedded store and on Neo4j (when a Neo4j URI is configured for tests)."""
    settings = settings.model_copy(update={"query": settings.query.model_copy(update={"timeout_ms": 3_000})})
    _layered_graph(any_store, 3, "S")
    _layered_graph(any_store, 30, "W")
    library = QueryLibrary.load(settings)
    params = {"from_label": "Card", "to_label": "Card", "max_hops": 8}
    few = _named_within(30, any_store, library, "shortest_paths", {**params, "from_key": "S-SRC", "to_key": "S-DST"},
                        settings=settings)  # fmt: skip
    assert "error" not in few, few.get("error")
    assert len(few["result"].rows) == 20 and {r["hops"] for r in few["result"].records()} == {8}
    wide = _named_within(30, any_store, library, "shortest_paths", {**params, "from_key": "W-SRC", "to_key": "W-FAR"},
                         settings=settings)  # fmt: skip
    assert wide["seconds"] < 3 + 3 and (isinstance(wide.get("error"), QueryTimeout) or wide["result"].rows == [])
