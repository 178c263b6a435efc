"""Designated facilities (hospitals, clinics, pharmacies) and their doctors, terminals and operators.

Sizes are skewed the way a city's are: a few tertiary public hospitals take
a large share of visits, many small primary and private hospitals share the
rest; pharmacies and community clinics serve their own district. Codes follow
the national shape: H or P, the 6-digit district code, a 5-digit sequence.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import polars as pl

from ringsight.synth.catalog import DEPARTMENTS, DEPT_INDEX
from ringsight.synth.ids import scramble, zfill
from ringsight.synth.names import person_names
from ringsight.synth.vocab import (
    HOSPITAL_BRANDS,
    ORDINALS,
    PHARMACY_BRANDS,
    PUBLIC_TERTIARY_KINDS,
    STREETS,
    City,
)

HOSPITAL, CLINIC, PHARMACY = 0, 1, 2
KIND_NAMES = ("hospital", "clinic", "pharmacy")
LEVEL_NAMES = ("未定级", "一级", "二级", "三级")
_GENERAL = DEPT_INDEX["全科"]


@dataclass
class Facilities:
    """All facilities (row i of ``frame`` is facility i) and their doctors (row j of ``doctors``)."""

    frame: pl.DataFrame  # facility_id, facility_name, facility_kind, facility_level, facility_ownership
    kind: np.ndarray
    level: np.ndarray  # 0..3 (index into LEVEL_NAMES)
    private: np.ndarray
    district: np.ndarray
    weight: np.ndarray  # popularity within its kind
    open24: np.ndarray  # pharmacies that settle at night
    n_terminals: np.ndarray
    n_operators: np.ndarray
    beds: np.ndarray  # bed-number cycle length for inpatient bed assignment
    dept_start: np.ndarray  # [facility, department] -> first doctor row
    dept_n: np.ndarray  # [facility, department] -> number of doctors (0 for pharmacies)
    doctors: pl.DataFrame  # doctor_id, doctor_name, department
    doctor_facility: np.ndarray
    doctor_dept: np.ndarray

    def of_kind(self, kind: int) -> np.ndarray:
        """Indices of the facilities of one kind."""
        return np.flatnonzero(self.kind == kind)

    def doctors_at(self, facility: int) -> np.ndarray:
        """Doctor rows working at one facility."""
        return np.flatnonzero(self.doctor_facility == facility)


def _counts(claims: int) -> tuple[int, int, int]:
    hospitals = int(np.clip(claims / 4_000, 10, 800))
    clinics = int(np.clip(claims / 3_000, 6, 1_500))
    pharmacies = int(np.clip(claims / 1_500, 10, 5_000))
    return hospitals, clinics, pharmacies


def _hospital_levels(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Level (3/2/1/0) and private flag: ~10% tertiary public, ~30% secondary, the rest primary or unrated."""
    n3 = max(2, round(n * 0.1))
    n2 = max(2, round(n * 0.3))
    level = np.concatenate([np.full(n3, 3), np.full(n2, 2), rng.choice([1, 0], size=n - n3 - n2, p=[0.6, 0.4])])
    private = np.concatenate([np.zeros(n3, bool), rng.random(n2) < 0.1, rng.random(n - n3 - n2) < 0.55])
    # keep at least three small private hospitals (rings need them) and one small public one
    small = np.flatnonzero(level <= 1)
    private[small[:3]] = True
    private[small[-1]] = False
    return level, private


def _districts(n: int, city: City, rng: np.random.Generator) -> np.ndarray:
    weights = np.array([d.weight for d in city.districts])
    first = np.arange(min(n, len(weights)))  # every district gets one before the rest are drawn
    rest = rng.choice(len(weights), size=n - len(first), p=weights / weights.sum())
    return rng.permutation(np.concatenate([first, rest]))


def _names(
    kind: np.ndarray, level: np.ndarray, private: np.ndarray, district: np.ndarray, city: City, rng: np.random.Generator
) -> list[str]:
    """Facility names (a loop over facilities, which number in the thousands at most)."""
    names = []
    for i in range(len(kind)):
        dname = city.districts[district[i]].name
        street = STREETS[rng.integers(len(STREETS))]
        if kind[i] == PHARMACY:
            names.append(f"{PHARMACY_BRANDS[rng.integers(len(PHARMACY_BRANDS))]}大药房({dname}{street}{i % 97 + 1}店)")
        elif kind[i] == CLINIC:
            names.append(f"{dname}{street}社区卫生服务站" if i % 3 else f"{dname}{street}诊所")
        elif private[i]:
            names.append(f"{city.short}{HOSPITAL_BRANDS[i % len(HOSPITAL_BRANDS)]}{dname[:-1]}医院")
        elif level[i] == 3:
            kind_name = PUBLIC_TERTIARY_KINDS[i % len(PUBLIC_TERTIARY_KINDS)]
            names.append(f"{city.short}{ORDINALS[i % len(ORDINALS)]}{kind_name}" if i % 2 else f"{dname}{kind_name}")
        else:
            names.append(f"{dname}{ORDINALS[i % len(ORDINALS)]}医院")
    seen = Counter(names)
    return [f"{n}({i})" if seen[n] > 1 else n for i, n in enumerate(names)]


