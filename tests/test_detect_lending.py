"""card_lending: cards used by others in one town, found from diagnoses their holders cannot have.

The hand-made windows are shaped unlike the generator's: Chinese card, person and phone keys,
diagnosis codes in several spellings (``O80.000``, ``o80.0``, ``z34.9``, ``N40.X00``), sexes written
as 男/女, and windows lacking the optional sex, cohort and phone columns. Each look-alike the
detector must leave alone is its own window; the ring is found with the cues it shows, on Polars
and on Spark alike.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl
import pytest

from ringsight.algorithms.coverage import detector_coverage
from ringsight.algorithms.detectors import DETECTORS, holder_rules, lending
from ringsight.algorithms.engine import PORTED, spark_source
from ringsight.algorithms.frames import CATEGORICAL_CLAIM_COLUMNS, claims_frame, items_frame
from ringsight.config import DetectThresholds

T = DetectThresholds()
T0 = 1_751_299_200  # 2025-07-01 00:00 +08:00
DAY, HOUR = 86_400, 3_600
CLINIC = "H51012100031"  # a private clinic in 金堂
HOME = "H51012100007"  # the holders' own township health centre
HOSPITAL = "H51010400001"  # a big city hospital
SHOP = "P51012100002"  # a pharmacy
PREGNANCY = ("O80.000", "o80.0", "z34.9 ", "O26.900", "N76.0")  # women's care, spelled several ways


def _add(rows: list[dict[str, Any]], **kw: Any) -> None:
    rows.append({"claim_id": f"单-{len(rows):05d}", "visit_type": "outpatient", "total_amount": 180.0, **kw})


def _at_home(rows: list[dict[str, Any]], holder: dict[str, Any], phone: str, days: list[int], diagnosis: str) -> None:
    """The holder's own visits at the township health centre, under the holder's own phone."""
    for day in days:
        _add(
            rows,
            **holder,
            facility_code=HOME,
            facility_kind="clinic",
            diagnosis_code=diagnosis,
            patient_phone=phone,
            claim_ts=T0 + day * DAY,
        )


def _ring(rows: list[dict[str, Any]], cards: int = 6) -> None:
    """Elderly men's cards used at a private clinic by young women (three phones between them) on three days."""
    for i in range(cards):
        holder = {"pid": f"人-甲{i}", "card_id": f"卡-甲{i}", "patient_gender": "男", "birth_cohort": "1945-1949"}
        _at_home(rows, holder, f"电话-甲{i}", [5, 14, 23], "I10.x00")
        for d in range(3):  # the women treated on his card
            _add(
                rows,
                **holder,
                facility_code=CLINIC,
                facility_kind="clinic",
                diagnosis_code=PREGNANCY[(i + d) % len(PREGNANCY)],
                patient_phone=f"电话-女{(i + d) % 3}",
                claim_ts=T0 + (10 + 7 * d + i) * DAY + 15 * HOUR,
            )
    # once a woman bought cold medicine on card 0 at a pharmacy under her phone: his usual phone is still his own
    _add(
        rows,
        pid="人-甲0",
        card_id="卡-甲0",
        patient_gender="男",
        birth_cohort="1945-1949",
        facility_code=SHOP,
        facility_kind="pharmacy",
        diagnosis_code="J06.9",
        patient_phone="电话-女0",
        claim_ts=T0 + 40 * DAY,
    )
    for i in range(10):  # the clinic's ordinary patients
        _add(
            rows,
            pid=f"人-诊{i}",
            card_id=f"卡-诊{i}",
            patient_gender="女",
            birth_cohort="1990-1994",
            facility_code=CLINIC,
            facility_kind="clinic",
            diagnosis_code="J06.900",
            patient_phone=f"电话-诊{i}",
            claim_ts=T0 + (3 + i) * DAY + 10 * HOUR,
        )


