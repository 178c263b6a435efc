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
