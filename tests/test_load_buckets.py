"""Deduplication in hash buckets: any bucket count gives the same graph, staged tables and report."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from test_load_crash import CLAIM_SUMS
from test_load_idempotent import _bench, snapshot

from ringsight.config import Settings
from ringsight.graph.store import GraphStore
from ringsight.loaders import load_files
from ringsight.loaders.buckets import bucket_count, bucket_of, read_index_bucket, write_index
from ringsight.tables import scan_claims, scan_items, staging_dir

N_CLAIMS = 3000
ENTITIES = (
    "MATCH (p:Patient)-[:LIVES_AT]->(a:Address) "
    "RETURN p.pid, p.name, p.gender, p.birth_date, p.id_raw, a.key, a.text ORDER BY p.pid, a.key"
)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return _bench().generate(N_CLAIMS, tmp_path_factory.mktemp("buckets"), seed=5)


def _with_buckets(settings: Settings, per_bucket: int) -> Settings:
    load = settings.load.model_copy(update={"bucket_claims": per_bucket, "chunk_rows": 1000})
    return settings.model_copy(update={"load": load})


def _staged(settings: Settings) -> tuple[pl.DataFrame, pl.DataFrame]:
    claims = scan_claims(settings).collect().drop("load_id").sort("claim_id")
    items = scan_items(settings).collect().drop("load_id").sort("claim_id", "line_no")
    return claims, items


def test_bucket_count_is_a_power_of_two_that_bounds_each_bucket() -> None:
    assert bucket_count(0, 500) == 1 and bucket_count(500, 500) == 1
    assert bucket_count(501, 500) == 2 and bucket_count(10_000_000, 500_000) == 32
    assert bucket_count(10**12, 1) == 512


def test_an_index_written_with_one_bucket_count_reads_with_another(tmp_path: Path) -> None:
    ids = pl.DataFrame({"claim_id": [f"C{i:05d}" for i in range(2000)], "content_hash": [str(i) for i in range(2000)]})
    write_index(ids.slice(0, 1000), "claim_id", 2, tmp_path, "L1")
    write_index(ids.slice(1000, 1000), "claim_id", 16, tmp_path, "L2")
    schema = {"claim_id": pl.String, "content_hash": pl.String}
    parts = [read_index_bucket(tmp_path, "claim_id", b, 4, schema) for b in range(4)]
    for b, part in enumerate(parts):
        assert part.height > 0
        assert part.select((bucket_of("claim_id", 4) == b).all()).item(), f"bucket {b} holds only its own rows"
    assert pl.concat(parts).sort("claim_id").equals(ids), "every row is in exactly one bucket"


def test_many_buckets_build_the_same_graph_as_one(
    store: GraphStore, settings: Settings, generated: tuple[Path, Path]
) -> None:
    claims, items = generated
    one = _with_buckets(settings, 10_000_000)
    report_one = load_files([claims], [items], settings=one, store=store, mode="merge")
    expected, expected_sums, expected_staged = snapshot(store), store.read(CLAIM_SUMS).rows, _staged(one)
    expected_entities = store.read(ENTITIES).rows
    store.clear()
    shutil.rmtree(staging_dir(settings))

    many = _with_buckets(settings, 50)
    report_many = load_files([claims], [items], settings=many, store=store, mode="merge")
    journal_buckets = bucket_count(claims.stat().st_size // 150, 50)
    assert journal_buckets >= 64, "the test really spreads the claims over many buckets"
    assert snapshot(store) == expected
    assert store.read(CLAIM_SUMS).rows == expected_sums
    assert store.read(ENTITIES).rows == expected_entities, "entities deduplicated in buckets keep the same properties"
    staged = _staged(many)
    assert staged[0].equals(expected_staged[0]) and staged[1].equals(expected_staged[1])
    for field in ("loaded", "items_loaded", "items_skipped", "rejected", "items_rejected"):
        assert getattr(report_many, field) == getattr(report_one, field), field

    again = load_files([claims], [items], settings=_with_buckets(settings, 700), store=store)
    assert again.loaded == 0 and again.unchanged == N_CLAIMS and again.conflicts == 0
    assert again.items_loaded == 0 and again.items_skipped == report_one.items_loaded
    assert snapshot(store) == expected, "a reload read with another bucket count still finds every claim"


def test_repeats_inside_one_load_keep_the_first_row(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    claims = pl.read_csv(Path(__file__).parent / "fixtures" / "load" / "claims_utf8.csv", infer_schema=False)
    changed = claims.head(2).with_columns(pl.lit("1.00").alias("total_amount"))
    doubled = tmp_path / "doubled.csv"
    pl.concat([claims, claims.head(3), changed]).write_csv(doubled)
    report = load_files([doubled], settings=_with_buckets(settings, 1), store=store)
    assert report.loaded == claims.height
    assert report.unchanged == 3 and report.conflicts == 2
    first = claims.head(2).get_column("total_amount").cast(pl.Float64).to_list()
    amounts = store.read(
        "MATCH (c:Claim) WHERE c.claim_id IN $ids RETURN c.total_amount ORDER BY c.claim_id",
        {"ids": claims.head(2).get_column("claim_id").to_list()},
    ).rows
    assert [row[0] for row in amounts] == first, "the first row of a repeated claim_id wins"
    assert report.conflict_ids == claims.head(2).get_column("claim_id").to_list()


def test_an_index_made_by_another_version_is_rebuilt(
    store: GraphStore, settings: Settings, generated: tuple[Path, Path]
) -> None:
    """Staged hashes from another Polars version (or layout) are recomputed, so a reload still finds every claim."""
    claims, _ = generated
    tuned = _with_buckets(settings, 700)
    load_files([claims], settings=tuned, store=store)
    hashes = staging_dir(settings) / "hashes"
    for path in hashes.glob("*.parquet"):  # an old flat layout with digests no longer comparable
        path.unlink()
    pl.DataFrame({"claim_id": ["x"], "content_hash": ["0"]}).write_parquet(hashes / "L-old-c000-00000.parquet")
    (hashes / "VERSION").write_text("polars-0.0.0-v1")
    again = load_files([claims], settings=tuned, store=store)
    assert again.loaded == 0 and again.unchanged == N_CLAIMS and again.conflicts == 0
    assert not (hashes / "L-old-c000-00000.parquet").exists()
