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
        assert numbers["far_fast"] and numbers["hub"] and numbers["repeated"]
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


XINDU_CLINIC = "H51011400051"  # 新都区
WENJIANG_CLINICS = ["H51011500061", "H51011500062", "P51011500063"]  # 温江区, ~35 km from 新都


def _slow_impostor_rows(phone_of_gang: bool) -> list[dict]:
    """Four cards of 新都 holders settled in 温江 4.5–7 h after the holder's own claim, three times each.

    With ``phone_of_gang`` the far claims give two phones the gang shares; otherwise each holder's own
    phone (a same-day traveller). Each card's far claims are as many as its claims at home.
    """
    rows = []
    for h in range(4):
        card, pid, own = f"card:s{h}", f"person:s{h}", f"phone:s{h}"
        for k in range(3):
            t = T0 - 2 * 3600 + (9 * k + 2 * h) * DAY
            rows.append(
                {"pid": pid, "card_id": card, "patient_phone": own, "facility_code": XINDU_CLINIC, "claim_ts": t}
            )
            rows.append(
                {
                    "pid": pid,
                    "card_id": card,
                    "patient_phone": f"phone:gang{(h + k) % 2}" if phone_of_gang else own,
                    "facility_code": WENJIANG_CLINICS[(h + k) % 3],
                    "claim_ts": t + (270 + 40 * h + 15 * k) * MIN,
                    "total_amount": 50.0,
                }
            )
    return rows


def test_slow_impostors_under_the_gangs_phones_are_found_and_travellers_are_not() -> None:
    """Beyond the four-hour window a same-day claim elsewhere counts only under a phone other cards' jumps give."""
    found = travel.impossible_travel(_frame(_background() + _slow_impostor_rows(True)), T)
    cards = {k for lead in found.iter_rows(named=True) for k in _keys(lead, "Card")}
    assert cards == {f"card:s{h}" for h in range(4)}
    for lead in found.iter_rows(named=True):
        numbers = json.loads(lead["numbers"])
        assert numbers["impostor_phone"] and numbers["odd_phone"] and numbers["repeated"]
        assert numbers["max_hours"] > T.travel_max_hours
    travellers = travel.impossible_travel(_frame(_background() + _slow_impostor_rows(False)), T)
    assert not {k for lead in travellers.iter_rows(named=True) for k in _keys(lead, "Card")} & cards


JINJIANG_HOSPITAL = "H51010400001"  # 锦江区
JINJIANG_GATE_PHARMACY = "P51010400020"  # by the hospital gate, same district
SHUANGLIU_PHARMACY = "P51011600044"  # 双流区, ~19 km away
OTHER_PHARMACIES = ["P51010400021", "P51010500022", "P51010600023"]


def _collusion_rows() -> tuple[list[dict], list[dict]]:
    """Doctor doc:A sends 90 % to a far pharmacy at 4× fills after real visits; doc:B 90 % next door, normal fills."""
    claims: list[dict] = []
    items: list[dict] = []

    def fill(pid: str, doctor: str, pharmacy: str, ts: int, qty: float, operator: str) -> None:
        cid = f"rx{len(claims):05d}"
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
                "claim_id": f"rx{len(claims):05d}",
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


PRIVATE_HOSPITAL = "H51010800009"  # 成华区, privately owned
COMMUNITY_CLINIC = "H51010600030"  # 金牛区
CARE_HOME_ADDRESS = "金牛区XX路88号"
SHOP = "P51011200015"  # 龙泉驿区


def _background(n: int = 240) -> list[dict]:
    """Ordinary insured persons: a household each, a few visits at clinics and pharmacies of their district."""
    rows = []
    districts = ["510104", "510105", "510106", "510107", "510108", "510112", "510113", "510114"]
    for i in range(n):
        d = districts[i % len(districts)]
        for k in range(3 + i % 4):
            kind = "pharmacy" if k % 3 == 2 else "clinic"
            fac = f"{'P' if kind == 'pharmacy' else 'H'}{d}{(i + k) % 9:05d}"
            rows.append(
                {
                    "pid": f"person:b{i}",
                    "card_id": f"card:b{i}",
                    "patient_phone": f"phone:b{i // 2}",
                    "address_key": f"addr:b{i // 2}",
                    "facility_code": fac,
                    "facility_kind": kind,
                    "claim_ts": T0 + ((i * 7 + k * 13) % 85) * DAY + (8 + (i + k) % 9) * 3600 + (i % 50) * 60,
                    "terminal_id": "1",
                    "operator_id": f"op:{(i + k) % 5}",
                    "total_amount": 35.5 + (i + k) % 40,
                }
            )
    return rows


