"""Each planted typology leaves the signal shared/DOMAIN.md names, and the background does not.

Every test reads the generated files the way a detector would (plain Polars
over the canonical columns) and checks that the ring stands out from the
background and from the legitimate look-alikes.
"""

from __future__ import annotations

import json
import os
from datetime import date, timedelta

import polars as pl
import pytest

from ringsight.synth import SynthConfig, generate
from ringsight.synth.catalog import DIAGNOSES, ITEMS, items_in

# RINGSIGHT_SYNTH_SIGNALS_CLAIMS=200000 checks the same signals at a larger size (slower)
CONFIG = SynthConfig(claims=int(os.environ.get("RINGSIGHT_SYNTH_SIGNALS_CLAIMS", "8000")), seed=21)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory):
    result = generate(CONFIG, tmp_path_factory.mktemp("synth-signals"))
    claims = pl.read_csv(result.claims_path, infer_schema=False).with_columns(
        pl.col("claim_time", "admit_time", "discharge_time").str.to_datetime("%Y-%m-%d %H:%M:%S"),
        pl.col("total_amount", "fund_paid", "account_paid", "self_paid").cast(pl.Float64),
    )
    items = pl.read_csv(result.items_path, infer_schema=False).with_columns(
        pl.col("quantity").cast(pl.Int64), pl.col("external_prescription") == "true"
    )
    truth = json.loads(result.ground_truth_path.read_text(encoding="utf-8"))
    ring_claims = {c for r in truth["rings"] for c in r["claim_ids"]}
    return claims, items, truth, ring_claims


def rings(truth: dict, typology: str) -> list[dict]:
    found = [r for r in truth["rings"] if r["typology"] == typology]
    assert found, typology
    return found


def of(frame: pl.DataFrame, ring: dict) -> pl.DataFrame:
    return frame.filter(pl.col("claim_id").is_in(ring["claim_ids"]))


def background(frame: pl.DataFrame, ring_claims: set[str]) -> pl.DataFrame:
    return frame.filter(~pl.col("claim_id").is_in(list(ring_claims)))


def test_card_collecting_bursts_off_hours_on_one_terminal_in_round_amounts(data) -> None:
    claims, _, truth, ring_claims = data
    for ring in rings(truth, "card_collecting") + rings(truth, "recurrence"):
        mine = of(claims, ring)
        assert mine["facility_id"].unique().to_list() == ring["members"]["facilities"]
        assert mine["terminal_id"].n_unique() == 1 and mine["operator_id"].n_unique() == 1
        hour = mine["claim_time"].dt.hour()
        assert ((hour >= 21) | (hour < 8)).mean() > 0.5
        assert (mine["total_amount"] % 50 == 0).mean() > 0.5
        assert _round_bursts(mine)["card_id"].max() >= 3
        # the collected cards belong to people living in other districts than the pharmacy
        assert (_district(mine, "patient_address") != _district(mine, "facility_name")).mean() > 0.9
    bg = background(claims, ring_claims).filter(pl.col("facility_kind") == "pharmacy")
    assert (_round_bursts(bg)["card_id"].max() or 0) <= 2
    assert (bg["total_amount"] % 50 == 0).mean() < 0.1


def _district(frame: pl.DataFrame, column: str) -> pl.Series:
    return frame[column].str.extract(r"[市(]([^市(]{2,3}区)", 1)


def _round_bursts(claims: pl.DataFrame) -> pl.DataFrame:
    """Distinct cards per terminal and half hour among round-amount claims."""
    rounded = claims.filter(pl.col("total_amount") % 50 == 0)
    return rounded.group_by("facility_id", "terminal_id", pl.col("claim_time").dt.truncate("30m")).agg(
        pl.col("card_id").n_unique()
    )


def _baskets(items: pl.DataFrame) -> pl.DataFrame:
    return items.group_by("claim_id").agg(
        pl.concat_str("item_code", pl.lit("x"), pl.col("quantity").cast(pl.String))
        .sort()
        .str.join("|")
        .alias("basket"),
        pl.len().alias("lines"),
    )


