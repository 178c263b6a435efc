"""Reloads change nothing, overlapping loads add only what is new, changed claims are conflicts,
and the bulk and MERGE paths build the same graph."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from ringsight.config import Settings
from ringsight.graph.store import GraphStore
from ringsight.loaders import load_files
from ringsight.tables import scan_claims, scan_items

FIX = Path(__file__).parent / "fixtures" / "load"


def snapshot(store: GraphStore) -> dict[str, int]:
    """Nodes per label and relationships per type."""
    labels = store.read("MATCH (n) RETURN labels(n)[0] AS l, count(n) AS c").rows
    types = store.read("MATCH ()-[r]->() RETURN type(r) AS t, count(r) AS c").rows
    return {**{f"n:{label}": c for label, c in labels}, **{f"r:{t}": c for t, c in types}}


def _split(tmp_path: Path) -> tuple[Path, Path, Path]:
    """First half, second half overlapping it by two claims, and the whole file."""
    claims = pl.read_csv(FIX / "claims_utf8.csv", infer_schema=False)
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    claims.head(4).write_csv(first)
    claims.tail(4).write_csv(second)  # S0003, S0004 in both
    return first, second, FIX / "claims_utf8.csv"


def test_reload_changes_nothing(store: GraphStore, settings: Settings) -> None:
    files = ([FIX / "claims_utf8.csv"], [FIX / "items_utf8.csv"])
    first = load_files(*files, settings=settings, store=store)
    before = snapshot(store)
    again = load_files(*files, settings=settings, store=store)
    assert snapshot(store) == before
    assert first.loaded == 6 and again.loaded == 0 and again.unchanged == 6 and again.conflicts == 0
    assert again.items_loaded == 0 and again.items_skipped == 8
    assert again.mode == "merge" and again.relationships_created == 0
    assert sum(again.entities_created.values()) == 0
    assert scan_claims(settings).collect().height == 6, "staged tables are not duplicated"
    assert scan_items(settings).collect().height == 8


def test_overlapping_load_adds_only_what_is_new(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    first, second, _ = _split(tmp_path)
    a = load_files([first], [FIX / "items_utf8.csv"], settings=settings, store=store)
    assert a.loaded == 4 and a.mode == "bulk"
    assert a.items_rejected == {"orphan_item": 2}  # items of S0005, S0006 have no claim yet
    b = load_files([second], [FIX / "items_utf8.csv"], settings=settings, store=store)
    assert b.mode == "merge" and b.loaded == 2 and b.unchanged == 2 and b.conflicts == 0
    assert b.items_loaded == 2 and b.items_skipped == 6
    assert b.entities_matched["Patient"] >= 1  # 李四 and 王五 were there already
    overlapped = snapshot(store)

    store.clear()
    store.ensure_schema()
    import shutil

    from ringsight.tables import staging_dir

    shutil.rmtree(staging_dir(settings))
    whole = load_files([FIX / "claims_utf8.csv"], [FIX / "items_utf8.csv"], settings=settings, store=store)
    assert whole.mode == "bulk"
    assert snapshot(store) == overlapped, "two overlapping loads = one load of the union"


def test_changed_claim_is_a_conflict_not_an_overwrite(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    load_files([FIX / "claims_utf8.csv"], settings=settings, store=store)
    changed = pl.read_csv(FIX / "claims_utf8.csv", infer_schema=False).with_columns(
        pl.when(pl.col("claim_id") == "S0002")
        .then(pl.lit("999.00"))
        .otherwise(pl.col("total_amount"))
        .alias("total_amount")
    )
    extra = changed.head(1).with_columns(pl.lit("S0099").alias("claim_id"))
    path = tmp_path / "changed.csv"
    pl.concat([changed, extra]).write_csv(path)
    report = load_files([path], settings=settings, store=store, rejects_dir=tmp_path / "out")
    assert report.conflicts == 1 and report.conflict_ids == ["S0002"]
    assert report.unchanged == 5 and report.loaded == 1
    amount = store.read("MATCH (c:Claim {claim_id: 'S0002'}) RETURN c.total_amount").scalar()
    assert amount == 56.0, "the stored claim is kept"
    conflicts = pl.read_csv(report.conflicts_path, infer_schema=False)
    assert conflicts["claim_id"].to_list() == ["S0002"] and conflicts["_line"].to_list() == ["3"]


def test_conflict_inside_one_file(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    claims = pl.read_csv(FIX / "claims_utf8.csv", infer_schema=False)
    same = claims.head(1)
    different = claims.head(1).with_columns(pl.lit("1.00").alias("total_amount"))
    path = tmp_path / "dups.csv"
    pl.concat([claims, same, different]).write_csv(path)
    report = load_files([path], settings=settings, store=store)
    assert report.loaded == 6 and report.unchanged == 1 and report.conflicts == 1
    assert store.read("MATCH (c:Claim {claim_id: 'S0001'}) RETURN c.total_amount").scalar() == 120.5


@pytest.mark.parametrize("chunk_rows", [1000])
def test_bulk_and_merge_build_the_same_graph(
    store: GraphStore, settings: Settings, tmp_path: Path, chunk_rows: int
) -> None:
    bench = _bench()
    claims, items = bench.generate(1500, tmp_path / "gen", seed=3)
    settings = settings.model_copy(update={"load": settings.load.model_copy(update={"chunk_rows": chunk_rows})})
    bulk = load_files([claims], [items], settings=settings, store=store)
    assert bulk.mode == "bulk"
    by_bulk = snapshot(store)
    props = store.read(
        "MATCH (c:Claim)-[:BY_PATIENT]->(p:Patient) RETURN c.claim_id, c.content_hash, c.item_count, p.pid "
        "ORDER BY c.claim_id LIMIT 50"
    ).rows
    store.clear()
    store.ensure_schema()
    import shutil

    from ringsight.tables import staging_dir

    shutil.rmtree(staging_dir(settings))
    merged = load_files([claims], [items], settings=settings, store=store, mode="merge")
    assert merged.mode == "merge"
    assert snapshot(store) == by_bulk
    assert merged.entities_created == bulk.entities_created
    again = store.read(
        "MATCH (c:Claim)-[:BY_PATIENT]->(p:Patient) RETURN c.claim_id, c.content_hash, c.item_count, p.pid "
        "ORDER BY c.claim_id LIMIT 50"
    ).rows
    assert again == props


def _bench():  # type: ignore[no-untyped-def]
    import importlib.util

    path = Path(__file__).parent.parent / "bench" / "bench_load.py"
    spec = importlib.util.spec_from_file_location("bench_load", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module