def _ghost_rows() -> list[dict]:
    """22 unrelated persons, 1–2 stays each at one private hospital, on 3 shared phones and 2 shared addresses."""
    rows = []
    for g in range(22):
        phone = f"phone:g{g % 3}"
        address = f"addr:g{g % 2}" if g % 4 else f"addr:own{g}"  # not every ghost gives a shared address
        for k in range(1 + g % 2):
            admit = T0 + (g * 3 + k * 31) * DAY + 9 * 3600
            rows.append(
                {
                    "pid": f"person:g{g}",
                    "card_id": f"card:g{g}",
                    "patient_phone": phone,
                    "address_key": address,
                    "facility_code": PRIVATE_HOSPITAL,
                    "facility_kind": "hospital",
                    "facility_ownership": "private",
                    "visit_type": "inpatient",
                    "admit_ts": admit,
                    "discharge_ts": admit + (5 + g % 4) * DAY,
                    "claim_ts": admit + (5 + g % 4) * DAY + 3600,
                    "diagnosis_code": ["M47.8", "K29.7", "I10"][g % 3],
                    "total_amount": 6400.0 + 37 * g,
                }
            )
    return rows


def _care_home_rows(residents: int = 45) -> list[dict]:
    """A care home's monthly check-up day: every resident swiped at the community clinic within an hour."""
    rows = []
    for month in range(3):
        for r in range(residents):
            rows.append(
                {
                    "pid": f"person:h{r}",
                    "card_id": f"card:h{r}",
                    "patient_phone": "phone:landline",
                    "address_key": CARE_HOME_ADDRESS,
                    "facility_code": COMMUNITY_CLINIC,
                    "facility_kind": "clinic",
                    "claim_ts": T0 + (5 + 30 * month) * DAY + 9 * 3600 + r * 75,
                    "terminal_id": "2",
                    "operator_id": "op:nurse",
                    "total_amount": 60.0,
                }
            )
            if r % 3 == 0:  # their own visits on other days
                rows.append(
                    {
                        "pid": f"person:h{r}",
                        "card_id": f"card:h{r}",
                        "patient_phone": "phone:landline",
                        "address_key": CARE_HOME_ADDRESS,
                        "facility_code": COMMUNITY_CLINIC,
                        "facility_kind": "clinic",
                        "claim_ts": T0 + (12 + 30 * month + r % 7) * DAY + 15 * 3600,
                        "terminal_id": "1",
                        "total_amount": 23.4,
                    }
                )
    return rows


def _collecting_rows() -> list[dict]:
    """A shop swiping 8 collected cards of far-away holders on its back-office terminal, late at night."""
    rows = []
    for k, day in enumerate((3, 11, 19, 26, 40, 55)):
        for j in range(8):
            rows.append(
                {
                    "pid": f"person:b{j * 8 + 1}",
                    "card_id": f"card:b{j * 8 + 1}",
                    "facility_code": SHOP,
                    "facility_kind": "pharmacy",
                    "claim_ts": T0 + day * DAY + 12 * 3600 + k * 60 + j * 90,
                    "terminal_id": "9",
                    "operator_id": "op:owner",
                    "total_amount": 200.0,
                }
            )
    return rows


def _detect(rows: list[dict]):
    from ringsight.algorithms.frames import compact, items_frame
    from ringsight.algorithms.pipeline import detect_frames
    from ringsight.config import DetectSettings

    claims, items = compact(_frame(rows), items_frame([]))
    return detect_frames(claims, items, DetectSettings())


def _cluster_of(result, keys: set[str]) -> tuple[int, float, float]:
    """The cluster holding most of ``keys``: its local id, the share of keys it holds, and the keys' share of it."""
    m = result.members.filter(pl.col("label") == "Patient")
    per = (
        m.group_by("cluster")
        .agg(pl.col("key").is_in(list(keys)).sum().alias("hit"), pl.len().alias("n"))
        .sort("hit", descending=True)
    )
    if per.is_empty() or per["hit"][0] == 0:
        return -1, 0.0, 0.0
    row = per.row(0, named=True)
    return row["cluster"], row["hit"] / len(keys), row["hit"] / row["n"]


