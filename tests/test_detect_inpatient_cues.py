"""Inpatient rings read through their second cues, each beside the legitimate look-alike it must not be taken for.

Hand-made frames with 成都 division codes inside the facility codes and keyed
ids; numbers chosen unlike the generator's (group sizes, stay lengths, gaps).
"""

from __future__ import annotations

import polars as pl

from ringsight.algorithms.detectors import admissions
from ringsight.algorithms.engine import source_of
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
    assert admissions._co_admitted_groups(source_of(_frame(_shuttle_rows())), T).is_empty()


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


PRIVATE_HOSPITAL = "H51010400021"  # 锦江区, private
PUBLIC_HOSPITAL = "H51010700001"  # 武侯区, public


def _rotating_rows() -> list[dict]:
    """Five aid recipients back 4–6 times at a private hospital under three doctors, another diagnosis each time."""
    diags = ("J44.900", "I10.x00", "I25.100", "E11.900", "I67.800", "K29.700")
    rows = []
    for i in range(5):
        day = 2 + 3 * i
        for n in range(4 + i % 3):
            los = 4 + (i + n) % 6
            admit = T0 + day * DAY
            rows.append(
                _stay(f"aid:{i}", PRIVATE_HOSPITAL, admit, los, f"DOC-R{(i + n) % 3}", "private",
                      diagnosis_code=diags[(i + 2 * n) % len(diags)])
            )  # fmt: skip
            day += los + 9 + (5 * i + 3 * n) % 15
    return rows


def _chronic_rows() -> list[dict]:
    """A public hospital's chronic patients (one condition each), back often, under whoever is on the ward."""
    rows = []
    for i in range(8):
        day = i
        for n in range(5):
            admit = T0 + day * DAY
            rows.append(
                _stay(f"chr:{i}", PUBLIC_HOSPITAL, admit, 6, f"DOC-W{(i + n) % 7}", "public",
                      diagnosis_code=("J44.900", "N18.500")[i % 2])
            )  # fmt: skip
            day += 6 + 20 + (i * n) % 11
    for i in range(60):  # and the rest of its intake, once each
        rows.append(_stay(f"one:{i}", PUBLIC_HOSPITAL, T0 + (i * 3) * DAY, 5, f"DOC-W{i % 7}", "public"))
    for i in range(40):  # other hospitals' patients, once each (the share across all facilities)
        rows.append(_stay(f"else:{i}", f"H5101050000{i % 4}", T0 + (i * 4) * DAY, 5, "DOC-E", "public"))
    return rows


def test_aid_recipients_rotated_between_doctors_are_a_facility_lead() -> None:
    rows = _rotating_rows() + _chronic_rows()
    leads = admissions.repeated_admission(_frame(rows), T)
    at = [lead for lead in leads.iter_rows(named=True) if PRIVATE_HOSPITAL in _keys(lead, "Facility")]
    assert len(at) == 1
    assert _keys(at[0], "Patient") == {f"aid:{i}" for i in range(5)}
    assert _keys(at[0], "Doctor") == {"DOC-R0", "DOC-R1", "DOC-R2"}
    assert "varied" in at[0]["evidence_en"] and "private" in at[0]["evidence_en"]
    # under one doctor no patient is back four times: the per-doctor rule alone sees nothing
    assert admissions._doctor_repeats(_frame(_rotating_rows()), T).is_empty()


def test_chronic_patients_of_a_public_hospital_under_many_doctors_are_not_a_lead() -> None:
    leads = admissions.repeated_admission(_frame(_chronic_rows()), T)
    assert not any(PUBLIC_HOSPITAL in _keys(lead, "Facility") for lead in leads.iter_rows(named=True))
    # the same patients at a private hospital show two cues (private, soon) of the three needed
    private = [
        {**r, "facility_ownership": "private"} if r["facility_code"] == PUBLIC_HOSPITAL else r for r in _chronic_rows()
    ]
    assert admissions.repeated_admission(_frame(private), T).is_empty()
    assert admissions.repeated_admission(_frame(private), T.model_copy(update={"repeat_min_cues": 2})).height == 1


def _stay_items(claim_id: str, los: int, *extra: tuple[str, float, float]) -> list[dict]:
    lines = [("床位费", los, 50.0 * los), ("一级护理", los, 30.0 * los), *extra]
    return [
        {"claim_id": claim_id, "item_code": code, "item_category": "service", "quantity": q, "amount": a}
        for code, q, a in lines
    ]