def _hospital(rows: list[dict[str, Any]], slips: int = 8) -> None:
    """A big hospital's patients, and scattered coding slips: one per card, under the holder's own phone.

    Half the slips are its regular patients' (the holder's usual hospital); half are first-time
    patients from a township (their only claim at the hospital is the slip).
    """
    for i in range(200):
        sex = "M" if i % 2 else "F"
        cohort = 1950 + i % 40
        diag = ("N40.X00" if sex == "M" else "O80.000") if i % 7 == 0 and 1960 <= cohort <= 1980 else "I10.x00"
        _add(
            rows,
            pid=f"人-院{i}",
            card_id=f"卡-院{i}",
            patient_gender=sex,
            birth_cohort=f"{cohort}-{cohort + 4}",
            facility_code=HOSPITAL,
            facility_kind="hospital",
            diagnosis_code=diag,
            patient_phone=f"电话-院{i}",
            claim_ts=T0 + (i % 80) * DAY + 10 * HOUR,
        )
    for i in range(slips):  # a man's claim coded O80 by mistake: a slip among his ordinary visits
        who = f"院{2 * i + 1}" if i % 2 else f"乡{i}"
        if i % 2 == 0:  # a first-time patient: his other claims are at his township clinic
            _add(
                rows,
                pid=f"人-{who}",
                card_id=f"卡-{who}",
                patient_gender="M",
                birth_cohort="1970-1974",
                facility_code=HOME,
                facility_kind="clinic",
                diagnosis_code="I10",
                patient_phone=f"电话-{who}",
                claim_ts=T0 + 2 * DAY,
            )
        _add(
            rows,
            pid=f"人-{who}",
            card_id=f"卡-{who}",
            patient_gender="M",
            birth_cohort="1970-1974",
            facility_code=HOSPITAL,
            facility_kind="hospital",
            diagnosis_code="O80",
            patient_phone=f"电话-{who}",
            claim_ts=T0 + (30 + i) * DAY + 11 * HOUR,
        )


def _window(rows: list[dict[str, Any]], drop: tuple[str, ...] = ()) -> pl.DataFrame:
    """The claims as detection holds them on Polars (repeated strings categorical), less ``drop``."""
    frame = claims_frame(rows).drop(*drop)
    return frame.with_columns(pl.col(c).cast(pl.Categorical) for c in CATEGORICAL_CLAIM_COLUMNS if c in frame.columns)


def _keys(lead: dict, label: str) -> set[str]:
    return {m["key"] for m in lead["members"] if m["label"] == label}


def _world() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    _ring(rows)
    _hospital(rows)
    return rows


# ---- the rules -------------------------------------------------------------------------------


def test_diagnosis_codes_are_matched_in_any_spelling() -> None:
    codes = pl.Series(
        ["O80.000", "o80.0", "O80", " z34.9 ", "N40.X00", "n41.1", "J06.900", "P07.300", "G30.9", "x", None]
    )
    rules = {r["diagnosis_code"]: r for r in holder_rules.diagnosis_rules(codes).iter_rows(named=True)}
    assert set(rules) == {"O80.000", "o80.0", "O80", " z34.9 ", "N40.X00", "n41.1", "P07.300", "G30.9"}
    assert rules["o80.0"]["need_sex"] == "F" and (rules["o80.0"]["min_age"], rules["o80.0"]["max_age"]) == (12, 55)
    assert rules[" z34.9 "]["need_sex"] == "F" and rules[" z34.9 "]["max_age"] == 55
    assert rules["N40.X00"]["need_sex"] == "M" and rules["N40.X00"]["min_age"] == 30  # prostate: male, 30+
    assert rules["n41.1"]["need_sex"] == "M" and rules["n41.1"]["min_age"] is None
    assert rules["P07.300"]["need_sex"] is None and rules["P07.300"]["max_age"] == 5
    assert rules["G30.9"]["min_age"] == 40


