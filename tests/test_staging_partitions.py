"""The staged tables are partitioned by claim month and claim-key bucket, and readers open only the window.

Loads run in staging-only mode (no graph needed: the staged tables are the subject). The data
crosses month ends at Asia/Shanghai midnight, holds Chinese claim ids and repeats, and a
corrupt Parquet file is planted in a month outside the window: a reader that opened it fails.
"""

from __future__ import annotations

import json
import shutil
import zlib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pyarrow.parquet as pq
import pytest

from ringsight.algorithms.frames import load_window, scan_tables
from ringsight.config import Settings
from ringsight.loaders import load_files
from ringsight.partitions import bucket_of, crc32, staged_files, window_months
from ringsight.tables import scan_claims, scan_items, staging_dir

FIX = Path(__file__).parent / "fixtures" / "load"
#: (claim_id, Shanghai settlement time): month ends at local midnight, a year end, Chinese ids.
TIMES = [
    ("甲-001", "2023-12-31 23:59:00"),
    ("甲-002", "2024-01-01 00:00:30"),
    ("甲-003", "2024-01-31 23:30:00"),
    ("甲-004", "2024-02-01 00:10:00"),
    ("B-005", "2024-02-15 12:00:00"),
    ("B-006", "2024-03-01 08:00:00"),
    ("B-007", "2024-03-20 08:00:00"),
    ("C-008", "2024-04-02 09:00:00"),
]


def _write(tmp: Path, name: str, times: list[tuple[str, str]]) -> tuple[Path, Path]:
    """A claims and an items CSV built from the fixture's first claim row, one claim per (id, time)."""
    base = pl.read_csv(FIX / "claims_utf8.csv", infer_schema=False).head(1)
    claims = pl.concat(
        [base.with_columns(pl.lit(cid).alias("claim_id"), pl.lit(ts).alias("claim_time")) for cid, ts in times]
    )
    item = pl.read_csv(FIX / "items_utf8.csv", infer_schema=False).head(2)
    items = pl.concat([item.with_columns(pl.lit(cid).alias("claim_id")) for cid, _ in times])
    claims_path, items_path = tmp / f"{name}-claims.csv", tmp / f"{name}-items.csv"
    claims.write_csv(claims_path)
    items.write_csv(items_path)
    return claims_path, items_path


def _stage(settings: Settings, files: tuple[Path, Path]):  # type: ignore[no-untyped-def]
    return load_files([files[0]], [files[1]], settings=settings, mode="stage")


def _partition_of(path: Path) -> tuple[str, int]:
    return path.parent.parent.name.split("=")[1], int(path.parent.name.split("=")[1])


def test_crc32_is_zlibs_on_any_text() -> None:
    values = ["", "a", "理赔-甲-0001", "C" * 300, None, "emoji 🧾", "S0001"]
    assert crc32(pl.Series(values)).to_list() == [zlib.crc32((v or "").encode()) for v in values]
    sliced = pl.Series(["skip", "理赔", "x"]).slice(1, 2)  # an Arrow array with an offset
    assert crc32(sliced).to_list() == [zlib.crc32("理赔".encode()), zlib.crc32(b"x")]
    ids = pl.Series([f"K{i:07d}" for i in range(5000)])
    assert bucket_of(ids, 8).to_list() == [zlib.crc32(v.encode()) % 8 for v in ids]
    assert set(bucket_of(ids, 8).to_list()) == set(range(8))


def test_window_months_follow_shanghai_time() -> None:
    # 2024-01-31 16:30 UTC is 2024-02-01 00:30 in Shanghai
    since = int(datetime.fromisoformat("2024-01-31T16:30:00+00:00").timestamp())
    assert window_months(since, since + 60) == ["2024-02"]
    dec = int(datetime.fromisoformat("2023-12-15T00:00:00+08:00").timestamp())
    mar = int(datetime.fromisoformat("2024-03-01T00:00:00+08:00").timestamp())
    assert window_months(dec, mar) == ["2023-12", "2024-01", "2024-02"]  # until is exclusive
    assert window_months(mar, mar) == []


