"""Each validation rule rejects the whole row with its exact reason and column; good rows load."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest

from ringsight.config import Settings
from ringsight.graph.store import GraphStore
from ringsight.identity import resident_id_check_char
from ringsight.loaders import load_files

ID = "11010519850312001" + resident_id_check_char("11010519850312001")
BASE = {
    "claim_id": "OK1",
    "visit_type": "outpatient",
    "claim_time": "2024-03-01 08:30:00",
    "admit_time": "",
    "discharge_time": "",
    "patient_id": ID,
    "patient_id_type": "",
    "person_no": "P001",
    "patient_gender": "M",
    "patient_birth_date": "",
    "insurance_type": "employee",
    "card_id": "C001",
    "card_kind": "social_security_card",
    "patient_phone": "13812345678",
    "contact_phone": "",
    "facility_id": "H11010500001",
    "facility_kind": "",
    "facility_ownership": "",
    "doctor_id": "D001",
    "total_amount": "100.00",
    "fund_paid": "70.00",
    "account_paid": "10.00",
    "self_paid": "20.00",
}

# (changes to the base row, reason, column)
CLAIM_CASES: list[tuple[dict[str, str], str, str]] = [
    ({"claim_id": ""}, "missing_required", "claim_id"),
    ({"visit_type": ""}, "missing_required", "visit_type"),
    ({"claim_time": ""}, "missing_required", "claim_time"),
    ({"patient_id": ""}, "missing_required", "patient_id"),
    ({"card_id": ""}, "missing_required", "card_id"),
    ({"facility_id": ""}, "missing_required", "facility_id"),
    ({"total_amount": ""}, "missing_required", "total_amount"),
    ({"visit_type": "急诊抢救"}, "unknown_value", "visit_type"),
    ({"claim_time": "2024-02-30 10:00"}, "bad_datetime", "claim_time"),
    ({"patient_id_type": "驾照"}, "unknown_value", "patient_id_type"),
    ({"patient_id": ID[:17] + ("0" if ID[17] != "0" else "1")}, "bad_resident_id", "patient_id"),
    ({"patient_id": ID[:16]}, "bad_resident_id", "patient_id"),
    ({"patient_id": "110105198513120010"}, "bad_resident_id", "patient_id"),
    ({"total_amount": "-1.00"}, "bad_amount", "total_amount"),
    ({"total_amount": "abc"}, "bad_amount", "total_amount"),
    ({"visit_type": "inpatient", "discharge_time": "2024-03-05 10:00"}, "inpatient_without_admit_time", "admit_time"),
    ({"visit_type": "住院", "admit_time": "2024-3-40"}, "bad_datetime", "admit_time"),
    ({"visit_type": "inpatient", "admit_time": "2024-03-01", "discharge_time": "x"}, "bad_datetime", "discharge_time"),
    (
        {"visit_type": "21", "admit_time": "2024-03-05 10:00", "discharge_time": "2024-03-01 09:00"},
        "discharge_before_admit",
        "discharge_time",
    ),
    ({"person_no": "P" * 31}, "too_long", "person_no"),
    ({"patient_gender": "X"}, "unknown_value", "patient_gender"),
    ({"patient_birth_date": "1985-02-30"}, "bad_date", "patient_birth_date"),
    ({"insurance_type": "商业保险"}, "unknown_value", "insurance_type"),
    ({"card_kind": "银行卡"}, "unknown_value", "card_kind"),
    ({"patient_phone": "12345"}, "bad_phone", "patient_phone"),
    ({"contact_phone": "555-0100"}, "bad_phone", "contact_phone"),
    ({"facility_kind": "超市"}, "unknown_value", "facility_kind"),
    ({"facility_ownership": "外资"}, "unknown_value", "facility_ownership"),
    ({"doctor_id": "D" * 31}, "too_long", "doctor_id"),
    ({"fund_paid": "-3"}, "bad_amount", "fund_paid"),
    ({"account_paid": "1e999"}, "bad_amount", "account_paid"),
    ({"self_paid": "二十"}, "bad_amount", "self_paid"),
]

ITEM_BASE = {
    "claim_id": "OK1",
    "item_code": "XA01BAC123456789012345A",
    "item_category": "drug",
    "quantity": "2",
    "unit_price": "10.00",
    "amount": "20.00",
    "external_prescription": "0",
    "item_doctor_id": "",
}
ITEM_CASES: list[tuple[dict[str, str], str, str]] = [
    ({"claim_id": ""}, "missing_required", "claim_id"),
    ({"item_code": ""}, "missing_required", "item_code"),
    ({"quantity": ""}, "missing_required", "quantity"),
    ({"unit_price": ""}, "missing_required", "unit_price"),
    ({"amount": ""}, "missing_required", "amount"),
    ({"quantity": "0"}, "bad_quantity", "quantity"),
    ({"quantity": "-2"}, "bad_quantity", "quantity"),
    ({"unit_price": "-1"}, "bad_amount", "unit_price"),
    ({"amount": "n/a?"}, "bad_amount", "amount"),
    ({"item_category": "保健品"}, "unknown_value", "item_category"),
    ({"external_prescription": "maybe"}, "unknown_value", "external_prescription"),
    ({"item_doctor_id": "D" * 40}, "too_long", "item_doctor_id"),
    ({"claim_id": "NOT-A-CLAIM"}, "orphan_item", "claim_id"),
    ({"claim_id": "BAD0"}, "orphan_item", "claim_id"),  # its claim was rejected
]


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def loaded(store: GraphStore, settings: Settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    claims = [dict(BASE)]
    for i, (change, _, _) in enumerate(CLAIM_CASES):
        claims.append({**BASE, "claim_id": f"BAD{i}", **change})
    claims.append({**BASE, "claim_id": "OK2", "patient_gender": "F"})  # a warning, not a reject
    items = [dict(ITEM_BASE), {**ITEM_BASE, "amount": "25.00"}]  # amount mismatch: a warning
    items += [{**ITEM_BASE, **change} for change, _, _ in ITEM_CASES]
    report = load_files(
        [_write(tmp_path / "claims.csv", claims)],
        [_write(tmp_path / "items.csv", items)],
        settings=settings,
        store=store,
        rejects_dir=tmp_path / "rejects",
        max_reject_share=1.0,  # one row per rule: almost every row is meant to be rejected
    )
    return report, tmp_path / "rejects"


def test_each_claim_rule_rejects_with_its_reason(loaded, store: GraphStore) -> None:  # type: ignore[no-untyped-def]
    report, rejects_dir = loaded
    rejects = pl.read_csv(rejects_dir / "claims.claims.rejects.csv", infer_schema=False)
    got = {int(r["_line"]): (r["_reason"], r["_column"]) for r in rejects.iter_rows(named=True)}
    # line 1 is the header, line 2 the good row, then one line per case
    expected = {i + 3: (reason, column) for i, (_, reason, column) in enumerate(CLAIM_CASES)}
    assert got == expected
    assert report.loaded == 2 and report.rows_read == len(CLAIM_CASES) + 2
    assert sum(report.rejected.values()) == len(CLAIM_CASES)
    assert store.count_nodes("Claim") == 2, "no rejected row is half-loaded"
    assert store.read("MATCH (c:Claim) WHERE c.claim_id STARTS WITH 'BAD' RETURN count(c)").scalar() == 0
    assert report.warnings.get("gender_mismatch") == 1
    # the whole row is kept, with its source file
    first = rejects.row(0, named=True)
    assert first["_source_file"].endswith("claims.csv") and first["card_id"] == "C001"


def test_resident_id_details_are_explicit(loaded) -> None:  # type: ignore[no-untyped-def]
    _, rejects_dir = loaded
    rejects = pl.read_csv(rejects_dir / "claims.claims.rejects.csv", infer_schema=False)
    details = rejects.filter(pl.col("_reason") == "bad_resident_id")["_detail"].to_list()
    assert any("check character is" in d and f"expected {ID[17]}" in d for d in details)
    assert any("18 characters, found 16" in d for d in details)
    assert any("impossible birth date" in d for d in details)


def test_each_item_rule_rejects_with_its_reason(loaded) -> None:  # type: ignore[no-untyped-def]
    report, rejects_dir = loaded
    rejects = pl.read_csv(rejects_dir / "items.items.rejects.csv", infer_schema=False)
    got = {int(r["_line"]): (r["_reason"], r["_column"]) for r in rejects.iter_rows(named=True)}
    expected = {i + 4: (reason, column) for i, (_, reason, column) in enumerate(ITEM_CASES)}
    assert got == expected
    assert report.items_loaded == 2
    assert report.warnings.get("item_amount_mismatch") == 1


def test_reject_lines_count_line_breaks_inside_quoted_fields(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    """An address spread over three lines pushes the next records down; the reject names the real line."""
    claims = [
        {**BASE, "claim_id": "ML1", "patient_address": "北京市朝阳区\nXX路1号院\n2号楼"},
        {**BASE, "claim_id": "ML2"},
        {**BASE, "claim_id": "ML3", "visit_type": "teleport"},
    ]
    path = _write(tmp_path / "multiline.csv", claims)
    lines = path.read_text(encoding="utf-8").splitlines()
    bad_line = next(n for n, text in enumerate(lines, start=1) if text.startswith("ML3"))
    assert bad_line == 6, "header, ML1 over three lines, ML2, then ML3"
    load_files([path], settings=settings, store=store, rejects_dir=tmp_path / "rejects")
    rejects = pl.read_csv(tmp_path / "rejects" / "multiline.claims.rejects.csv", infer_schema=False)
    assert rejects.select("claim_id", "_line", "_reason").rows() == [("ML3", str(bad_line), "unknown_value")]
