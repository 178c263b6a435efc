"""Files crafted against the loader: markup and control characters, empty and binary files, huge lines,
escape sequences in headers, workbooks with several sheets, loads that reject most rows.

Each bad row is a reject with a reason; each bad file is one short, escaped
paragraph and a non-zero exit code; nothing from a file reaches the terminal raw.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from ringsight.config import Settings
from ringsight.errors import InputError
from ringsight.graph.store import GraphStore
from ringsight.loaders import load_files
from ringsight.loaders.pipeline import MostlyRejectedError
from ringsight.loaders.readers import open_source

FIX = Path(__file__).parent / "fixtures" / "load"


def _good() -> pl.DataFrame:
    return pl.read_csv(FIX / "claims_utf8.csv", infer_schema=False)


def _cli(args: list[str], graph_name: str, timeout: int = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "RINGSIGHT_GRAPH_NAME": graph_name, "COLUMNS": "400"}
    return subprocess.run(
        [sys.executable, "-m", "ringsight", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


def test_markup_and_control_characters_reject_their_row_only(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    frame = _good()
    changes = {
        "S0002": ("claim_id", '<a href="https://evil.example">S0002</a>'),
        "S0003": ("facility_name", "朝阳\x00医院"),
        "S0004": ("patient_name", "\x1b[2J\x1b[31m张三"),
    }
    for claim, (column, value) in changes.items():
        frame = frame.with_columns(
            pl.when(pl.col("claim_id") == claim).then(pl.lit(value)).otherwise(pl.col(column)).alias(column)
        )
    path = tmp_path / "hostile.csv"
    frame.write_csv(path)
    report = load_files([path], settings=settings, store=store, rejects_dir=tmp_path / "rej")
    assert report.rejected == {"bad_identifier": 1, "control_character": 2}
    assert report.loaded == frame.height - 3
    rejects = pl.read_csv(tmp_path / "rej" / "hostile.claims.rejects.csv", infer_schema=False)
    assert sorted(zip(rejects["_reason"], rejects["_column"], strict=True)) == [
        ("bad_identifier", "claim_id"),
        ("control_character", "facility_name"),
        ("control_character", "patient_name"),
    ]
    assert store.read("MATCH (c:Claim) WHERE c.claim_id CONTAINS '<' RETURN count(c)").scalar() == 0


def test_header_only_file_exits_non_zero(data_dir: Path, tmp_path: Path, graph_name: str) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(",".join(_good().columns) + "\n", encoding="utf-8")
    done = _cli(["load", str(path), "-q"], graph_name)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "no data row" in done.stderr
    checked = _cli(["profile", "check", str(path)], graph_name)
    assert checked.returncode == 2 and "no data row" in checked.stdout


def test_parquet_whose_every_row_is_rejected_fails_and_writes_rejects(
    data_dir: Path, store: GraphStore, tmp_path: Path, graph_name: str
) -> None:
    path = tmp_path / "bad.parquet"
    _good().with_columns(pl.lit("2024-02-30 25:00").alias("claim_time")).write_parquet(path)
    done = _cli(["load", str(path), "--rejects", str(tmp_path / "rej"), "-q"], graph_name)
    assert done.returncode == 2, done.stdout + done.stderr
    text = " ".join(done.stderr.split())
    assert "100%" in text and "bad_datetime" in text and "Example: bad.parquet line 1, column claim_time" in text
    assert pl.read_csv(tmp_path / "rej" / "bad.claims.rejects.csv", infer_schema=False).height == _good().height
    assert store.count_nodes() == 0, "a refused load writes nothing to the graph"


def test_share_of_rejects_is_configurable(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    frame = _good()
    half = frame.height // 2 + 1
    bad = frame.with_columns(
        pl.when(pl.int_range(pl.len()) < half).then(pl.lit("x")).otherwise(pl.col("total_amount")).alias("total_amount")
    )
    path = tmp_path / "half.csv"
    bad.write_csv(path)
    with pytest.raises(MostlyRejectedError) as caught:
        load_files([path], settings=settings, store=store, rejects_dir=tmp_path / "rej")
    assert caught.value.report.refused and caught.value.report.rejected == {"bad_amount": half}
    assert (tmp_path / "rej" / "half.claims.rejects.csv").exists() and store.count_nodes() == 0
    report = load_files([path], settings=settings, store=store, max_reject_share=0.9)
    assert report.loaded == frame.height - half, "a higher limit loads the good rows"


def test_binary_file_is_one_short_escaped_error(data_dir: Path, tmp_path: Path, graph_name: str) -> None:
    path = tmp_path / "claims.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)) * 40)
    done = _cli(["load", str(path), "-q"], graph_name)
    assert done.returncode == 2
    assert "does not look like text" in done.stderr and "\x1b" not in done.stderr and "\x00" not in done.stderr
    assert len(done.stderr) < 1500


def test_huge_single_line_fails_fast_with_a_short_error(tmp_path: Path) -> None:
    path = tmp_path / "one-line.csv"
    with open(path, "wb") as handle:
        block = b"abcdefgh," * (1 << 17)
        for _ in range(45):  # ~50 MB, no line break
            handle.write(block)
    started = time.perf_counter()
    with pytest.raises(InputError) as caught:
        open_source(path)
    assert time.perf_counter() - started < 5
    assert "no line break" in str(caught.value) and len(str(caught.value)) < 600


def test_escape_sequences_in_headers_never_reach_the_terminal(data_dir: Path, tmp_path: Path, graph_name: str) -> None:
    frame = (
        _good()
        .rename({"card_id": "\x1b]0;pwned\x07\x1b[2Jcard"})
        .with_columns(pl.lit("x").alias("\x1b[31m[bold]extra"))
    )
    path = tmp_path / "esc.csv"
    frame.write_csv(path)
    for args in (["profile", "check", str(path)], ["load", str(path), "-q"]):
        done = _cli(args, graph_name)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "\x1b" not in done.stdout + done.stderr and "\x07" not in done.stdout + done.stderr
    assert "card_id" in done.stderr


def test_workbook_sheet_is_chosen_by_header_or_by_profile(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    good = _good()
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "说明"
    notes.append(["导出说明"])
    notes.append(["本文件由医保系统导出"])
    data = book.create_sheet("结算明细")
    data.append(good.columns)
    for row in good.iter_rows():
        data.append(list(row))
    path = tmp_path / "book.xlsx"
    book.save(path)
    report = load_files([path], settings=settings, store=store)
    assert report.loaded == good.height
    assert report.files[0].sheet == "结算明细" and "header matches best" in report.files[0].sheet_note
    profile = tmp_path / "p.toml"
    profile.write_text('[claims]\nsheet = "Sheet9"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"no sheet 'Sheet9'.*说明"):
        load_files([path], settings=settings, store=store, profile=profile)
    profile.write_text('[claims]\nsheet = "说明"\n', encoding="utf-8")
    with pytest.raises(InputError, match="lacks the required column"):
        load_files([path], settings=settings, store=store, profile=profile)


def test_control_character_in_a_kept_extra_column_rejects_the_row(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    frame = pl.read_csv(FIX / "claims_province.csv", infer_schema=False)
    first = frame.columns[0]
    frame = frame.with_columns(
        pl.when(pl.col(first) == "S0002").then(pl.lit("1101\x0000")).otherwise(pl.col("统筹区")).alias("统筹区")
    )
    path = tmp_path / "province.csv"
    frame.write_csv(path)
    report = load_files(
        [path], settings=settings, store=store, profile=FIX / "province.toml", rejects_dir=tmp_path / "rej"
    )
    assert report.rejected == {"control_character": 1} and report.loaded == frame.height - 1
    rejects = pl.read_csv(tmp_path / "rej" / "province.claims.rejects.csv", infer_schema=False)
    assert rejects.select("_column", "_reason").rows() == [("统筹区", "control_character")]