def test_load_writes_month_bucket_partitions_with_statistics(settings: Settings, tmp_path: Path) -> None:
    report = _stage(settings, _write(tmp_path, "a", TIMES))
    assert report.loaded == len(TIMES)
    root = staging_dir(settings)
    assert json.loads((root / "LAYOUT.json").read_text())["buckets"] == 8
    claim_files = staged_files(root / "claims")
    assert claim_files and not list((root / "claims").glob("*.parquet")), "no flat files any more"
    seen = {}
    for path in claim_files:
        month, bucket = _partition_of(path)
        frame = pl.read_parquet(path, hive_partitioning=False)
        assert "month" not in frame.columns and "bucket" not in frame.columns  # in the path only
        for cid, ts in frame.select("claim_id", "claim_ts").iter_rows():
            assert datetime.fromtimestamp(ts, ZoneInfo("Asia/Shanghai")).strftime("%Y-%m") == month
            assert zlib.crc32(cid.encode()) % 8 == bucket
            seen[cid] = month
        meta = pq.ParquetFile(path).metadata
        stats = meta.row_group(0).column(meta.schema.names.index("claim_ts")).statistics
        assert stats is not None and stats.has_min_max
    assert seen == {
        "甲-001": "2023-12",
        "甲-002": "2024-01",
        "甲-003": "2024-01",
        "甲-004": "2024-02",
        "B-005": "2024-02",
        "B-006": "2024-03",
        "B-007": "2024-03",
        "C-008": "2024-04",
    }
    for path in staged_files(root / "items"):  # an item lives in its claim's partition
        ids = pl.read_parquet(path, hive_partitioning=False)["claim_id"].unique().to_list()
        assert all(_partition_of(path)[0] == seen[i] for i in ids)
    assert scan_items(settings).collect().height == 2 * len(TIMES)


def test_reload_and_incremental_load_into_the_same_month(settings: Settings, tmp_path: Path) -> None:
    files = _write(tmp_path, "a", TIMES[:5])
    _stage(settings, files)
    root = staging_dir(settings)
    before = sorted(p.relative_to(root) for p in staged_files(root / "claims"))
    again = _stage(settings, files)
    assert again.loaded == 0 and again.unchanged == 5
    assert sorted(p.relative_to(root) for p in staged_files(root / "claims")) == before, "a reload writes no file"
    # a later load: two repeats, a new claim in February (a month already staged) and new months
    more = _stage(settings, _write(tmp_path, "b", [*TIMES[3:], ("甲-009", "2024-02-20 10:00:00")]))
    assert more.loaded == 4 and more.unchanged == 2
    claims = scan_claims(settings).collect()
    assert claims.height == len(TIMES) + 1 and claims["claim_id"].n_unique() == claims.height
    assert scan_items(settings).collect().height == 2 * claims.height
    feb = scan_claims(settings, months=["2024-02"]).collect()
    assert sorted(feb["claim_id"]) == ["B-005", "甲-004", "甲-009"]
    assert len({p.name.split("-2024")[0] for p in (root / "claims").glob("month=2024-02/bucket=*/*")}) == 2


def _plant_corrupt(root: Path, month: str) -> None:
    """A file no Parquet reader accepts, in a month partition (and named to sort last in it)."""
    for table in ("claims", "items"):
        folder = root / table / f"month={month}" / "bucket=07"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "zz-corrupt.parquet").write_bytes(b"PAR1 this is not parquet PAR1")


def test_polars_reads_only_the_windows_months(settings: Settings, tmp_path: Path) -> None:
    _stage(settings, _write(tmp_path, "a", TIMES))
    root = staging_dir(settings)
    _plant_corrupt(root, "2023-12")
    window = load_window(None, settings, since=datetime(2024, 2, 1), until=datetime(2024, 3, 1))
    assert sorted(window.claims["claim_id"].to_list()) == ["B-005", "甲-004"]
    assert window.items.collect().height == 4  # type: ignore[union-attr]
    latest = load_window(None, settings, window_days=20)  # until defaults to just after the latest claim
    assert sorted(latest.claims["claim_id"].to_list()) == ["B-007", "C-008"]
    # the same through --tables, and the planted file is really read when its month is asked for
    tables = load_window(None, settings, since=datetime(2024, 2, 1), until=datetime(2024, 3, 1), tables=str(root))
    assert tables.claims.equals(window.claims)
    with pytest.raises(Exception, match=r"(?i)parquet|magic|footer|file"):
        load_window(None, settings, since=datetime(2023, 12, 1), until=datetime(2024, 1, 1))
    with pytest.raises(Exception, match=r"(?i)parquet|magic|footer|file"):
        scan_tables(str(root))[0].collect()