def _doctor_layout(
    kind: np.ndarray, level: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Doctors per facility and department; departments a facility lacks fall back to its general practice."""
    n_fac, n_dept = len(kind), len(DEPARTMENTS)
    count = np.zeros((n_fac, n_dept), np.int64)
    per_level = {3: (4, 12), 2: (2, 5), 1: (1, 3), 0: (1, 2)}
    for f in np.flatnonzero(kind == HOSPITAL):
        lo, hi = per_level[int(level[f])]
        offered = rng.random(n_dept) < (1.0 if level[f] >= 2 else 0.35)
        count[f] = np.where(offered, rng.integers(lo, hi + 1, n_dept), 0)
        count[f, _GENERAL] = max(count[f, _GENERAL], 2)
    clinics = kind == CLINIC
    count[clinics, _GENERAL] = rng.integers(2, 6, int(clinics.sum()))
    start = np.cumsum(count.ravel()).reshape(count.shape) - count
    own_start, own_n = start.copy(), count.copy()
    lacking = (count == 0) & (kind != PHARMACY)[:, None]
    own_start[lacking] = np.broadcast_to(start[:, [_GENERAL]], count.shape)[lacking]
    own_n[lacking] = np.broadcast_to(count[:, [_GENERAL]], count.shape)[lacking]
    return own_start, own_n, count


def build_facilities(claims: int, city: City, rng: np.random.Generator) -> Facilities:
    """Facilities, doctors, terminals and operators for a run of ``claims`` claims."""
    nh, nc, npharm = _counts(claims)
    kind = np.concatenate([np.full(nh, HOSPITAL), np.full(nc, CLINIC), np.full(npharm, PHARMACY)])
    h_level, h_private = _hospital_levels(nh, rng)
    level = np.concatenate([h_level, np.zeros(nc, np.int64), np.zeros(npharm, np.int64)])
    private = np.concatenate([h_private, rng.random(nc) < 0.3, rng.random(npharm) < 0.85])
    district = np.concatenate([_districts(n, city, rng) for n in (nh, nc, npharm)])
    base = np.select([level == 3, level == 2], [45.0, 8.0], 1.5)
    weight = np.where(kind == HOSPITAL, base, 1.0) * rng.lognormal(0, 0.5, len(kind))
    weight = np.where(private & (kind == HOSPITAL), weight * 0.7, weight)
    open24 = (kind == PHARMACY) & (rng.random(len(kind)) < 0.1)

    region = np.array([int(city.districts[d].code) for d in district], np.int64)
    seq = np.zeros(len(kind), np.int64)
    for salt, idx in ((0, np.flatnonzero(kind != PHARMACY)), (331, np.flatnonzero(kind == PHARMACY))):
        seq[idx] = scramble(np.arange(len(idx)), 5, salt=salt)
    prefix = np.where(kind == PHARMACY, "P", "H")
    codes = pl.Series(prefix) + zfill(region, 6) + zfill(seq, 5)
    frame = pl.DataFrame(
        {
            "facility_id": codes,
            "facility_name": _names(kind, level, private, district, city, rng),
            "facility_kind": np.array(KIND_NAMES)[kind],
            "facility_level": np.where(kind == HOSPITAL, np.array(LEVEL_NAMES)[level], None),
            "facility_ownership": np.where(private, "private", "public"),
        }
    )
    n_terminals = np.select([kind == HOSPITAL, kind == CLINIC], [2 + level * 3, 1], 1) + rng.integers(0, 3, len(kind))
    n_operators = n_terminals + rng.integers(1, 4, len(kind))
    dept_start, dept_n, count = _doctor_layout(kind, level, rng)
    n_doctors = int(count.sum())
    doctor_facility = np.repeat(np.arange(len(kind)), count.sum(axis=1))
    doctor_dept = np.concatenate([np.repeat(np.arange(len(DEPARTMENTS)), row) for row in count])
    genders = rng.random(n_doctors) < 0.5
    doctors = pl.DataFrame(
        {
            "doctor_id": pl.Series(["D"] * n_doctors)
            + zfill(region[doctor_facility], 6)
            + zfill(scramble(np.arange(n_doctors), 6, salt=17), 6),
            "doctor_name": person_names(genders, rng),
            "department": np.array(DEPARTMENTS)[doctor_dept],
        }
    )
    share = weight / np.bincount(kind, weights=weight)[kind]
    daily_discharges = claims * 0.08 / 90 * (0.6 * share * 2 + 0.4 / max(nh, 1))
    beds = np.maximum(60, np.ceil(daily_discharges * 40)).astype(np.int64)
    return Facilities(
        frame,
        kind,
        level,
        private,
        district,
        weight,
        open24,
        n_terminals,
        n_operators,
        beds,
        dept_start,
        dept_n,
        doctors,
        doctor_facility,
        doctor_dept,
    )
