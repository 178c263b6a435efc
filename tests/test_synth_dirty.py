"""Dirty mode: exactly the listed rows break the spec's rules, the listed variants do not, and the loader agrees."""

from __future__ import annotations

import csv
import unicodedata
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from ringsight.config import Settings
from ringsight.graph.store import GraphStore
from ringsight.identity import resident_id_problem
from ringsight.synth import SynthConfig, generate

DIRTY = SynthConfig(claims=3_000, seed=2, days=45, dirty_rate=0.03)
REQUIRED = ("claim_id", "visit_type", "claim_time", "patient_id", "card_id", "facility_id", "total_amount")
VISITS = {"outpatient", "inpatient", "pharmacy", "门诊", "住院", "购药", "药店购药", "定点药店"}
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y%m%d%H%M%S")


def _time(value: str | None) -> datetime | None:
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(value or "", fmt)
        except ValueError:
            continue
    return None


def claim_problem(row: dict[str, str | None]) -> str | None:
    """Our own reading of the spec's claim rules (independent of the loader)."""
    for column in REQUIRED:
        if not (row[column] or "").strip():
            return column
    if resident_id_problem(unicodedata.normalize("NFKC", str(row["patient_id"])).strip().upper()):
        return "patient_id"
    if row["visit_type"] not in VISITS:
        return "visit_type"
    if _time(row["claim_time"]) is None:
        return "claim_time"
    try:
        if float(str(row["total_amount"])) < 0:
            return "total_amount"
    except ValueError:
        return "total_amount"
    if row["visit_type"] in ("inpatient", "住院"):
        admit, discharge = _time(row["admit_time"]), _time(row["discharge_time"])
        if admit is None:
            return "admit_time"
        if discharge is None or discharge < admit:
            return "discharge_time"
    return None


def _varies(reason: str, value: str, same_as_previous: bool) -> bool:
    """Whether a variant row really shows the variation its reason names."""
    if "duplicate" in reason:
        return same_as_previous
    if "visit_zh" in reason:
        return value in ("门诊", "住院", "药店购药")
    if "slash_date" in reason:
        return "/" in value
    if "compact_date" in reason:
        return value.isdigit() and len(value) == 14
    if "plus86" in reason:
        return value.startswith("+86 ")
    return not value.isascii() and unicodedata.normalize("NFKC", value).isdigit()


