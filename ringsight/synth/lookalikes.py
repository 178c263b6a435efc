"""Legitimate look-alikes: groups that share an address, a phone or a prescriber for good reasons.

Detection must *not* flag these: nursing homes and dormitories (many insured
at one address, spread-out ordinary visits), households whose elderly use a
child's phone, a pharmacy next to a big hospital that fills many of one
specialist's prescriptions (each fill right after a real visit, in ordinary
quantities, by several staff), the big hospitals every patient visits, a
care home's monthly check-up day at the community clinic, same-day
travellers seen at home and 100+ km away hours later, and a big hospital's
scattered coding slips (one claim of a regular male patient coded as prenatal care).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ringsight.synth.catalog import DEPT_INDEX, DIAG_INDEX, items_in
from ringsight.synth.claims import OUTPATIENT
from ringsight.synth.facilities import HOSPITAL, PHARMACY
from ringsight.synth.planter import Planter, Ring
from ringsight.synth.steps import HOUR as _HOUR
from ringsight.synth.steps import farthest_pair, home_visit, own_visit, pharmacy_sale, rx_number, usual_diag


def shared_place_groups(p: Planter) -> list[Ring]:
    """Nursing homes and dormitories built into the population."""
    pop = p.world.population
    out = []
    for g in pop.groups:
        ring = Ring("", g.kind, core=["patients"])
        ring.persons = g.members.tolist()
        ring.addresses = [g.address] if g.address else []
        ring.phones = [g.phone] if g.phone else []
        where = "a nursing home" if g.kind == "nursing_home" else "a staff dormitory"
        extra = " and give the home's front desk as their contact phone" if g.phone else ""
        ring.description_en = (
            f"{len(g.members)} insured live at {where}{extra}; their visits are ordinary and spread out."
        )
        out.append(ring)
    return out


def households(p: Planter, limit: int) -> list[Ring]:
    """Households (3+ people) in which the elderly or children use a working member's phone."""
    pop = p.world.population
    n_bg = len(pop.age) - len(pop.reserved)
    frame = pl.DataFrame(
        {
            "row": np.arange(n_bg),
            "household": pop.household[:n_bg],
            "phone": pop.frame["patient_phone"][:n_bg],
            "used": pop.used[:n_bg],
        }
    )
    sharing = (
        frame.group_by("household")
        .agg(pl.col("row"), pl.len().alias("size"), pl.col("phone").n_unique().alias("phones"), pl.col("used").any())
        .filter((pl.col("size") >= 3) & (pl.col("phones") < pl.col("size")) & ~pl.col("used"))
        .sort("household")
        .head(limit)
    )
    out = []
    for rows in sharing["row"].to_list():
        ring = Ring("", "household", core=["patients"])
        ring.persons = rows
        ring.phones = sorted({pop.value("patient_phone", r) for r in rows})
        ring.addresses = [pop.value("patient_address", rows[0])]
        ring.description_en = f"A household of {len(rows)} at one address; children or elderly use a member's phone."
        pop.used[rows] = True
        out.append(ring)
    return out


