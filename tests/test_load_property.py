"""Property: random garbage rows never crash the loader and always end in the rejects file."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from ringsight.config import Settings
from ringsight.graph.store import GraphStore
from ringsight.identity import resident_id_check_char, resident_id_problem
from ringsight.loaders import load_files

COLUMNS = [
    "claim_id", "visit_type", "claim_time", "admit_time", "discharge_time", "patient_id", "patient_gender",
    "card_id", "patient_phone", "patient_address", "facility_id", "doctor_id", "total_amount", "fund_paid",
]  # fmt: skip
GOOD = {
    "claim_id": "G",
    "visit_type": "outpatient",
    "claim_time": "2024-03-01 08:30:00",
    "admit_time": "",
    "discharge_time": "",
    "patient_id": "11010519850312001" + resident_id_check_char("11010519850312001"),
    "patient_gender": "M",
    "card_id": "C1",
    "patient_phone": "13812345678",
    "patient_address": "北京市朝阳区XX路1号",
    "facility_id": "H11010500001",
    "doctor_id": "D1",
    "total_amount": "12.50",
    "fund_paid": "10.00",
}
garbage = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=0, max_size=40
)
row = st.fixed_dictionaries({c: garbage for c in COLUMNS})
counter = itertools.count()


def _is_valid_id(value: str) -> bool:
    text = "".join(value.split()).upper()
    return resident_id_problem(text) is None


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row, min_size=1, max_size=12), good_every=st.integers(min_value=2, max_value=5))
def test_garbage_never_crashes_and_is_rejected(
    store: GraphStore, settings: Settings, tmp_path: Path, rows: list[dict[str, str]], good_every: int
) -> None:
    run = next(counter)
    table = []
    for i, r in enumerate(rows):
        table.append(r)
        if i % good_every == 0:  # good rows mixed in must still load
            table.append({**GOOD, "claim_id": f"G{run}-{i}"})
    path = tmp_path / f"garbage{run}.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(table)
    out = tmp_path / f"out{run}"
    report = load_files([path], settings=settings, store=store, rejects_dir=out, max_reject_share=1.0)

    accounted = report.loaded + report.unchanged + report.conflicts + report.rejected_total
    assert report.rows_read == len(table) == accounted
    rejected_lines: set[int] = set()
    if report.rejected_total:
        rejects = pl.read_csv(out / f"garbage{run}.claims.rejects.csv", infer_schema=False)
        assert rejects.height == report.rejected_total
        assert set(rejects["_reason"].to_list()) <= set(report.rejected)
        rejected_lines = {int(v) for v in rejects["_line"].to_list()}
    line = 2  # a record starts on the file's line after the previous one, whose quoted fields may hold line breaks
    for r in table:
        if not _is_valid_id(r["patient_id"]):
            assert line in rejected_lines, f"garbage row on line {line} was not rejected: {r}"
        line += 1 + sum(value.count("\n") for value in r.values())
    goods = [r["claim_id"] for r in table if r.get("card_id") == "C1" and r["claim_id"].startswith(f"G{run}-")]
    if goods:
        found = store.read("MATCH (c:Claim) WHERE c.claim_id IN $ids RETURN count(c)", {"ids": goods}).scalar()
        assert found == len(goods)