def _flatten(root: Path) -> None:
    """Turn a partitioned staging area into the flat layout earlier versions wrote."""
    for table in ("claims", "items"):
        files = staged_files(root / table)
        frame = pl.concat([pl.read_parquet(f, hive_partitioning=False) for f in files])
        for child in (root / table).iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        frame.write_parquet(root / table / "L20240101-000000-abcdef-c000-00000.parquet")
    (root / "LAYOUT.json").unlink()


def test_flat_staging_of_an_earlier_version_still_works(settings: Settings, tmp_path: Path) -> None:
    files = _write(tmp_path, "a", TIMES[:5])
    _stage(settings, files)
    root = staging_dir(settings)
    _flatten(root)
    assert load_window(None, settings, since=datetime(2024, 1, 1), until=datetime(2024, 2, 1)).claims.height == 2
    again = _stage(settings, files)
    assert again.loaded == 0 and again.unchanged == 5, "claims staged flat are known to the next load"
    more = _stage(settings, _write(tmp_path, "b", TIMES[3:]))
    assert more.loaded == 3 and more.unchanged == 2
    assert list((root / "claims").glob("*.parquet")) and list((root / "claims").glob("month=*"))
    claims = scan_claims(settings).collect()
    assert claims.height == len(TIMES) and claims["claim_id"].n_unique() == len(TIMES)
    window = load_window(None, settings, since=datetime(2024, 2, 1), until=datetime(2024, 4, 1))
    assert sorted(window.claims["claim_id"]) == ["B-005", "B-006", "B-007", "甲-004"]
    assert window.items.collect().height == 8  # type: ignore[union-attr]