def _off_label(items: pl.DataFrame, claims: pl.DataFrame) -> pl.DataFrame:
    """Pharmacy drug lines whose drug treats none of the claim's diagnosis (the knowledge-base rule)."""
    treats = [
        {"diagnosis_code": d.code, "item_code": ITEMS[i].code}
        for d in DIAGNOSES
        for group in (d.drugs or ("resp_sym",))
        for i in items_in(group).tolist()
    ]
    lines = items.filter(pl.col("item_category") == "drug").join(
        claims.filter(pl.col("visit_type") == "pharmacy").select(
            "claim_id", "diagnosis_code", "card_id", "facility_id"
        ),
        on="claim_id",
    )
    return lines.join(pl.DataFrame(treats), on=["diagnosis_code", "item_code"], how="anti")


def test_goods_as_drugs_repeat_one_off_label_basket_across_many_cards(data) -> None:
    claims, items, truth, ring_claims = data
    baskets = _baskets(items).join(claims.select("claim_id", "card_id", "facility_id"), on="claim_id")
    for ring in rings(truth, "goods_as_drugs"):
        mine = of(baskets, ring)
        assert mine["basket"].n_unique() == 1 and mine["lines"][0] >= 2
        assert mine["card_id"].n_unique() == len(ring["members"]["cards"])
        assert of(items, ring)["item_code"].str.starts_with("Z").all()  # tonics billed as Chinese patent drugs
        assert of(_off_label(items, claims), ring).height == of(items, ring).height
    off = _off_label(background(items, ring_claims), claims)
    shared = (
        off.group_by("claim_id", "facility_id", "card_id")
        .agg(pl.col("item_code").sort().str.join("|").alias("basket"))
        .group_by("facility_id", "basket")
        .agg(pl.col("card_id").n_unique())
    )
    assert (shared["card_id"].max() or 0) <= 2


def test_impersonation_one_card_many_phones_far_apart_within_hours(data) -> None:
    claims, _, truth, _ = data
    impostor_cards: set[str] = set()
    for ring in rings(truth, "impersonation"):
        impostor_cards |= set(ring["members"]["cards"])
        for claim in of(claims, ring).iter_rows(named=True):
            same_card = claims.filter(
                (pl.col("card_id") == claim["card_id"]) & (pl.col("facility_id") != claim["facility_id"])
            )
            gap = (same_card["claim_time"] - claim["claim_time"]).abs().min()
            assert gap is not None and gap <= timedelta(hours=6)
            assert claim["patient_phone"] in ring["members"]["phones"]
    phones = claims.group_by("card_id").agg(pl.col("patient_phone").n_unique())
    assert set(phones.filter(pl.col("patient_phone") > 1)["card_id"]) == impostor_cards


def test_reselling_group_shares_a_dealer_and_buys_one_drug_in_bulk_at_many_pharmacies(data) -> None:
    claims, items, truth, ring_claims = data
    for ring in rings(truth, "reselling"):
        members = claims.filter(pl.col("patient_id").is_in(ring["members"]["patients"]))
        assert members["contact_phone"].unique().to_list() == ring["members"]["phones"]
        lines = of(items, ring)
        assert lines["item_code"].n_unique() == 1 and lines["quantity"].min() >= 5
        assert of(claims, ring)["facility_id"].n_unique() >= 2
        drug = lines["item_code"][0]
        bulk = background(items, ring_claims).filter((pl.col("item_code") == drug) & (pl.col("quantity") >= 5))
        pharmacy_bulk = bulk.join(claims.filter(pl.col("visit_type") == "pharmacy"), on="claim_id")
        assert pharmacy_bulk.height == 0


def test_ghost_patients_have_no_history_and_share_a_few_phones(data) -> None:
    claims, _, truth, _ = data
    for ring in rings(truth, "ghost_patients"):
        theirs = claims.filter(pl.col("patient_id").is_in(ring["members"]["patients"]))
        assert theirs["facility_id"].unique().to_list() == ring["members"]["facilities"]
        assert set(theirs["patient_phone"]) <= set(ring["members"]["phones"])
        assert len(ring["members"]["patients"]) >= 3 * len(ring["members"]["phones"]) - 2
        assert theirs["diagnosis_code"].n_unique() == 1


def _co_admissions(claims: pl.DataFrame) -> pl.DataFrame:
    stays = claims.filter(pl.col("visit_type") == "inpatient").select(
        "patient_id", "facility_id", pl.col("admit_time").dt.date().alias("a"), pl.col("discharge_time").dt.date()
    )
    pairs = stays.join(stays, on=["facility_id", "a", "discharge_time"]).filter(
        pl.col("patient_id") < pl.col("patient_id_right")
    )
    return pairs.group_by("patient_id", "patient_id_right").len()