def hospital_pharmacy(p: Planter, size: int) -> Ring:
    """A pharmacy next to a tertiary hospital filling many of one specialist's prescriptions, each after a visit."""
    fac = p.world.facilities
    hospitals = fac.of_kind(HOSPITAL)
    hospital = int(hospitals[np.argmax(fac.weight[hospitals])])
    district = int(fac.district[hospital])
    pharmacy = p.facility(PHARMACY, district=district)
    doctor = p.doctor_at(hospital, DEPT_INDEX["肿瘤科"])
    patients = p.persons(size, age=(40, 85))
    diag = DIAG_INDEX["C34.900"]
    drugs = np.concatenate([items_in("onco"), items_in("infusion")[:0]])
    ring = Ring("", "hospital_pharmacy", core=["doctors", "facilities"])
    for person in patients.tolist():
        for day in np.sort(p.rng.integers(0, p.days, int(p.rng.integers(1, 4)))).tolist():
            t0 = p.at(day, int(p.rng.integers(8 * _HOUR, 15 * _HOUR)))
            own_visit(p, t0, person, hospital, diag, doctor=doctor)
            rx = rx_number(p)
            drug = int(p.rng.choice(drugs))
            lines = [[p.drug_line(drug, int(p.rng.integers(1, 3)), external=True, item_doctor=doctor, rx=rx)]]
            ts = t0 + int(p.rng.integers(_HOUR // 2, 2 * _HOUR))
            pharmacy_sale(p, None, lines, ts, person, pharmacy, diag, doctor=doctor)
    ring.persons = patients.tolist()
    ring.facilities = [pharmacy]
    ring.doctors = [doctor]
    ring.description_en = (
        f"A specialty pharmacy beside the city's largest hospital fills one oncologist's "
        f"prescriptions for {len(patients)} patients, each right after a visit, in normal "
        "quantities."
    )
    return ring


def care_home_checkups(p: Planter) -> list[Ring]:
    """A care home's monthly check-up day: every resident swiped at their community clinic within an hour."""
    pop = p.world.population
    out = []
    for g in pop.groups:
        if g.kind != "nursing_home" or len(g.members) < 20:
            continue
        clinic = int(pop.home_clinic[int(g.members[0])])
        for day in range(int(p.rng.integers(2, 10)), p.days, 30):
            n = len(g.members)
            ts = p.at(day, 9 * _HOUR + np.sort(p.rng.integers(0, 3_600, n)))
            p.add(
                None, ts=ts, visit=OUTPATIENT, person=g.members, facility=clinic, diag=DIAG_INDEX["I10.x00"], terminal=0
            )
        ring = Ring("", "care_home_checkup", core=["patients"])
        ring.persons = g.members.tolist()
        ring.facilities = [clinic]
        ring.description_en = (
            f"{len(g.members)} residents of a care home swiped at their community clinic within an "
            "hour on the monthly check-up day, at ordinary prices."
        )
        out.append(ring)
    return out


def travellers(p: Planter, size: int) -> Ring:
    """Same-day travellers: a claim at home in the morning, another 100+ km away 5–9 hours later."""
    home, away = farthest_pair(p)
    hospital = p.facility(HOSPITAL, district=away, reserve=False)
    people = p.persons(size, age=(30, 80), districts=[home])
    for person in people.tolist():
        for day in np.sort(p.rng.choice(p.days, 3, replace=False)).tolist():
            t0 = p.at(day, int(p.rng.integers(7 * _HOUR, 9 * _HOUR)))
            home_visit(p, t0, person, DIAG_INDEX["I10.x00"])
            own_visit(p, t0 + int(p.rng.integers(5 * _HOUR, 9 * _HOUR)), person, hospital, DIAG_INDEX["I10.x00"])
    ring = Ring("", "travellers", core=["cards"])
    ring.persons = people.tolist()
    ring.cards_of = people.tolist()
    ring.description_en = (
        f"{len(people)} people of an outer county seen at home in the morning and at a hospital "
        "on the far side of the prefecture 5–9 hours later, several times."
    )
    return ring


def big_hospitals(p: Planter) -> Ring:
    """The three largest hospitals: everyone goes there, which is not a ring."""
    fac = p.world.facilities
    hospitals = fac.of_kind(HOSPITAL)
    top = hospitals[np.argsort(-fac.weight[hospitals])[:3]]
    ring = Ring("", "big_hospital", core=["facilities"])
    ring.facilities = top.tolist()
    ring.description_en = "The largest tertiary hospitals, which a large share of all patients visit."
    return ring


def coding_slips(p: Planter, size: int) -> Ring:
    """Scattered coding slips at the largest hospital: one of a regular male patient's visits coded as prenatal care.

    Each card carries one mismatched claim, under the holder's own phone, at the hospital he
    otherwise uses: what ``card_lending`` must leave alone however many cards it sees.
    """
    fac = p.world.facilities
    hospitals = fac.of_kind(HOSPITAL)
    hospital = int(hospitals[np.argmax(fac.weight[hospitals])])
    men = p.persons(size, age=(30, 80), male=True)
    for person in men.tolist():
        first, slip = np.sort(p.rng.choice(p.days, 2, replace=False)).tolist()
        own_visit(p, p.at(first, int(p.rng.integers(8 * _HOUR, 16 * _HOUR))), person, hospital, usual_diag(p, person))
        own_visit(p, p.at(slip, int(p.rng.integers(8 * _HOUR, 16 * _HOUR))), person, hospital, DIAG_INDEX["Z34.900"])
    ring = Ring("", "coding_slips", core=["cards"])
    ring.persons = men.tolist()
    ring.cards_of = men.tolist()
    ring.description_en = (
        f"{len(men)} regular male patients of the city's largest hospital each have one visit coded as "
        "prenatal care by mistake, under their own phone: coding slips, not lent cards."
    )
    return ring


def plant_lookalikes(p: Planter, claims: int) -> list[Ring]:
    """All look-alike groups for a run of ``claims`` claims (planting the pharmacy fills they need)."""
    groups = shared_place_groups(p)
    groups += households(p, limit=int(np.clip(claims // 50_000, 3, 20)))
    groups.append(hospital_pharmacy(p, size=int(np.clip(claims // 20_000, 8, 60))))
    groups.append(big_hospitals(p))
    groups += care_home_checkups(p)
    groups.append(travellers(p, size=int(np.clip(claims // 100_000, 4, 12))))
    groups.append(coding_slips(p, size=int(np.clip(claims // 10_000, 8, 40))))
    for i, g in enumerate(groups):
        g.ring_id = f"LOOK{i + 1:03d}"
    return groups