def _mismatch(**claim: Any) -> bool:
    frame = claims_frame([{"claim_id": "x", "card_id": "卡", "facility_code": CLINIC, "claim_ts": T0, **claim}])
    return not lending.mismatch_rows(lending.source_of(frame), lending._checkable(lending.source_of(frame))).is_empty()


def test_sex_rules_and_missing_facts_never_mismatch() -> None:
    assert _mismatch(patient_gender="M", diagnosis_code="O80.000")
    assert _mismatch(patient_gender="女", diagnosis_code="N40.x00")
    assert _mismatch(patient_gender="m", diagnosis_code="n76.0")
    assert not _mismatch(patient_gender="F", diagnosis_code="O80.000")
    assert not _mismatch(patient_gender="M", diagnosis_code="J06.900")
    assert not _mismatch(patient_gender=None, birth_cohort=None, diagnosis_code="O80.000")  # nothing to check against
    assert not _mismatch(patient_gender="M", diagnosis_code=None)
    assert not _mismatch(patient_gender=None, birth_cohort="1990-1994", diagnosis_code="O80.000")  # sex unknown
    assert not _mismatch(patient_gender="M", diagnosis_code="O80.000", facility_kind="pharmacy")  # mutual aid


def test_age_rules_count_only_when_every_birth_year_of_the_cohort_contradicts() -> None:
    # claim on 2025-07-01: everyone born 1960-1964 is over 55 (the youngest is 60); of 1965-1969
    # the youngest has completed 55 years only, so the cohort does not contradict a birth
    assert _mismatch(patient_gender="F", birth_cohort="1960-1964", diagnosis_code="O80.000")
    assert not _mismatch(patient_gender="F", birth_cohort="1965-1969", diagnosis_code="O80.000")
    assert _mismatch(patient_gender="F", birth_cohort="1968", diagnosis_code="O80.000")  # one year: 56 or 57
    assert _mismatch(patient_gender="F", birth_cohort="2015-2019", diagnosis_code="O80.000")  # at most 10
    assert not _mismatch(patient_gender="F", birth_cohort="2010-2014", diagnosis_code="O80.000")  # may be 15
    assert _mismatch(birth_cohort="1950-1954", diagnosis_code="P07.3")  # perinatal at 70; no sex needed
    assert not _mismatch(birth_cohort="2015-2019", diagnosis_code="P07.3")  # may still be 5
    assert _mismatch(birth_cohort="1995-1999", diagnosis_code="F03.x00")  # dementia at 30
    assert not _mismatch(birth_cohort="1980-1984", diagnosis_code="H25.900")  # senile cataract at 41+
    assert _mismatch(patient_gender="M", birth_cohort="2000-2004", diagnosis_code="N40")  # BPH at 25
    assert not _mismatch(patient_gender="M", birth_cohort="1990-1994", diagnosis_code="N40")
    assert not _mismatch(patient_gender="F", birth_cohort="不详", diagnosis_code="O80.000")  # no year: no age


# ---- the detector ----------------------------------------------------------------------------


def test_the_lending_ring_is_found_with_its_cues() -> None:
    leads = lending.card_lending(_window(_world()), T)
    assert leads.height == 1  # the clinic; the hospital's slips are not a lead
    lead = leads.row(0, named=True)
    assert lead["detector"] == "card_lending" and lead["typology"] == "impersonation"
    assert _keys(lead, "Card") == {f"卡-甲{i}" for i in range(6)}
    assert _keys(lead, "Patient") == {f"人-甲{i}" for i in range(6)}
    assert _keys(lead, "Facility") == {CLINIC}
    assert _keys(lead, "Phone") == {"电话-女0", "电话-女1", "电话-女2"}
    numbers = json.loads(lead["numbers"])
    assert numbers["n_cards"] == 6 and numbers["mismatches"] == numbers["all_mismatches"] == 18
    assert numbers["sex_mismatches"] == 18
    assert all(numbers[c] == 6 for c in lending.CUES)  # every card shows every cue
    assert "repeated, other_phone, facility_pattern, not_holders_place, shared_phone" in lead["evidence_en"]
    assert "张医保卡" in lead["evidence_zh"] and CLINIC in lead["evidence_zh"]
    assert len(lead["claim_ids"]) == 18 and 0.5 < lead["strength"] <= 1