def test_ghost_patients_sharing_contacts_form_a_cluster() -> None:
    result = _detect(_background() + _ghost_rows())
    ghosts = {f"person:g{g}" for g in range(22)}
    cluster, recall, purity = _cluster_of(result, ghosts)
    assert recall >= 0.8 and purity >= 0.2, (recall, purity)
    row = result.clusters.filter(pl.col("cluster") == cluster).row(0, named=True)
    assert "ghost_patients" in row["typologies"]
    assert "contact_stays" in {s["name"] for s in json.loads(row["signals"])}


def test_care_home_check_up_day_is_not_card_collecting_and_ranks_below_a_ring() -> None:
    result = _detect(_background() + _care_home_rows() + _collecting_rows())
    burst = result.leads.filter(pl.col("detector") == "burst_swiping")
    held = {m["key"] for ms in burst["members"].to_list() for m in ms if m["label"] == "Card"}
    assert not any(k.startswith("card:h") for k in held)
    assert {f"card:b{j * 8 + 1}" for j in range(8)} <= held
    ring, recall, _ = _cluster_of(result, {f"person:b{j * 8 + 1}" for j in range(8)})
    assert recall >= 0.8
    ranked = result.clusters.with_row_index("rank")
    ring_rank = ranked.filter(pl.col("cluster") == ring)["rank"][0]
    home, home_recall, _ = _cluster_of(result, {f"person:h{r}" for r in range(45)})
    if home_recall > 0:
        assert ranked.filter(pl.col("cluster") == home)["rank"][0] > ring_rank
        row = ranked.filter(pl.col("cluster") == home).row(0, named=True)
        assert "card_collecting" not in row["typologies"]


def test_care_home_would_burst_without_the_institution_rule() -> None:
    """The look-alike really does burst: with the institution rule's extra cues waived it becomes a lead."""
    claims = _frame(_background() + _care_home_rows())
    loose = T.model_copy(update={"burst_min_cues": 0})
    from ringsight.algorithms.detectors import swiping

    leads = swiping.burst_swiping(claims, loose)
    held = {m["key"] for ms in leads["members"].to_list() for m in ms if m["label"] == "Card"}
    assert any(k.startswith("card:h") for k in held)
    assert (
        swiping.burst_swiping(claims, T)
        .filter(pl.col("members").list.eval(pl.element().struct.field("key").str.starts_with("card:h")).list.any())
        .is_empty()
    )


def test_stay_overlap_includes_inpatient_stays_at_two_hospitals_at_once() -> None:
    """Inpatient-only data (no items, no outpatient claims): stays at two hospitals at once are found."""
    from ringsight.algorithms.detectors import admissions
    from ringsight.algorithms.frames import items_frame

    rows = []
    for i in range(40):  # ordinary stays at four hospitals, one at a time
        admit = T0 + (i % 20) * 3 * DAY
        rows.append(
            {
                "pid": f"bene:{i}",
                "facility_code": f"PRV{i % 4}",
                "admit_ts": admit,
                "discharge_ts": admit + 4 * DAY,
                "claim_ts": admit + 4 * DAY,
            }
        )
    for i in range(3):  # three beneficiaries held at PRV-HOLD while in hospital PRV0 (two days' overlap or more)
        admit = T0 + 10 * i * DAY
        rows.append(
            {
                "pid": f"bene:h{i}",
                "facility_code": "PRV-HOLD",
                "admit_ts": admit,
                "discharge_ts": admit + 9 * DAY,
                "claim_ts": admit + 9 * DAY,
            }
        )
        rows.append(
            {
                "pid": f"bene:h{i}",
                "facility_code": "PRV0",
                "admit_ts": admit + 3 * DAY,
                "discharge_ts": admit + 6 * DAY,
                "claim_ts": admit + 6 * DAY,
            }
        )
    # a transfer: discharged from PRV1 in the morning and admitted to PRV2 the same day (overlap < a day)
    rows.append(
        {
            "pid": "bene:t",
            "facility_code": "PRV1",
            "admit_ts": T0,
            "discharge_ts": T0 + 5 * DAY,
            "claim_ts": T0 + 5 * DAY,
        }
    )
    rows.append(
        {
            "pid": "bene:t",
            "facility_code": "PRV2",
            "admit_ts": T0 + 5 * DAY - 3600,
            "discharge_ts": T0 + 9 * DAY,
            "claim_ts": T0 + 9 * DAY,
        }
    )
    leads = admissions.stay_overlap(_frame(rows), items_frame([]), T)
    facilities = {k for lead in leads.iter_rows(named=True) for k in _keys(lead, "Facility")}
    assert "PRV-HOLD" in facilities
    patients = {k for lead in leads.iter_rows(named=True) for k in _keys(lead, "Patient")}
    assert {f"bene:h{i}" for i in range(3)} <= patients and "bene:t" not in patients


