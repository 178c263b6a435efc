"""The console refuses LOAD CSV, procedures that reach files / network / the server, and unstoppable path searches.

Checked on the text as the parser sees it (case, whitespace, comments,
backticks), through ``ringsight cypher``, the library runner and the web
console's callback endpoint.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_ui_cases_http import _client, _payload, _text, web  # noqa: F401  (web is a fixture)
from typer.testing import CliRunner

from ringsight.cli import app
from ringsight.config import Settings, get_settings
from ringsight.cypher import QueryLibrary, run_adhoc, run_named
from ringsight.cypher.guard import QueryRefused, check
from ringsight.cypher.library import package_dir
from ringsight.graph.store import GraphStore

REFUSED = [
    "LOAD CSV FROM 'file:///etc/passwd' AS r RETURN r",
    "LoAd /*x*/ CsV WITH HEADERS FROM 'https://example.org/a.csv' AS r RETURN r",
    "load\n\t csv from 'file:///x' as r return r",
    "USING PERIODIC COMMIT LOAD CSV FROM 'file:///x' AS r RETURN r",
    "LOAD // sneaky\n CSV FROM 'file:///x' AS r RETURN r",
    "CALL apoc.load.json('http://169.254.169.254/latest/meta-data')",
    "CALL `apoc`.`load`.json('http://x') YIELD value RETURN value",
    "CALL `apoc.load`.jsonParams('http://x', {}, null)",
    "call APOC . Import . csv([], [], {})",
    "CALL apoc.export.csv.all('/tmp/all.csv', {})",
    "RETURN apoc.export.json.all('x', {})",
    "CALL dbms.components()",
    "CALL dbms.security.listUsers()",
    "CALL db.createLabel('X')",
    "CALL db.idx.fulltext.createNodeIndex('Patient', 'name')",
    "CALL apoc.cypher.run('CALL apoc.load.json(\"http://x\")', {})",
    "CALL algo.pageRank('Patient', 'HAS_CARD')",
    "MATCH (a:Card), (b:Card) WITH a, b LIMIT 1 RETURN shortestPath((a)-[*]-(b))",
    "MATCH p = shortestPath((a:Card)-[:HAS_CARD*2..]-(b:Card)) RETURN p",
]
ALLOWED = [
    "MATCH (n) RETURN count(n)",
    "RETURN 'LOAD CSV FROM file:///etc/passwd' AS text",
    "MATCH (n) /* CALL dbms.components() */ RETURN n.call AS call LIMIT 1",
    "CALL db.labels()",
    "CALL db.relationshipTypes() YIELD relationshipType RETURN relationshipType",
    "CALL { MATCH (n) RETURN n } RETURN count(n)",
    "MATCH (a:Card), (b:Card) WITH a, b LIMIT 1 RETURN shortestPath((a)-[*..6]-(b))",
    "MATCH (`load csv`:Card) RETURN count(`load csv`)",
]


@pytest.mark.parametrize("text", REFUSED)
def test_refused_on_both_stores(text: str) -> None:
    for backend in ("falkordb", "neo4j"):
        with pytest.raises(QueryRefused):
            check(text, backend=backend)


@pytest.mark.parametrize("text", ALLOWED)
def test_allowed_on_both_stores(text: str) -> None:
    for backend in ("falkordb", "neo4j"):
        check(text, backend=backend)


def test_all_shortest_paths_is_refused_only_where_the_timeout_cannot_stop_it() -> None:
    text = "MATCH (a:Card), (b:Card) WITH a, b MATCH p = allShortestPaths((a)-[*..4]-(b)) RETURN p"
    with pytest.raises(QueryRefused, match="time limit"):
        check(text, backend="falkordb")
    check(text, backend="neo4j")


def test_walks_between_two_found_nodes_are_refused_on_falkordb() -> None:
    for text in (
        "MATCH (a:Card {card_id: 'x'}), (b:Card {card_id: 'y'}) WITH a, b MATCH p = (a)-[*1..6]-(b) RETURN p",
        "MATCH (a:Card), (b:Phone) MATCH p = (b)<-[:HAS_PHONE|HAS_CARD*..4]-(a) RETURN p LIMIT 1",
    ):
        with pytest.raises(QueryRefused, match="walk"):
            check(text, backend="falkordb")
        check(text, backend="neo4j")
    for text in (
        "MATCH (a:Card {card_id: 'x'}), (b:Card {card_id: 'y'}) WITH a, b "
        "MATCH p = (a)-[*1..6]-(x) WITH p, x, b WHERE x = b RETURN p LIMIT 5",
        "MATCH p = (a:Card {card_id: 'x'})-[*1..3]-(b:Phone) RETURN p LIMIT 5",
        "MATCH (a:Card)-[:HAS_CARD]-(p:Patient) RETURN a, p",
    ):
        check(text, backend="falkordb")


def test_the_runner_refuses_before_the_store_sees_it(store: GraphStore, settings: Settings) -> None:
    with pytest.raises(QueryRefused, match="LOAD CSV"):
        run_adhoc(store, "LoAd /*x*/ CsV FROM 'file:///etc/passwd' AS r RETURN r", None, settings=settings)
    with pytest.raises(QueryRefused, match=r"apoc\.load\.json"):
        run_adhoc(store, "CALL `apoc`.`load`.json('http://x')", None, settings=settings)
    assert run_adhoc(store, "CALL db.labels()", None, settings=settings).columns == ["label"]


def test_a_bureau_library_query_is_checked_too(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "leak.cypher").write_text(
        "// name: leak\n// title_zh: 泄露\n// title_en: Leak\n// mode: read\n"
        "LOAD CSV FROM 'file:///etc/passwd' AS r RETURN r\n",
        encoding="utf-8",
    )
    library = QueryLibrary.from_dirs(package_dir(), tmp_path)
    with pytest.raises(QueryRefused):
        run_named(store, library, "leak", {}, settings=settings)


def test_ringsight_cypher_refuses(store: GraphStore, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RINGSIGHT_GRAPH_NAME", settings.graph_name)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        refused = runner.invoke(app, ["cypher", "LoAd /*x*/ CsV FROM 'file:///etc/passwd' AS r RETURN r"])
        call = runner.invoke(app, ["cypher", "CALL `apoc`.`load`.json('http://x')"])
        fine = runner.invoke(app, ["cypher", "RETURN 1 AS one", "-f", "csv"])
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    # main() prints a RingSightError as a paragraph and exits with its code (4 for a refused query)
    assert isinstance(refused.exception, QueryRefused) and refused.exception.exit_code == 4
    assert "LOAD CSV is refused" in str(refused.exception)
    assert isinstance(call.exception, QueryRefused) and "apoc.load.json" in str(call.exception)
    assert fine.exit_code == 0 and fine.output.splitlines()[:2] == ["one", "1"]


def test_the_web_console_refuses(web) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    for cypher, needle in (
        ("LoAd /*x*/ CsV FROM 'file:///etc/passwd' AS r RETURN r", "LOAD CSV"),
        ("CALL `apoc`.`load`.json('http://x')", "apoc.load.json"),
        ("CALL dbms.components()", "dbms.components"),
    ):
        payload = _payload(
            web,
            "query-grid.rowData",
            inputs=[("query-run", "n_clicks", None), ("adhoc-run", "n_clicks", 1)],
            state=[("query-select", "value", None), [], [], ("adhoc-text", "value", cypher), ("lang", "data", "en")],
            changed="adhoc-run.n_clicks",
        )
        reply = _client(web, "investigator").post("/_dash-update-component", json=payload)
        assert reply.status_code == 200
        assert needle in _text(reply) and "refused" in _text(reply), _text(reply)


@pytest.mark.neo4j
def test_refused_through_the_runner_on_any_store(any_store, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    """Neo4j's APOC (unrestricted in compose) is refused before it is reached, like FalkorDB's LOAD CSV."""
    for text in (
        "LOAD CSV FROM 'file:///etc/passwd' AS r RETURN r",
        "CALL apoc.load.json('http://169.254.169.254/')",
        "CALL apoc.export.csv.all('/tmp/x.csv', {})",
        "CALL dbms.components()",
    ):
        with pytest.raises(QueryRefused):
            run_adhoc(any_store, text, None, settings=settings)
    assert run_adhoc(any_store, "RETURN 1 AS one", None, settings=settings).scalar() == 1