def test_induced_admission_groups_come_and_go_together_repeatedly(data) -> None:
    claims, _, truth, ring_claims = data
    for ring in rings(truth, "induced_admission"):
        mine = of(claims, ring)
        together = mine.group_by(pl.col("admit_time").dt.date(), pl.col("discharge_time").dt.date()).len()
        assert (together["len"] >= 3).sum() >= 2
        members = claims.filter(pl.col("patient_id").is_in(ring["members"]["patients"]))
        assert members["contact_phone"].unique().to_list() == ring["members"]["phones"]
        assert (_co_admissions(mine)["len"] >= 2).sum() >= 3
    repeated = _co_admissions(background(claims, ring_claims))
    assert repeated.filter(pl.col("len") >= 2).height == 0


def _elsewhere_during_stays(claims: pl.DataFrame, stays: pl.DataFrame) -> pl.DataFrame:
    others = claims.select(
        pl.col("claim_id").alias("other"),
        "patient_id",
        pl.col("claim_time").alias("t"),
        pl.col("facility_id").alias("f"),
    )
    during = stays.join(others, on="patient_id").filter(
        (pl.col("t") > pl.col("admit_time"))
        & (pl.col("t") < pl.col("discharge_time"))
        & (pl.col("f") != pl.col("facility_id"))
    )
    return during.select("claim_id").unique()


def test_bed_holding_patients_are_elsewhere_during_thin_stays_on_shared_beds(data) -> None:
    claims, items, truth, ring_claims = data
    for ring in rings(truth, "bed_holding"):
        stays = of(claims, ring)
        assert _elsewhere_during_stays(claims, stays).height == stays.height
        lines = of(items, ring).group_by("claim_id").len()
        assert lines["len"].max() <= 3
        assert ((stays["discharge_time"] - stays["admit_time"]).dt.total_days() >= 5).all()
        beds = stays.join(stays, on="bed_no").filter(
            (pl.col("claim_id") < pl.col("claim_id_right"))
            & (pl.col("admit_time") < pl.col("discharge_time_right"))
            & (pl.col("admit_time_right") < pl.col("discharge_time"))
        )
        assert beds.height >= 1  # several patients on one bed at the same time
    bg_stays = background(claims, ring_claims).filter(pl.col("visit_type") == "inpatient")
    assert _elsewhere_during_stays(claims, bg_stays).height <= 0.02 * bg_stays.height


def test_doctor_pharmacy_pair_far_above_chance_with_one_operator(data) -> None:
    claims, items, truth, _ring_claims = data
    fills = items.filter(pl.col("external_prescription")).join(
        claims.select("claim_id", "facility_id", "operator_id", "patient_id", "claim_time"), on="claim_id"
    )
    pairs = fills.group_by("item_doctor_id", "facility_id").agg(pl.col("claim_id").n_unique().alias("n"))
    planted = [g for g in truth["lookalikes"] if g["kind"] == "hospital_pharmacy"] + rings(truth, "doctor_pharmacy")
    known = [
        {"item_doctor_id": g["members"]["doctors"][0], "facility_id": g["members"]["facilities"][0]} for g in planted
    ]
    chance = pairs.filter(~pl.struct("item_doctor_id", "facility_id").is_in(known))["n"].max()
    for ring in rings(truth, "doctor_pharmacy"):
        doctor, pharmacy = ring["members"]["doctors"][0], ring["members"]["facilities"][0]
        n = pairs.filter((pl.col("item_doctor_id") == doctor) & (pl.col("facility_id") == pharmacy))["n"][0]
        assert n > 3 * chance
        assert of(claims, ring)["operator_id"].n_unique() == 1
        # a share of the fills has no visit to the doctor that day
        visits = claims.filter((pl.col("doctor_id") == doctor) & (pl.col("visit_type") == "outpatient")).select(
            "patient_id", pl.col("claim_time").dt.date().alias("d")
        )
        mine = of(claims, ring).with_columns(d=pl.col("claim_time").dt.date())
        assert mine.join(visits, on=["patient_id", "d"], how="anti").height >= 1


