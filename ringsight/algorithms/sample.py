"""A small hand-made world with known rings and look-alikes, for tests and examples.

Not the synthetic generator (``ringsight.synth``): a few hundred claims built
by hand so that the right answer is obvious — random background visits, one
ring of collected cards swiped in bursts at a pharmacy terminal at night, one
group repeatedly admitted and discharged together at a private hospital with
a recruiter's contact phone, and a nursing home whose residents share an
address and a front-desk phone (a look-alike that must not be flagged).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ringsight.algorithms.frames import claims_frame, items_frame

T0 = 1_751_299_200  # 2025-07-01 00:00 +08:00
DAY = 86_400
HOSPITALS = ["H11010500001", "H11010800002", "H11010600003"]
PRIVATE_HOSPITAL = "H11011200009"
PHARMACIES = ["P11010500011", "P11010800012", "P11010600013"]
RING_PHARMACY = "P11011500019"


@dataclass
class SampleWorld:
    """Claims and items with the planted groups' members (pids) by name."""

    claims: pl.DataFrame
    items: pl.DataFrame
    rings: dict[str, list[str]] = field(default_factory=dict)
    lookalikes: dict[str, list[str]] = field(default_factory=dict)


def _person(i: int) -> dict[str, Any]:
    return {
        "pid": f"pid{i:04d}",
        "patient_id": f"ID{i:04d}",
        "card_id": f"card{i:04d}",
        "patient_phone": f"1380000{i:04d}",
        "address_key": f"addr{i // 2:04d}",  # households of two
        "district": "朝阳区",
    }


def build(
    *, seed: int = 1, background: int = 600, persons: int = 200, ring_size: int = 8, admit_group: int = 6
) -> SampleWorld:
    """Build the sample world; the same seed gives the same frames."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    n = 0

    def claim(person: dict[str, Any], **kw: Any) -> None:
        nonlocal n
        row = {**person, "claim_id": f"S{n:06d}", "total_amount": round(rng.uniform(20, 400), 2), **kw}
        row.setdefault("fund_paid", round(row["total_amount"] * 0.7, 2))
        rows.append(row)
        n += 1

    people = [_person(i) for i in range(persons)]
    for _ in range(background):
        p = rng.choice(people)
        pharmacy = rng.random() < 0.4
        fac = rng.choice(PHARMACIES if pharmacy else HOSPITALS)
        claim(
            p,
            visit_type="pharmacy" if pharmacy else "outpatient",
            facility_code=fac,
            facility_kind="pharmacy" if pharmacy else "hospital",
            terminal_id="1",
            claim_ts=T0 + rng.randint(0, 60 * DAY) + 9 * 3600 + rng.randint(0, 8 * 3600),
            doctor_code=f"D{rng.randint(1, 20):03d}",
        )
    # ring 1: collected cards swiped in bursts at night at one terminal, on four days
    ring1 = [_person(1000 + i) for i in range(ring_size)]
    for d in (3, 10, 17, 24):
        for j, p in enumerate(ring1):
            claim(
                p,
                visit_type="pharmacy",
                facility_code=RING_PHARMACY,
                facility_kind="pharmacy",
                terminal_id="7",
                claim_ts=T0 + d * DAY + 23 * 3600 + j * 60,
                total_amount=300.0,
                operator_id="op1",
            )
    # ring 2: a recruited group admitted and discharged together three times, recruiter's contact phone
    ring2 = [
        {**_person(2000 + i), "contact_phone": "13999990000", "address_key": f"village{i}"} for i in range(admit_group)
    ]
    for d in (5, 30, 50):
        for p in ring2:
            claim(
                p,
                visit_type="inpatient",
                facility_code=PRIVATE_HOSPITAL,
                facility_kind="hospital",
                facility_ownership="private",
                admit_ts=T0 + d * DAY + 10 * 3600,
                discharge_ts=T0 + (d + 6) * DAY + 10 * 3600,
                claim_ts=T0 + (d + 6) * DAY + 11 * 3600,
                diagnosis_code="I63.9",
                doctor_code="D900",
                total_amount=round(rng.uniform(8000, 9000), 2),
            )
    # look-alike: a nursing home — 30 residents, one address, one front-desk contact phone, ordinary visits
    home = [{**_person(3000 + i), "address_key": "nursing-home-1", "contact_phone": "01060000000"} for i in range(30)]
    for p in home:
        for _ in range(3):
            fac = rng.choice(HOSPITALS)
            claim(
                p,
                visit_type="outpatient",
                facility_code=fac,
                facility_kind="hospital",
                terminal_id="1",
                claim_ts=T0 + rng.randint(0, 60 * DAY) + 9 * 3600 + rng.randint(0, 8 * 3600),
                doctor_code=f"D{rng.randint(1, 20):03d}",
            )
    for row in rows:
        items.append(
            {
                "claim_id": row["claim_id"],
                "item_code": "X" + str(rng.randint(1, 30)).zfill(3),
                "quantity": 1.0,
                "unit_price": row["total_amount"],
                "amount": row["total_amount"],
                "item_category": "drug",
            }
        )
    claims = claims_frame(rows).sort("claim_id")
    return SampleWorld(
        claims=claims,
        items=items_frame(items),
        rings={"card_collecting": [p["pid"] for p in ring1], "induced_admission": [p["pid"] for p in ring2]},
        lookalikes={"nursing_home": [p["pid"] for p in home]},
    )