def test_impersonation_and_collusion_rings_each_come_out_as_one_cluster() -> None:
    """Through projection, communities and scoring: each ring is one cluster, its look-alikes are in none."""
    claims, _ = _collusion_rows()
    from ringsight.algorithms.frames import compact, items_frame
    from ringsight.algorithms.pipeline import detect_frames
    from ringsight.config import DetectSettings

    _, items = _collusion_rows()
    rows = _background() + _impersonation_rows()
    frame = pl.concat([_frame(rows), claims_frame(claims)], how="vertical")
    result = detect_frames(*compact(frame, items_frame(items)), DetectSettings())
    _, recall, purity = _cluster_of(result, {f"person:r{h}" for h in range(5)})
    assert recall >= 0.8 and purity >= 0.2
    _, recall, _ = _cluster_of(result, {f"person:t{h}" for h in range(6)})
    assert recall == 0.0
    doctors = result.members.filter(pl.col("label") == "Doctor")["key"].to_list()
    assert "doc:A" in doctors and "doc:B" not in doctors


NEIGHBOURHOOD_PHARMACY = "P51011200016"  # 龙泉驿区, a quiet shop whose regulars live nearby


def _slow_burst_rows() -> list[dict]:
    """The shop's collected cards swiped slowly: one every 7–10 minutes, never five in half an hour."""
    rows = []
    for k, day in enumerate((4, 13, 22, 37, 51)):
        t = T0 + day * DAY + 11 * 3600 + 1800  # 21:30
        for j in range(7):
            t += (7 + (j + k) % 4) * MIN
            rows.append(
                {
                    "pid": f"person:b{j * 8 + 3}",
                    "card_id": f"card:b{j * 8 + 3}",
                    "facility_code": SHOP,
                    "facility_kind": "pharmacy",
                    "claim_ts": t,
                    "terminal_id": "8",
                    "operator_id": "op:owner",
                    "total_amount": [100.0, 150.0, 200.0, 87.4][(j + k) % 4],
                }
            )
    return rows


def _regulars_rows() -> list[dict]:
    """A quiet neighbourhood pharmacy: 30 regulars living nearby drop in during the day, a few minutes apart,
    at ordinary amounts, served by three staff on the counter terminal."""
    rows = []
    for day in range(0, 84, 3):
        t = T0 + day * DAY - 3600  # 09:00
        for j in range(12):
            r = (day * 7 + j * 5) % 30
            t += (4 + (day + j) % 9) * MIN
            rows.append(
                {
                    "pid": f"person:n{r}",
                    "card_id": f"card:n{r}",
                    "address_key": f"addr:n{r}",
                    "facility_code": NEIGHBOURHOOD_PHARMACY,
                    "facility_kind": "pharmacy",
                    "claim_ts": t,
                    "terminal_id": "1",
                    "operator_id": f"op:{(day + j) % 3}",
                    "total_amount": 23.4 + (r * 7 + day) % 60,
                }
            )
    return rows


def test_slow_burst_of_collected_cards_is_found_as_one_sitting() -> None:
    """No fixed half-hour window holds five of the cards, but each evening is one sitting of the same cards."""
    from ringsight.algorithms.detectors import swiping

    claims = _frame(_background() + _slow_burst_rows())
    window_only = T.model_copy(update={"burst_minutes": 1})  # sessions need gaps under 30 s: none here
    assert swiping.burst_swiping(claims, window_only).is_empty()
    leads = swiping.burst_swiping(claims, T)
    held = {m["key"] for ms in leads["members"].to_list() for m in ms if m["label"] == "Card"}
    assert {f"card:b{j * 8 + 3}" for j in range(7)} <= held


