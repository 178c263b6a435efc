"""The CREATE load path (Neo4j's; any store with ``mode="create"``): same graph as MERGE, incremental, idempotent, safe
to resume.

Each test runs on the embedded store with the path forced, and on Neo4j when
``RINGSIGHT_TEST_NEO4J_URI`` is set (there ``mode="auto"`` picks it). Batches
are tiny and sent from two sessions, so every table takes several batches.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from ringsight.config import Settings
from ringsight.graph import open_store
from ringsight.graph.store import GraphStore
from ringsight.loaders import load_files
from ringsight.loaders.create import EXISTED, CreateWriter, column_params, link_statements, node_statements
from ringsight.loaders.entities import LinkTable, NodeTable
from ringsight.loaders.journal import Journal
from ringsight.tables import staging_dir

FIX = Path(__file__).parent / "fixtures" / "load"
CLAIMS, ITEMS = FIX / "claims_utf8.csv", FIX / "items_utf8.csv"


def snapshot(store: GraphStore) -> dict[str, int]:
    """Nodes per label and relationships per type."""
    labels = store.read("MATCH (n) RETURN labels(n)[0] AS l, count(n) AS c").rows
    types = store.read("MATCH ()-[r]->() RETURN type(r) AS t, count(r) AS c").rows
    return {**{f"n:{label}": c for label, c in labels}, **{f"r:{t}": c for t, c in types}}


def claims_view(store: GraphStore) -> list[list]:
    return store.read(
        "MATCH (c:Claim)-[:BY_PATIENT]->(p:Patient) MATCH (c)-[:AT_FACILITY]->(f:Facility) "
        "RETURN c.claim_id, c.total_amount, c.time_ts, c.item_count, p.pid, p.name, f.code, f.name "
        "ORDER BY c.claim_id"
    ).rows


@pytest.fixture
def tuned(settings: Settings) -> Settings:
    load = settings.load.model_copy(update={"create_batch_size": 2, "write_workers": 2})
    return settings.model_copy(update={"load": load})


def _mode(store: GraphStore) -> str:
    return "auto" if store.backend == "neo4j" else "create"


def test_create_builds_the_graph_merge_builds(any_store: GraphStore, tuned: Settings, store: GraphStore) -> None:
    made = load_files([CLAIMS], [ITEMS], settings=tuned, store=any_store, mode=_mode(any_store))
    assert made.mode == "create" and made.loaded == 6
    reference = tuned.model_copy(update={"graph_name": tuned.graph_name + "_merge"})
    with open_store(reference) as other:
        other.ensure_schema()
        merged = load_files([CLAIMS], [ITEMS], settings=reference, store=other, mode="merge")
        expected, expected_claims = snapshot(other), claims_view(other)
        other.clear()
    assert merged.mode == "merge"
    assert snapshot(any_store) == expected
    assert claims_view(any_store) == expected_claims
    assert made.relationships_created == merged.relationships_created
    assert made.entities_created == merged.entities_created


def test_incremental_create_adds_only_what_is_new(any_store: GraphStore, tuned: Settings, tmp_path: Path) -> None:
    claims = pl.read_csv(CLAIMS, infer_schema=False)
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    claims.head(4).write_csv(first)
    claims.tail(4).write_csv(second)  # two claims in both
    a = load_files([first], [ITEMS], settings=tuned, store=any_store, mode=_mode(any_store))
    b = load_files([second], [ITEMS], settings=tuned, store=any_store, mode=_mode(any_store))
    assert a.mode == b.mode == "create"
    assert b.loaded == 2 and b.unchanged == 2 and b.entities_matched["Patient"] >= 1
    overlapped, overlapped_claims = snapshot(any_store), claims_view(any_store)

    any_store.clear()
    any_store.ensure_schema()
    shutil.rmtree(staging_dir(tuned))
    load_files([CLAIMS], [ITEMS], settings=tuned, store=any_store, mode=_mode(any_store))
    assert snapshot(any_store) == overlapped, "two overlapping loads = one load of the union"
    assert claims_view(any_store) == overlapped_claims


def test_reload_changes_nothing(any_store: GraphStore, tuned: Settings) -> None:
    load_files([CLAIMS], [ITEMS], settings=tuned, store=any_store, mode=_mode(any_store))
    before = snapshot(any_store)
    again = load_files([CLAIMS], [ITEMS], settings=tuned, store=any_store, mode=_mode(any_store))
    assert again.loaded == 0 and again.relationships_created == 0 and sum(again.entities_created.values()) == 0
    assert snapshot(any_store) == before


def test_claims_the_graph_has_but_staging_forgot_are_merged_not_doubled(any_store: GraphStore, tuned: Settings) -> None:
    """Staged tables lost (a wiped data directory): CREATE meets the constraint and falls back to MERGE."""
    load_files([CLAIMS], [ITEMS], settings=tuned, store=any_store, mode=_mode(any_store))
    before = snapshot(any_store)
    shutil.rmtree(staging_dir(tuned))
    again = load_files([CLAIMS], [ITEMS], settings=tuned, store=any_store, mode=_mode(any_store))
    assert again.loaded == 6  # staging thought them new
    assert again.relationships_created == 0
    assert snapshot(any_store) == before


def _journal(tmp_path: Path) -> Journal:
    journal, _ = Journal.open(tmp_path / "staging", "fp")
    return journal


def _patients(n: int) -> NodeTable:
    frame = pl.DataFrame({"pid": [f"P{i:03d}" for i in range(n)], "name": [f"患者{i}" for i in range(n)]})
    return NodeTable("Patient", "pid", frame)


def test_a_batch_committed_but_not_recorded_is_not_created_twice(any_store: GraphStore, tmp_path: Path) -> None:
    """Killed between a commit and the journal: the resumed step re-sends that batch as MERGE."""
    table = _patients(7)
    cards = NodeTable("Card", "card_id", pl.DataFrame({"card_id": [f"K{i:03d}" for i in range(7)]}))
    links = LinkTable(
        "HAS_CARD",
        "Patient",
        "pid",
        "Card",
        "card_id",
        pl.DataFrame({"start": table.frame["pid"], "end": cards.frame["card_id"]}),
    )
    # the killed run: as many batches as were in flight committed, none recorded (two node batches sent from
    # two sessions at once; one relationship batch, relationships are sent from one session)
    head = [NodeTable(t.label, t.key, t.frame.head(6)) for t in (table, cards)]
    head_links = LinkTable(**{**links.__dict__, "frame": links.frame.head(3)})
    CreateWriter(any_store, _journal(tmp_path), empty=True, batch_size=3, workers=2).write(head, [head_links])
    resumed = _journal(tmp_path / "again")
    for step in ("node:Patient:0", "node:Card:0", "rel:HAS_CARD:Patient:0"):
        resumed.data[f"started:{step}"] = True
    made, rels = CreateWriter(any_store, resumed, empty=True, batch_size=3, workers=2).write([table, cards], [links])
    assert any_store.count_nodes("Patient") == 7 and any_store.count_nodes("Card") == 7
    assert any_store.count_relationships("HAS_CARD") == 7
    assert made == {"Patient": 1, "Card": 1} and rels == 4


def test_resume_skips_recorded_batches(any_store: GraphStore, tmp_path: Path) -> None:
    table = _patients(7)
    journal = _journal(tmp_path)
    journal.data["started:node:Patient:0"] = True
    journal.batch_done("node:Patient:0", 2)  # batches 0 and 1 done: rows 0..5
    made, _ = CreateWriter(any_store, journal, empty=True, batch_size=3, workers=1).write([table], [])
    assert any_store.read("MATCH (p:Patient) RETURN p.pid").column("p.pid") == ["P006"]
    assert made == {"Patient": 1}


def test_a_constraint_violation_switches_claim_links_to_merge(any_store: GraphStore, tmp_path: Path) -> None:
    claims = NodeTable("Claim", "claim_id", pl.DataFrame({"claim_id": ["A", "B"], "total_amount": [1.5, 2.25]}))
    patients = _patients(1)
    link = LinkTable(
        "BY_PATIENT", "Claim", "claim_id", "Patient", "pid", pl.DataFrame({"start": ["A", "B"], "end": ["P000"] * 2})
    )
    CreateWriter(any_store, _journal(tmp_path), empty=True).write([claims, patients], [link])
    journal = _journal(tmp_path / "again")
    made, rels = CreateWriter(any_store, journal, empty=False).write([claims, patients], [link])
    assert journal.get(EXISTED) is True
    assert made == {"Claim": 0, "Patient": 0} and rels == 0
    assert any_store.count_nodes("Claim") == 2 and any_store.count_relationships("BY_PATIENT") == 2


def test_statements_create_new_and_merge_what_may_exist() -> None:
    create, merge = node_statements(_patients(1))
    assert create == "UNWIND range(0, size($c0) - 1) AS i CREATE (n:Patient {`pid`: $c0[i], `name`: $c1[i]})"
    assert merge.endswith("WITH i, $c0[i] AS key MERGE (n:Patient {`pid`: key}) ON CREATE SET n.`name` = $c1[i]")
    link = LinkTable("WITH_CARD", "Claim", "claim_id", "Card", "card_id", pl.DataFrame())
    create, merge = link_statements(link)
    assert "WITH $c0[i] AS src, $c1[i] AS dst MATCH (a:Claim {claim_id: src}) MATCH (b:Card {card_id: dst}) " in create
    assert create.endswith("CREATE (a)-[:WITH_CARD]->(b)")
    assert merge.endswith("MERGE (a)-[:WITH_CARD]->(b)")


def test_a_batch_travels_as_one_list_per_column() -> None:
    frame = pl.DataFrame({"pid": ["P1", "P2"], "age": [30, None], "codes": [["a"], []]})
    assert column_params(frame) == {"c0": ["P1", "P2"], "c1": [30, None], "c2": [["a"], []]}


def test_lookups_go_by_plain_variables() -> None:
    """``MATCH (a {key: $c0[i]})`` was planned as a label scan per row on FalkorDB (20k claims: 279 s instead of
    2 s); keys are projected to variables before every MATCH / MERGE, the form index seeks are planned for."""
    import re

    link = LinkTable("WITH_CARD", "Claim", "claim_id", "Card", "card_id", pl.DataFrame())
    for statement in (*node_statements(_patients(1)), *link_statements(link)):
        assert not re.search(r"(MATCH|MERGE) \([^)]*\$c\d+\[i\]", statement), statement
