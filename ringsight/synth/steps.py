"""Steps the ring, rendering and look-alike planters share, so each planter reads as its typology's story.

Every helper draws from ``p.rng`` exactly as often and in exactly the order the
planters did before, and callers pass arguments in the order the draws must
happen: the same seed keeps giving the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ringsight.synth.catalog import DIAG_INDEX, ITEM_INDEX, items_in
from ringsight.synth.claims import INPATIENT, OUTPATIENT, PHARMACY_VISIT
from ringsight.synth.config import ResolvedKnobs
from ringsight.synth.facilities import HOSPITAL, PHARMACY
from ringsight.synth.planter import Planter, Ring

#: Ordinary drugs a pharmacy counter sells every day (colds, stomach, blood pressure).
HOUR = 3_600
DAY = 86_400
#: tonic drug codes (what goods are billed under)
TONICS = items_in("tonic")
COMMON_PHARMACY_DRUGS = np.concatenate([items_in("resp_sym"), items_in("gastro"), items_in("htn")])


def event_days(p: Planter, k: int, lo: int = 0, hi: int | None = None) -> np.ndarray:
    """k event days spread over [lo, hi) of the period."""
    hi = p.days if hi is None else hi
    return np.sort(p.rng.integers(lo, max(lo + 1, hi), k))


def scaled(base: float, knobs: ResolvedKnobs) -> int:
    """How many events a ring makes: the typology's base count scaled by the ring's intensity, at least one."""
    return max(1, round(base * knobs.intensity))


def farthest_pair(p: Planter) -> tuple[int, int]:
    """The two districts of the city farthest apart (an outer county and the far side of the prefecture)."""
    n = len(p.world.city.districts)
    return max(((a, b) for a in range(n) for b in range(n) if a < b), key=lambda ab: p.distance(ab[0], ab[1]))


def village_district(p: Planter) -> int:
    """The most rural district (of the four most rural) with the most elderly no ring has taken yet."""
    pop, city = p.world.population, p.world.city
    rural = sorted(range(len(city.districts)), key=lambda d: -city.districts[d].rural)[:4]
    n_bg = len(pop.age) - len(pop.reserved)
    free_elderly = [int(((pop.district[:n_bg] == d) & (pop.age[:n_bg] >= 60) & ~pop.used[:n_bg]).sum()) for d in rural]
    return rural[int(np.argmax(free_elderly))]


def village_name(p: Planter, district: int) -> str:
    """A village of a district as an address writes it (市 区 镇 村), without the house number."""
    from ringsight.synth.vocab import TOWNS, VILLAGES

    city = p.world.city
    return f"{city.name}{city.districts[district].name}{p.rng.choice(TOWNS)}镇{p.rng.choice(VILLAGES)}村"


def collected_cards(p: Planter, knobs: ResolvedKnobs) -> tuple[int, np.ndarray]:
    """A private pharmacy and the elderly card holders living far from it whose cards it has collected."""
    pharmacy = p.facility(PHARMACY, private=True)
    far = p.far_districts(int(p.world.facilities.district[pharmacy]))
    return pharmacy, p.persons(knobs.size, age=(55, 95), districts=far)


def prescriber_and_far_pharmacy(
    p: Planter, dept: int | None = None, private: bool | None = None
) -> tuple[int, int, int]:
    """A public hospital (level 2+), one of its doctors, and a pharmacy in another district.

    Prescriptions that travel across the city to one pharmacy are the doctor–pharmacy signal;
    ``dept`` and ``private`` narrow the doctor and the pharmacy when a rendering needs them.
    """
    hospital = p.facility(HOSPITAL, private=False, min_level=2)
    doctor = p.doctor_at(hospital, dept)
    pharmacy = p.facility(PHARMACY, private=private, far_from=int(p.world.facilities.district[hospital]))
    return hospital, doctor, pharmacy


def some_of(p: Planter, members: np.ndarray, share: float, at_least: int = 2) -> np.ndarray:
    """About ``share`` of the members, drawn at random, but never fewer than the first ``at_least``.

    A ring never turns out in full each time, yet an event of one person would not be a ring's event.
    """
    group = members[p.rng.random(len(members)) < share]
    return group if len(group) >= at_least else members[:at_least]


def day_spread(p: Planter, n: int, hidden: float) -> np.ndarray:
    """Days each of n members arrives after the wave's first day: 0 when open, up to 2 when the ring hides."""
    return p.rng.integers(0, 1 + round(2 * hidden), n)


