"""The ordinary claims of a city, generated block by block without per-row Python loops.

A *block* is a run of consecutive days (or a part of one very busy day) with
a claim count fixed in advance from the day weights (weekday and seasonal
patterns), so the blocks — and therefore the bytes — depend only on the
configuration. Each block has its own random stream. Per claim: a visit type
by weekday, a person weighted by age and frailty (chronic patients refill
their drug monthly at their usual pharmacy), a diagnosis by age, sex and
season (never one outside the diagnosis's own age range: the sampling bands
are coarse, so a draw a person's exact age rules out becomes a cold, or
pneumonia when admitted — ``card_lending`` must see no mismatch in the
background), a facility (a city-wide hospital weighted by size, or the person's
usual local hospital, clinic or pharmacy), a doctor of the diagnosis's
department, an hour of day typical for the visit type, and items.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from ringsight.synth.catalog import DEPT_INDEX, DIAG_DEPT, DIAG_INDEX, DIAG_LOS, DIAGNOSES
from ringsight.synth.claims import INPATIENT, OUTPATIENT, PHARMACY_VISIT, SPEC_SCHEMA, World
from ringsight.synth.facilities import HOSPITAL, PHARMACY
from ringsight.synth.items import auto_items
from ringsight.synth.presence import Presence

#: Bed numbers at or above this are reserved for planted rings (wards W900 and up).
RING_BED_BASE = 899 * 40
_MAX_BACKGROUND_BEDS = 30_000
_PEDIATRICS = DEPT_INDEX["儿科"]
_HOUR_OUT = np.array([0, 0, 0, 0, 0, 0, 0, 2, 10, 14, 12, 8, 3, 6, 10, 9, 7, 3, 1, 1, 0.5, 0, 0, 0], float)
_HOUR_PHA = np.array([0, 0, 0, 0, 0, 0, 0, 1, 4, 7, 8, 8, 7, 6, 6, 7, 7, 8, 9, 9, 7, 4, 1, 0], float)
_HOUR_INP = np.array([0, 0, 0, 0, 0, 0, 0, 0, 6, 12, 12, 10, 4, 5, 8, 8, 5, 1, 0, 0, 0, 0, 0, 0], float)
_NIGHT = np.array([22, 23, 0, 1, 2, 3, 4, 5, 6])


@dataclass
class Block:
    """A unit of generation and writing: consecutive days with fixed claim counts."""

    uid: int
    days: np.ndarray
    counts: np.ndarray
    seq_offset: int = 0

    @property
    def claims(self) -> int:
        """Background claims in the block."""
        return int(self.counts.sum())


def day_weights(world: World, rng: np.random.Generator) -> np.ndarray:
    """Relative claim volume per day: fewer on weekends, more in winter (respiratory season)."""
    day = np.arange(world.days)
    dates = np.datetime64(world.start, "D") + day.astype("timedelta64[D]")
    weekday = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    w = np.where(weekday >= 5, np.where(weekday == 5, 0.75, 0.65), 1.0)
    w = w * np.select([np.isin(month, [12, 1, 2]), np.isin(month, [7, 8])], [1.15, 0.95], 1.0)
    return w * rng.normal(1.0, 0.03, len(day))


def plan_blocks(n_claims: int, weights: np.ndarray, block_claims: int, rng: np.random.Generator) -> list[Block]:
    """Split the background claims over days, then group days into blocks of about ``block_claims``."""
    counts = rng.multinomial(n_claims, weights / weights.sum())
    blocks: list[Block] = []
    pending: list[int] = []
    for d, c in enumerate(counts.tolist()):
        if c > block_claims:
            if pending:
                blocks.append(Block(len(blocks), np.array(pending), counts[pending]))
                pending = []
            parts = -(-c // block_claims)
            sizes = np.full(parts, c // parts) + (np.arange(parts) < c % parts)
            for part, size in enumerate(sizes):
                blocks.append(Block(len(blocks), np.array([d]), np.array([size]), int(sizes[:part].sum())))
            continue
        pending.append(d)
        if counts[pending].sum() >= block_claims:
            blocks.append(Block(len(blocks), np.array(pending), counts[pending]))
            pending = []
    if pending:
        blocks.append(Block(len(blocks), np.array(pending), counts[pending]))
    return blocks


@dataclass
class BackgroundModel:
    """Sampling tables computed once per run."""

    world: World
    diag_cdf: np.ndarray  # [(winter * 6 + group) * 3 + visit, diagnosis]
    hospital_cdf: np.ndarray
    hospitals: np.ndarray
    inpatient_cdf: np.ndarray
    pharmacy_cdf: np.ndarray
    pharmacies: np.ndarray
    prescribers: np.ndarray  # hospital doctors who write prescriptions filled at pharmacies
    refill_by_phase: list[np.ndarray]
    presence: Presence
    bed_counter: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


def _diag_cdf() -> np.ndarray:
    groups = [(0, 13, "F"), (0, 13, "M"), (14, 59, "F"), (14, 59, "M"), (60, 99, "F"), (60, 99, "M")]
    table = np.zeros((2, 6, 3, len(DIAGNOSES)))
    for winter in (0, 1):
        for g, (lo, hi, sex) in enumerate(groups):
            for j, d in enumerate(DIAGNOSES):
                if d.age_max < lo or d.age_min > hi or (d.sex and d.sex != sex):
                    continue
                boost = 1.8 if (winter and d.winter) else 1.0
                table[winter, g, :, j] = np.array([d.w_out, d.w_inp, d.w_pha]) * boost
    table = table.reshape(36, len(DIAGNOSES))
    cdf = np.cumsum(table, axis=1)
    return cdf / cdf[:, -1:]


def background_model(world: World, presence: Presence | None = None) -> BackgroundModel:
    """Precompute the sampling tables of a world (``presence``: planted stays to keep clear)."""
    fac, pop = world.facilities, world.population
    hospitals = fac.of_kind(HOSPITAL)
    pharmacies = fac.of_kind(PHARMACY)
    w = fac.weight[hospitals]
    prescribers = np.flatnonzero(fac.kind[fac.doctor_facility] == HOSPITAL)
    chronic = np.flatnonzero(pop.chronic_diag >= 0)
    return BackgroundModel(
        world=world,
        diag_cdf=_diag_cdf(),
        hospital_cdf=np.cumsum(w) / w.sum(),
        hospitals=hospitals,
        inpatient_cdf=np.cumsum(w**1.1) / (w**1.1).sum(),
        pharmacy_cdf=np.cumsum(fac.weight[pharmacies]) / fac.weight[pharmacies].sum(),
        pharmacies=pharmacies,
        prescribers=prescribers,
        refill_by_phase=[chronic[pop.refill_phase[chronic] == p] for p in range(30)],
        presence=presence or Presence.empty(len(pop.age)),
        bed_counter=np.zeros(len(fac.kind), np.int64),
    )


def _pick(cdf: np.ndarray, values: np.ndarray, u: np.ndarray) -> np.ndarray:
    return values[np.minimum(np.searchsorted(cdf, u, side="right"), len(values) - 1)]


def _persons(
    model: BackgroundModel, day: np.ndarray, visit: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Who visits: chronic refills first on pharmacy rows, everyone else weighted by activity."""
    pop = model.world.population
    n = len(day)
    person = np.where(
        visit == INPATIENT,
        np.searchsorted(pop.act_inp, rng.random(n) * pop.act_inp[-1], side="right"),
        np.searchsorted(pop.act_out, rng.random(n) * pop.act_out[-1], side="right"),
    )
    refill = np.zeros(n, bool)
    for d in np.unique(day):
        rows = np.flatnonzero((day == d) & (visit == PHARMACY_VISIT))
        cand = model.refill_by_phase[int(d) % 30]
        k = min(len(rows) // 2, int(len(cand) * 0.9))
        if k:
            person[rows[:k]] = rng.choice(cand, size=k, replace=False)
            refill[rows[:k]] = True
    return np.minimum(person, len(pop.age) - 1), refill


def _facilities(
    model: BackgroundModel, person: np.ndarray, visit: np.ndarray, refill: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    pop = model.world.population
    n = len(person)
    u, v = rng.random(n), rng.random(n)
    city_hospital = _pick(model.hospital_cdf, model.hospitals, v)
    out = np.where(u < 0.35, city_hospital, np.where(u < 0.65, pop.home_hospital[person], pop.home_clinic[person]))
    inp = np.where(u < 0.65, _pick(model.inpatient_cdf, model.hospitals, v), pop.home_hospital[person])
    pha = np.where(refill | (u < 0.72), pop.home_pharmacy[person], _pick(model.pharmacy_cdf, model.pharmacies, v))
    return np.select([visit == OUTPATIENT, visit == INPATIENT], [out, inp], pha)


_AGE_MIN = np.array([d.age_min for d in DIAGNOSES])
_AGE_MAX = np.array([d.age_max for d in DIAGNOSES])
#: what a draw the person's age rules out becomes, per visit type (outpatient, inpatient, pharmacy): any age fits
_FALLBACK = np.array([DIAG_INDEX["J06.900"], DIAG_INDEX["J18.900"], DIAG_INDEX["J06.900"]])


def _diagnoses(
    model: BackgroundModel,
    day: np.ndarray,
    person: np.ndarray,
    visit: np.ndarray,
    refill: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    world, pop = model.world, model.world.population
    dates = np.datetime64(world.start, "D") + day.astype("timedelta64[D]")
    month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    winter = np.isin(month, [12, 1, 2, 11]).astype(np.int64)
    key = (winter * 6 + pop.diag_group[person]) * 3 + visit
    diag = (model.diag_cdf[key] < rng.random(len(day))[:, None]).sum(axis=1)
    diag = np.minimum(diag, len(DIAGNOSES) - 1)
    chronic = pop.chronic_diag[person]
    usual = (chronic >= 0) & (visit != INPATIENT) & (rng.random(len(day)) < 0.45)
    age = pop.age[person]
    diag = np.where((age < _AGE_MIN[diag]) | (age > _AGE_MAX[diag]), _FALLBACK[visit], diag)
    return np.where(refill | usual, chronic, diag)


def doctors_for(
    world: World, facility: np.ndarray, diag: np.ndarray, child: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """A doctor of the diagnosis's department at the facility (children see paediatrics); -1 at pharmacies."""
    fac = world.facilities
    dept = np.where(child & (fac.kind[facility] == HOSPITAL), _PEDIATRICS, DIAG_DEPT[np.maximum(diag, 0)])
    start, count = fac.dept_start[facility, dept], fac.dept_n[facility, dept]
    doc = start + np.floor(rng.random(len(facility)) * count).astype(np.int64)
    return np.where(count > 0, doc, -1)


def claim_times(
    world: World, day: np.ndarray, visit: np.ndarray, night: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Settlement times (naive local epoch seconds) with hour-of-day patterns per visit type."""
    n = len(day)
    hours = np.zeros(n, np.int64)
    for v, weights in ((OUTPATIENT, _HOUR_OUT), (INPATIENT, _HOUR_INP), (PHARMACY_VISIT, _HOUR_PHA)):
        rows = np.flatnonzero(visit == v)
        hours[rows] = rng.choice(24, size=len(rows), p=weights / weights.sum())
    hours = np.where(night, _NIGHT[rng.integers(0, len(_NIGHT), n)], hours)
    return world.start_epoch + day * 86_400 + hours * 3_600 + rng.integers(0, 3_600, n)


def _beds(model: BackgroundModel, facility: np.ndarray, ts: np.ndarray, inpatient: np.ndarray) -> np.ndarray:
    """Bed numbers that never overlap: the k-th discharge of a facility takes bed k mod its bed count."""
    bed = np.full(len(facility), -1, np.int64)
    rows = np.flatnonzero(inpatient)
    if not len(rows):
        return bed
    order = rows[np.lexsort((ts[rows], facility[rows]))]
    f = facility[order]
    first = np.r_[0, np.flatnonzero(np.diff(f)) + 1]
    rank = np.arange(len(order)) - np.repeat(first, np.diff(np.r_[first, len(order)]))
    cycle = np.minimum(model.world.facilities.beds[f], _MAX_BACKGROUND_BEDS)
    bed[order] = (model.bed_counter[f] + rank) % cycle
    np.add.at(model.bed_counter, f, 1)
    return bed


def _keep_stays_clear(
    model: BackgroundModel,
    person: np.ndarray,
    visit: np.ndarray,
    refill: np.ndarray,
    ts: np.ndarray,
    admit: np.ndarray,
    discharge: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Give claims that would put a patient in two places at once to other people (in place); return the rows."""
    pop, presence = model.world.population, model.presence
    moved: list[np.ndarray] = []
    other = (visit != INPATIENT) & ~refill
    for _ in range(4):
        bad = np.flatnonzero(other & presence.in_planted_stay(person, ts))
        if not len(bad):
            break
        person[bad] = np.searchsorted(pop.act_out, rng.random(len(bad)) * pop.act_out[-1], side="right")
        moved.append(bad)
    stays = np.flatnonzero(visit == INPATIENT)
    rest = visit != INPATIENT
    others = presence.keys(person[rest], ts[rest])
    n_bg = len(pop.age) - len(pop.reserved)
    for round_ in range(16):
        clash = presence.stay_clashes(person[stays], admit[stays], discharge[stays], others)
        bad = stays[clash]
        if not len(bad):
            break
        # frail people are busy people: after a few weighted draws, draw anyone
        weighted = np.searchsorted(pop.act_inp, rng.random(len(bad)) * pop.act_inp[-1], side="right")
        person[bad] = weighted if round_ < 4 else rng.integers(0, n_bg, len(bad))
        moved.append(bad)
    np.minimum(person, len(pop.age) - 1, out=person)
    return np.unique(np.concatenate(moved)) if moved else np.zeros(0, np.int64)


def background_block(
    model: BackgroundModel, block: Block, rng: np.random.Generator
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Claim spec and item spec of one block's background claims."""
    world = model.world
    fac, pop = world.facilities, world.population
    n = block.claims
    day = np.repeat(block.days, block.counts)
    seq = np.arange(n) - np.repeat(np.cumsum(block.counts) - block.counts, block.counts) + block.seq_offset
    dates = np.datetime64(world.start, "D") + day.astype("timedelta64[D]")
    weekend = (dates.astype(np.int64) + 3) % 7 >= 5
    p_out, p_inp = np.where(weekend, 0.44, 0.55), np.where(weekend, 0.07, 0.08)
    u = rng.random(n)
    visit = np.where(u < p_out, OUTPATIENT, np.where(u < p_out + p_inp, INPATIENT, PHARMACY_VISIT))
    person, refill = _persons(model, day, visit, rng)
    facility = _facilities(model, person, visit, refill, rng)
    diag = _diagnoses(model, day, person, visit, refill, rng)
    doctor = doctors_for(world, facility, diag, pop.age[person] < 14, rng)
    external = (visit == PHARMACY_VISIT) & ~refill & (rng.random(n) < 0.12)
    doctor = np.where(external, model.prescribers[rng.integers(0, len(model.prescribers), n)], doctor)
    night = fac.open24[facility] & (rng.random(n) < 0.06)
    ts = claim_times(world, day, visit, night, rng)
    inp = visit == INPATIENT
    los = np.clip(np.round(DIAG_LOS[diag] * rng.gamma(4.0, 0.25, n)), 1, 45).astype(np.int64)
    discharge = ts - rng.integers(300, 5_400, n)
    admit = discharge - los * 86_400 + rng.integers(-3 * 3_600, 3 * 3_600, n)
    moved = _keep_stays_clear(model, person, visit, refill, ts, admit, discharge, rng)
    if len(moved):
        diag[moved] = _diagnoses(model, day[moved], person[moved], visit[moved], refill[moved], rng)
        redo = moved[~external[moved]]
        doctor[redo] = doctors_for(world, facility[redo], diag[redo], pop.age[person[redo]] < 14, rng)
    model.presence.record(person, ts)
    spec = pl.DataFrame(
        {
            "day": day,
            "seq": seq,
            "ts": ts,
            "visit": visit,
            "person": person,
            "card_person": person,
            "facility": facility,
            "doctor": doctor,
            "diag": diag,
            "admit_ts": pl.Series(np.where(inp, admit, 0)).set(pl.Series(~inp), None),
            "discharge_ts": pl.Series(np.where(inp, discharge, 0)).set(pl.Series(~inp), None),
            "bed": _beds(model, facility, ts, inp),
            "terminal": np.floor(rng.random(n) * fac.n_terminals[facility]).astype(np.int64),
            "operator": np.floor(rng.random(n) * fac.n_operators[facility]).astype(np.int64),
            "phone": pl.Series([None] * n, dtype=pl.String),
        },
        schema=SPEC_SCHEMA,
    )
    items = auto_items(
        visit,
        diag,
        los,
        rng,
        refill_drug=np.where(refill, pop.chronic_drug[person], -1),
        refill_qty=pop.refill_qty[person],
        external_doctor=np.where(external, doctor, -1),
    )
    return spec, items