def test_spark_prunes_months_and_reads_both_layouts(spark_session, settings: Settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from ringsight.algorithms import spark

    _stage(settings, _write(tmp_path, "a", TIMES))
    root = staging_dir(settings)
    _plant_corrupt(root, "2023-12")
    window = load_window(None, settings, since=datetime(2024, 2, 1), until=datetime(2024, 4, 1))
    source = spark.read_claims(spark_session, str(root), window.since_ts, window.until_ts)
    got = source.collect(source.claims.select("claim_id", "claim_ts", "total_amount")).sort("claim_id")
    want = window.claims.select("claim_id", "claim_ts", "total_amount").sort("claim_id")
    assert got.equals(want) and got.height == 4
    plan = source.claims.to_native()._jdf.queryExecution().executedPlan().toString()
    assert "PartitionFilters" in plan and "month" in plan
    # Spark's own crc32 gives the same buckets: a bureau can write this layout in Spark SQL
    ids = [cid for cid, _ in TIMES]
    rows = spark_session.createDataFrame([(i,) for i in ids], "claim_id STRING")
    buckets = {r[0]: r[1] for r in rows.selectExpr("claim_id", "pmod(crc32(claim_id), 8)").collect()}
    assert buckets == dict(zip(ids, bucket_of(pl.Series(ids), 8).to_list(), strict=True))
    # a window with no partition at all: no rows, the same columns
    later = int(datetime(2031, 1, 1).timestamp())
    nothing = spark.read_claims(spark_session, str(root), later, later + 86_400)
    assert nothing.collect(nothing.claims).height == 0 and "claim_ts" in nothing.claims.columns
    # an earlier version's flat files are read beside the partitions
    _flatten_claims_of(root, "2024-03")
    flat = spark.read_claims(spark_session, str(root), window.since_ts, window.until_ts)
    assert sorted(flat.collect(flat.claims.select("claim_id"))["claim_id"]) == sorted(want["claim_id"])
    # a URL (not listed here): partitions when there, else flat files
    url = spark.read_claims(spark_session, f"file://{root}", window.since_ts, window.until_ts)
    assert sorted(url.collect(url.claims.select("claim_id"))["claim_id"]) == ["B-005", "甲-004"]  # partitions only
    for table in ("claims", "items"):
        shutil.rmtree(root / table / "month=2023-12")
    _flatten(root)
    url = spark.read_claims(spark_session, f"file://{root}", window.since_ts, window.until_ts)
    assert sorted(url.collect(url.claims.select("claim_id"))["claim_id"]) == sorted(want["claim_id"])


def _flatten_claims_of(root: Path, month: str) -> None:
    """Move one month's claims from partitions to a flat file (a staging area half migrated by hand)."""
    files = [f for f in staged_files(root / "claims") if f"month={month}" in str(f)]
    pl.concat([pl.read_parquet(f, hive_partitioning=False) for f in files]).write_parquet(
        root / "claims" / "old.parquet"
    )
    shutil.rmtree(root / "claims" / f"month={month}")


@pytest.mark.parametrize("fail_at", ["partition", "move"])
def test_a_load_killed_while_partitioning_or_moving_resumes_without_duplicates(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_at: str
) -> None:
    """The process dies (an exception stands in for the kill) after a few partition files were written
    or moved into place; the rerun of the same command resumes and stages every claim exactly once."""
    from ringsight.loaders import pipeline
    from ringsight.partitions import write_partitioned

    files = _write(tmp_path, "a", TIMES)
    calls = {"n": 0}
    real_replace, real_write = pipeline.os.replace, write_partitioned

    def dying_replace(src, dst):  # type: ignore[no-untyped-def]
        if "month=" in str(dst) and "/staging/" in str(dst) and ".pending" not in str(dst):
            calls["n"] += 1
            if calls["n"] == 3:
                raise RuntimeError("killed while moving partitions into place")
        return real_replace(src, dst)

    def dying_write(frame, root, name):  # type: ignore[no-untyped-def]
        written = real_write(frame, root, name)
        if "items" in str(root):
            raise RuntimeError("killed while cutting partitions")
        return written

    if fail_at == "move":
        monkeypatch.setattr(pipeline.os, "replace", dying_replace)
    else:
        monkeypatch.setattr(pipeline, "write_partitioned", dying_write)
    with pytest.raises(RuntimeError, match="killed"):
        _stage(settings, files)
    monkeypatch.undo()
    if fail_at == "move":
        assert len(staged_files(staging_dir(settings) / "claims")) > 0, "some files were in place already"
    report = _stage(settings, files)
    assert report.resumed and report.loaded == len(TIMES)
    claims = scan_claims(settings).collect()
    assert claims.height == len(TIMES) and claims["claim_id"].n_unique() == len(TIMES)
    items = scan_items(settings).collect()
    assert (
        items.height == 2 * len(TIMES)
        and items.select(pl.struct("claim_id", "line_no").n_unique()).item() == items.height
    )
    assert not list(staging_dir(settings).rglob("*.tmp"))
    assert _stage(settings, files).loaded == 0


def test_a_url_is_read_partitioned_or_flat(settings: Settings, tmp_path: Path) -> None:
    """``--tables`` given as a URL (file:// here; s3:// alike) cannot be listed: partitions when there, else flat."""
    _stage(settings, _write(tmp_path, "a", TIMES))
    root = staging_dir(settings)
    _plant_corrupt(root, "2023-12")
    feb = {"since": datetime(2024, 2, 1), "until": datetime(2024, 3, 1)}
    window = load_window(None, settings, tables=f"file://{root}", **feb)
    assert sorted(window.claims["claim_id"]) == ["B-005", "甲-004"]
    shutil.rmtree(root / "claims" / "month=2023-12")
    shutil.rmtree(root / "items" / "month=2023-12")
    _flatten(root)
    flat = load_window(None, settings, tables=f"file://{root}", **feb)
    assert flat.claims.equals(window.claims)
