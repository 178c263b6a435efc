"""Rings rendered unlike our generator, each beside the legitimate look-alike it must not be taken for.

The frames are written by hand: keyed ids (pseudonyms, not resident ids),
real division codes of 成都 inside the facility codes, times chosen to sit
on either side of the thresholds.
"""

from __future__ import annotations

import json

import polars as pl

from ringsight.algorithms.detectors import travel
from ringsight.algorithms.frames import claims_frame
from ringsight.config import DetectThresholds

T = DetectThresholds()
T0 = 1_751_335_200  # 2025-07-01 10:00 +08:00
DAY = 86_400
MIN = 60

JINTANG_CLINIC = "H51012100031"  # 金堂县
JINTANG_CLINIC_2 = "H51012100032"
PUJIANG_HUB = "H51013100007"  # 蒲江县, ~114 km from 金堂
PUJIANG_HOSPITAL = "H51013100002"


def _frame(rows: list[dict]) -> pl.DataFrame:
    return claims_frame([{"claim_id": f"x{i:05d}", "total_amount": 86.5, **r} for i, r in enumerate(rows)])


def _keys(lead: dict, label: str, role: str | None = None) -> set[str]:
    return {m["key"] for m in lead["members"] if m["label"] == label and (role is None or m["role"] == role)}


def _impersonation_rows() -> list[dict]:
    rows: list[dict] = []
    # the ring: 5 holders from 金堂, each card settled at the 蒲江 hub 10–110 min after a claim at home, 3 times,
    # the holder's own phone on both claims
    for h in range(5):
        card, pid, phone = f"card:r{h}", f"person:r{h}", f"phone:r{h}"
        for k in range(3):
            t = T0 + (7 * k + h) * DAY
            rows.append(
                {"pid": pid, "card_id": card, "patient_phone": phone, "facility_code": JINTANG_CLINIC, "claim_ts": t}
            )
            rows.append(
                {
                    "pid": pid,
                    "card_id": card,
                    "patient_phone": phone,
                    "facility_code": PUJIANG_HUB,
                    "claim_ts": t + (10 + 25 * h + 5 * k) * MIN,
                }
            )
    # look-alike: 6 travellers from 金堂 seen at home in the morning and at a 蒲江 hospital 5–9 hours later,
    # several times each
    for h in range(6):
        card, pid, phone = f"card:t{h}", f"person:t{h}", f"phone:t{h}"
        for k in range(3):
            t = T0 - 2 * 3600 + (5 * k + h) * DAY
            rows.append(
                {"pid": pid, "card_id": card, "patient_phone": phone, "facility_code": JINTANG_CLINIC_2, "claim_ts": t}
            )
            rows.append(
                {
                    "pid": pid,
                    "card_id": card,
                    "patient_phone": phone,
                    "facility_code": PUJIANG_HOSPITAL,
                    "claim_ts": t + int((5 + h * 0.8) * 3600),
                }
            )
    # look-alike: one fast drive, once (far and fast, own phone, no hub)
    rows.append(
        {
            "pid": "person:d",
            "card_id": "card:d",
            "patient_phone": "phone:d",
            "facility_code": JINTANG_CLINIC_2,
            "claim_ts": T0,
        }
    )
    rows.append(
        {
            "pid": "person:d",
            "card_id": "card:d",
            "patient_phone": "phone:d",
            "facility_code": PUJIANG_HOSPITAL,
            "claim_ts": T0 + 100 * MIN,
        }
    )
    return rows


def test_impersonation_within_one_prefecture_is_found_and_travellers_are_not() -> None:
    leads = travel.impossible_travel(_frame(_impersonation_rows()), T)
    cards = {k for lead in leads.iter_rows(named=True) for k in _keys(lead, "Card")}
    assert cards == {f"card:r{h}" for h in range(5)}
    for lead in leads.iter_rows(named=True):
        numbers = json.loads(lead["numbers"])
        assert numbers["far"] and numbers["hub"] and numbers["repeated"]
        assert numbers["max_km"] >= 100 and numbers["other_city"] is False
        assert _keys(lead, "Facility", "hub_clinic") == {PUJIANG_HUB}
        assert "km" in lead["evidence_en"] and "card:r" in lead["evidence_en"]


def test_impersonation_cues_each_needed() -> None:
    """With the hub cue out of reach (a hub needs more cards than the ring has), two cues are not enough."""
    strict = T.model_copy(update={"travel_hub_min_cards": 6})
    leads = travel.impossible_travel(_frame(_impersonation_rows()), strict)
    assert leads.is_empty() or all(json.loads(n)["cues"] >= 3 for n in leads["numbers"])
    fewer = T.model_copy(update={"travel_hub_min_cards": 6, "travel_min_cues": 4})
    assert travel.impossible_travel(_frame(_impersonation_rows()), fewer).is_empty()


