"""Third renderings of nine typologies, after the shapes a municipal bureau meets in its cases.

Each shows a different subset of its typology's cues than ``base`` (and other
parameters), so a detector tuned on ``base`` meets a shape it was not built
around. None is used to tune detection (see ``HELD_BACK`` in
:mod:`ringsight.synth.renderings`). The members recorded are those of the
typology's core kinds (``rings.CORE``), so recall is scored the same way.

- goods as drugs ``partner_pharmacies`` — daily goods sold at a chain's
  promotion days, billed under drug codes at round prices off the list, in
  baskets that differ from sale to sale, at three partner pharmacies of one
  district (no identical basket);
- reselling ``pharmacy_tour`` — a dealer drives recruited card holders from
  pharmacy to pharmacy across districts on one day, several high-value drugs,
  no shared phone or address;
- induced admission ``village_doctor`` — the village doctor refers elderly of
  one village, a free shuttle takes two to four at a time to a private hospital
  in another district, stays of different lengths spread over weeks (no
  recruiter phone, no group discharged together);
- bed holding ``daily_elsewhere`` — stays billed like real treatment (daily
  infusion, tests, drugs) on beds of their own, while the patient is seen at
  a clinic or pharmacy nearly every day of the stay;
- trace-code resale ``hospital_packages`` — packages dispensed at a tertiary
  hospital come back weeks later, one at a time on many walk-in cards, at two
  pharmacies on the far side of the city; about half of them return;
- repeated admission ``rotating_doctors`` — aid recipients admitted again and
  again at one private hospital, each time under whichever doctor is on duty
  and whichever chronic diagnosis fits, at irregular gaps;
- recurrence ``sister_shop`` — after its rectification the card-collecting
  pharmacy moves the collected cards to a sister shop of the same brand in the
  same district (its own facility code) and swipes them there in business
  hours at ordinary amounts;
- split charges ``two_departments`` — discharged from orthopaedics and
  readmitted the same day under another department's doctor with a related
  diagnosis, the same scan billed on both stays;
- impersonation ``lent_cards`` — elderly holders of one rural town (men,
  and women past childbearing age) lend their cards to younger women treated
  at a private clinic in the same town for pregnancy care, now and then a
  cold: each woman under her own phone, scattered days, no travel at all.
"""

from __future__ import annotations

import numpy as np

from ringsight.synth.catalog import DEPT_INDEX, DIAG_INDEX, ITEM_INDEX
from ringsight.synth.claims import OUTPATIENT, PHARMACY_VISIT
from ringsight.synth.config import ResolvedKnobs
from ringsight.synth.facilities import CLINIC, HOSPITAL, PHARMACY
from ringsight.synth.planter import Planter, Ring
from ringsight.synth.rings import card_collecting
from ringsight.synth.steps import (
    COMMON_PHARMACY_DRUGS,
    bed_and_nursing,
    describe,
    enrol,
    event_days,
    inpatient_stay,
    outpatient,
    pharmacy_sale,
    scaled,
    some_of,
    usual_diag,
    village_district,
    village_name,
)
from ringsight.synth.steps import DAY as _DAY
from ringsight.synth.steps import HOUR as _HOUR
from ringsight.synth.steps import TONICS as _TONICS

#: what a promotion sells, in yuan: the bill is the goods' price, whatever the coded drug's list price
_PROMO_PRICES = (98, 128, 168, 198, 298)


def _distinct(facilities: list[int]) -> list[int]:
    """The facilities picked, each once (a small city may offer the same shop twice), in picking order."""
    return list(dict.fromkeys(facilities))


