"""Planted fraud rings: one function per typology of shared/DOMAIN.md, each leaving the signals that reveal it.

Every planter takes the shared :class:`Planter`, the ring's knobs (size,
intensity, hidden) and the :class:`Ring` record to fill: members (by their
canonical identifiers), the fraudulent claims, and descriptions. Ring members
drawn from the population keep their ordinary background claims, so rings
overlap the background instead of standing apart. ``hidden`` (0–1) widens
time windows, thins events and softens amounts.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ringsight.synth.background import RING_BED_BASE
from ringsight.synth.catalog import DEPT_INDEX, DIAG_INDEX, ITEM_INDEX, items_in
from ringsight.synth.claims import OUTPATIENT, PHARMACY_VISIT
from ringsight.synth.config import ResolvedKnobs
from ringsight.synth.facilities import HOSPITAL, PHARMACY
from ringsight.synth.planter import Planter, Ring
from ringsight.synth.steps import (
    COMMON_PHARMACY_DRUGS,
    bed_and_nursing,
    collected_cards,
    day_spread,
    describe,
    enrol,
    event_days,
    home_visit,
    inpatient_stay,
    outpatient,
    own_visit,
    pharmacy_sale,
    prescriber_and_far_pharmacy,
    round_robin,
    rx_number,
    scaled,
    share_contacts,
    some_of,
    usual_diag,
    village_district,
    village_name,
)
from ringsight.synth.steps import DAY as _DAY
from ringsight.synth.steps import HOUR as _HOUR
from ringsight.synth.steps import TONICS as _TONICS


def _burst_claims(
    p: Planter, ring: Ring, pharmacy: int, holders: np.ndarray, days: np.ndarray, knobs: ResolvedKnobs
) -> None:
    """Bursts of swipes of collected cards on one back-office terminal, often off-hours, in round amounts."""
    fac = p.world.facilities
    terminal = int(fac.n_terminals[pharmacy])  # a terminal the counter staff never use
    operator = int(fac.n_operators[pharmacy])
    h = knobs.hidden
    for day in days.tolist():
        take = some_of(p, holders, 1.0 - 0.4 * h)
        off_hours = p.rng.random() < 1.0 - 0.5 * h
        start = (
            (
                int(p.rng.integers(21 * _HOUR, 23 * _HOUR))
                if p.rng.random() < 0.6
                else int(p.rng.integers(6 * _HOUR, 7 * _HOUR))
            )
            if off_hours
            else int(p.rng.integers(9 * _HOUR, 17 * _HOUR))
        )
        gaps = p.rng.integers(40, 180, len(take)) * (1 + 3 * h)
        ts = p.at(day, start + np.cumsum(gaps).astype(np.int64))
        lines = []
        for _ in take:
            drug = int(p.rng.choice(COMMON_PHARMACY_DRUGS))
            if p.rng.random() < 1.0 - 0.6 * h:
                amount = int(p.rng.choice([100, 150, 200, 200, 300, 500])) * 100
                qty = 2 if amount % 200 == 0 and p.rng.random() < 0.5 else 1
                lines.append([{"item": drug, "qty": qty, "price": amount // qty}])
            else:
                lines.append([{"item": drug, "qty": int(p.rng.integers(2, 6))}])
        pharmacy_sale(
            p, ring, lines, ts, take, pharmacy, DIAG_INDEX["J06.900"], doctor=-1, terminal=terminal, operator=operator
        )


def card_collecting(p: Planter, knobs: ResolvedKnobs, ring: Ring, window: tuple[int, int] | None = None) -> None:
    """聚敛盗刷社保卡: a pharmacy holds many collected cards and swipes them in bursts on one terminal."""
    pharmacy, holders = collected_cards(p, knobs)
    lo, hi = window or (0, p.days)
    _burst_claims(p, ring, pharmacy, holders, event_days(p, scaled(6, knobs), lo, hi), knobs)
    enrol(ring, holders, cards=True, facilities=[pharmacy])
    describe(
        ring,
        f"Pharmacy collects {len(holders)} elderly residents' cards (living far away) and swipes "
        "them in bursts on one back-office terminal, mostly off-hours, in round amounts.",
        f"药店聚敛{len(holders)}名外区老年参保人医保卡，在同一终端集中突击刷卡，多在非营业时间，金额为整数。",
    )


def goods_as_drugs(p: Planter, knobs: ResolvedKnobs, ring: Ring) -> None:
    """诱导购买生活用品: identical baskets of tonics billed as drugs across many cards, against unrelated diagnoses."""
    pharmacy = p.facility(PHARMACY, private=True)
    district = int(p.world.facilities.district[pharmacy])
    buyers = p.persons(knobs.size, age=(30, 85), districts=[district])
    basket = p.rng.choice(_TONICS, size=min(3, len(_TONICS)), replace=False)
    qty = p.rng.integers(1, 4, len(basket))
    lines = [{"item": int(it), "qty": int(q)} for it, q in zip(basket, qty, strict=True)]
    visits = scaled(3, knobs)
    for person in buyers.tolist():
        days = event_days(p, visits)
        ts = p.at(days, p.rng.integers(9 * _HOUR, 20 * _HOUR, visits))
        diag = DIAG_INDEX["J06.900"] if p.rng.random() < 0.5 else DIAG_INDEX["K29.700"]
        pharmacy_sale(p, ring, [lines] * visits, ts, person, pharmacy, diag, doctor=-1)
    enrol(ring, buyers, cards=True, facilities=[pharmacy])
    names = "、".join(p.world.items["item_name"][int(i)] for i in basket)
    describe(
        ring,
        f"Pharmacy bills the same basket ({len(basket)} tonic items) as drugs on {len(buyers)} "
        "cards, against colds and gastritis — daily goods sold under drug codes.",
        f"药店以药品名义为{len(buyers)}张医保卡重复结算同一组商品（{names}），与诊断不符，疑为串换生活用品。",
    )


def impersonation(p: Planter, knobs: ResolvedKnobs, ring: Ring) -> None:
    """冒名就医: cards used by impostors far away within hours of the holder's own visit, with odd diagnoses."""
    pop = p.world.population
    holders = p.persons(knobs.size, age=(50, 90))
    impostor_phones = p.new_phones(max(1, knobs.size // 2))
    events = scaled(3, knobs)
    used_facilities: list[int] = []
    for person in holders.tolist():
        home = int(pop.district[person])
        for day in event_days(p, events).tolist():
            t0 = p.at(day, int(p.rng.integers(8 * _HOUR, 11 * _HOUR)))
            home_visit(p, t0, person, usual_diag(p, person))
            far = p.facility(HOSPITAL if p.rng.random() < 0.6 else PHARMACY, far_from=home, reserve=False)
            used_facilities.append(far)
            gap = int(p.rng.integers(1 * _HOUR, 3 * _HOUR) * (1 + knobs.hidden))
            diag = DIAG_INDEX["Z34.900"] if not pop.male[person] else DIAG_INDEX["R50.900"]
            kind = p.world.facilities.kind[far]
            p.add(
                ring,
                ts=t0 + gap,
                visit=OUTPATIENT if kind == HOSPITAL else PHARMACY_VISIT,
                person=person,
                facility=far,
                diag=diag,
                phone=str(p.rng.choice(impostor_phones)),
            )
    enrol(ring, holders, cards=True, phones=impostor_phones, facilities=sorted(set(used_facilities)))
    describe(
        ring,
        f"{len(holders)} cards used by impostors at distant facilities within hours of the holders' "
        "own visits, under other phone numbers and with diagnoses that do not fit the holder.",
        f"{len(holders)}张医保卡被冒用：持卡人本人就诊数小时内在远处机构再次结算，联系电话不同，诊断与持卡人年龄性别不符。",
    )


def reselling(p: Planter, knobs: ResolvedKnobs, ring: Ring) -> None:
    """倒卖药品: a group sharing a dealer's phone and addresses buys one high-value drug across many pharmacies."""
    pop = p.world.population
    members = p.persons(knobs.size, age=(25, 80))
    dealer = p.new_phones(1)[0]
    district = int(pop.district[members[0]])
    addresses = [p.new_address(district) for _ in range(max(1, knobs.size // 4))]
    pop.set_column("contact_phone", members, dealer)
    pop.set_column("patient_address", members, round_robin(addresses, len(members)))
    drug = int(p.rng.choice([ITEM_INDEX["安宫牛黄丸"], ITEM_INDEX["人血白蛋白"], ITEM_INDEX["吉非替尼片"]]))
    pharmacies = sorted({p.facility(PHARMACY, reserve=False) for _ in range(min(8, 2 + knobs.size))})
    visits = scaled(6, knobs)
    for person in members.tolist():
        days = event_days(p, visits)
        ts = p.at(days, p.rng.integers(9 * _HOUR, 20 * _HOUR, visits))
        where = p.rng.choice(pharmacies, size=visits)
        lines = [[p.drug_line(drug, int(q))] for q in p.rng.integers(5, 11, visits)]
        pharmacy_sale(p, ring, lines, ts, person, where, DIAG_INDEX["I63.900"], doctor=-1)
    enrol(ring, members, cards=True, phones=[dealer], addresses=addresses, facilities=pharmacies)
    name = p.world.items["item_name"][drug]
    describe(
        ring,
        f"{len(members)} insured sharing a dealer's contact phone and {len(addresses)} addresses "
        f"buy large quantities of one high-value drug at {len(pharmacies)} pharmacies for resale.",
        f"{len(members)}名参保人共用中间人联系电话和{len(addresses)}个地址，在{len(pharmacies)}家药店大量购买{name}倒卖。",
    )


def ghost_patients(p: Planter, knobs: ResolvedKnobs, ring: Ring) -> None:
    """假病人: people with no history at a private hospital, sharing a few phones and addresses, same diagnosis."""
    pop = p.world.population
    hospital = p.facility(HOSPITAL, private=True, max_level=1)
    district = int(p.world.facilities.district[hospital])
    ghosts = p.reserved_persons(knobs.size)
    phones = p.new_phones(max(2, knobs.size // 6))
    addresses = [p.new_address(district) for _ in range(max(1, knobs.size // 8))]
    share_contacts(p, ghosts, phones, addresses)
    pop.set_column("contact_phone", ghosts, phones[0])
    doctors = [p.doctor_at(hospital) for _ in range(2)]
    diag = DIAG_INDEX["M47.800"]
    rehab = [ITEM_INDEX["针灸治疗"], ITEM_INDEX["康复理疗"], ITEM_INDEX["中频脉冲电治疗"], ITEM_INDEX["颈椎牵引"]]
    for wave_day in event_days(p, scaled(3, knobs), 0, p.days - 10).tolist():
        group = some_of(p, ghosts, 0.9 - 0.3 * knobs.hidden)
        spread = day_spread(p, len(group), knobs.hidden)
        admit = p.at(wave_day + spread, p.rng.integers(9 * _HOUR, 11 * _HOUR, len(group)))
        los = int(p.rng.integers(6, 10))
        discharge = admit + los * _DAY + p.rng.integers(0, 2 * _HOUR, len(group))
        lines = [[*bed_and_nursing(los), {"item": rehab[0], "qty": los}, {"item": rehab[1], "qty": los}]] * len(group)
        inpatient_stay(
            p, ring, group, hospital, diag, admit, discharge, 1_800, lines, doctor=p.rng.choice(doctors, len(group))
        )
        # outpatient "rehab sessions" billed in the weeks around the stay
        sessions = np.repeat(group, 2)
        days = p.clip_day(wave_day + los + p.rng.integers(1, 20, len(sessions)))
        ts = p.at(days, p.rng.integers(8 * _HOUR, 17 * _HOUR, len(sessions)))
        lines = [[{"item": rehab[2], "qty": 5}, {"item": rehab[3], "qty": 5}]] * len(sessions)
        outpatient(p, ring, ts, sessions, hospital, diag, lines, doctor=p.rng.choice(doctors, len(sessions)))
    enrol(
        ring,
        ghosts,
        cards=True,
        phones=phones,
        addresses=addresses,
        facilities=[hospital],
        doctors=sorted(set(doctors)),
    )
    describe(
        ring,
        f"{len(ghosts)} 'patients' with no prior claims, sharing {len(phones)} phones and "
        f"{len(addresses)} addresses, admitted in groups at a private hospital with one diagnosis.",
        f"{len(ghosts)}名无就医史的“患者”共用{len(phones)}个电话、{len(addresses)}个地址，在民营医院以同一诊断成批住院。",
    )


def induced_admission(p: Planter, knobs: ResolvedKnobs, ring: Ring) -> None:
    """诱导住院: elderly from one village recruited by one phone, admitted and discharged together repeatedly."""
    pop = p.world.population
    hospital = p.facility(HOSPITAL, private=True, max_level=1)
    district = village_district(p)
    members = p.persons(knobs.size, age=(60, 92), districts=[district])
    recruiter = p.new_phones(1)[0]
    village = village_name(p, district)
    addresses = [f"{village}{900 + i}号" for i in range(len(members))]
    pop.set_column("contact_phone", members, recruiter)
    pop.set_column("patient_address", members, addresses)
    doctor = p.doctor_at(hospital)
    diag = DIAG_INDEX["I67.800"]
    checkups = [ITEM_INDEX[name] for name in ("健康体检套餐", "胸部CT平扫", "磁共振平扫", "生化全项检查")]
    waves = scaled(3, knobs)
    starts = np.linspace(0, p.days - 14, waves + 1)[:-1].astype(np.int64) + p.rng.integers(0, 5, waves)
    for day in starts.tolist():
        group = some_of(p, members, 0.95 - 0.3 * knobs.hidden)
        spread = day_spread(p, len(group), knobs.hidden)
        los = int(p.rng.integers(7, 11))
        admit = p.at(day + spread, p.rng.integers(9 * _HOUR, 11 * _HOUR, len(group)))
        discharge = p.at(day + spread + los, p.rng.integers(9 * _HOUR, 10 * _HOUR, len(group)))
        lines = [
            [
                *bed_and_nursing(los),
                *({"item": c, "qty": 1} for c in checkups),
                {"item": ITEM_INDEX["康复理疗"], "qty": los},
                p.drug_line(ITEM_INDEX["丁苯酞软胶囊"], 4, traced=False),
                p.drug_line(ITEM_INDEX["银杏叶片"], 3, traced=False),
            ]
        ] * len(group)
        inpatient_stay(p, ring, group, hospital, diag, admit, discharge, 1_800, lines, doctor=doctor)
    enrol(ring, members, cards=True, phones=[recruiter], addresses=addresses, facilities=[hospital], doctors=[doctor])
    describe(
        ring,
        f"{len(members)} elderly from one village, recruited through one contact phone for free "
        f"check-ups, admitted and discharged together {waves} times at a private hospital.",
        f"同村{len(members)}名老人经同一联系人以免费体检为名被诱导入住民营医院，{waves}次同进同出。",
    )


def bed_holding(p: Planter, knobs: ResolvedKnobs, ring: Ring) -> None:
    """挂床住院: long stays with almost no treatment; the patient claims elsewhere during the stay; beds shared."""
    pop = p.world.population
    hospital = p.facility(HOSPITAL, max_level=1)
    members = p.persons(knobs.size, age=(40, 80))
    doctor = p.doctor_at(hospital)
    beds = RING_BED_BASE + np.arange(max(1, knobs.size // 2))
    stays = scaled(2, knobs)
    for person in members.tolist():
        day = int(p.rng.integers(0, max(1, p.days // (stays + 1))))
        for _ in range(stays):
            los = min(int(p.rng.integers(10, 21)), p.days - day - 2)
            if los < 5:
                break
            admit = p.at(day, int(p.rng.integers(8 * _HOUR, 12 * _HOUR)))
            discharge = admit + los * _DAY
            lines = [[*bed_and_nursing(los), p.drug_line(int(p.rng.choice(items_in("htn"))), 1, traced=False)]]
            inpatient_stay(
                p,
                ring,
                person,
                hospital,
                DIAG_INDEX["I10.x00"],
                admit,
                discharge,
                3_600,
                lines,
                doctor=doctor,
                bed=int(p.rng.choice(beds)),
            )
            # meanwhile the patient is seen elsewhere
            k = int(p.rng.integers(1, 4))
            days = day + 1 + p.rng.integers(0, los - 1, k)
            ts = p.at(days, p.rng.integers(9 * _HOUR, 18 * _HOUR, k))
            visit = np.where(p.rng.random(k) < 0.5, OUTPATIENT, PHARMACY_VISIT)
            where = np.where(visit == OUTPATIENT, pop.home_clinic[person], pop.home_pharmacy[person])
            p.add(None, ts=ts, visit=visit, person=person, facility=where, diag=usual_diag(p, person))
            day += los + int(p.rng.integers(3, 15))
    enrol(ring, members, cards=True, facilities=[hospital], doctors=[doctor])
    describe(
        ring,
        f"{len(members)} patients kept on the books of a primary hospital for 10–20 days with only "
        "bed and nursing fees, sharing beds, while claiming at clinics and pharmacies elsewhere.",
        f"{len(members)}名患者在一级医院挂床住院10–20天，仅有床位护理费，多人共用床位，住院期间在别处门诊购药。",
    )


def doctor_pharmacy(p: Planter, knobs: ResolvedKnobs, ring: Ring) -> None:
    """处方外流/内外勾结: one doctor's prescriptions filled at one distant pharmacy, inflated, by one operator."""
    hospital, doctor, pharmacy = prescriber_and_far_pharmacy(p, DEPT_INDEX["内分泌科"], private=True)
    operator = int(p.world.facilities.n_operators[pharmacy])
    patients = p.persons(knobs.size, age=(35, 85))
    drugs = np.concatenate([items_in("diab"), items_in("lipid")])
    fills = scaled(2, knobs)
    for person in patients.tolist():
        for day in event_days(p, fills).tolist():
            t0 = p.at(day, int(p.rng.integers(8 * _HOUR, 12 * _HOUR)))
            if p.rng.random() < 0.65 + 0.3 * knobs.hidden:  # about one fill in three has no visit behind it
                own_visit(p, t0, person, hospital, DIAG_INDEX["E11.900"], doctor=doctor)
            rx = rx_number(p)
            chosen = p.rng.choice(drugs, size=2, replace=False)
            lines = [
                [
                    p.drug_line(int(d), int(p.rng.integers(4, 7)), external=True, item_doctor=doctor, rx=rx)
                    for d in chosen
                ]
            ]
            ts = t0 + int(p.rng.integers(2 * _HOUR, 8 * _HOUR))
            pharmacy_sale(p, ring, lines, ts, person, pharmacy, DIAG_INDEX["E11.900"], doctor=doctor, operator=operator)
    enrol(ring, patients, facilities=[pharmacy], doctors=[doctor])
    describe(
        ring,
        f"Prescriptions of one endocrinologist are filled at one distant pharmacy for "
        f"{len(patients)} patients, in inflated quantities, settled by one operator; a third "
        "have no visit behind them.",
        f"某内分泌科医生的处方集中流向远处一家药店（{len(patients)}名患者），数量超量，由同一操作员结算，约三分之一无对应就诊。",
    )


def trace_code_resale(p: Planter, knobs: ResolvedKnobs, ring: Ring) -> None:
    """回流药: packages bought on some cards are settled again, by their trace codes, at the ring's pharmacies."""
    sellers = p.persons(knobs.size, age=(40, 90))
    buyers = p.persons(max(2, knobs.size // 2), age=(30, 85))
    resellers = [p.facility(PHARMACY, private=True) for _ in range(1 if knobs.size < 6 else 2)]
    others = np.setdiff1d(p.world.facilities.of_kind(PHARMACY), resellers)
    drug = int(p.rng.choice([ITEM_INDEX["安宫牛黄丸"], ITEM_INDEX["门冬胰岛素注射液"], ITEM_INDEX["人血白蛋白"]]))
    pop = p.world.population
    packages: list[tuple[int, str]] = []  # (day bought, trace code)
    for person in sellers.tolist():
        for day in event_days(p, scaled(3, knobs), 0, p.days - 20).tolist():
            qty = int(p.rng.integers(2, 5))
            line = p.drug_line(drug, qty)
            bought_at = int(pop.home_pharmacy[person])
            if bought_at in resellers:
                bought_at = int(p.rng.choice(others))
            ts = p.at(day, int(p.rng.integers(9 * _HOUR, 19 * _HOUR)))
            pharmacy_sale(p, ring, [[line]], ts, person, bought_at, DIAG_INDEX["E11.900"], doctor=-1)
            packages += [(day, code) for code in line["trace"]]
    order = p.rng.permutation(len(packages))
    resold = [packages[i] for i in order[: max(2, int(len(packages) * (0.8 - 0.3 * knobs.hidden)))]]
    while resold:
        k = min(len(resold), int(p.rng.integers(1, 4)))
        batch, resold = resold[:k], resold[k:]
        day = int(p.clip_day(max(d for d, _ in batch) + p.rng.integers(3, 20)))
        codes = [c for _, c in batch]
        pharmacy_sale(
            p,
            ring,
            [[{"item": drug, "qty": len(codes), "trace": codes}]],
            p.at(day, int(p.rng.integers(9 * _HOUR, 20 * _HOUR))),
            int(p.rng.choice(buyers)),
            int(p.rng.choice(resellers)),
            DIAG_INDEX["E11.900"],
            doctor=-1,
        )
    enrol(ring, np.concatenate([sellers, buyers]), cards=True, facilities=resellers)
    describe(
        ring,
        f"Packages bought on {len(sellers)} cards come back into {len(resellers)} pharmacies and "
        f"are settled again, same trace codes, on {len(buyers)} other cards.",
        f"{len(sellers)}张医保卡购买的药品经回收后在{len(resellers)}家药店以相同追溯码再次结算（{len(buyers)}张卡）。",
    )


def repeated_admission(p: Planter, knobs: ResolvedKnobs, ring: Ring) -> None:
    """救助人员多次住院: the same low-income elderly admitted again and again at one hospital."""
    pop = p.world.population
    hospital = p.facility(HOSPITAL, max_level=2, private=True)
    members = p.persons(knobs.size, age=(60, 92))
    pop.set_column("insurance_type", members, "resident")
    p.world.employee[members] = False
    doctor = p.doctor_at(hospital)
    times = scaled(5, knobs)
    for person in members.tolist():
        gap = max(8, (p.days - 10) // times)
        days = np.arange(times) * gap + p.rng.integers(0, 3, times)
        for day in days[days < p.days - 8].tolist():
            los = int(p.rng.integers(4, 8))
            admit = p.at(day, int(p.rng.integers(8 * _HOUR, 16 * _HOUR)))
            discharge = admit + los * _DAY
            inpatient_stay(p, ring, person, hospital, DIAG_INDEX["J44.900"], admit, discharge, 3_600, doctor=doctor)
    enrol(ring, members, facilities=[hospital], doctors=[doctor])
    describe(
        ring,
        f"{len(members)} low-income elderly (resident insurance) admitted about {times} times each "
        "at the same hospital, with short gaps.",
        f"{len(members)}名低收入老年居民医保参保人在同一医院反复住院，每人约{times}次。",
    )


def recurrence(p: Planter, knobs: ResolvedKnobs, ring: Ring) -> None:
    """屡查屡犯: a card-collecting pharmacy stops at its rectification date and starts again weeks later."""
    first_end = int(p.days * 0.35)
    rectified = int(p.days * 0.4)
    card_collecting(p, knobs, ring, window=(0, first_end))
    pharmacy = ring.facilities[0]
    holders = np.array(ring.persons)
    newcomers = p.persons(max(1, knobs.size // 4), age=(55, 95))
    again = np.concatenate([holders[: max(2, len(holders) * 3 // 4)], newcomers])
    _burst_claims(p, ring, pharmacy, again, event_days(p, scaled(4, knobs), int(p.days * 0.65), p.days), knobs)
    enrol(ring, newcomers, cards=True)
    ring.rectification_date = p.date_of(rectified)
    describe(
        ring,
        f"A card-collecting pharmacy ({len(again)} cards) stops at its rectification date "
        f"{ring.rectification_date} and reappears weeks later with mostly the same cards.",
        f"聚敛刷卡药店在整改日期{ring.rectification_date}后暂停，数周后以基本相同的医保卡（{len(again)}张）再次突击刷卡。",
    )


def split_charges(p: Planter, knobs: ResolvedKnobs, ring: Ring) -> None:
    """分解住院/重复收费: stays split into back-to-back admissions, the same test billed twice, by the same doctors."""
    hospital = p.facility(HOSPITAL, min_level=2)
    doctors = [p.doctor_at(hospital, DEPT_INDEX["骨科"]) for _ in range(2)]
    members = p.persons(knobs.size, age=(40, 85))
    ct = ITEM_INDEX["胸部CT平扫"]
    for person in members.tolist():
        for day in event_days(p, scaled(1, knobs), 0, p.days - 25).tolist():
            t = p.at(day, int(p.rng.integers(8 * _HOUR, 12 * _HOUR)))
            for _part in range(int(p.rng.integers(2, 4))):
                los = int(p.rng.integers(4, 8))
                discharge = t + los * _DAY
                lines = [
                    [
                        *bed_and_nursing(los),
                        {"item": ct, "qty": 1},
                        {"item": ct, "qty": 1},
                        {"item": ITEM_INDEX["康复理疗"], "qty": los},
                        p.drug_line(ITEM_INDEX["塞来昔布胶囊"], 2, traced=False),
                    ]
                ]
                doctor = int(p.rng.choice(doctors))
                inpatient_stay(
                    p, ring, person, hospital, DIAG_INDEX["M47.800"], t, discharge, 3_600, lines, doctor=doctor
                )
                t = discharge + int(p.rng.integers(1, 3)) * _DAY
    enrol(ring, members, facilities=[hospital], doctors=sorted(set(doctors)))
    describe(
        ring,
        f"Two orthopaedists split {len(members)} patients' stays into back-to-back admissions for "
        "the same diagnosis and bill the same CT twice per stay.",
        f"两名骨科医生将{len(members)}名患者的住院分解为连续多次入院（同一诊断），每次重复收取CT费用。",
    )


PLANTERS: dict[str, Callable[[Planter, ResolvedKnobs, Ring], None]] = {
    "card_collecting": card_collecting,
    "goods_as_drugs": goods_as_drugs,
    "impersonation": impersonation,
    "reselling": reselling,
    "ghost_patients": ghost_patients,
    "induced_admission": induced_admission,
    "bed_holding": bed_holding,
    "doctor_pharmacy": doctor_pharmacy,
    "trace_code_resale": trace_code_resale,
    "repeated_admission": repeated_admission,
    "recurrence": recurrence,
    "split_charges": split_charges,
}

#: Which member kinds define a ring when scoring recall.
CORE: dict[str, list[str]] = {
    "card_collecting": ["cards", "facilities"],
    "goods_as_drugs": ["cards", "facilities"],
    "impersonation": ["cards"],
    "reselling": ["patients"],
    "ghost_patients": ["patients"],
    "induced_admission": ["patients", "facilities"],
    "bed_holding": ["patients", "facilities"],
    "doctor_pharmacy": ["doctors", "facilities"],
    "trace_code_resale": ["cards", "facilities"],
    "repeated_admission": ["patients", "facilities"],
    "recurrence": ["cards", "facilities"],
    "split_charges": ["doctors", "facilities"],
}
