"""Each named detector on small hand-made claims where the answer is known, look-alikes included."""

from __future__ import annotations

import json

import polars as pl
import pytest

from ringsight.algorithms.detectors import (
    DETECTORS,
    admissions,
    prescriptions,
    shared_attributes,
    swiping,
    trace_codes,
    travel,
)
from ringsight.algorithms.frames import claims_frame, items_frame
from ringsight.algorithms.leads import LEAD_SCHEMA
from ringsight.config import DetectThresholds

T = DetectThresholds()
T0 = 1_751_299_200  # 2025-07-01 00:00 +08:00
DAY = 86_400


def _claims(rows: list[dict]) -> pl.DataFrame:
    return claims_frame([{"claim_id": f"c{i:04d}", "total_amount": 100.0, **r} for i, r in enumerate(rows)])


def _keys(lead: dict, label: str) -> set[str]:
    return {m["key"] for m in lead["members"] if m["label"] == label}


def test_every_detector_returns_the_lead_schema_on_empty_input() -> None:
    empty_c, empty_i = claims_frame([]), items_frame([])
    for name, fn in DETECTORS.items():
        out = fn(empty_c, empty_i, T)
        assert dict(out.schema) == LEAD_SCHEMA, name
        assert out.is_empty(), name


def test_shared_card_flags_a_card_of_many_persons_not_a_family_card() -> None:
    rows = [{"pid": f"p{i}", "card_id": "K1", "address_key": f"a{i}"} for i in range(4)]
    rows += [{"pid": f"h{i}", "card_id": "FAMILY", "address_key": "home"} for i in range(2)]
    leads = shared_attributes.shared_card(_claims(rows), T)
    assert leads.height == 1
    lead = leads.row(0, named=True)
    assert _keys(lead, "Card") == {"K1"}
    assert _keys(lead, "Patient") == {"p0", "p1", "p2", "p3"}
    assert "4" in lead["evidence_en"] and "4" in lead["evidence_zh"]
    assert json.loads(lead["numbers"])["persons"] == 4


def test_shared_phone_ignores_a_nursing_home_front_desk_phone() -> None:
    ring = [{"pid": f"r{i}", "contact_phone": "13999990000", "address_key": f"village{i}"} for i in range(6)]
    home = [{"pid": f"n{i}", "contact_phone": "01060000000", "address_key": "nursing-home"} for i in range(30)]
    leads = shared_attributes.shared_phone(_claims(ring + home), T)
    assert leads.height == 1
    assert _keys(leads.row(0, named=True), "Phone") == {"13999990000"}


def test_shared_address_between_household_and_institution_only() -> None:
    rows = [{"pid": f"x{i}", "address_key": "flat-9"} for i in range(8)]  # 8 unrelated persons
    rows += [{"pid": f"h{i}", "address_key": "family"} for i in range(3)]  # a household
    rows += [{"pid": f"d{i}", "address_key": "dormitory"} for i in range(40)]  # an institution
    leads = shared_attributes.shared_address(_claims(rows), T)
    assert [_keys(r, "Address") for r in leads.iter_rows(named=True)] == [{"flat-9"}]