def test_quiet_pharmacy_regulars_are_not_card_collecting() -> None:
    """Regulars of a quiet shop chain into sittings and meet again on other days, but show no other cue."""
    from ringsight.algorithms.detectors import swiping

    claims = _frame(_background() + _regulars_rows())
    loose = T.model_copy(update={"burst_min_cues": 0})
    grouped = swiping.burst_swiping(claims, loose)  # they do form burst groups …
    assert not grouped.is_empty()
    assert swiping.burst_swiping(claims, T).is_empty()  # … with one or two cues at most


def _home_and_basket_rows() -> tuple[list[dict], list[dict]]:
    """A small care home (13 residents, one landline, one address, ordinary visits) and, at a pharmacy across
    town, one two-item basket that five cards happened to buy, one of them a resident's."""
    claims, items = [], []
    for r in range(13):
        for k in range(4):
            claims.append(
                {
                    "claim_id": f"home{r:02d}{k}",
                    "pid": f"person:h{r}",
                    "card_id": f"card:h{r}",
                    "contact_phone": "phone:landline",
                    "address_key": "金牛区YY路9号",
                    "facility_code": COMMUNITY_CLINIC,
                    "facility_kind": "clinic",
                    "claim_ts": T0 + (3 + 11 * k + r) * DAY + 10 * 3600,
                    "total_amount": 880.0 + 45 * r,
                }
            )
    buyers = ["h0", "b11", "b27", "b45", "b63"]
    for j, who in enumerate(buyers):
        claims.append(
            {
                "claim_id": f"bask{j}",
                "pid": f"person:{who}",
                "card_id": f"card:{who}",
                "facility_code": SHOP,
                "facility_kind": "pharmacy",
                "claim_ts": T0 + (20 + 9 * j) * DAY + 15 * 3600,
                "total_amount": 96.0,
            }
        )
        items += [{"claim_id": f"bask{j}", "item_code": code, "quantity": 1.0} for code in ("XK01", "XK02")]
    return claims, items


def test_a_care_home_with_one_resident_in_a_weak_lead_is_not_a_ring() -> None:
    """The home's landline and address are linkage; when one resident's card in a coincidental basket lead puts
    the home into the basket's cluster, the home counts only for that resident (and its residents' claims are
    not money at stake): the cluster stays below the queue's floor. With the whole home acting, it would not."""
    from ringsight.algorithms.clusters import ClusterSet
    from ringsight.algorithms.frames import compact, items_frame, load_sanctions
    from ringsight.algorithms.leads import lead_members
    from ringsight.algorithms.pipeline import detect_frames
    from ringsight.algorithms.scoring import score_clusters
    from ringsight.config import DetectSettings

    cfg = DetectSettings()
    home, items = _home_and_basket_rows()
    claims, item_frame = compact(
        pl.concat([_frame(_background()), claims_frame(home)], how="vertical"), items_frame(items)
    )
    result = detect_frames(claims, item_frame, cfg)
    leads = result.leads
    assert set(leads["detector"].to_list()) == {"identical_baskets", "shared_phone", "shared_address"}

    def one_cluster(lead_frame: pl.DataFrame) -> pl.DataFrame:
        members = lead_members(lead_frame).select(
            pl.lit(0, dtype=pl.Int64).alias("cluster"), "label", "key", "role", pl.lit(1.0).alias("weight")
        )
        cs = ClusterSet(
            members.unique(["label", "key"]),
            lead_frame.select(pl.lit(0, dtype=pl.Int64).alias("cluster"), "lead_id"),
            result.cluster_set.communities,
        )
        return score_clusters(cs, lead_frame, claims, load_sanctions(None), cfg.weights).row(0, named=True)

    merged = one_cluster(leads)
    assert merged["score"] < cfg.min_score, merged["explanation_en"]
    assert merged["amount"] < 1_000  # the basket's claims, not the residents' visits
    # were every resident a basket buyer, the home's linkage would corroborate it in full
    everyone = leads.with_columns(
        pl.when(pl.col("detector") == "identical_baskets")
        .then(
            pl.concat_list(
                "members",
                pl.lit(
                    [{"label": "Patient", "key": f"person:h{r}", "role": "card_holder"} for r in range(13)],
                    dtype=leads.schema["members"],
                ),
            )
        )
        .otherwise(pl.col("members"))
        .alias("members")
    )
    assert one_cluster(everyone)["score"] >= cfg.min_score