def _goods_basket(p: Planter) -> list[dict]:
    """Two or three goods under tonic drug codes, each line a round promotion price (not the list price)."""
    codes = p.rng.choice(_TONICS, size=int(p.rng.integers(2, 4)), replace=False)
    lines = []
    for code in codes.tolist():
        qty = int(p.rng.integers(1, 3))
        amount = int(p.rng.choice(_PROMO_PRICES)) * 100 * qty
        lines.append({"item": code, "qty": qty, "price": amount // qty})
    return lines


def partner_pharmacies(p: Planter, knobs: ResolvedKnobs, ring: Ring) -> None:
    """诱导购买生活用品 at a chain's promotion days: goods under drug codes, varied baskets, three shops."""
    first = p.facility(PHARMACY, private=True)
    district = int(p.world.facilities.district[first])
    partners = _distinct([first, *(p.facility(PHARMACY, private=True, district=district) for _ in range(2))])
    buyers = p.persons(knobs.size, age=(55, 88), districts=[district])
    for day in event_days(p, scaled(8, knobs)).tolist():
        shop = int(p.rng.choice(partners))
        take = some_of(p, buyers, 0.45, at_least=3)
        start = int(p.rng.integers(9 * _HOUR, 15 * _HOUR))
        ts = p.at(day, start + np.cumsum(p.rng.integers(120, 900, len(take))).astype(np.int64))
        lines = [_goods_basket(p) for _ in take]
        diags = np.array([usual_diag(p, int(person)) for person in take])
        pharmacy_sale(p, ring, lines, ts, take, shop, diags, doctor=-1)
    enrol(ring, buyers, cards=True, facilities=partners)
    describe(
        ring,
        f"{len(partners)} partner pharmacies of one district bill daily goods as drugs on {len(buyers)} elderly "
        "residents' cards on promotion days: baskets differ from sale to sale, each line a round "
        "promotion price off the drug's list price, against the buyers' own chronic diagnoses.",
        f"同区{len(partners)}家合作药店在促销日以药品编码为{len(buyers)}名老年参保人结算生活用品，每单组合不同，"
        "单价为整数促销价而非目录价，与参保人自身慢病诊断无关。",
    )


#: high-value drugs a dealer buys up, with the diagnosis a pharmacy enters for each
_RESOLD = (("安宫牛黄丸", "I63.900"), ("人血白蛋白", "C34.900"), ("吉非替尼片", "C34.900"))


def pharmacy_tour(p: Planter, knobs: ResolvedKnobs, ring: Ring) -> None:
    """倒卖药品 by car: recruited card holders buy high-value drugs pharmacy after pharmacy across districts."""
    members = p.persons(max(4, knobs.size), age=(30, 80))
    n_districts = len(p.world.city.districts)
    route = p.rng.choice(n_districts, size=min(4, n_districts), replace=False)
    shops = sorted({p.facility(PHARMACY, district=int(d), reserve=False) for d in route.tolist() for _ in range(2)})
    for day in event_days(p, scaled(6, knobs)).tolist():
        name, diag = _RESOLD[int(p.rng.integers(len(_RESOLD)))]
        drug = ITEM_INDEX[name]
        car = some_of(p, members, 0.6)
        stops = p.rng.choice(shops, size=min(len(shops), int(p.rng.integers(3, 5))), replace=False)
        t = int(p.rng.integers(9 * _HOUR, 10 * _HOUR))
        for shop in stops.tolist():
            ts = p.at(day, t + np.cumsum(p.rng.integers(60, 300, len(car))).astype(np.int64))
            lines = [[p.drug_line(drug, int(q))] for q in p.rng.integers(2, 5, len(car))]
            pharmacy_sale(p, ring, lines, ts, car, shop, DIAG_INDEX[diag], doctor=-1)
            t += int(p.rng.integers(40 * 60, 90 * 60))
    enrol(ring, members, cards=True, facilities=shops)
    describe(
        ring,
        f"A dealer drives {len(members)} recruited card holders to {len(shops)} pharmacies across "
        "districts, several stops a day, where each buys a few packs of one of three high-value drugs; "
        "they share no phone or address.",
        f"中间人驾车带{len(members)}名参保人一天内跑多个区的{len(shops)}家药店，每店各买数盒三种高值药品之一，"
        "彼此不共用电话和地址。",
    )


def village_doctor(p: Planter, knobs: ResolvedKnobs, ring: Ring) -> None:
    """诱导住院 via a village doctor: referral visits, a free shuttle of 2–4, stays spread over weeks."""
    pop, fac = p.world.population, p.world.facilities
    district = village_district(p)
    clinic = p.facility(CLINIC, district=district)
    village_doc = p.doctor_at(clinic)
    hospital = p.facility(HOSPITAL, private=True, max_level=1, far_from=district)
    doctor = p.doctor_at(hospital)
    members = p.persons(knobs.size, age=(60, 92), districts=[district])
    village = village_name(p, district)
    addresses = [f"{village}{11 + 7 * i}号" for i in range(len(members))]
    pop.set_column("patient_address", members, addresses)
    # every member rides the shuttle ``stays`` times, two to four at a time, on days spread over the period
    riders = np.concatenate([p.rng.permutation(members) for _ in range(scaled(2, knobs))])
    cuts = np.cumsum(p.rng.integers(2, 5, len(riders)))
    shuttles = np.split(riders, cuts[cuts < len(riders)])
    days = np.linspace(2, max(3, p.days - 16), len(shuttles)).astype(np.int64) + p.rng.integers(0, 2, len(shuttles))
    checkups = [ITEM_INDEX[name] for name in ("胸部CT平扫", "磁共振平扫", "生化全项检查")]
    for day, group in zip(days.tolist(), shuttles, strict=True):
        referral = p.at(day - p.rng.integers(1, 3, len(group)), p.rng.integers(8 * _HOUR, 11 * _HOUR, len(group)))
        outpatient(p, ring, referral, group, clinic, DIAG_INDEX["I67.800"], doctor=village_doc)
        admit = p.at(day, int(p.rng.integers(10 * _HOUR, 12 * _HOUR)) + p.rng.integers(0, 900, len(group)))
        los = p.rng.integers(5, 13, len(group))
        discharge = admit + los * _DAY + p.rng.integers(0, 3 * _HOUR, len(group))
        lines = [
            [
                *bed_and_nursing(int(n)),
                *({"item": c, "qty": 1} for c in checkups),
                p.drug_line(ITEM_INDEX["丁苯酞软胶囊"], 3, traced=False),
            ]
            for n in los.tolist()
        ]
        inpatient_stay(p, ring, group, hospital, DIAG_INDEX["I67.800"], admit, discharge, 1_800, lines, doctor=doctor)
    enrol(
        ring,
        members,
        cards=True,
        addresses=addresses,
        facilities=[hospital, clinic],
        doctors=[doctor, village_doc],
    )
    km = float(p.distance(int(fac.district[hospital]), district))
    describe(
        ring,
        f"A village doctor refers {len(members)} elderly of one village; a free shuttle takes two to four "
        f"at a time to a private hospital about {km:.0f} km away, stays of 5–12 days spread over weeks.",
        f"村医介绍同村{len(members)}名老人“免费体检”，专车每次接送二至四人到约{km:.0f}公里外的民营医院住院5–12天，"
        "分批分散在数周内。",
    )


def daily_elsewhere(p: Planter, knobs: ResolvedKnobs, ring: Ring) -> None:
    """挂床住院 with a full-looking bill: daily infusions and tests billed while the patient is out every day."""
    pop = p.world.population
    hospital = p.facility(HOSPITAL, max_level=1, private=True)
    district = int(p.world.facilities.district[hospital])
    members = p.persons(knobs.size, age=(40, 75), districts=[district])
    doctors = sorted({p.doctor_at(hospital) for _ in range(2)})
    for person in members.tolist():
        day = int(p.rng.integers(0, max(1, p.days // 3)))
        for _ in range(scaled(2, knobs)):
            los = min(int(p.rng.integers(8, 16)), p.days - day - 2)
            if los < 5:
                break
            admit = p.at(day, int(p.rng.integers(8 * _HOUR, 12 * _HOUR)))
            lines = [
                [
                    *bed_and_nursing(los),
                    {"item": ITEM_INDEX["静脉输液"], "qty": los},
                    p.drug_line(ITEM_INDEX["氯化钠注射液"], los, traced=False),
                    p.drug_line(ITEM_INDEX["银杏叶片"], 2, traced=False),
                    {"item": ITEM_INDEX["血常规检查"], "qty": 2},
                    {"item": ITEM_INDEX["心电图检查"], "qty": 1},
                    {"item": ITEM_INDEX["生化全项检查"], "qty": 1},
                ]
            ]
            doctor = int(p.rng.choice(doctors))
            diag = DIAG_INDEX["I67.800"]
            inpatient_stay(p, ring, person, hospital, diag, admit, admit + los * _DAY, 3_600, lines, doctor=doctor)
            # meanwhile the patient lives at home: the clinic or the pharmacy on most days of the stay
            out = day + 1 + np.flatnonzero(p.rng.random(los - 1) < 0.8)
            ts = p.at(out, p.rng.integers(8 * _HOUR, 18 * _HOUR, len(out)))
            at_clinic = p.rng.random(len(out)) < 0.7
            where = np.where(at_clinic, pop.home_clinic[person], pop.home_pharmacy[person])
            visit = np.where(at_clinic, OUTPATIENT, PHARMACY_VISIT)
            p.add(None, ts=ts, visit=visit, person=person, facility=where, diag=usual_diag(p, person))
            day += los + int(p.rng.integers(5, 20))
    enrol(ring, members, cards=True, facilities=[hospital], doctors=doctors)
    describe(
        ring,
        f"{len(members)} patients on the books of a private primary hospital for 8–15 days with a "
        "full-looking bill (daily infusion, tests, drugs), each on a bed of their own, while they are "
        "seen at their clinic or pharmacy on most days of the stay.",
        f"{len(members)}名患者在民营一级医院挂床8–15天，账单看似完整（每日输液、检查、用药），各占一床，"
        "住院期间几乎每天在本人社区诊所或药店就诊购药。",
    )


#: drugs that come back into pharmacies from hospital dispensing, with the diagnosis they are dispensed for
_HOSPITAL_DRUGS = (("甲磺酸奥希替尼片", "C34.900"), ("门冬胰岛素注射液", "E11.900"), ("人血白蛋白", "C34.900"))


def hospital_packages(p: Planter, knobs: ResolvedKnobs, ring: Ring) -> None:
    """回流药 from hospital dispensing: half the packages resold singly, weeks later, across the city."""
    fac = p.world.facilities
    name, diag = _HOSPITAL_DRUGS[int(p.rng.integers(len(_HOSPITAL_DRUGS)))]
    drug = ITEM_INDEX[name]
    hospital = p.facility(HOSPITAL, private=False, min_level=3, reserve=False)
    far = p.far_districts(int(fac.district[hospital]))
    district = int(p.rng.choice(far))
    resellers = _distinct([p.facility(PHARMACY, private=True, district=district) for _ in range(2)])
    sellers = p.persons(knobs.size, age=(40, 90))
    buyers = p.persons(knobs.size, age=(30, 85))
    packages: list[tuple[int, str]] = []
    for person in sellers.tolist():
        for day in event_days(p, scaled(3, knobs), 0, max(1, p.days - 30)).tolist():
            line = p.drug_line(drug, int(p.rng.integers(2, 5)))
            ts = p.at(day, int(p.rng.integers(8 * _HOUR, 12 * _HOUR)))
            outpatient(p, ring, ts, person, hospital, DIAG_INDEX[diag], [[line]])
            packages += [(day, code) for code in line["trace"]]
    back = p.rng.random(len(packages)) < 0.55 - 0.2 * knobs.hidden
    for (bought, code), returns in zip(packages, back.tolist(), strict=True):
        if not returns:
            continue
        day = int(p.clip_day(bought + p.rng.integers(14, 57)))
        pharmacy_sale(
            p,
            ring,
            [[{"item": drug, "qty": 1, "trace": [code]}]],
            p.at(day, int(p.rng.integers(9 * _HOUR, 20 * _HOUR))),
            int(p.rng.choice(buyers)),
            int(p.rng.choice(resellers)),
            DIAG_INDEX[diag],
            doctor=-1,
        )
    enrol(ring, np.concatenate([sellers, buyers]), cards=True, facilities=resellers)
    describe(
        ring,
        f"{name} dispensed at a tertiary hospital on {len(sellers)} cards comes back two to eight weeks "
        f"later, one package at a time on {len(buyers)} walk-in cards, at {len(resellers)} pharmacies on the far side "
        "of the city (same trace codes); about half the packages return.",
        f"三级医院为{len(sellers)}张医保卡开出的{name}在二至八周后以相同追溯码逐盒回流到城市另一端{len(resellers)}家药店，"
        f"在{len(buyers)}张散客卡上再次结算，约一半药盒回流。",
    )


_AID_DIAGS = ("J44.900", "I67.800", "I10.x00", "I25.100", "E11.900")


def rotating_doctors(p: Planter, knobs: ResolvedKnobs, ring: Ring) -> None:
    """救助人员多次住院 under changing doctors and diagnoses, at irregular gaps, at one private hospital."""
    pop = p.world.population
    hospital = p.facility(HOSPITAL, max_level=2, private=True)
    members = p.persons(knobs.size, age=(60, 92))
    pop.set_column("insurance_type", members, "resident")
    p.world.employee[members] = False
    doctors = sorted({p.doctor_at(hospital) for _ in range(3)})
    for person in members.tolist():
        day = int(p.rng.integers(0, 15))
        for _ in range(scaled(4, knobs)):
            los = min(int(p.rng.integers(5, 11)), p.days - day - 2)
            if los < 3:
                break
            admit = p.at(day, int(p.rng.integers(8 * _HOUR, 16 * _HOUR)))
            diag = DIAG_INDEX[_AID_DIAGS[int(p.rng.integers(len(_AID_DIAGS)))]]
            doctor = int(p.rng.choice(doctors))
            inpatient_stay(p, ring, person, hospital, diag, admit, admit + los * _DAY, 3_600, doctor=doctor)
            day += los + int(p.rng.integers(7, 26))
    enrol(ring, members, facilities=[hospital], doctors=doctors)
    describe(
        ring,
        f"{len(members)} low-income elderly (resident insurance) admitted again and again at one private "
        f"hospital, each time under one of {len(doctors)} doctors and another chronic diagnosis, 1–4 weeks apart.",
        f"{len(members)}名低收入老年居民医保参保人在同一民营医院反复住院，每次由{len(doctors)}名医生之一收治、"
        "诊断各异，间隔一至四周。",
    )


def _same_brand(p: Planter, old: int, new: int) -> None:
    """Give the new shop the old shop's brand (the sister shop of one owner); its own branch address stays."""
    fac = p.world.facilities
    names = fac.frame["facility_name"]
    brand = names[old].split("大药房", 1)[0]
    renamed = brand + "大药房" + names[new].split("大药房", 1)[-1]
    fac.frame = fac.frame.with_columns(names.scatter(new, renamed))


def _sister_of(p: Planter, old: int) -> int:
    """Another private pharmacy of the old shop's district, no ring's if possible (any other pharmacy at worst)."""
    fac = p.world.facilities
    shops = np.setdiff1d(fac.of_kind(PHARMACY), [old])
    near = shops[(fac.district[shops] == fac.district[old]) & fac.private[shops]]
    free = np.setdiff1d(near, list(p.used_facilities))
    new = int(p.rng.choice(free if len(free) else near if len(near) else shops))
    p.used_facilities.add(new)
    return new


def sister_shop(p: Planter, knobs: ResolvedKnobs, ring: Ring) -> None:
    """屡查屡犯 through a sister shop: after rectification the collected cards are swiped next door, by day."""
    first_end = int(p.days * 0.35)
    rectified = int(p.days * 0.4)
    card_collecting(p, knobs, ring, window=(0, first_end))
    old = ring.facilities[0]
    fac = p.world.facilities
    new = _sister_of(p, old)
    _same_brand(p, old, new)
    holders = np.array(ring.persons)
    again = holders[: max(3, len(holders) * 3 // 4)]
    operator = int(p.rng.integers(0, fac.n_operators[new]))
    for day in event_days(p, scaled(5, knobs), int(p.days * 0.6), p.days).tolist():
        take = some_of(p, again, 0.8, at_least=3)
        start = int(p.rng.integers(10 * _HOUR, 16 * _HOUR))
        ts = p.at(day, start + np.cumsum(p.rng.integers(60, 300, len(take))).astype(np.int64))
        lines = [[{"item": int(p.rng.choice(COMMON_PHARMACY_DRUGS)), "qty": int(p.rng.integers(1, 4))}] for _ in take]
        pharmacy_sale(p, ring, lines, ts, take, new, DIAG_INDEX["J06.900"], doctor=-1, terminal=0, operator=operator)
    enrol(ring, np.array([], np.int64), facilities=[new])
    ring.rectification_date = p.date_of(rectified)
    ring.sanctioned = [old]
    describe(
        ring,
        f"A card-collecting pharmacy is rectified on {ring.rectification_date}; weeks later {len(again)} of "
        "its collected cards are swiped at a sister shop of the same brand in the same district (its own "
        "facility code), in business hours, at ordinary amounts.",
        f"聚敛刷卡药店于{ring.rectification_date}整改后，数周内其中{len(again)}张医保卡转到同区同品牌的另一门店"
        "（不同机构编码）在营业时间以普通金额结算。",
    )


def two_departments(p: Planter, knobs: ResolvedKnobs, ring: Ring) -> None:
    """分解住院 across departments: same-day readmission under another department, the scan billed twice."""
    hospital = p.facility(HOSPITAL, min_level=2)
    ortho = [p.doctor_at(hospital, DEPT_INDEX["骨科"]) for _ in range(2)]
    tcm = [p.doctor_at(hospital, DEPT_INDEX["中医科"]) for _ in range(2)]
    members = p.persons(knobs.size, age=(40, 85))
    ct = ITEM_INDEX["胸部CT平扫"]
    for person in members.tolist():
        for day in event_days(p, scaled(1, knobs), 0, p.days - 25).tolist():
            admit = p.at(day, int(p.rng.integers(8 * _HOUR, 12 * _HOUR)))
            los = int(p.rng.integers(5, 9))
            discharge = admit + los * _DAY
            first = [
                [
                    *bed_and_nursing(los),
                    {"item": ct, "qty": 1},
                    {"item": ITEM_INDEX["康复理疗"], "qty": los},
                    p.drug_line(ITEM_INDEX["塞来昔布胶囊"], 2, traced=False),
                ]
            ]
            inpatient_stay(
                p, ring, person, hospital, DIAG_INDEX["M47.800"], admit, discharge, 3_600, first,
                doctor=int(p.rng.choice(ortho)),
            )  # fmt: skip
            again = discharge + int(p.rng.integers(2 * _HOUR, 6 * _HOUR))
            los2 = int(p.rng.integers(3, 7))
            second = [
                [
                    *bed_and_nursing(los2),
                    {"item": ct, "qty": 1},
                    {"item": ITEM_INDEX["针灸治疗"], "qty": los2},
                    {"item": ITEM_INDEX["康复理疗"], "qty": los2},
                ]
            ]
            inpatient_stay(
                p, ring, person, hospital, DIAG_INDEX["M54.500"], again, again + los2 * _DAY, 3_600, second,
                doctor=int(p.rng.choice(tcm)),
            )  # fmt: skip
    enrol(ring, members, facilities=[hospital], doctors=sorted({*ortho, *tcm}))
    describe(
        ring,
        f"{len(members)} patients discharged from orthopaedics (cervical spondylosis) are readmitted the same "
        "day under traditional Chinese medicine (low back pain); the same CT is billed on both stays.",
        f"{len(members)}名患者从骨科（颈椎病）出院当天即转入中医科（腰痛）再次住院，两次住院重复收取同一CT费用。",
    )


def lent_cards(p: Planter, knobs: ResolvedKnobs, ring: Ring) -> None:
    """出借医保卡 in one town: elderly holders' cards used at one clinic by younger women, under their own phones."""
    town = village_district(p)
    clinic = p.facility(CLINIC, private=True, district=town)
    if int(p.world.facilities.district[clinic]) != town:  # no private clinic left in the town: any of its clinics
        clinic = p.facility(CLINIC, district=town)
    n = int(np.clip(knobs.size, 6, 10))
    men = p.persons(n - n // 3, age=(60, 90), districts=[town], male=True)
    women = p.persons(n // 3, age=(67, 90), districts=[town], male=False)
    holders = np.concatenate([men, women])
    users = p.new_phones(max(3, n // 2))  # the women who use the cards, each under her own phone
    prenatal, birth, cold = DIAG_INDEX["Z34.900"], DIAG_INDEX["O80.000"], DIAG_INDEX["J06.900"]
    for person in holders.tolist():
        theirs = p.rng.choice(len(users), size=2, replace=False)  # each card lent to one or two women
        for day in event_days(p, max(2, scaled(3, knobs))).tolist():
            ts = p.at(day, int(p.rng.integers(8 * _HOUR, 17 * _HOUR)))
            diag = prenatal if p.rng.random() < 0.85 else birth
            outpatient(p, ring, ts, person, clinic, diag, phone=users[int(p.rng.choice(theirs))])
        if p.rng.random() < 0.5:  # a cold treated on the lent card: nothing odd about the diagnosis
            ts = p.at(int(p.rng.integers(0, p.days)), int(p.rng.integers(8 * _HOUR, 17 * _HOUR)))
            outpatient(p, ring, ts, person, clinic, cold, phone=users[int(theirs[0])])
    enrol(ring, holders, cards=True, phones=users, facilities=[clinic])
    describe(
        ring,
        f"{len(holders)} elderly residents of one town lend their cards to {len(users)} younger women treated at "
        "a private clinic of the same town for pregnancy care (and now and then a cold), each under her own "
        "phone, on scattered days: no travel, only diagnoses the holders cannot have.",
        f"同一乡镇{len(holders)}名老年参保人将医保卡出借给{len(users)}名年轻女性，在本镇一家民营诊所用于孕期检查"
        "（偶有感冒），留的是使用人本人电话，就诊日期分散，不涉及异地，仅诊断与持卡人性别年龄不符。",
    )


#: typology → (rendering name, planter) of the renderings above
CASE_RENDERINGS = {
    "goods_as_drugs": ("partner_pharmacies", partner_pharmacies),
    "reselling": ("pharmacy_tour", pharmacy_tour),
    "induced_admission": ("village_doctor", village_doctor),
    "bed_holding": ("daily_elsewhere", daily_elsewhere),
    "trace_code_resale": ("hospital_packages", hospital_packages),
    "repeated_admission": ("rotating_doctors", rotating_doctors),
    "recurrence": ("sister_shop", sister_shop),
    "split_charges": ("two_departments", two_departments),
    "impersonation": ("lent_cards", lent_cards),
}