JINJIANG_HOSPITAL = "H51010400001"  # 锦江区
JINJIANG_GATE_PHARMACY = "P51010400020"  # by the hospital gate, same district
SHUANGLIU_PHARMACY = "P51011600044"  # 双流区, ~19 km away
OTHER_PHARMACIES = ["P51010400021", "P51010500022", "P51010600023"]


def _collusion_rows() -> tuple[list[dict], list[dict]]:
    """Doctor doc:A sends 90 % to a far pharmacy at 4× fills after real visits; doc:B 90 % next door, normal fills."""
    claims: list[dict] = []
    items: list[dict] = []

    def fill(pid: str, doctor: str, pharmacy: str, ts: int, qty: float, operator: str) -> None:
        cid = f"x{len(claims):05d}"
        claims.append(
            {
                "claim_id": cid,
                "pid": pid,
                "doctor_code": doctor,
                "facility_code": pharmacy,
                "facility_kind": "pharmacy",
                "claim_ts": ts,
                "operator_id": operator,
                "total_amount": 40 * qty,
            }
        )
        items.append(
            {"claim_id": cid, "item_code": "XC09AA05", "item_category": "drug", "quantity": qty, "amount": 40 * qty}
        )

    def visit(pid: str, doctor: str, ts: int) -> None:
        claims.append(
            {
                "claim_id": f"x{len(claims):05d}",
                "pid": pid,
                "doctor_code": doctor,
                "facility_code": JINJIANG_HOSPITAL,
                "facility_kind": "hospital",
                "claim_ts": ts,
                "total_amount": 25.0,
            }
        )

    for n, doctor, pharmacy, qty in (
        (30, "doc:A", SHUANGLIU_PHARMACY, 8.0),
        (30, "doc:B", JINJIANG_GATE_PHARMACY, 2.0),
    ):
        for i in range(n):
            pid, ts = f"person:{doctor[-1]}{i}", T0 + i * DAY
            visit(pid, doctor, ts)
            target = pharmacy if i % 10 else OTHER_PHARMACIES[i % 3]
            fill(pid, doctor, target, ts + 2 * 3600, qty if target == pharmacy else 2.0, f"op:{i % 4}")
    # colleagues whose prescriptions are spread over the district's pharmacies at the usual 2 packs
    for d in range(5):
        for i in range(12):
            pid, ts = f"person:c{d}-{i}", T0 + i * DAY
            visit(pid, f"doc:C{d}", ts)
            fill(pid, f"doc:C{d}", OTHER_PHARMACIES[(d + i) % 3], ts + 3600, 2.0, f"op:{i % 3}")
    return claims, items


def test_doctor_pharmacy_with_real_visits_found_by_distance_and_fill_size() -> None:
    from ringsight.algorithms.detectors import prescriptions
    from ringsight.algorithms.frames import items_frame

    claims, items = _collusion_rows()
    leads = prescriptions.doctor_pharmacy(claims_frame(claims), items_frame(items), T)
    assert leads.height == 1, leads["evidence_en"].to_list()
    lead = leads.row(0, named=True)
    assert _keys(lead, "Doctor") == {"doc:A"} and _keys(lead, "Facility") == {SHUANGLIU_PHARMACY}
    numbers = json.loads(lead["numbers"])
    assert numbers["far"] and numbers["big_fills"] and not numbers["no_visit_cue"] and not numbers["one_operator"]
    assert 12 <= numbers["km"] <= 45 and numbers["fill_ratio"] >= 3


def test_doctor_pharmacy_next_door_at_normal_quantities_is_not_a_lead() -> None:
    """Doctor B's concentration next door shows the lift cue only: below the two-cue bar."""
    from ringsight.algorithms.detectors import prescriptions
    from ringsight.algorithms.frames import items_frame

    claims, items = _collusion_rows()
    leads = prescriptions.doctor_pharmacy(claims_frame(claims), items_frame(items), T)
    assert "doc:B" not in {k for lead in leads.iter_rows(named=True) for k in _keys(lead, "Doctor")}
    one_cue = T.model_copy(update={"doctor_pharmacy_min_cues": 1})
    loose = prescriptions.doctor_pharmacy(claims_frame(claims), items_frame(items), one_cue)
    assert "doc:B" in {k for lead in loose.iter_rows(named=True) for k in _keys(lead, "Doctor")}