def test_hospital_pharmacy_lookalike_fills_follow_real_visits(data) -> None:
    claims, _items, truth, _ = data
    for group in (g for g in truth["lookalikes"] if g["kind"] == "hospital_pharmacy"):
        doctor, pharmacy = group["members"]["doctors"][0], group["members"]["facilities"][0]
        fills = claims.filter((pl.col("facility_id") == pharmacy) & (pl.col("doctor_id") == doctor))
        assert fills.height >= len(group["members"]["patients"])
        visits = claims.filter((pl.col("doctor_id") == doctor) & (pl.col("visit_type") == "outpatient")).select(
            "patient_id", pl.col("claim_time").dt.date().alias("d")
        )
        fills = fills.with_columns(d=pl.col("claim_time").dt.date())
        assert fills.join(visits, on=["patient_id", "d"], how="anti").height == 0
        assert fills["operator_id"].n_unique() > 1


def test_trace_codes_unique_except_resold_packages(data) -> None:
    claims, items, truth, _ = data
    codes = (
        items.filter(pl.col("trace_codes").is_not_null())
        .select("claim_id", pl.col("trace_codes").str.split(";").alias("code"))
        .explode("code")
    )
    assert codes["code"].str.contains(r"^\d{20}$").all()
    repeated = codes.group_by("code").agg(pl.col("claim_id").unique()).filter(pl.col("claim_id").list.len() > 1)
    resale_claims = {c for r in rings(truth, "trace_code_resale") for c in r["claim_ids"]}
    assert repeated.height > 0
    assert set(repeated.explode("claim_id")["claim_id"]) <= resale_claims
    for ring in rings(truth, "trace_code_resale"):
        mine = of(claims, ring)
        twice = repeated.explode("claim_id").filter(pl.col("claim_id").is_in(ring["claim_ids"]))
        at = twice.join(mine.select("claim_id", "facility_id", "card_id"), on="claim_id")
        per_code = at.group_by("code").agg(pl.col("facility_id").n_unique(), pl.col("card_id").n_unique())
        assert (per_code["facility_id"] == 2).all() and (per_code["card_id"] == 2).all()
        assert set(mine["facility_id"]) >= set(ring["members"]["facilities"])


def test_repeated_admission_and_split_charges(data) -> None:
    claims, items, truth, ring_claims = data
    stays = claims.filter(pl.col("visit_type") == "inpatient")
    bg_max = background(stays, ring_claims).group_by("patient_id", "facility_id").len()["len"].max()
    for ring in rings(truth, "repeated_admission"):
        per = of(stays, ring).group_by("patient_id").len()
        assert per["len"].min() >= 3 and per["len"].min() > bg_max
        assert of(stays, ring)["insurance_type"].unique().to_list() == ["resident"]
    for ring in rings(truth, "split_charges"):
        mine = of(stays, ring).sort("patient_id", "admit_time")
        gaps = mine.with_columns(
            gap=(pl.col("admit_time") - pl.col("discharge_time").shift().over("patient_id")).dt.total_days()
        )
        assert gaps["gap"].drop_nulls().max() <= 3
        assert mine.group_by("patient_id").agg(pl.col("diagnosis_code").n_unique())["diagnosis_code"].max() == 1
        dup = of(items, ring).group_by("claim_id", "item_code").len().filter(pl.col("len") > 1)
        assert dup["claim_id"].n_unique() == mine.height
    bg_dup = background(items, ring_claims).group_by("claim_id", "item_code").len().filter(pl.col("len") > 1)
    assert bg_dup.height == 0


def test_recurrence_pauses_after_rectification_and_comes_back(data) -> None:
    claims, _, truth, _ = data
    for ring in rings(truth, "recurrence"):
        rectified = date.fromisoformat(ring["rectification_date"])
        days = of(claims, ring)["claim_time"].dt.date()
        assert (days < rectified).any() and (days > rectified + timedelta(days=10)).any()
        assert not ((days >= rectified) & (days <= rectified + timedelta(days=10))).any()


def test_nursing_homes_share_address_and_desk_phone_but_visit_normally(data) -> None:
    claims, _, truth, ring_claims = data
    homes = [g for g in truth["lookalikes"] if g["kind"] == "nursing_home"]
    assert homes
    for home in homes:
        theirs = claims.filter(pl.col("patient_id").is_in(home["members"]["patients"]))
        assert theirs["patient_address"].unique().to_list() == home["members"]["addresses"]
        assert theirs["contact_phone"].unique().to_list() == home["members"]["phones"]
        assert not set(theirs["claim_id"]) & ring_claims
        assert theirs["claim_time"].dt.date().n_unique() >= 20  # visits spread over the period
        assert _co_admissions(theirs).filter(pl.col("len") >= 2).height == 0