def round_robin(values: list[str], n: int) -> list[str]:
    """n values dealt out in turn, so a few shared phones or addresses cover many members."""
    return [values[i % len(values)] for i in range(n)]


def share_contacts(p: Planter, persons: np.ndarray, phones: list[str], addresses: list[str]) -> None:
    """Give the persons the ring's few patient phones and addresses in turn (the shared-contact signal)."""
    pop = p.world.population
    pop.set_column("patient_phone", persons, round_robin(phones, len(persons)))
    pop.set_column("patient_address", persons, round_robin(addresses, len(persons)))


def rx_number(p: Planter) -> str:
    """A fresh prescription number: an external fill carries it, tying the fill to the doctor's prescription."""
    return f"RX{int(p.rng.integers(10**13, 10**14))}"


def bed_and_nursing(los: int) -> list[dict[str, Any]]:
    """The lines every stay bills per day (床位费, 一级护理), ``los`` days each."""
    return [{"item": ITEM_INDEX["床位费"], "qty": los}, {"item": ITEM_INDEX["一级护理"], "qty": los}]


def usual_diag(p: Planter, person: int) -> int:
    """The person's own chronic diagnosis, or back pain when they have none (what an ordinary visit records)."""
    chronic = int(p.world.population.chronic_diag[person])
    return chronic if chronic >= 0 else DIAG_INDEX["M54.500"]


def outpatient(
    p: Planter, ring: Ring | None, ts: Any, person: Any, facility: Any, diag: int, items: Any = None, **cols: Any
) -> None:
    """An outpatient settlement; ``cols`` carries doctor, phone, terminal when the typology fixes them."""
    p.add(ring, items=items, ts=ts, visit=OUTPATIENT, person=person, facility=facility, diag=diag, **cols)


def own_visit(p: Planter, ts: Any, person: Any, facility: Any, diag: int, **cols: Any) -> None:
    """A real outpatient visit outside the ring, which the ring's own claims are timed against."""
    outpatient(p, None, ts, person, facility, diag, **cols)


def home_visit(p: Planter, ts: int, person: int, diag: int) -> None:
    """The holder's own visit at their community clinic, the alibi a distant claim must be set beside."""
    own_visit(p, ts, person, int(p.world.population.home_clinic[person]), diag)


def pharmacy_sale(
    p: Planter, ring: Ring | None, items: Any, ts: Any, person: Any, pharmacy: Any, diag: int, **cols: Any
) -> None:
    """A settlement at a pharmacy counter; ``cols`` carries doctor, terminal, operator when the typology fixes them."""
    p.add(ring, items=items, ts=ts, visit=PHARMACY_VISIT, person=person, facility=pharmacy, diag=diag, **cols)


def inpatient_stay(
    p: Planter,
    ring: Ring,
    person: Any,
    hospital: int,
    diag: int,
    admit: Any,
    discharge: Any,
    settled_after: int,
    items: Any = None,
    **cols: Any,
) -> None:
    """A stay settled ``settled_after`` seconds after discharge; ``cols`` carries doctor, bed when fixed.

    A discharge that would settle after the period's last evening is moved to it: a late wave's
    longest stays end with the data (claims outside the period have no block to go to).
    """
    discharge = np.minimum(discharge, p.at(p.days - 1, 22 * 3_600) - settled_after)
    p.add(
        ring,
        items=items,
        ts=discharge + settled_after,
        visit=INPATIENT,
        person=person,
        facility=hospital,
        diag=diag,
        admit_ts=admit,
        discharge_ts=discharge,
        **cols,
    )


def enrol(
    ring: Ring,
    persons: np.ndarray,
    *,
    cards: bool = False,
    phones: Sequence[str] = (),
    addresses: Sequence[str] = (),
    facilities: Sequence[int] = (),
    doctors: Sequence[int] = (),
) -> None:
    """Record the ring's members in its ground truth; ``cards`` when the members' cards are what it abuses."""
    ring.persons += persons.tolist()
    if cards:
        ring.cards_of += persons.tolist()
    ring.phones += phones
    ring.addresses += addresses
    ring.facilities += facilities
    ring.doctors += doctors


def describe(ring: Ring, en: str, zh: str) -> None:
    """Set the ring's description in both languages (the benchmark and the UI show them)."""
    ring.description_en = en
    ring.description_zh = zh
