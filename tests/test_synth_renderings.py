"""The third renderings of ringsight.synth.case_renderings leave their defining cues in the claims themselves.

One generated run plants every rendering (``renderings="all"``); each test reads
the claims and items files as a detector would and checks the cues the
rendering's description promises — and that the cues ``base`` shows but the
rendering leaves out are really absent.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import polars as pl
import pytest

from ringsight.synth import SynthConfig, generate
from ringsight.synth.catalog import ITEMS, PRICES, items_in

CONFIG = SynthConfig(claims=60_000, seed=11, renderings="all")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory):
    result = generate(CONFIG, tmp_path_factory.mktemp("synth-renderings"))
    claims = pl.read_csv(result.claims_path, infer_schema=False).with_columns(
        pl.col("claim_time", "admit_time", "discharge_time").str.to_datetime("%Y-%m-%d %H:%M:%S"),
        pl.col("total_amount").cast(pl.Float64),
    )
    items = pl.read_csv(result.items_path, infer_schema=False).with_columns(
        pl.col("quantity").cast(pl.Int64), pl.col("unit_price", "amount").cast(pl.Float64)
    )
    truth = json.loads(result.ground_truth_path.read_text(encoding="utf-8"))
    return claims, items, truth


def ring_of(truth: dict, rendering: str) -> dict:
    found = [r for r in truth["rings"] if r["rendering"] == rendering]
    assert len(found) == 1, rendering
    return found[0]


def of(frame: pl.DataFrame, ring: dict) -> pl.DataFrame:
    return frame.filter(pl.col("claim_id").is_in(ring["claim_ids"]))


def district(column: str) -> pl.Expr:
    """The 6-digit division inside a national facility code (H/P + 6 digits + 5)."""
    return pl.col(column).str.slice(1, 6)


def test_held_back_renderings_are_flagged_and_base_and_blurred_never_are(data) -> None:
    from ringsight.synth.renderings import HELD_BACK

    _, _, truth = data
    for ring in truth["rings"]:
        assert ring["held_back"] == ((ring["typology"], ring["rendering"]) in HELD_BACK), ring["ring_id"]
        assert not (ring["held_back"] and ring["rendering"] in ("base", "blurred")), ring["ring_id"]
    per: dict[str, set[str]] = {}
    for ring in truth["rings"]:
        per.setdefault(ring["typology"], set()).add(ring["rendering"])
    assert all(len(r) >= 3 for r in per.values()), per


def test_partner_pharmacies_bill_varied_goods_under_drug_codes_at_promotion_prices(data) -> None:
    claims, items, truth = data
    ring = ring_of(truth, "partner_pharmacies")
    mine, lines = of(claims, ring), of(items, ring)
    assert set(mine["facility_id"]) == set(ring["members"]["facilities"]) and len(ring["members"]["facilities"]) >= 2
    assert (mine["visit_type"] == "pharmacy").all()
    tonics = {ITEMS[i].code for i in items_in("tonic")}
    assert set(lines["item_code"]) <= tonics and (lines["item_category"] == "drug").all()
    list_price = {ITEMS[i].code: PRICES[i] / 100 for i in items_in("tonic")}
    off_list = lines.filter(pl.col("unit_price") != pl.col("item_code").replace_strict(list_price))
    assert off_list.height >= 0.8 * lines.height  # billed at the goods' price, not the drug's
    assert (lines["amount"] % 1 == 0).all()  # round promotion prices
    baskets = lines.group_by("claim_id").agg(pl.col("item_code").sort().str.join("|"), pl.col("quantity").sum())
    assert baskets.select("item_code", "quantity").n_unique() > baskets.height / 3  # not one identical basket
    # the same buyers come back at more than one partner shop
    assert (mine.group_by("card_id").agg(pl.col("facility_id").n_unique())["facility_id"] >= 2).any()


def test_pharmacy_tour_buys_several_expensive_drugs_across_districts_without_shared_contacts(data) -> None:
    claims, items, truth = data
    ring = ring_of(truth, "pharmacy_tour")
    mine = of(claims, ring).with_columns(day=pl.col("claim_time").dt.date())
    assert (mine["visit_type"] == "pharmacy").all()
    per_day = mine.group_by("card_id", "day").agg(pl.col("facility_id").n_unique())
    assert per_day["facility_id"].max() >= 3  # one card, several pharmacies on one day
    assert mine.select(district("facility_id")).n_unique() >= 2
    lines = of(items, ring)
    assert lines["item_code"].n_unique() >= 2
    assert (lines["unit_price"] >= 300).all()  # the high-value drugs only
    members = claims.filter(pl.col("patient_id").is_in(ring["members"]["patients"]))
    assert not ring["members"]["phones"] and not ring["members"]["addresses"]
    assert members.select("patient_id", "patient_phone").unique().height == members["patient_phone"].n_unique()
    assert members["patient_address"].n_unique() == len(ring["members"]["patients"])


def test_village_doctor_refers_and_a_shuttle_admits_small_groups_discharged_apart(data) -> None:
    claims, _, truth = data
    ring = ring_of(truth, "village_doctor")
    mine = of(claims, ring)
    stays = mine.filter(pl.col("visit_type") == "inpatient")
    referrals = mine.filter(pl.col("visit_type") == "outpatient")
    assert stays["facility_id"].n_unique() == 1 and referrals["facility_id"].n_unique() == 1
    assert referrals["facility_kind"].unique().to_list() == ["clinic"]
    assert stays.select(district("facility_id")).item(0, 0) != referrals.select(district("facility_id")).item(0, 0)
    # every stay follows a referral of the same patient at the village clinic, 1–2 days before
    paired = stays.join(referrals.select("patient_id", pl.col("claim_time").alias("ref")), on="patient_id")
    ok = paired.filter(
        (pl.col("ref") < pl.col("admit_time")) & (pl.col("ref") >= pl.col("admit_time") - timedelta(days=3))
    )
    assert ok["claim_id"].n_unique() == stays.height
    groups = stays.group_by(pl.col("admit_time").dt.date()).agg(
        pl.len(), pl.col("discharge_time").dt.date().n_unique().alias("discharges")
    )
    assert groups["len"].max() <= 4 and groups.height >= 5  # small shuttles spread over the period
    assert (groups.filter(pl.col("len") >= 2)["discharges"] >= 2).any()  # not discharged together
    members = claims.filter(pl.col("patient_id").is_in(ring["members"]["patients"]))
    assert members["contact_phone"].n_unique() > len(ring["members"]["patients"]) // 2  # no recruiter phone
    village = members["patient_address"].str.extract(r"^(.*村)", 1)
    assert village.n_unique() == 1 and members["patient_address"].n_unique() == len(ring["members"]["patients"])


def test_daily_elsewhere_stays_look_treated_while_the_patient_is_out_most_days(data) -> None:
    claims, items, truth = data
    ring = ring_of(truth, "daily_elsewhere")
    stays = of(claims, ring)
    assert (stays["visit_type"] == "inpatient").all()
    lines = of(items, ring).group_by("claim_id").len()
    stays = stays.join(lines, on="claim_id").with_columns(
        days=(pl.col("discharge_time") - pl.col("admit_time")).dt.total_days()
    )
    assert (stays["len"] / stays["days"] > 0.5).all()  # billed like real treatment
    assert stays["bed_no"].null_count() == stays.height or stays["bed_no"].n_unique() == stays.height
    away = claims.filter(~pl.col("claim_id").is_in(ring["claim_ids"])).select(
        "patient_id", pl.col("claim_time").alias("t"), pl.col("facility_id").alias("where")
    )
    inside = (
        stays.join(away, on="patient_id")
        .filter((pl.col("t") > pl.col("admit_time")) & (pl.col("t") < pl.col("discharge_time")))
        .filter(pl.col("where") != pl.col("facility_id"))
        .group_by("claim_id", "days")
        .agg(pl.col("t").dt.date().n_unique().alias("away_days"))
    )
    assert inside.height == stays.height
    assert (inside["away_days"] >= inside["days"] / 2).all()


def test_hospital_packages_return_singly_weeks_later_at_far_pharmacies(data) -> None:
    claims, items, truth = data
    ring = ring_of(truth, "hospital_packages")
    mine = of(claims, ring).select("claim_id", "claim_time", "facility_id", "facility_kind", "card_id")
    codes = (
        of(items, ring)
        .filter(pl.col("trace_codes").is_not_null())
        .select("claim_id", pl.col("trace_codes").str.split(";").alias("code"))
        .join(mine, on="claim_id")
    )
    sold = codes.filter(pl.col("facility_kind") == "hospital").explode("code")
    back = codes.filter(pl.col("facility_kind") == "pharmacy")
    assert back["code"].list.len().max() == 1  # one package per resale
    back = back.explode("code")
    assert set(back["facility_id"]) == set(ring["members"]["facilities"])
    assert 0.2 < back.height / sold.height < 0.8  # about half come back
    both = back.join(sold, on="code", suffix="_sold")
    assert both.height == back.height and (both["card_id"] != both["card_id_sold"]).all()
    assert ((both["claim_time"] - both["claim_time_sold"]).dt.total_days() >= 13).all()
    assert (both.select(district("facility_id") != district("facility_id_sold")).to_series()).all()


def test_rotating_doctors_readmit_aid_recipients_under_several_doctors_and_diagnoses(data) -> None:
    claims, _, truth = data
    ring = ring_of(truth, "rotating_doctors")
    stays = of(claims, ring)
    assert stays["facility_id"].n_unique() == 1 and (stays["insurance_type"] == "resident").all()
    per = stays.group_by("patient_id").agg(
        pl.len(), pl.col("doctor_id").n_unique(), pl.col("diagnosis_code").n_unique()
    )
    assert per["len"].min() >= 2 and per["len"].max() >= 3
    assert stays["doctor_id"].n_unique() >= 2 and stays["diagnosis_code"].n_unique() >= 3
    # no doctor re-admits one patient four times (base's one-doctor pattern is left out)
    assert stays.group_by("patient_id", "doctor_id").len()["len"].max() < 4


def test_sister_shop_takes_over_the_collected_cards_after_the_rectification(data) -> None:
    claims, _, truth = data
    ring = ring_of(truth, "sister_shop")
    rectified = date.fromisoformat(ring["rectification_date"])
    (old,) = ring["sanctioned_facilities"]
    (new,) = set(ring["members"]["facilities"]) - {old}
    mine = of(claims, ring)
    before, after = mine.filter(pl.col("facility_id") == old), mine.filter(pl.col("facility_id") == new)
    assert (before["claim_time"].dt.date() < rectified).all() and (after["claim_time"].dt.date() > rectified).all()
    assert set(after["card_id"]) <= set(before["card_id"]) and after["card_id"].n_unique() >= 3
    brand = before["facility_name"][0].split("大药房")[0]
    assert (
        after["facility_name"][0].startswith(brand + "大药房")
        and after["facility_name"][0] != before["facility_name"][0]
    )
    hour = after["claim_time"].dt.hour()
    assert ((hour >= 10) & (hour < 18)).all()  # business hours this time
    assert (after["total_amount"] % 10 != 0).mean() > 0.5  # ordinary amounts


def test_two_departments_readmit_the_same_day_under_another_department_with_the_scan_billed_twice(data) -> None:
    claims, items, truth = data
    ring = ring_of(truth, "two_departments")
    stays = of(claims, ring).sort("patient_id", "admit_time")
    pairs = stays.with_columns(
        prev_discharge=pl.col("discharge_time").shift().over("patient_id"),
        prev_dept=pl.col("department").shift().over("patient_id"),
        prev_diag=pl.col("diagnosis_code").shift().over("patient_id"),
        prev_claim=pl.col("claim_id").shift().over("patient_id"),
    ).filter(pl.col("prev_claim").is_not_null())
    assert pairs.height >= len(ring["members"]["patients"])
    assert (pairs["admit_time"].dt.date() == pairs["prev_discharge"].dt.date()).all()
    assert (pairs["department"] != pairs["prev_dept"]).all() and (pairs["diagnosis_code"] != pairs["prev_diag"]).all()
    ct = of(items, ring).filter(pl.col("item_name") == "胸部CT平扫").select("claim_id")
    assert (
        pairs.join(ct, on="claim_id", how="semi")
        .join(ct.rename({"claim_id": "prev_claim"}), on="prev_claim", how="semi")
        .height
        == pairs.height
    )


def test_every_rendering_gives_the_same_bytes_for_the_same_seed(data, tmp_path) -> None:
    claims, _, truth = data
    again = generate(CONFIG, tmp_path / "again")
    assert pl.read_csv(again.claims_path, infer_schema=False)["claim_id"].to_list() == claims["claim_id"].to_list()
    assert json.loads(again.ground_truth_path.read_text(encoding="utf-8")) == truth
    other = generate(CONFIG.model_copy(update={"seed": 12}), tmp_path / "other")
    assert json.loads(other.ground_truth_path.read_text(encoding="utf-8"))["rings"] != truth["rings"]


def _mismatched(claims: pl.DataFrame) -> pl.DataFrame:
    """The claims card_lending's rules flag (diagnosis against the holder's sex or birth cohort)."""
    from ringsight.algorithms.detectors import lending
    from ringsight.algorithms.engine import source_of
    from ringsight.loaders.normalise import birth_cohort

    frame = claims.select(
        "claim_id",
        "card_id",
        "diagnosis_code",
        "patient_gender",
        "patient_phone",
        pl.col("facility_id").alias("facility_code"),
        pl.col("facility_kind"),
        pl.col("patient_id").alias("pid"),
        pl.lit(0.0).alias("total_amount"),
        birth_cohort(pl.col("patient_birth_date").str.to_date()).alias("birth_cohort"),
        pl.col("claim_time").dt.replace_time_zone("Asia/Shanghai").dt.epoch("s").alias("claim_ts"),
    )
    src = source_of(frame)
    return lending.mismatch_rows(src, lending._checkable(src))


def test_lent_cards_are_used_at_one_clinic_of_the_holders_town_under_the_users_phones(data) -> None:
    claims, _, truth = data
    ring = ring_of(truth, "lent_cards")
    mine = of(claims, ring)
    assert mine["facility_id"].n_unique() == 1 and mine["facility_id"][0] == ring["members"]["facilities"][0]
    assert 6 <= len(ring["members"]["cards"]) <= 10
    # every pregnancy claim contradicts its holder (a man, or a woman past childbearing age); colds do not
    pregnancy = mine.filter(pl.col("diagnosis_code").is_in(["Z34.900", "O80.000"]))
    assert pregnancy.height >= 2 * len(ring["members"]["cards"])
    assert set(_mismatched(mine)["claim_id"]) == set(pregnancy["claim_id"])
    # the users' own phones, never the holders'; the holders' own claims are in the clinic's town: no travel
    others = claims.filter(
        pl.col("card_id").is_in(ring["members"]["cards"]) & ~pl.col("claim_id").is_in(mine["claim_id"])
    )
    assert not set(mine["patient_phone"]) & set(others["patient_phone"])
    assert set(mine["patient_phone"]) <= set(ring["members"]["phones"])
    home = others.group_by(district("facility_id").alias("d")).len().sort("len", descending=True)["d"][0]
    assert home == mine["facility_id"][0][1:7]


def test_background_claims_never_contradict_their_holder(data) -> None:
    claims, _, truth = data
    planted = {c for r in truth["rings"] for c in r["claim_ids"]}
    slips = next(g for g in truth["lookalikes"] if g["kind"] == "coding_slips")
    slip_people = set(slips["members"]["patients"])
    background = claims.filter(~pl.col("claim_id").is_in(planted) & ~pl.col("patient_id").is_in(slip_people))
    assert _mismatched(background).is_empty()
    # the coding slips: one mismatched claim per card, and that card's other claims at the same hospital
    slip_claims = claims.filter(pl.col("patient_id").is_in(slip_people))
    flagged = _mismatched(slip_claims)
    assert flagged.height == len(slip_people) and flagged["card_id"].n_unique() == len(slip_people)
    assert (
        slip_claims.filter(~pl.col("claim_id").is_in(flagged["claim_id"]))["facility_id"]
        .is_in(flagged["facility_code"])
        .any()
    )
