"""Running queries safely: read-only at the database, timeout, row cap, typed parameters, audited writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ringsight.config import QuerySettings, Settings
from ringsight.cypher import (
    ParameterError,
    QueryLibrary,
    WriteNotAllowed,
    limit_notice,
    run_adhoc,
    run_named,
)
from ringsight.errors import QueryError, QueryTimeout
from ringsight.graph.store import GraphStore

# A query that keeps the server busy for seconds (9 million rows through a filter).
SLOW = "UNWIND range(1, 3000) AS x UNWIND range(1, 3000) AS y WITH x, y WHERE (x * y) % 7 = 0 RETURN count(*) AS n"
SLOW_FILE = f"""\
// name: slow_count
// title_zh: 慢查询
// title_en: A slow query
// mode: read
{SLOW}
"""
MANY_FILE = """\
// name: many_rows
// title_zh: 多行
// title_en: Many rows
// mode: read
// params:
//   n: {type: int, example: 20}
UNWIND range(1, $n) AS x RETURN x
"""


def limited(settings: Settings, **query: int) -> Settings:
    return settings.model_copy(update={"query": QuerySettings(**{**settings.query.model_dump(), **query})})


def seed(store: GraphStore) -> None:
    store.write(
        "CREATE (:Patient {pid: 'p1', name: '张三'})<-[:BY_PATIENT]-(c:Claim {claim_id: 'c1', time_ts: 1704067200}),"
        " (c)-[:WITH_CARD]->(:Card {card_id: 'K1'}), (c)-[:AT_FACILITY]->(:Facility {code: 'P1', name: '药房'})"
    )


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE (:Patient {pid: 'evil'})",
        "MERGE (:Card {card_id: 'K2'})",
        "MATCH (p:Patient) SET p.name = 'changed'",
        "MATCH (p:Patient) DETACH DELETE p",
        "MATCH (p:Patient) REMOVE p.name",
        "MATCH (p:Patient) WITH p MERGE (p)-[:HAS_PHONE]->(:Phone {number: '1'})",
    ],
)
def test_console_writes_are_refused_by_the_database(any_store: GraphStore, settings: Settings, statement: str) -> None:
    seed(any_store)
    before = (any_store.count_nodes(), any_store.count_relationships())
    with pytest.raises(QueryError, match="read-only") as info:
        run_adhoc(any_store, statement, None, settings=settings)
    assert "--allow-write" in (info.value.hint or "")
    assert (any_store.count_nodes(), any_store.count_relationships()) == before
    assert any_store.read("MATCH (p:Patient) RETURN p.name").scalar() == "张三"


def test_no_text_inspection_a_write_keyword_in_a_string_is_fine(any_store: GraphStore, settings: Settings) -> None:
    result = run_adhoc(any_store, "RETURN 'CREATE (n) DELETE n' AS s, $v AS v", {"v": "MERGE"}, settings=settings)
    assert result.rows == [["CREATE (n) DELETE n", "MERGE"]]


def test_values_are_parameters_not_text(any_store: GraphStore, settings: Settings) -> None:
    seed(any_store)
    library = QueryLibrary.load(settings)
    hostile = "p1' OR 1=1 WITH 1 AS x MATCH (n) DETACH DELETE n //"
    result = run_named(any_store, library, "patient_timeline", {"patient": hostile}, settings=settings)
    assert result.rows == []
    assert any_store.count_nodes() == 4
    assert len(run_named(any_store, library, "patient_timeline", {"patient": "p1"}, settings=settings).rows) == 1


def test_timeout_is_reached_and_reported(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    fast = limited(settings, timeout_ms=100)
    with pytest.raises(QueryTimeout, match="time limit of 100 ms") as info:
        run_adhoc(store, SLOW, None, settings=fast)
    assert "RINGSIGHT_QUERY__TIMEOUT_MS" in (info.value.hint or "")
    (tmp_path / "slow_count.cypher").write_text(SLOW_FILE, encoding="utf-8")
    fast = fast.model_copy(update={"queries_dir": tmp_path})
    with pytest.raises(QueryTimeout):
        run_named(store, QueryLibrary.load(fast), "slow_count", {}, settings=fast)


def test_row_cap_is_reached_and_reported(any_store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    capped = limited(settings, row_cap=5)
    result = run_adhoc(any_store, "UNWIND range(1, 20) AS x RETURN x", None, settings=capped)
    assert result.column("x") == [1, 2, 3, 4, 5] and result.truncated
    notice = limit_notice(result, capped)
    assert notice is not None and "row cap" in notice and "5" in notice
    assert "行数上限" in (limit_notice(result, capped, lang="zh") or "")
    exact = run_adhoc(any_store, "UNWIND range(1, 5) AS x RETURN x", None, settings=capped)
    assert not exact.truncated and limit_notice(exact, capped) is None
    (tmp_path / "many_rows.cypher").write_text(MANY_FILE, encoding="utf-8")
    capped = capped.model_copy(update={"queries_dir": tmp_path})
    named = run_named(any_store, QueryLibrary.load(capped), "many_rows", {"n": "20"}, settings=capped)
    assert len(named.rows) == 5 and named.truncated


def test_named_parameter_errors_name_the_parameter(store: GraphStore, settings: Settings) -> None:
    library = QueryLibrary.load(settings)
    with pytest.raises(ParameterError, match="Parameter 'min_persons' of query 'cards_shared_by_persons'"):
        run_named(store, library, "cards_shared_by_persons", {"min_persons": "two"}, settings=settings)
    with pytest.raises(ParameterError, match="Parameter 'since' of query 'cards_shared_by_persons' must be a date"):
        run_named(store, library, "cards_shared_by_persons", {"since": "2024-02-30"}, settings=settings)
    with pytest.raises(ParameterError, match="Parameter 'seed' of query 'random_inspection_sample' is required"):
        run_named(store, library, "random_inspection_sample", {}, settings=settings)
    with pytest.raises(ParameterError, match=r"Parameter 'fraction' .* must be at least 0\.1"):
        run_named(store, library, "random_inspection_sample", {"seed": "s", "fraction": "0.05"}, settings=settings)
    with pytest.raises(ParameterError, match="has no parameter 'min_person'"):
        run_named(store, library, "cards_shared_by_persons", {"min_person": "2"}, settings=settings)


def test_sample_refuses_a_population_cut_by_the_row_cap(store: GraphStore, settings: Settings) -> None:
    store.write("UNWIND range(1, 12) AS i CREATE (:Facility {code: 'F' + toString(i), kind: 'pharmacy'})")
    capped = limited(settings, row_cap=10)
    library = QueryLibrary.load(capped)
    with pytest.raises(QueryError, match="more than 10 rows"):
        run_named(store, library, "random_inspection_sample", {"seed": "s"}, settings=capped)
    result = run_named(store, library, "random_inspection_sample", {"seed": "s"}, settings=settings)
    assert len(result.rows) == 2 and not result.truncated  # ceil(12 / 10)


def test_write_query_needs_the_flag_and_is_audited(store: GraphStore, settings: Settings) -> None:
    from ringsight.cases.audit import list_entries

    store.write("CREATE (:Facility {code: 'P1', name: '夜间大药房', kind: 'pharmacy'})")
    library = QueryLibrary.load(settings)
    params = {"facility": "P1", "tag": "重点监控", "note": "突击刷卡"}
    with pytest.raises(WriteNotAllowed, match="'tag_facility' is a write query") as info:
        run_named(store, library, "tag_facility", params, settings=settings)
    assert "--allow-write" in (info.value.hint or "")
    assert store.count_nodes("Annotation") == 0 and list_entries(store, action="query.write") == []

    result = run_named(store, library, "tag_facility", params, settings=settings, allow_write=True, user="analyst1")
    assert result.records() == [
        {"annotation_id": "tag:Facility:P1:重点监控", "facility": "P1", "tag": "重点监控", "author": "analyst1"}
    ]
    note = store.read("MATCH (a:Annotation)-[:ABOUT]->(f:Facility {code: 'P1'}) RETURN a").scalar()
    assert note.properties["kind"] == "tag" and note.properties["text"] == "突击刷卡"
    assert note.properties["created_ts"] > 1_700_000_000
    entries = list_entries(store, action="query.write")
    assert len(entries) == 1
    entry = entries[0]
    assert (entry["user"], entry["target"]) == ("analyst1", "Query:tag_facility")
    after = json.loads(entry["after"])
    assert after["params"] == params and after["stats"]["nodes_created"] == 1
    # tagging again is idempotent, and audited again
    run_named(store, library, "tag_facility", params, settings=settings, allow_write=True, user="analyst2")
    assert store.count_nodes("Annotation") == 1
    assert [e["user"] for e in list_entries(store, action="query.write")] == ["analyst2", "analyst1"]


def test_write_query_runs_in_the_read_path_never(store: GraphStore, settings: Settings) -> None:
    """A write query's text through the console is refused, flag or not: the console is read-only."""
    library = QueryLibrary.load(settings)
    store.write("CREATE (:Facility {code: 'P1'})")
    text = library.get("tag_facility").text
    with pytest.raises(QueryError, match="read-only"):
        run_adhoc(store, text, {"facility": "P1", "tag": "t", "note": "", "user": "u", "now_ts": 1}, settings=settings)
    assert store.count_nodes("Annotation") == 0


