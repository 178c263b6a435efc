"""Inpatient rings read through their second cues, each beside the legitimate look-alike it must not be taken for.

Hand-made frames with 成都 division codes inside the facility codes and keyed
ids; numbers chosen unlike the generator's (group sizes, stay lengths, gaps).
"""

from __future__ import annotations

import polars as pl

from ringsight.algorithms.detectors import admissions
from ringsight.algorithms.frames import claims_frame
from ringsight.config import DetectThresholds

T = DetectThresholds()
T0 = 1_751_335_200  # 2025-07-01 10:00 +08:00
DAY = 86_400
HOUR = 3_600

VILLAGE_CLINIC = "H51012100031"  # 金堂县
JINTANG_HOSPITAL = "H51012100002"  # the county's public hospital
PUJIANG_PRIVATE = "H51013100009"  # 蒲江县, a private hospital in another county


def _frame(rows: list[dict]) -> pl.DataFrame:
    return claims_frame([{"claim_id": f"x{i:05d}", "total_amount": 1860.0, **r} for i, r in enumerate(rows)])


def _keys(lead: dict, label: str, role: str | None = None) -> set[str]:
    return {m["key"] for m in lead["members"] if m["label"] == label and (role is None or m["role"] == role)}


def _visit(pid: str, facility: str, ts: int, doctor: str = "DOC-V1") -> dict:
    return {"pid": pid, "facility_code": facility, "visit_type": "outpatient", "claim_ts": ts, "doctor_code": doctor}


def _stay(pid: str, facility: str, admit: int, days: int, doctor: str, ownership: str, **extra) -> dict:
    return {
        "pid": pid,
        "facility_code": facility,
        "visit_type": "inpatient",
        "admit_ts": admit,
        "discharge_ts": admit + days * DAY,
        "claim_ts": admit + days * DAY,
        "doctor_code": doctor,
        "facility_ownership": ownership,
        "diagnosis_code": "I67.800",
        **extra,
    }


def _shuttle_rows(hospital: str = PUJIANG_PRIVATE, ownership: str = "private") -> list[dict]:
    """Seven villagers referred by their clinic, taken 2–3 at a time to a far hospital, each twice, stays 4–11 days."""
    rows = []
    riders = [f"vil:{i}" for i in range(7)]
    shuttles = [riders[0:3], riders[3:5], riders[5:7], [riders[1], riders[4]], [riders[0], riders[6], riders[3]]]
    shuttles.append([riders[2], riders[5]])
    for n, group in enumerate(shuttles):
        day = 6 + 17 * n
        for j, pid in enumerate(group):
            rows.append(_visit(pid, VILLAGE_CLINIC, T0 + (day - 1 - j % 2) * DAY - 2 * HOUR))
            rows.append(_stay(pid, hospital, T0 + day * DAY + j * 600, 4 + (n + 3 * j) % 8, "DOC-P1", ownership))
    return rows


def _catchment_rows() -> list[dict]:
    """A county hospital's ordinary intake from its village clinic: one referral at a time, seldom twice."""
    rows = []
    for i in range(30):
        day = 3 + 5 * i + (i % 3)
        pid = f"loc:{i % 26}"  # four patients come back once, months apart
        rows.append(_visit(pid, VILLAGE_CLINIC, T0 + (day - 1) * DAY))
        rows.append(_stay(pid, JINTANG_HOSPITAL, T0 + day * DAY, 3 + i % 9, f"DOC-J{i % 4}", "public"))
    return rows


def test_village_referrals_shuttled_to_a_far_private_hospital_are_induced_admissions() -> None:
    leads = admissions.co_admission(_frame(_shuttle_rows()), T)
    referred = [lead for lead in leads.iter_rows(named=True) if _keys(lead, "Facility", "referrer")]
    assert len(referred) == 1
    lead = referred[0]
    assert lead["typology"] == "induced_admission"
    assert _keys(lead, "Facility") == {VILLAGE_CLINIC, PUJIANG_PRIVATE}
    assert _keys(lead, "Patient") == {f"vil:{i}" for i in range(7)}
    assert _keys(lead, "Doctor", "referring_doctor") == {"DOC-V1"}
    assert "far" in lead["evidence_en"] and "private" in lead["evidence_en"]
    # no group there was admitted and discharged together: the first rule alone sees nothing
    frame = _frame(_shuttle_rows())
    assert admissions._co_admitted_groups(frame, admissions._stays(frame), T).is_empty()


def test_shuttles_need_cues_beside_the_batches() -> None:
    """The same batches to a public hospital of the referrer's own county show one cue (returns): no lead."""
    rows = _shuttle_rows(hospital=JINTANG_HOSPITAL, ownership="public")
    assert admissions.co_admission(_frame(rows), T).is_empty()
    strict = T.model_copy(update={"referral_min_cues": 3})
    assert admissions.co_admission(_frame(_shuttle_rows()), strict).height == 1  # all three cues hold
    public_far = _shuttle_rows(ownership="public")
    assert admissions.co_admission(_frame(public_far), T).height == 1  # far + returns: two cues
    assert admissions.co_admission(_frame(public_far), strict).is_empty()


def test_a_county_hospitals_catchment_referrals_are_not_a_lead() -> None:
    rows = _catchment_rows()
    assert admissions.co_admission(_frame(rows), T).is_empty()
    # even a far private hospital receiving one referral at a time forms no batches
    far = [
        {**r, "facility_code": PUJIANG_PRIVATE, "facility_ownership": "private"} if "admit_ts" in r else r for r in rows
    ]
    assert admissions.co_admission(_frame(far), T).is_empty()