def test_one_card_lent_again_and_again_is_a_lead_on_two_cues() -> None:
    rows = _world()
    rows = [r for r in rows if r.get("card_id") in ("卡-甲0",) or not str(r.get("card_id")).startswith("卡-甲")]
    # one card: no facility pattern (one card), the women's phones shared by no other card
    lead = lending.card_lending(_window(rows), T).row(0, named=True)
    assert _keys(lead, "Card") == {"卡-甲0"}
    assert "facility_pattern" not in lead["evidence_en"] and "shared_phone" not in lead["evidence_en"]
    strict = DetectThresholds(lending_min_cues=4)
    assert lending.card_lending(_window(rows), strict).is_empty()


def test_the_usual_phone_is_the_most_frequent_one_on_the_cards_other_claims() -> None:
    rows: list[dict[str, Any]] = []
    _hospital(rows, slips=0)
    holder = {"pid": "人-乙", "card_id": "卡-乙", "patient_gender": "M", "birth_cohort": "1948"}
    for k, phone in enumerate(["电话-乙", "电话-乙", "电话-乙", "电话-她"]):  # she once bought at a pharmacy too
        kind, fac = ("pharmacy", SHOP) if phone == "电话-她" else ("clinic", HOME)
        _add(
            rows,
            **holder,
            facility_code=fac,
            facility_kind=kind,
            diagnosis_code="J06.9",
            patient_phone=phone,
            claim_ts=T0 + k * 5 * DAY,
        )
    for d in (30, 45):
        _add(
            rows,
            **holder,
            facility_code=CLINIC,
            facility_kind="clinic",
            diagnosis_code="Z34.0",
            patient_phone="电话-她",
            claim_ts=T0 + d * DAY,
        )
    lead = lending.card_lending(_window(rows), T).row(0, named=True)
    assert "cues: repeated, other_phone, not_holders_place)" in lead["evidence_en"]
    assert _keys(lead, "Phone") == {"电话-她"}


def test_a_lone_card_used_at_two_facilities_is_one_lead_without_a_facility() -> None:
    rows: list[dict[str, Any]] = []
    _hospital(rows, slips=0)
    holder = {"pid": "人-丙", "card_id": "卡-丙", "patient_gender": "F", "birth_cohort": "1940-1944"}
    _at_home(rows, holder, "电话-丙", [0, 7, 14], "I10")
    for fac, day in ((CLINIC, 20), (HOSPITAL, 33)):  # prenatal care at 80, under another woman's phone
        _add(
            rows,
            **holder,
            facility_code=fac,
            facility_kind="clinic",
            diagnosis_code="Z34.900",
            patient_phone="电话-丁",
            claim_ts=T0 + day * DAY,
        )
    leads = lending.card_lending(_window(rows), T)
    # no facility shows the pattern: the card is its own lead, and names neither facility (a lone card seen at
    # a big hospital must not tie together the rings that pass through it)
    assert leads.height == 1
    lead = leads.row(0, named=True)
    assert _keys(lead, "Card") == {"卡-丙"} and _keys(lead, "Facility") == set()
    numbers = json.loads(lead["numbers"])
    assert (numbers["mismatches"], numbers["all_mismatches"], numbers["age_mismatches"]) == (2, 2, 2)
    assert numbers["other_phone"] == 1 and numbers["repeated"] == 1
    assert lead["evidence_en"].startswith("2 facilities: 1 cards with 2 claims there (2 in all)")
    assert lead["evidence_zh"].startswith("2 家机构 有 1 张医保卡的 2 笔结算（这些卡全市共 2 笔）")
    assert "repeated, other_phone, not_holders_place" in lead["evidence_en"]