def test_empty_adhoc_query_is_refused(store: GraphStore, settings: Settings) -> None:
    with pytest.raises(QueryError, match="empty"):
        run_adhoc(store, "   ", None, settings=settings)


def test_the_subset_guide_example_loads_and_runs(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    from ringsight.cypher.library import package_dir

    guide = (package_dir().parent / "SUBSET.md").read_text(encoding="utf-8")
    example = guide.split("```cypher\n", 1)[1].split("```", 1)[0]
    (tmp_path / "night.cypher").write_text(example, encoding="utf-8")
    store.write(
        "CREATE (o:Operator {key: 'P1:OP1'}) WITH o UNWIND range(0, 2) AS i "
        "CREATE (o)<-[:BY_OPERATOR]-(:Claim {claim_id: 'c' + toString(i), time_ts: 1715350200 + i * 60, "
        "time: '2024-05-10T22:1' + toString(i) + ':00+08:00'})"
    )
    own = settings.model_copy(update={"queries_dir": tmp_path})
    result = run_named(store, QueryLibrary.load(own), "night_swipes_by_operator", {"min_claims": "3"}, settings=own)
    assert result.rows == [["P1:OP1", 3]]


def test_adhoc_date_values_become_epoch_seconds(store: GraphStore, settings: Settings) -> None:
    from datetime import date, datetime

    result = run_adhoc(
        store,
        "RETURN $d AS d, $t AS t, $n AS n",
        {"d": date(2024, 1, 1), "t": datetime(2024, 1, 1, 8), "n": 1},
        settings=settings,
    )
    assert result.rows == [[1704038400, 1704038400 + 8 * 3600, 1]]