def read_lines(path: Path) -> list[dict[str, str | None]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [{k: (v if v != "" else None) for k, v in row.items()} for row in csv.DictReader(fh)]


def listed(path: Path) -> dict[tuple[str, int], tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return {(r["file"], int(r["line"])): (r["column"], r["reason"]) for r in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("synth-dirty")
    return generate(DIRTY, out)


def test_listed_claim_rows_are_exactly_the_rows_that_break_a_rule(dirty) -> None:
    bad = listed(dirty.dirty_rows_path)
    rows = read_lines(dirty.claims_path)
    found: dict[int, str] = {}
    first: dict[str, dict[str, str | None]] = {}
    for line, row in enumerate(rows, start=2):
        column = claim_problem(row)
        if column is None and row["claim_id"] in first and first[row["claim_id"]] != row:
            column = "claim_id"  # repeated with different content
        if column is not None:
            found[line] = column
        elif row["claim_id"] not in first:
            first[str(row["claim_id"])] = row
    expected = {line: col for (file, line), (col, _) in bad.items() if file == "claims.csv"}
    assert found == expected
    assert 0.015 * DIRTY.claims < len(expected) < 0.05 * DIRTY.claims
    reasons = {reason for (file, _), (_, reason) in bad.items() if file == "claims.csv"}
    assert len(reasons) >= 5  # every kind of defect shows up


def test_listed_item_rows_are_exactly_the_bad_ones_and_rejected_claims_lose_their_items(dirty) -> None:
    bad = listed(dirty.dirty_rows_path)
    claims = read_lines(dirty.claims_path)
    rejected = {
        row["claim_id"]
        for line, row in enumerate(claims, start=2)
        if ("claims.csv", line) in bad and "different content" not in bad["claims.csv", line][1]
    }
    known = {row["claim_id"] for row in claims}
    found = {}
    for line, row in enumerate(read_lines(dirty.items_path), start=2):
        assert row["claim_id"] not in rejected  # a rejected claim's items are left out
        if row["claim_id"] not in known:
            found[line] = "claim_id"
        elif not row["item_code"]:
            found[line] = "item_code"
        elif float(str(row["quantity"])) <= 0:
            found[line] = "quantity"
    expected = {line: col for (file, line), (col, _) in bad.items() if file == "claim_items.csv"}
    assert found == expected and expected


def test_variants_are_accepted_and_really_vary(dirty) -> None:
    variants = listed(dirty.dirty_variants_path)
    assert variants
    rows = read_lines(dirty.claims_path)
    kinds = set()
    for (file, line), (column, reason) in variants.items():
        assert file == "claims.csv"
        row = rows[line - 2]
        assert claim_problem(row) is None, (line, reason)
        kinds.add(reason)
        value = str(row[column])
        assert _varies(reason, value, row == rows[line - 3]), (line, reason, value)
    assert len(kinds) >= 4


def test_dirty_runs_are_deterministic(dirty, tmp_path: Path) -> None:
    again = generate(DIRTY, tmp_path)
    assert again.claims_path.read_bytes() == dirty.claims_path.read_bytes()
    assert again.dirty_rows_path.read_bytes() == dirty.dirty_rows_path.read_bytes()


def test_gbk_dirty_file_keeps_its_line_numbers(tmp_path: Path) -> None:
    result = generate(DIRTY.model_copy(update={"encoding": "gbk", "claims": 1_000}), tmp_path)
    text = result.claims_path.read_bytes().decode("gbk").splitlines()
    for (file, line), (column, _) in listed(result.dirty_rows_path).items():
        if file == "claims.csv":
            header = text[0].split(",")
            assert column in header and len(text) >= line


def test_the_loader_rejects_exactly_the_listed_rows(
    dirty, store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    from ringsight.loaders import load_files

    report = load_files([dirty.claims_path], [dirty.items_path], settings=settings, store=store, rejects_dir=tmp_path)
    expected = listed(dirty.dirty_rows_path)
    got: set[tuple[str, int]] = set()
    for path in tmp_path.glob("*.rejects.csv"):
        frame = pl.read_csv(path, infer_schema=False)
        file = "claims.csv" if ".claims." in path.name else "claim_items.csv"
        got |= {(file, int(line)) for line in frame["_line"]}
    conflicts = tmp_path / "conflicts.csv"
    if conflicts.exists():
        got |= {("claims.csv", int(line)) for line in pl.read_csv(conflicts, infer_schema=False)["_line"]}
    assert got == set(expected)
    assert report.rejected_total + report.conflicts == sum(1 for f, _ in expected if f == "claims.csv")


def test_the_loader_rejects_exactly_the_listed_rows_of_parquet_files(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    from ringsight.loaders import load_files

    config = DIRTY.model_copy(update={"claims": 1_000, "file_format": "parquet", "seed": 4})
    result = generate(config, tmp_path / "data")
    assert result.claims_path.suffix == ".parquet"
    load_files([result.claims_path], [result.items_path], settings=settings, store=store, rejects_dir=tmp_path)
    got = set()
    for path in tmp_path.glob("*.rejects.csv"):
        file = "claims.parquet" if ".claims." in path.name else "claim_items.parquet"
        got |= {(file, int(line)) for line in pl.read_csv(path, infer_schema=False)["_line"]}
    if (tmp_path / "conflicts.csv").exists():
        conflicts = pl.read_csv(tmp_path / "conflicts.csv", infer_schema=False)["_line"]
        got |= {("claims.parquet", int(line)) for line in conflicts}
    assert got == set(listed(result.dirty_rows_path)) and got