def test_big_hospital_slips_are_left_alone() -> None:
    rows: list[dict[str, Any]] = []
    _hospital(rows, slips=12)
    # a regular patient whose record carries a wrong-sex code on two days: repeated, and nothing else
    for d in (50, 60):
        _add(
            rows,
            pid="人-院3",
            card_id="卡-院3",
            patient_gender="M",
            birth_cohort="1970-1974",
            facility_code=HOSPITAL,
            facility_kind="hospital",
            diagnosis_code="N95.1",
            patient_phone="电话-院3",
            claim_ts=T0 + d * DAY,
        )
    assert lending.card_lending(_window(rows), T).is_empty()
    # many cards, but the hospital's mismatch share is the window's: no facility pattern (lift 1)
    assert lending.card_lending(_window(rows), DetectThresholds(lending_min_lift=1.0)).height == 1
    # the same slips by an impostor (another phone, twice each) would be a lead: the test can fail
    for r in [r for r in rows if r["diagnosis_code"] == "O80"]:
        r["patient_phone"] = "电话-冒"
        _add(rows, **{**r, "claim_id": f"{r['claim_id']}-又", "claim_ts": r["claim_ts"] + 3 * DAY})
    leads = lending.card_lending(_window(rows), T)  # each card a lead of its own, tied by the impostor's phone
    assert leads.height == 12 and all(_keys(r, "Phone") == {"电话-冒"} for r in leads.iter_rows(named=True))
    assert not any(_keys(r, "Facility") for r in leads.iter_rows(named=True))


def test_a_one_off_slip_at_a_new_hospital_is_one_cue() -> None:
    rows: list[dict[str, Any]] = []
    _hospital(rows, slips=0)
    holder = {"pid": "人-新", "card_id": "卡-新", "patient_gender": "M", "birth_cohort": "1960-1964"}
    _add(
        rows,
        **holder,
        facility_code=HOSPITAL,
        facility_kind="hospital",
        diagnosis_code="N83.2",
        patient_phone="电话-新",
        claim_ts=T0 + 40 * DAY,
    )
    _at_home(rows, holder, "电话-新", [50], "I10")
    assert lending.card_lending(_window(rows), T).is_empty()
    # one stay coded wrongly twice on one day is still one slip (repeated needs two days)
    _add(rows, **{**rows[-2], "claim_id": "单-又", "claim_ts": T0 + 40 * DAY + 3 * HOUR})
    assert lending.card_lending(_window(rows), T).is_empty()
    one_cue = lending.card_lending(_window(rows), DetectThresholds(lending_min_cues=1))
    assert "卡-新" in {k for r in one_cue.iter_rows(named=True) for k in _keys(r, "Card")}


def test_household_pharmacy_purchases_on_one_card_are_left_alone() -> None:
    rows: list[dict[str, Any]] = []
    _hospital(rows, slips=0)
    holder = {"pid": "人-夫", "card_id": "卡-夫", "patient_gender": "男", "birth_cohort": "1950-1954"}
    _at_home(rows, holder, "电话-夫", [0, 10, 20], "I10")
    for k in range(6):  # his wife's gynaecological medicines bought on his card, under her phone
        _add(
            rows,
            **holder,
            facility_code=SHOP,
            facility_kind="pharmacy",
            diagnosis_code="N76.0",
            patient_phone="电话-妻",
            claim_ts=T0 + (k * 9 + 2) * DAY,
        )
    assert lending.card_lending(_window(rows), T).is_empty()
    for r in rows:  # the same purchases at a clinic would be a lead: the pharmacy rule is what spares them
        if r["facility_code"] == SHOP:
            r["facility_kind"] = "clinic"
    assert lending.card_lending(_window(rows), T).height == 1