def test_burst_swiping_finds_collected_cards_not_a_busy_counter() -> None:
    rows = []
    for d in (2, 9, 16):  # the same 6 cards at night at terminal 7, three times
        rows += [
            {
                "pid": f"r{j}",
                "card_id": f"ring{j}",
                "facility_code": "P11010500019",
                "terminal_id": "7",
                "claim_ts": T0 + d * DAY + 23 * 3600 + 60 * j,
                "total_amount": 300.0,
            }
            for j in range(6)
        ]
    for k in range(400):  # a busy counter: many different customers, 6+ per half hour, never the same ones
        rows.append(
            {
                "pid": f"c{k}",
                "card_id": f"cust{k}",
                "facility_code": "P11010500020",
                "terminal_id": "1",
                "claim_ts": T0 + (k // 8) * 3600 + (k % 8) * 200,
            }
        )
    leads = swiping.burst_swiping(_claims(rows), T)
    assert leads.height == 1
    lead = leads.row(0, named=True)
    assert _keys(lead, "Card") == {f"ring{j}" for j in range(6)}
    assert _keys(lead, "Terminal") == {"P11010500019:7"}
    assert json.loads(lead["numbers"])["off_hours"] == 1.0


def test_burst_swiping_run_in_facility_shards_finds_the_same_leads(monkeypatch: pytest.MonkeyPatch) -> None:
    """The burst scan runs a few facilities at a time on large windows; a ring must not be lost at a cut."""
    rows = []
    for shop in range(6):  # six shops, each swiping its own 5 collected cards at night on three days
        for d in (1, 8, 15):
            rows += [
                {
                    "pid": f"s{shop}p{j}",
                    "card_id": f"s{shop}k{j}",
                    "facility_code": f"P1101050{shop:04d}",
                    "facility_kind": "pharmacy",
                    "terminal_id": "9",
                    "claim_ts": T0 + d * DAY + 23 * 3600 + 90 * j,
                    "total_amount": 200.0,
                }
                for j in range(5)
            ]
    whole = swiping.burst_swiping(_claims(rows), T).sort("evidence_en")
    monkeypatch.setattr(swiping, "_SHARD_ROWS", 10)  # 90 swipes: nine shards
    sharded = swiping.burst_swiping(_claims(rows), T).sort("evidence_en")
    assert whole.height == 6
    assert sharded.equals(whole)


def test_identical_baskets_at_one_pharmacy_but_not_a_common_basket() -> None:
    claims, items = [], []
    for i in range(6):  # one odd 3-item basket on six cards at P1 only
        claims.append({"pid": f"p{i}", "card_id": f"k{i}", "facility_code": "P1", "facility_kind": "pharmacy"})
        items += [{"claim_id": f"c{i:04d}", "item_code": code, "quantity": 2.0} for code in ("C01", "C02", "C03")]
    for i in range(6, 30):  # a common 2-item basket, bought everywhere
        claims.append(
            {"pid": f"p{i}", "card_id": f"k{i}", "facility_code": f"P{i % 5 + 2}", "facility_kind": "pharmacy"}
        )
        items += [{"claim_id": f"c{i:04d}", "item_code": code, "quantity": 1.0} for code in ("X10", "X11")]
    leads = swiping.identical_baskets(_claims(claims), items_frame(items), T)
    assert leads.height == 1
    assert _keys(leads.row(0, named=True), "Facility") == {"P1"}


def _stay(pid: str, fac: str, day: int, days: int = 6, **kw) -> dict:
    return {
        "pid": pid,
        "facility_code": fac,
        "visit_type": "inpatient",
        "admit_ts": T0 + day * DAY + 9 * 3600,
        "discharge_ts": T0 + (day + days) * DAY + 9 * 3600,
        "claim_ts": T0 + (day + days) * DAY + 10 * 3600,
        "diagnosis_code": "I63.9",
        **kw,
    }


def test_co_admission_groups_repeat_together_while_a_crowd_does_not_count() -> None:
    rows = [_stay(f"r{i}", "H9", d) for d in (5, 30) for i in range(5)]
    rows += [_stay(f"crowd{i}", "H1", 3) for i in range(60)]  # a big hospital's busy day, twice
    rows += [_stay(f"crowd{i}", "H1", 40) for i in range(60)]
    rows += [_stay(f"once{i}", "H2", 8) for i in range(4)]  # together only once
    leads = admissions.co_admission(_claims(rows), T)
    assert leads.height == 1
    lead = leads.row(0, named=True)
    assert _keys(lead, "Patient") == {f"r{i}" for i in range(5)}
    assert _keys(lead, "Facility") == {"H9"}


def test_co_admission_finds_a_group_booked_in_over_three_days() -> None:
    """A recruited group (one recruiter's contact phone) admitted over three days, staying the same week,
    three times: one lead. Without the shared phone, a few days apart is not 'together' enough."""
    rows = [
        _stay(f"v{i}", "H7", d + i % 3, 8, contact_phone="phone:recruiter")
        for d in (4, 33, 61)
        for i in range(9)
        if (i + d) % 5
    ]
    unlinked = [{k: v for k, v in r.items() if k != "contact_phone"} for r in rows]
    assert not any(
        len(_keys(lead, "Patient")) > 3 for lead in admissions.co_admission(_claims(unlinked), T).iter_rows(named=True)
    )
    leads = admissions.co_admission(_claims(rows), T)
    assert leads.height == 1
    lead = leads.row(0, named=True)
    assert _keys(lead, "Patient") == {f"v{i}" for i in range(9)}
    assert json.loads(lead["numbers"])["episodes"] == 3
    exact = T.model_copy(update={"co_admit_spread_days": 0})
    pieces = admissions.co_admission(_claims(rows), exact)  # same-day groups alone see only day-sized pieces
    assert all(len(_keys(lead, "Patient")) <= 3 for lead in pieces.iter_rows(named=True))


def test_co_admission_leaves_a_ward_of_chronic_patients_alone() -> None:
    """A small hospital's ward: patients come back every few weeks, admitted on their own days, stays
    of their own length; they meet within a few days by chance, now and then three at a time."""
    import random

    rng = random.Random(12)
    rows = []
    for i in range(30):
        day = rng.randrange(0, 20)
        while day < 80:
            rows.append(_stay(f"w{i}", "H8", day, rng.randrange(3, 12)))
            day += rng.randrange(15, 40)
    assert admissions.co_admission(_claims(rows), T).is_empty()
    # the same ward filled from one care home: residents share its landline and address (an institution's)
    residents = [{**r, "contact_phone": "phone:landline", "address_key": "addr:care-home"} for r in rows]
    assert admissions.co_admission(_claims(residents), T).is_empty()


def test_repeated_admission_and_split_charges() -> None:
    rows = [_stay(f"p{k}", "H5", d, 4, doctor_code="D1") for k in range(3) for d in (0, 5, 10, 15)]  # readmitted
    rows += [_stay("lone", "H6", d, 4, doctor_code="D2") for d in (0, 20, 40, 60)]  # one chronic patient alone
    rows += [_stay("p9", "H5", 40, 4, doctor_code="D1")]
    claims = _claims(rows)
    rep = admissions.repeated_admission(claims, T)
    assert rep.height == 1 and _keys(rep.row(0, named=True), "Patient") == {"p0", "p1", "p2"}
    split = admissions.split_charges(claims, T)
    assert split.height == 1
    assert _keys(split.row(0, named=True), "Doctor") == {"D1"}
    assert json.loads(split["numbers"][0])["splits"] == 9


def test_stay_overlap_needs_barely_treated_stays_and_claims_elsewhere() -> None:
    rows = [_stay(f"p{i}", "H1", 0, 10) for i in range(3)] + [_stay("treated", "H1", 0, 10)]
    rows += [
        {"pid": f"p{i}", "facility_code": "P7", "visit_type": "pharmacy", "claim_ts": T0 + 5 * DAY} for i in (0, 1)
    ]
    rows += [{"pid": "p2", "facility_code": "H1", "visit_type": "outpatient", "claim_ts": T0 + 5 * DAY}]  # same place
    rows += [{"pid": "treated", "facility_code": "P7", "visit_type": "pharmacy", "claim_ts": T0 + 5 * DAY}]
    rows += [_stay(f"other{i}", f"H{i}", 0, 4) for i in range(2, 12)]  # ordinary stays at other hospitals
    items = [{"claim_id": "c0003", "item_code": f"S{j}", "quantity": 1.0} for j in range(30)]  # a real treatment
    items += [{"claim_id": f"c{8 + i:04d}", "item_code": f"S{j}", "quantity": 1.0} for i in range(10) for j in range(9)]
    items += [{"claim_id": f"c000{i}", "item_code": "BED", "quantity": 10.0} for i in range(3)]
    leads = admissions.stay_overlap(_claims(rows), items_frame(items), T)
    assert leads.height == 1
    assert _keys(leads.row(0, named=True), "Patient") == {"p0", "p1"}


def test_shared_bed_flags_overlapping_stays_on_one_bed() -> None:
    rows = [
        _stay("a", "H1", 0, 10, bed_no="7"),
        _stay("b", "H1", 3, 10, bed_no="7"),
        _stay("c", "H1", 11, 5, bed_no="7"),
    ]
    rows += [_stay("d", "H1", 0, 10, bed_no="8"), _stay("e", "H1", 10, 10, bed_no="8")]  # one after the other
    rows += [_stay("f", "H2", 0, 10, bed_no="8"), _stay("g", "H2", 5, 10, bed_no="8")]  # a one-off overlap
    leads = admissions.shared_bed(_claims(rows), T)
    assert leads.height == 1
    assert _keys(leads.row(0, named=True), "Patient") == {"a", "b", "c"}


def test_doctor_pharmacy_lift_ignores_the_hospital_side_pharmacy() -> None:
    rows = []
    # hospital H1: doctor D1 sends 20 prescriptions to P-COLLUDE; colleagues D2..D5 spread theirs
    for d in range(1, 6):
        rows.append({"pid": "x", "facility_code": "H1", "facility_kind": "hospital", "doctor_code": f"D{d}"})
    rows += [
        {"pid": f"a{i}", "facility_code": "P-COLLUDE", "facility_kind": "pharmacy", "doctor_code": "D1"}
        for i in range(20)
    ]
    rows += [
        {"pid": f"b{i}", "facility_code": f"P{i % 6}", "facility_kind": "pharmacy", "doctor_code": f"D{2 + i % 4}"}
        for i in range(60)
    ]
    # hospital H2: every doctor's prescriptions go mostly to the pharmacy by its gate
    for d in range(10, 15):
        rows.append({"pid": "y", "facility_code": "H2", "facility_kind": "hospital", "doctor_code": f"D{d}"})
        rows += [
            {"pid": f"g{d}-{i}", "facility_code": "P-GATE", "facility_kind": "pharmacy", "doctor_code": f"D{d}"}
            for i in range(20)
        ]
    # a specialty pharmacy beside H3 fills oncologist D20's prescriptions, each right after a visit to D20
    for d in range(20, 24):
        rows.append({"pid": "z", "facility_code": "H3", "facility_kind": "hospital", "doctor_code": f"D{d}"})
    rows += [
        {
            "pid": f"o{i}",
            "facility_code": "H3",
            "facility_kind": "hospital",
            "doctor_code": "D20",
            "claim_ts": T0 + i * DAY,
        }
        for i in range(20)
    ]
    rows += [
        {
            "pid": f"o{i}",
            "facility_code": "P-ONCO",
            "facility_kind": "pharmacy",
            "doctor_code": "D20",
            "claim_ts": T0 + i * DAY + 3600,
            "operator_id": f"op{i % 3}",
        }
        for i in range(20)
    ]
    rows += [
        {"pid": f"q{i}", "facility_code": f"P{i % 6}", "facility_kind": "pharmacy", "doctor_code": f"D{21 + i % 3}"}
        for i in range(30)
    ]
    leads = prescriptions.doctor_pharmacy(_claims(rows), items_frame([]), T)
    assert leads.height == 1
    lead = leads.row(0, named=True)
    assert _keys(lead, "Doctor") == {"D1"} and _keys(lead, "Facility") == {"P-COLLUDE"}
    assert json.loads(lead["numbers"])["lift"] >= T.doctor_pharmacy_min_lift


def test_drug_shopping_beyond_need_across_pharmacies() -> None:
    claims, items = [], []
    for i in range(4):  # the reseller: 4 pharmacies, 5 packs each
        claims.append({"pid": "seller", "card_id": "ks", "facility_code": f"P{i}", "facility_kind": "pharmacy"})
    for i in range(4, 40):  # ordinary buyers: one pack at one pharmacy
        claims.append({"pid": f"b{i}", "card_id": f"k{i}", "facility_code": f"P{i % 4}", "facility_kind": "pharmacy"})
    for i in range(40):
        items.append(
            {
                "claim_id": f"c{i:04d}",
                "item_code": "X0001",
                "quantity": 5.0 if i < 4 else 1.0,
                "item_category": "drug",
                "amount": 2600.0 if i < 4 else 520.0,
            }
        )
    # a chronic patient refilling a cheap drug at several pharmacies: many packs, little money
    for i in range(4):
        claims.append({"pid": "chronic", "card_id": "kc", "facility_code": f"P{i}", "facility_kind": "pharmacy"})
        items.append(
            {
                "claim_id": f"c{40 + i:04d}",
                "item_code": "X0001",
                "quantity": 5.0,
                "item_category": "drug",
                "amount": 50.0,
            }
        )
    leads = prescriptions.drug_shopping(_claims(claims), items_frame(items), T)
    assert leads.height == 1
    assert _keys(leads.row(0, named=True), "Patient") == {"seller"}


def test_drug_shopping_counts_cues_over_a_buyers_drugs_not_one_gate() -> None:
    """A toured buyer spreads money over three dear drugs (no single drug reaches 10,000 CNY);
    a cancer patient buys a dear drug at the designated pharmacies at the usual quantity; a caregiver
    fetches two cheap drugs at the shops round the corner."""
    claims, items = [], []

    def buy(pid: str, shop: str, code: str, packs: float, amount: float, ts: int | None = None, home: str = "") -> None:
        claims.append(
            {"pid": pid, "card_id": f"k-{pid}", "facility_code": shop, "facility_kind": "pharmacy", "claim_ts": ts}
            | {"address_key": home or None}
        )
        items.append(
            {"claim_id": f"c{len(claims) - 1:04d}", "item_code": code, "quantity": packs, "amount": amount}
            | {"item_category": "drug"}
        )

    east = ["P11010500011", "P11010500012"]  # 朝阳
    west = ["P11010800021", "P11010800022"]  # 海淀
    for code, price in (("XDEAR1", 400.0), ("XDEAR2", 550.0), ("ZDEAR3", 780.0)):
        for shop in (east[0], east[1], west[0]):
            buy("toured", shop, code, 4.0, 4 * price)  # 12 packs a drug, 4,800-9,360 CNY a drug
        for i in range(30):  # ordinary buyers: one pack
            buy(f"b{code}{i}", (east + west)[i % 4], code, 1.0, price)
    for shop in ("P11010500031", "P11010500032", "P11010500033"):
        buy("cancer", shop, "XGEFI", 2.0, 2 * 2_700.0)  # 6 packs, 16,200 CNY
    for i in range(12):  # other patients on the same drug buy about as much
        buy(f"onc{i}", "P11010500031", "XGEFI", 6.0, 6 * 2_700.0)
    for code in ("XCHEAP1", "XCHEAP2"):
        for shop in [*east, "P11010500013"]:
            buy("carer", shop, code, 4.0, 40.0)  # 12 packs of each, 5x the median buyer, little money
        for i in range(10):
            buy(f"c{code}{i}", east[i % 2], code, 1.0, 10.0)
    for day, shops in ((3, east), (9, [east[0], west[0]])):  # a dealer's car: two holders, one dear drug
        for k, shop in enumerate(shops):
            for j, rider in enumerate(("car-甲", "car-乙")):
                buy(rider, shop, "ZDEAR3", 3.0, 3 * 780.0, T0 + day * DAY + 10 * 3600 + k * 3600 + j * 240)
    for day, shops in ((4, east), (10, [east[0], west[0]])):  # a couple stocking up: one home
        for k, shop in enumerate(shops):
            for j, spouse in enumerate(("夫", "妻")):
                buy(
                    spouse,
                    shop,
                    "ZDEAR3",
                    3.0,
                    3 * 780.0,
                    T0 + day * DAY + 15 * 3600 + k * 3600 + j * 60,
                    "幸福里 3 号",
                )
    for j, loner in enumerate(("solo-甲", "solo-乙")):  # two heavy buyers who met at one shop once
        for k, shop in enumerate([east[1], west[1], "P11010500014"]):
            buy(loner, shop, "ZDEAR3", 4.0, 4 * 780.0, T0 + (20 + k * 5 * (j + 1)) * DAY + 9 * 3600 + j * 300)
    leads = prescriptions.drug_shopping(_claims(claims), items_frame(items), T).sort("evidence_en")
    buyers = sorted(next(iter(_keys(r, "Patient"))) for r in leads.iter_rows(named=True))
    assert buyers == ["car-乙", "car-甲", "toured"]  # 9,360 CNY each, but bought together at two shops
    car = leads.filter(pl.col("evidence_en").str.contains("together")).row(0, named=True)
    assert json.loads(car["numbers"])["together"] and not json.loads(car["numbers"])["money_cue"]
    leads = leads.filter(pl.col("evidence_en").str.contains("3 drugs"))
    numbers = json.loads(leads["numbers"][0])
    assert numbers["n_drugs"] == 3 and numbers["n_counties"] == 2 and numbers["amount"] == 3 * 4 * (400 + 550 + 780)
    assert numbers["money_cue"] and numbers["dear_drug"] and not numbers["many_pharmacies"]
    assert "several_drugs" in leads["evidence_en"][0]
    assert _keys(leads.row(0, named=True), "Facility") == {east[0], east[1], west[0]}


def test_drug_shopping_yardstick_is_not_set_by_the_ring_that_buys_most_of_a_rare_drug() -> None:
    """Six resellers buy most of a rare dear drug (20 packs each, four pharmacies); four patients one pack."""
    claims, items = [], []
    for k in range(6):
        for shop in range(4):
            claims.append({"pid": f"贩{k}", "facility_code": f"P1101050000{shop}", "facility_kind": "pharmacy"})
            items.append({"claim_id": f"c{len(claims) - 1:04d}", "item_code": "XRARE", "quantity": 5.0})
            items[-1] |= {"item_category": "drug", "amount": 5 * 620.0}
    for k in range(4):
        claims.append({"pid": f"病{k}", "facility_code": "P11010500000", "facility_kind": "pharmacy"})
        items.append({"claim_id": f"c{len(claims) - 1:04d}", "item_code": "XRARE", "quantity": 1.0})
        items[-1] |= {"item_category": "drug", "amount": 620.0}
    leads = prescriptions.drug_shopping(_claims(claims), items_frame(items), T)
    assert sorted(next(iter(_keys(r, "Patient"))) for r in leads.iter_rows(named=True)) == [f"贩{k}" for k in range(6)]
    assert {json.loads(n)["median_packs"] for n in leads["numbers"]} == {1.0}


def test_impossible_travel_between_cities_not_within_a_day_apart() -> None:
    rows = [
        {"pid": "p1", "card_id": "K1", "facility_code": "H11010500001", "claim_ts": T0 + 10 * 3600},
        {"pid": "p1", "card_id": "K1", "facility_code": "H31010100001", "claim_ts": T0 + 10 * 3600 + 1800},
        {"pid": "p2", "card_id": "K2", "facility_code": "H11010500001", "claim_ts": T0 + 10 * 3600},
        {"pid": "p2", "card_id": "K2", "facility_code": "H31010100001", "claim_ts": T0 + 2 * DAY},
    ]
    leads = travel.impossible_travel(_claims(rows), T)
    assert leads.height == 1
    lead = leads.row(0, named=True)
    assert _keys(lead, "Card") == {"K1"}
    assert json.loads(lead["numbers"])["other_city"] is True


def test_trace_code_settled_twice_links_seller_and_reseller() -> None:
    claims = [
        {"pid": "a", "card_id": "ka", "facility_code": "P1", "claim_ts": T0},
        {"pid": "b", "card_id": "kb", "facility_code": "P2", "claim_ts": T0 + DAY},
        {"pid": "c", "card_id": "kc", "facility_code": "P3", "claim_ts": T0 + DAY},
    ]
    items = [
        {"claim_id": "c0000", "item_code": "X1", "quantity": 1.0, "trace_codes": ["T-1", "T-2"]},
        {"claim_id": "c0001", "item_code": "X1", "quantity": 1.0, "trace_codes": ["T-1", "T-2"]},
        {"claim_id": "c0002", "item_code": "X1", "quantity": 1.0, "trace_codes": ["T-3"]},
    ]
    leads = trace_codes.trace_code_resale(_claims(claims), items_frame(items), T)
    assert leads.height == 1
    lead = leads.row(0, named=True)
    assert _keys(lead, "Facility") == {"P1", "P2"}
    assert {m["key"] for m in lead["members"] if m["role"] == "reseller"} == {"P2"}
    assert json.loads(lead["numbers"])["codes"] == 2


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_detectors_are_deterministic(name: str) -> None:
    from ringsight.algorithms.sample import build

    world = build(seed=3)
    first = DETECTORS[name](world.claims, world.items, T)
    second = DETECTORS[name](world.claims.sample(fraction=1.0, shuffle=True, seed=5), world.items, T)
    key = ["evidence_en", "strength"]
    assert first.sort(key).equals(second.sort(key))
