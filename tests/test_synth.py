"""The synthetic claims generator: canonical files, valid identities, exact amounts, planted rings, determinism."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from ringsight.identity import resident_id_birth_date, resident_id_gender, resident_id_problem
from ringsight.synth import TYPOLOGIES, RingKnobs, SynthConfig, generate
from ringsight.synth.claims import CLAIM_COLUMNS, ITEM_COLUMNS

# the canonical columns of spec/claims-format.md, in its order
SPEC_CLAIMS = [
    "claim_id",
    "visit_type",
    "claim_time",
    "admit_time",
    "discharge_time",
    "patient_id",
    "patient_id_type",
    "person_no",
    "patient_name",
    "patient_gender",
    "patient_birth_date",
    "insurance_type",
    "card_id",
    "card_kind",
    "patient_phone",
    "contact_phone",
    "patient_address",
    "facility_id",
    "facility_name",
    "facility_kind",
    "facility_level",
    "facility_ownership",
    "doctor_id",
    "doctor_name",
    "department",
    "bed_no",
    "diagnosis_code",
    "diagnosis_name",
    "total_amount",
    "fund_paid",
    "account_paid",
    "self_paid",
    "terminal_id",
    "operator_id",
]
SPEC_ITEMS = [
    "claim_id",
    "item_code",
    "item_name",
    "item_category",
    "quantity",
    "unit_price",
    "amount",
    "item_doctor_id",
    "prescription_id",
    "external_prescription",
    "trace_codes",
]

SMALL = SynthConfig(claims=2_000, seed=1)  # the smallest default that plants every typology


def read(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("synth-small")
    result = generate(SMALL, out)
    claims, items = read(result.claims_path), read(result.items_path)
    truth = json.loads(result.ground_truth_path.read_text(encoding="utf-8"))
    return result, claims, items, truth


def test_files_have_exactly_the_canonical_columns(small) -> None:
    result, claims, items, _ = small
    assert list(CLAIM_COLUMNS) == SPEC_CLAIMS and list(ITEM_COLUMNS) == SPEC_ITEMS
    assert claims.columns == SPEC_CLAIMS
    assert items.columns == SPEC_ITEMS
    assert result.n_claims == claims.height == SMALL.claims
    assert result.n_items == items.height
    assert result.dirty_rows_path is None


def test_same_seed_same_bytes_and_another_seed_differs(small, tmp_path: Path) -> None:
    result = small[0]
    again = generate(SMALL, tmp_path / "again")
    for a, b in (
        (result.claims_path, again.claims_path),
        (result.items_path, again.items_path),
        (result.ground_truth_path, again.ground_truth_path),
    ):
        assert a.read_bytes() == b.read_bytes(), a.name
    other = generate(SMALL.model_copy(update={"seed": 2}), tmp_path / "other")
    assert other.claims_path.read_bytes() != result.claims_path.read_bytes()


def test_every_resident_id_is_valid_and_agrees_with_gender_and_birth_date(small) -> None:
    claims = small[1]
    people = claims.select("patient_id", "patient_gender", "patient_birth_date").unique()
    problems = [(pid, resident_id_problem(pid)) for pid in people["patient_id"] if resident_id_problem(pid)]
    assert problems == []
    for pid, gender, born in people.iter_rows():
        assert resident_id_gender(pid) == gender
        assert resident_id_birth_date(pid).isoformat() == born


def test_ids_are_unique_and_well_formed(small) -> None:
    _, claims, items, _ = small
    assert claims["claim_id"].n_unique() == claims.height
    assert claims["facility_id"].str.contains(r"^[HP]\d{11}$").all()
    assert claims.filter(pl.col("facility_kind") == "pharmacy")["facility_id"].str.starts_with("P").all()
    assert claims["doctor_id"].drop_nulls().str.starts_with("D").all()
    drugs = items.filter(pl.col("item_category") == "drug")["item_code"]
    assert drugs.str.contains(r"^[XZ].{22}$").all()
    services = items.filter(pl.col("item_category") == "service")["item_code"]
    assert services.str.contains(r"^\d{15}$").all()
    assert items.filter(pl.col("item_category") == "material")["item_code"].str.starts_with("C").all()
    assert set(items["claim_id"]) <= set(claims["claim_id"])


def test_amounts_add_up(small) -> None:
    _, claims, items, _ = small
    money = ["total_amount", "fund_paid", "account_paid", "self_paid"]
    c = claims.with_columns(pl.col(money).cast(pl.Float64))
    assert (c["total_amount"] - c["fund_paid"] - c["account_paid"] - c["self_paid"]).abs().max() < 0.005
    assert (c.select(pl.col(money).min()).row(0)) >= (0, 0, 0, 0)
    i = items.with_columns(pl.col("quantity", "unit_price", "amount").cast(pl.Float64))
    assert (i["quantity"] * i["unit_price"] - i["amount"]).abs().max() < 0.01
    assert (i["quantity"] > 0).all()
    per_claim = i.group_by("claim_id").agg(pl.col("amount").sum())
    joined = c.join(per_claim, on="claim_id", how="left")
    assert joined["amount"].null_count() == 0  # every claim has items
    assert (joined["amount"] - joined["total_amount"]).abs().max() < 0.01
    # residents have no personal account
    assert c.filter(pl.col("insurance_type") == "resident")["account_paid"].max() == 0


def test_inpatient_rows_have_ordered_stays(small) -> None:
    claims = small[1]
    inp = claims.filter(pl.col("visit_type") == "inpatient")
    assert inp.height > 0
    assert inp["admit_time"].null_count() == 0 and inp["discharge_time"].null_count() == 0
    assert (inp["admit_time"] < inp["discharge_time"]).all()
    assert (inp["discharge_time"] <= inp["claim_time"]).all()
    others = claims.filter(pl.col("visit_type") != "inpatient")
    assert others["admit_time"].null_count() == others.height


def test_each_typology_is_planted_and_recoverable_from_ground_truth(small) -> None:
    _, claims, _, truth = small
    assert {k: truth[k] for k in ("seed", "claims", "start", "days", "city")} == {
        "seed": 1,
        "claims": 2_000,
        "start": "2025-07-01",
        "days": 90,
        "city": "beijing",
    }
    assert sorted({r["typology"] for r in truth["rings"]}) == sorted(TYPOLOGIES)
    ids = set(claims["claim_id"])
    columns = {
        "patients": set(claims["patient_id"]),
        "cards": set(claims["card_id"]),
        "phones": set(claims["patient_phone"].drop_nulls()) | set(claims["contact_phone"].drop_nulls()),
        "addresses": set(claims["patient_address"]),
        "facilities": set(claims["facility_id"]),
        "doctors": set(claims["doctor_id"].drop_nulls()),
    }
    by_id = claims.with_columns(pl.col("total_amount", "fund_paid").cast(pl.Float64))
    for i, ring in enumerate(truth["rings"]):
        assert ring["ring_id"] == f"RING{i + 1:03d}"
        assert set(ring["members"]) == set(columns)
        assert ring["core"] and all(ring["members"][k] for k in ring["core"]), ring["ring_id"]
        for kind, values in ring["members"].items():
            assert set(values) <= columns[kind], (ring["ring_id"], kind)
        assert ring["claim_ids"] and set(ring["claim_ids"]) <= ids
        rows = by_id.filter(pl.col("claim_id").is_in(ring["claim_ids"]))
        assert ring["amount"] == pytest.approx(rows["total_amount"].sum(), abs=0.01)
        assert ring["fund_amount"] == pytest.approx(rows["fund_paid"].sum(), abs=0.01)
        assert ring["description_en"] and ring["description_zh"]
        assert (ring["rectification_date"] is not None) == (ring["typology"] == "recurrence")
    kinds = {g["kind"] for g in truth["lookalikes"]}
    assert kinds - {"care_home_checkup"} == {
        "nursing_home",
        "dormitory",
        "household",
        "hospital_pharmacy",
        "big_hospital",
        "travellers",
        "coding_slips",
    }


def test_requested_ring_counts_are_honoured(tmp_path: Path) -> None:
    config = SynthConfig(
        claims=4_000,
        seed=5,
        days=60,
        lookalikes=False,
        items=False,
        rings={
            "card_collecting": RingKnobs(count=3, size=5),
            "impersonation": RingKnobs(count=0),
            "ghost_patients": RingKnobs(count=2, size=6),
        },
    )
    result = generate(config, tmp_path)
    assert result.items_path is None and not (tmp_path / "claim_items.csv").exists()
    truth = json.loads(result.ground_truth_path.read_text(encoding="utf-8"))
    counts = {t: sum(r["typology"] == t for r in truth["rings"]) for t in TYPOLOGIES}
    assert counts["card_collecting"] == 3 and counts["impersonation"] == 0 and counts["ghost_patients"] == 2
    assert all(counts[t] == 1 for t in TYPOLOGIES if t not in ("card_collecting", "impersonation", "ghost_patients"))
    assert all(len(r["members"]["cards"]) == 5 for r in truth["rings"] if r["typology"] == "card_collecting")
    assert truth["lookalikes"] == []
    assert read(result.claims_path).height == 4_000


def test_distributions_are_sane(small) -> None:
    claims = small[1]
    from ringsight.synth.generator import build_world

    world = build_world(SMALL)
    assert set(world.facilities.frame["facility_id"]) == set(claims["facility_id"])  # no facility without claims
    hospital = claims.filter(pl.col("facility_kind") == "hospital")
    tertiary = (hospital["facility_level"] == "三级").mean()
    assert 0.3 < tertiary < 0.8, tertiary  # a few tertiary hospitals take a large share
    sizes = hospital.group_by("facility_id").len()["len"]
    assert sizes.max() > 2 * sizes.median()
    mix = claims["visit_type"].value_counts(normalize=True)
    shares = dict(zip(mix["visit_type"], mix["proportion"], strict=True))
    assert 0.35 < shares["outpatient"] < 0.65 and 0.03 < shares["inpatient"] < 0.15 and 0.25 < shares["pharmacy"] < 0.5
    t = claims.with_columns(pl.col("claim_time").str.to_datetime("%Y-%m-%d %H:%M:%S"))
    per_day = (
        t.group_by(pl.col("claim_time").dt.date().alias("d")).len().with_columns(weekend=pl.col("d").dt.weekday() >= 6)
    )
    means = per_day.group_by("weekend").agg(pl.col("len").mean()).sort("weekend")["len"].to_list()
    assert means[1] < means[0]
    night = t.filter(pl.col("claim_time").dt.hour().is_in([0, 1, 2, 3, 4, 5]))
    assert night.height < claims.height * 0.03


def test_gbk_output_round_trips(tmp_path: Path) -> None:
    base = SynthConfig(claims=1_000, seed=3, days=30)
    utf8 = generate(base, tmp_path / "u")
    gbk = generate(base.model_copy(update={"encoding": "gbk"}), tmp_path / "g")
    for a, b in ((utf8.claims_path, gbk.claims_path), (utf8.items_path, gbk.items_path)):
        raw = b.read_bytes()
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
        assert raw.decode("gbk") == a.read_text(encoding="utf-8")


def test_parquet_holds_the_same_rows(tmp_path: Path) -> None:
    base = SynthConfig(claims=1_000, seed=4, days=30)
    csv = generate(base, tmp_path / "c")
    pq = generate(base.model_copy(update={"file_format": "parquet"}), tmp_path / "p")
    assert pq.claims_path.name == "claims.parquet" and pq.items_path.name == "claim_items.parquet"
    a, b = read(csv.claims_path), pl.read_parquet(pq.claims_path)
    assert b.columns == SPEC_CLAIMS and b.height == a.height
    assert b["claim_id"].to_list() == a["claim_id"].to_list()
    assert b["total_amount"].round(2).to_list() == a["total_amount"].cast(pl.Float64).to_list()
    assert pl.read_parquet(pq.items_path).height == read(csv.items_path).height


def test_cli_writes_files_and_explains_bad_options(tmp_path: Path) -> None:
    from ringsight.cli import app

    runner = CliRunner()
    ok = runner.invoke(app, ["synth", "--claims", "1000", "--seed", "2", "--days", "30", "--out", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "claims.csv").exists() and (tmp_path / "ground_truth.json").exists()
    bad = runner.invoke(app, ["synth", "--claims", "1000", "--format", "xlsx", "--out", str(tmp_path / "b")])
    assert bad.exit_code != 0
    assert "file_format" in str(bad.exception)


def test_too_many_ring_claims_for_the_size_is_refused(tmp_path: Path) -> None:
    from ringsight.errors import InputError

    config = SynthConfig(claims=600, seed=1, rings={"reselling": RingKnobs(count=5, size=20, intensity=5)})
    with pytest.raises(InputError):
        generate(config, tmp_path)


def test_start_date_and_city_are_used(tmp_path: Path) -> None:
    config = SynthConfig(claims=1_000, seed=9, city="chongqing", start=date(2024, 12, 1), days=31)
    claims = read(generate(config, tmp_path).claims_path)
    days = claims["claim_time"].str.slice(0, 10)
    assert days.min() >= "2024-12-01" and days.max() <= "2024-12-31"
    assert claims["facility_id"].str.slice(1, 2).unique().to_list() == ["50"]
    assert claims["patient_address"].str.starts_with("重庆市").all()


def test_every_typology_is_planted_in_several_renderings(tmp_path: Path) -> None:
    from ringsight.synth.renderings import HELD_BACK, RENDERINGS

    result = generate(SynthConfig(claims=120_000, seed=3), tmp_path / "r")
    truth = json.loads(result.ground_truth_path.read_text(encoding="utf-8"))
    seen: dict[str, set[str]] = {}
    for ring in truth["rings"]:
        seen.setdefault(ring["typology"], set()).add(ring["rendering"])
        assert ring["held_back"] == ((ring["typology"], ring["rendering"]) in HELD_BACK)
        assert ring["claim_ids"], ring["ring_id"]
    assert seen == {t: set(r) for t, r in RENDERINGS.items()}
    assert all(len(r) >= 3 for r in seen.values()), seen
    # base and blurred are always tuned; every held-back rendering is planted
    assert not {(t, r) for t, r in HELD_BACK if r in ("base", "blurred")}
    assert {(t, r) for t, names in seen.items() for r in names} >= HELD_BACK
    assert any(r["held_back"] for r in truth["rings"]) and not all(r["held_back"] for r in truth["rings"])
    recurrence = [r for r in truth["rings"] if r["typology"] == "recurrence"]
    for ring in recurrence:  # the rectified facility is named when the ring moved on to another one
        sanctioned = ring.get("sanctioned_facilities", ring["members"]["facilities"])
        assert sanctioned and set(sanctioned) <= set(ring["members"]["facilities"])
    assert any(len(r.get("sanctioned_facilities", [])) < len(r["members"]["facilities"]) for r in recurrence)
    days = pl.read_csv(result.claims_path, columns=["claim_time"])["claim_time"].str.slice(0, 10)
    assert days.min() >= "2025-07-01" and days.max() <= "2025-09-28"  # every planted claim inside the period
    kinds = {g["kind"] for g in truth["lookalikes"]}
    assert {"care_home_checkup", "travellers"} <= kinds