def _department_rows(scan_again: bool, diag2: str = "M54.500") -> tuple[list[dict], list[dict]]:
    """Orthopaedics discharge, same-day readmission under TCM; the CT billed again when ``scan_again``."""
    claims, items = [], []
    for i in range(4):
        admit = T0 + (10 * i) * DAY
        first, second = f"d{i}a", f"d{i}b"
        claims.append({"claim_id": first, "total_amount": 4200.0, **_stay(f"sp:{i}", PUBLIC_HOSPITAL, admit, 6,
                       f"DOC-O{i % 2}", "public", diagnosis_code="M47.800")})  # fmt: skip
        again = admit + 6 * DAY + 3 * HOUR
        claims.append({"claim_id": second, "total_amount": 2600.0, **_stay(f"sp:{i}", PUBLIC_HOSPITAL, again, 4,
                       f"DOC-T{i % 2}", "public", diagnosis_code=diag2)})  # fmt: skip
        items += _stay_items(first, 6, ("胸部CT平扫", 1, 250.0), ("康复理疗", 6, 480.0))
        own = ("胸部CT平扫", 1, 250.0) if scan_again else ("针灸治疗", 4, 320.0)
        items += _stay_items(second, 4, own, ("康复理疗", 4, 320.0))
    return claims, items


def _split_leads(claims: list[dict], items: list[dict]) -> pl.DataFrame:
    from ringsight.algorithms.frames import items_frame

    return admissions.split_charges(claims_frame(claims), T, items_frame(items))


def test_readmission_under_another_department_billing_the_scan_again_is_a_split() -> None:
    leads = _split_leads(*_department_rows(scan_again=True))
    assert leads.height == 1
    lead = leads.row(0, named=True)
    assert _keys(lead, "Doctor") == {"DOC-O0", "DOC-O1", "DOC-T0", "DOC-T1"}
    assert _keys(lead, "Patient") == {f"sp:{i}" for i in range(4)}
    assert "胸部CT平扫" in lead["evidence_en"]
    # an unrelated diagnosis still needs the same-day cue: a day's gap and another chapter is none
    claims, items = _department_rows(scan_again=True, diag2="I10.x00")
    later = [{**c, "admit_ts": c["admit_ts"] + 2 * DAY} if c["claim_id"].endswith("b") else c for c in claims]
    assert _split_leads(later, items).is_empty()
    assert _split_leads(claims, items).height == 1  # same day, unrelated diagnosis: one cue


def test_a_genuine_transfer_between_departments_is_not_a_split() -> None:
    """Same-day, related diagnosis, but the new ward bills its own items: no duplicate, no lead."""
    assert _split_leads(*_department_rows(scan_again=False)).is_empty()
    claims, _ = _department_rows(scan_again=True)
    assert admissions.split_charges(claims_frame(claims), T).is_empty()  # without items nothing to compare


HOLDING_HOSPITAL = "H51011200011"  # 龙泉驿区, a private primary hospital
HOME_CLINIC = "H51011200031"
HOME_PHARMACY = "H51011200051"


def _full_bill(claim_id: str, nights: int) -> list[dict]:
    """A bill with a line per day for the bed, the nursing and the infusion (as a ward's daily charges are)."""
    daily = [("床位费", 50.0), ("一级护理", 30.0), ("静脉输液", 15.0)] * nights
    lines = [*daily, ("血常规检查", 40.0)]
    return [
        {"claim_id": claim_id, "item_code": c, "item_category": "service", "quantity": 1, "amount": a} for c, a in lines
    ]


def _away_rows(days_away: list[int]) -> tuple[list[dict], list[dict]]:
    """Three patients on fully billed 10–13-night stays, out at their clinic or pharmacy on ``days_away``."""
    claims, items = [], []
    for i in range(3):
        admit = T0 + (7 * i) * DAY
        nights = 10 + i
        stay_id = f"h{i}"
        claims.append({"claim_id": stay_id, **_stay(f"hold:{i}", HOLDING_HOSPITAL, admit, nights, "DOC-H1", "private")})
        items += _full_bill(stay_id, nights)
        for n, d in enumerate(days_away):
            where, kind = (HOME_CLINIC, "outpatient") if n % 3 else (HOME_PHARMACY, "pharmacy")
            claims.append(
                {"claim_id": f"h{i}o{n}", "pid": f"hold:{i}", "facility_code": where, "visit_type": kind,
                 "claim_ts": admit + d * DAY + 5 * HOUR, "total_amount": 36.0}
            )  # fmt: skip
    for i in range(30):  # the hospital's and others' ordinary stays, fully billed, nobody away
        fac = HOLDING_HOSPITAL if i < 6 else f"H5101120000{i % 5}"
        claims.append({"claim_id": f"n{i}", **_stay(f"pat:{i}", fac, T0 + i * DAY, 9, "DOC-N", "public")})
        items += _full_bill(f"n{i}", 9)
    return claims, items


def _overlap_leads(claims: list[dict], items: list[dict]) -> pl.DataFrame:
    from ringsight.algorithms.frames import items_frame

    return admissions.stay_overlap(claims_frame(claims), items_frame(items), T)