def test_claims_without_sex_or_cohort_are_never_a_lead() -> None:
    rows = [{**r, "patient_gender": None, "birth_cohort": None} for r in _world()]
    assert lending.card_lending(_window(rows), T).is_empty()
    assert lending.card_lending(_window(_world(), ("patient_gender", "birth_cohort")), T).is_empty()


def test_a_window_without_phones_still_finds_the_ring_on_fewer_cues() -> None:
    lead = lending.card_lending(_window(_world(), ("patient_phone",)), T).row(0, named=True)
    assert _keys(lead, "Card") == {f"卡-甲{i}" for i in range(6)} and not _keys(lead, "Phone")
    assert "cues: repeated, facility_pattern, not_holders_place)" in lead["evidence_en"]


def test_age_mismatches_alone_make_a_ring() -> None:
    """Perinatal and dementia care billed to cards of the wrong age, at one clinic, by others."""
    rows: list[dict[str, Any]] = []
    _hospital(rows, slips=0)
    for i in range(4):
        holder = {"pid": f"童{i}", "card_id": f"卡-童{i}", "birth_cohort": "2017-2019"}  # no sex column value
        _add(
            rows,
            **holder,
            facility_code=HOME,
            facility_kind="clinic",
            diagnosis_code="J06.9",
            patient_phone=f"电话-童{i}",
            claim_ts=T0 + DAY,
        )
        for d in range(2):
            _add(
                rows,
                **holder,
                facility_code=CLINIC,
                facility_kind="clinic",
                diagnosis_code="F03",
                patient_phone=f"电话-童{i}",
                claim_ts=T0 + (20 + 5 * d) * DAY,
            )
    lead = lending.card_lending(_window(rows), T).row(0, named=True)
    numbers = json.loads(lead["numbers"])
    assert numbers["age_mismatches"] == 8 and numbers["sex_mismatches"] == 0
    assert "other_phone" not in lead["evidence_en"] and "facility_pattern" in lead["evidence_en"]


def test_registered_ported_and_covered() -> None:
    assert "card_lending" in DETECTORS and "card_lending" in PORTED
    empty = DETECTORS["card_lending"](claims_frame([]), items_frame([]), T)
    assert empty.is_empty() and "members" in empty.columns
    cov = {c["detector"]: c for c in detector_coverage(_window(_world()), items_frame([]))}
    assert cov["card_lending"]["status"] == "ok"
    bare = {
        c["detector"]: c
        for c in detector_coverage(_window(_world(), ("patient_gender", "birth_cohort")), items_frame([]))
    }
    assert bare["card_lending"]["status"] == "no input"
    assert bare["card_lending"]["missing"] == ["holders' sex or birth cohorts"]
    no_diag = [{**r, "diagnosis_code": None} for r in _world()]
    assert {c["detector"]: c for c in detector_coverage(_window(no_diag), items_frame([]))}["card_lending"][
        "missing"
    ] == ["diagnoses"]


# ---- the same leads on Spark -----------------------------------------------------------------


def _sorted(leads: pl.DataFrame) -> pl.DataFrame:
    return leads.sort("evidence_en", "numbers", pl.col("claim_ids").list.join(","))


def _both(session: Any, frame: pl.DataFrame) -> pl.DataFrame:
    on_polars = _sorted(lending.card_lending(frame, T))
    plain = frame.with_columns(pl.col(pl.Categorical).cast(pl.String))
    on_spark = _sorted(lending.card_lending(spark_source(session.createDataFrame(plain.to_arrow(), schema=None)), T))
    assert on_spark.equals(on_polars), (on_polars, on_spark)
    return on_polars


@pytest.mark.parametrize("drop", [(), ("patient_phone",), ("birth_cohort",), ("patient_gender", "birth_cohort")])
def test_the_same_leads_on_polars_and_spark(spark_session, drop: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    leads = _both(spark_session, _window(_world(), drop))
    assert leads.height == (0 if "patient_gender" in drop else 1)