def test_fully_billed_stays_while_out_most_days_are_bed_holding() -> None:
    leads = _overlap_leads(*_away_rows([1, 2, 3, 5, 6, 7, 8]))
    assert leads.height == 1
    lead = leads.row(0, named=True)
    assert _keys(lead, "Facility") == {HOLDING_HOSPITAL}
    assert _keys(lead, "Patient") == {f"hold:{i}" for i in range(3)}
    assert '"away_most_days":3' in lead["numbers"]


def test_one_pharmacy_fill_during_a_long_stay_is_not_bed_holding() -> None:
    assert _overlap_leads(*_away_rows([4])).is_empty()
    assert _overlap_leads(*_away_rows([2, 6])).is_empty()  # two days out of ten: not most days


def test_the_second_rules_give_the_same_leads_on_spark(spark_session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The rotating ward, the split across departments and the fully billed absences, scanned on Spark."""
    from ringsight.algorithms.detectors import run_detectors
    from ringsight.algorithms.engine import spark_source
    from ringsight.algorithms.frames import DETECT_ITEM_COLUMNS, items_frame

    split_claims, split_items = _department_rows(scan_again=True)
    away_claims, away_items = _away_rows([1, 2, 3, 5, 6, 7, 8])
    plain = [
        {"claim_id": f"r{i:04d}", "total_amount": 1860.0, **r} for i, r in enumerate(_rotating_rows() + _chronic_rows())
    ]
    claims = claims_frame(plain + split_claims + away_claims)
    items = items_frame(split_items + away_items)
    for name, frame in (("claims", claims), ("items", items)):
        frame.write_parquet(tmp_path / f"{name}.parquet")
    src = spark_source(
        spark_session.read.parquet(str(tmp_path / "claims.parquet")),
        spark_session.read.parquet(str(tmp_path / "items.parquet")).select(*DETECT_ITEM_COLUMNS),
    )
    names = ["repeated_admission", "split_charges", "stay_overlap"]
    on_polars, _ = run_detectors(claims, items, T, names)
    on_spark, _ = run_detectors(claims, items, T, names, source=src)
    assert on_spark.equals(on_polars)
    found = {d: n for d, n in on_polars.group_by("detector").len().iter_rows()}
    assert found == {"repeated_admission": 1, "split_charges": 1, "stay_overlap": 1}


def _co_admission_rows() -> list[dict]:
    """Every co_admission path at once: shuttles from a village clinic, a same-day group, a group booked in
    over three days under one recruiter's phone, a care home's residents (institution contacts), a crowd."""
    rows = _shuttle_rows()
    for d in (5, 30):  # five patients admitted and discharged on the very same days, twice (null doctor)
        rows += [_stay(f"同日{i}", "H51010400005", T0 + d * DAY, 6, None, "private") for i in range(5)]
    for d in (4, 33, 61):  # nine recruited patients admitted over three days, one contact phone
        rows += [
            _stay(f"招募{i}", "H51010400006", T0 + (d + i % 3) * DAY, 8, "DOC-Z", "private", contact_phone="招募电话")
            for i in range(9)
            if (i + d) % 5
        ]
    for d in (10, 55):  # a care home's residents, each on their own day: its landline is an institution's
        rows += [
            _stay(f"院民{i}", "H51010400007", T0 + (d + i) * DAY, 7, "DOC-C", "public", contact_phone="养老院座机")
            for i in range(30)
        ]
    rows += [_stay(f"人群{i}", "H51010400008", T0 + 3 * DAY, 4, "DOC-Q", "public") for i in range(60)]
    rows += [_stay(f"人群{i}", "H51010400008", T0 + 40 * DAY, 4, "DOC-Q", "public") for i in range(60)]
    return rows


def test_co_admission_gives_the_same_leads_on_spark(spark_session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ringsight.algorithms.detectors import run_detectors
    from ringsight.algorithms.engine import PORTED, spark_source

    claims = _frame(_co_admission_rows())
    claims.write_parquet(tmp_path / "claims.parquet")
    src = spark_source(spark_session.read.parquet(str(tmp_path / "claims.parquet")))
    on_polars, _ = run_detectors(claims, None, T, ["co_admission"])  # type: ignore[arg-type]
    on_spark, _ = run_detectors(claims, None, T, ["co_admission"], source=src)  # type: ignore[arg-type]
    assert "co_admission" in PORTED
    assert on_spark.equals(on_polars)
    facilities = sorted(k for lead in on_polars.iter_rows(named=True) for k in _keys(lead, "Facility", "hospital"))
    assert facilities == ["H51010400005", "H51010400006", PUJIANG_PRIVATE]  # no care home, no crowd
