"""The insured population: people, households, cards, phones, addresses, chronic conditions, usual facilities.

Built once per run (its size is capped, so it does not grow without bound
with the claim count). Households legitimately share an address; children and
many elderly use a household member's phone; nursing homes and dormitories
put many insured at one address — the legitimate look-alikes detection must
not flag.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl

from ringsight.synth.catalog import CHRONIC_DRUG_DIAGS, DIAG_INDEX, DIAGNOSES, items_in
from ringsight.synth.facilities import CLINIC, HOSPITAL, PHARMACY, Facilities
from ringsight.synth.ids import pick, resident_ids, scramble, zfill
from ringsight.synth.names import home_addresses, mobile_numbers, person_names
from ringsight.synth.vocab import DORMITORY_NAMES, ELSEWHERE_REGIONS, NURSING_HOME_NAMES, STREETS, City

# age bands of 5 years, 0–99: relative sizes (an ageing city)
_AGE_BANDS = np.array([4, 4, 4, 3.5, 5, 8, 9, 9, 8, 8, 7.5, 7, 6.5, 6, 4.5, 3, 2, 1, 0.4, 0.1])
_HOUSEHOLD_SIZES = np.array([1, 2, 3, 4, 5])
_HOUSEHOLD_P = np.array([0.3, 0.3, 0.22, 0.13, 0.05])
_CHRONIC_P = np.array([0.4, 0.25, 0.15, 0.12, 0.05, 0.03])

#: Phone index spaces (each a bijection of its own range, so numbers never collide by accident).
PHONE_OWN, PHONE_CONTACT, PHONE_PLANTED = 0, 30_000_000, 60_000_000


@dataclass
class Group:
    """A set of persons that legitimately share something (nursing home, dormitory, household)."""

    kind: str
    members: np.ndarray
    address: str | None = None
    phone: str | None = None


@dataclass
class Population:
    """Row i of ``frame`` is person i; the arrays hold what the generator needs to simulate them."""

    frame: pl.DataFrame
    age: np.ndarray
    male: np.ndarray
    district: np.ndarray
    act_out: np.ndarray  # cumulative sampling weights for outpatient and pharmacy visits
    act_inp: np.ndarray  # cumulative sampling weights for admissions
    diag_group: np.ndarray  # 0..5: age band (child, adult, elder) × sex, for diagnosis sampling
    chronic_diag: np.ndarray  # -1 when none
    chronic_drug: np.ndarray
    refill_phase: np.ndarray
    refill_qty: np.ndarray
    home_hospital: np.ndarray
    home_clinic: np.ndarray
    home_pharmacy: np.ndarray
    household: np.ndarray
    groups: list[Group] = field(default_factory=list)
    reserved: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # persons with no background
    used: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # taken by a ring or look-alike group

    def set_column(self, column: str, rows: np.ndarray, values: list[str] | pl.Series | str) -> None:
        """Overwrite one personal column for some persons (rings recruit people, share phones...)."""
        rows = np.asarray(rows, np.int64)
        if isinstance(values, str):
            values = [values] * len(rows)
        series = self.frame[column].clone()
        series.scatter(rows, pl.Series(values, dtype=pl.String))
        self.frame = self.frame.with_columns(series)

    def value(self, column: str, row: int) -> str:
        """One person's value of one column."""
        return self.frame[column][int(row)]


def population_size(claims: int) -> int:
    """About 6.5 claims per person over the period, capped so memory stays bounded."""
    return int(np.clip(claims / 6.5, 400, 1_500_000))


def _ages(n: int, rng: np.random.Generator) -> np.ndarray:
    band = rng.choice(len(_AGE_BANDS), size=n, p=_AGE_BANDS / _AGE_BANDS.sum())
    return band * 5 + rng.integers(0, 5, n)


def _birth_ymd(age: np.ndarray, start: date, rng: np.random.Generator) -> np.ndarray:
    days = (age * 365.25 + rng.integers(1, 365, len(age))).astype("timedelta64[D]")
    born = np.datetime64(start, "D") - days
    year = born.astype("datetime64[Y]").astype(np.int64) + 1970
    month = born.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (born - born.astype("datetime64[M]")).astype(np.int64) + 1
    return year * 10_000 + month * 100 + day


def _id_sequence(region: np.ndarray, ymd: np.ndarray, male: np.ndarray) -> np.ndarray:
    """Sequence digits (3) unique within region × birth date × sex; the last digit's parity is the sex."""
    rank = (
        pl.DataFrame({"r": region, "d": ymd, "m": male})
        .select(pl.int_range(pl.len()).over(["r", "d", "m"]).alias("k"))
        .to_series()
        .to_numpy()
    )
    parity_digit = np.where(male, 1, 0) + 2 * (rank % 5)
    return (rank // 5 % 100) * 10 + parity_digit


def _households(n: int, rng: np.random.Generator) -> np.ndarray:
    sizes = rng.choice(_HOUSEHOLD_SIZES, size=n // 2 + 1, p=_HOUSEHOLD_P)
    return np.repeat(np.arange(len(sizes)), sizes)[:n]


def _special_groups(n: int, rng: np.random.Generator) -> list[tuple[str, int]]:
    """Nursing homes and dormitories: (kind, size) for a population of n."""
    homes = max(1, n // 25_000)
    dorms = max(1, n // 40_000)
    size = (lambda lo, hi: int(rng.integers(lo, hi))) if n >= 5_000 else (lambda lo, hi: int(rng.integers(8, 14)))
    return [("nursing_home", size(30, 80)) for _ in range(homes)] + [("dormitory", size(20, 60)) for _ in range(dorms)]


def _home_facility(
    district: np.ndarray, facilities: Facilities, kind: int, rng: np.random.Generator, local_only: bool = False
) -> np.ndarray:
    """A usual facility of one kind in the person's district (weighted by size; city-wide when none)."""
    out = np.empty(len(district), np.int64)
    pool_all = facilities.of_kind(kind)
    if kind == HOSPITAL and local_only:
        pool_all = pool_all[facilities.level[pool_all] <= 2]
    for d in np.unique(district):
        rows = np.flatnonzero(district == d)
        pool = pool_all[facilities.district[pool_all] == d]
        if len(pool) == 0:
            pool = pool_all
        w = facilities.weight[pool]
        out[rows] = pool[rng.choice(len(pool), size=len(rows), p=w / w.sum())]
    return out


def _activity(age: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    frailty = rng.lognormal(0, 0.8, len(age))
    out = np.select([age < 7, age < 18, age < 45, age < 60, age < 75], [1.5, 0.7, 0.6, 1.0, 2.0], 2.8) * frailty
    inp = np.select([age < 7, age < 18, age < 45, age < 60, age < 75], [0.8, 0.3, 0.5, 1.0, 2.5], 4.0) * frailty
    return out, inp


def _chronic(age: np.ndarray, male: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n = len(age)
    p = np.select([age < 30, age < 45, age < 60], [0.01, 0.05, 0.2], 0.45)
    has = rng.random(n) < p
    codes = np.array([DIAG_INDEX[c] for c in CHRONIC_DRUG_DIAGS])
    pick = codes[rng.choice(len(codes), size=n, p=_CHRONIC_P)]
    prostate = DIAG_INDEX["N40.x00"]
    young = age < DIAGNOSES[prostate].age_min  # benign prostatic hyperplasia: men of 50 and over
    pick = np.where((pick == prostate) & (~male | young), DIAG_INDEX["I10.x00"], pick)
    diag = np.where(has, pick, -1)
    drug = np.full(n, -1, np.int64)
    for d in np.unique(diag[diag >= 0]):
        rows = np.flatnonzero(diag == d)
        pool = items_in(DIAGNOSES[d].drugs[0])
        drug[rows] = pool[rng.integers(0, len(pool), len(rows))]
    return diag, drug


def build_population(
    claims: int, reserve: int, city: City, start: date, facilities: Facilities, rng: np.random.Generator
) -> Population:
    """The insured persons for a run; the last ``reserve`` persons never get background claims."""
    n_bg = population_size(claims)
    n = n_bg + reserve
    household = _households(n, rng)
    age = _ages(n, rng)
    specials = _special_groups(n_bg, rng)
    groups: list[Group] = []
    pos = n_bg - sum(size for _, size in specials)
    next_household = household.max() + 1
    for kind, size in specials:
        rows = np.arange(pos, pos + size)
        household[rows] = next_household
        next_household += 1
        age[rows] = rng.integers(68, 96, size) if kind == "nursing_home" else rng.integers(18, 34, size)
        groups.append(Group(kind, rows))
        pos += size
    household[n_bg:] = np.arange(n_bg, n) + next_household  # reserved persons live alone until a ring says otherwise
    male = rng.random(n) < 0.49
    n_districts = len(city.districts)
    dweights = np.array([d.weight for d in city.districts])
    hh_district = rng.choice(n_districts, size=household.max() + 1, p=dweights / dweights.sum())
    district = hh_district[household]

    in_city = rng.random(n) < np.where((age >= 18) & (age < 50), 0.7, 0.92)
    for g in groups:
        if g.kind == "dormitory":
            in_city[g.members] = False
    elsewhere = rng.choice(n_districts, size=n, p=dweights / dweights.sum())
    born_district = np.where(rng.random(n) < 0.75, district, elsewhere)
    region = np.where(
        in_city,
        np.array([int(d.code) for d in city.districts])[born_district],
        np.array([int(r) for r in ELSEWHERE_REGIONS])[rng.integers(0, len(ELSEWHERE_REGIONS), n)],
    )
    ymd = _birth_ymd(age, start, rng)
    pid = resident_ids(region, ymd, _id_sequence(region, ymd, male))

    own_phone = mobile_numbers(np.arange(n) + PHONE_OWN, rng, salt=11)
    outside_phone = mobile_numbers(np.arange(n) + PHONE_CONTACT, rng, salt=11)
    patient_phone, contact_phone = _phones(household, age, own_phone, outside_phone)
    address = home_addresses(hh_district, np.arange(household.max() + 1), city, rng)[household]
    for k, g in enumerate(groups):
        g.address, g.phone = _special_address(g, district[g.members[0]], city, rng, k)
        address = address.scatter(g.members, [g.address] * len(g.members))
        if g.kind == "nursing_home":
            contact_phone = contact_phone.scatter(g.members, [g.phone] * len(g.members))
        else:
            g.phone = None
            contact_phone = contact_phone.scatter(g.members, outside_phone.gather(g.members))

    employee = (age >= 18) & (rng.random(n) < np.where(age < 60, 0.8, 0.65))
    for g in groups:
        if g.kind == "dormitory":
            employee[g.members] = True
    insurance = pick(["resident", "employee"], employee)
    card_kind = pick(["e_voucher", "social_security_card", "resident_id"], rng.choice(3, size=n, p=[0.45, 0.45, 0.1]))
    dcode = zfill(np.array([int(d.code) for d in city.districts])[district], 6)
    card_id = (
        pl.DataFrame(
            {
                "kind": card_kind,
                "pid": pid,
                "dcode": dcode,
                "ev": zfill(scramble(np.arange(n), 13, salt=9), 13),
                "ss": zfill(scramble(np.arange(n), 9, salt=5), 9),
            }
        )
        .select(
            pl.when(pl.col("kind") == "e_voucher")
            .then(pl.lit("E") + pl.col("dcode") + pl.col("ev"))
            .when(pl.col("kind") == "social_security_card")
            .then(pl.lit("S") + pl.col("ss"))
            .otherwise(pl.col("pid"))
        )
        .to_series()
    )
    city_prefix = city.districts[0].code[:4]
    frame = pl.DataFrame(
        {
            "patient_id": pid,
            "patient_id_type": pl.repeat("resident_id", n, eager=True),
            "person_no": city_prefix + "00" + zfill(scramble(np.arange(n), 12, salt=21), 12),
            "patient_name": person_names(male, rng),
            "patient_gender": pick(["F", "M"], male),
            "patient_birth_date": pl.Series(ymd).cast(pl.String).str.strptime(pl.Date, "%Y%m%d"),
            "insurance_type": insurance,
            "card_id": card_id,
            "card_kind": card_kind,
            "patient_phone": patient_phone,
            "contact_phone": contact_phone,
            "patient_address": address,
        }
    )
    act_out, act_inp = _activity(age, rng)
    act_out[n_bg:] = 0
    act_inp[n_bg:] = 0
    chronic_diag, chronic_drug = _chronic(age, male, rng)
    chronic_diag[n_bg:] = -1
    diag_group = np.select([age < 14, age < 60], [0, 1], 2) * 2 + male.astype(np.int64)
    used = np.zeros(n, bool)
    for g in groups:
        used[g.members] = True
    return Population(
        frame=frame,
        age=age,
        male=male,
        district=district,
        act_out=np.cumsum(act_out),
        act_inp=np.cumsum(act_inp),
        diag_group=diag_group,
        chronic_diag=chronic_diag,
        chronic_drug=chronic_drug,
        refill_phase=rng.integers(0, 30, n),
        refill_qty=rng.integers(1, 4, n),
        home_hospital=_home_facility(district, facilities, HOSPITAL, rng),
        home_clinic=_home_facility(district, facilities, CLINIC, rng),
        home_pharmacy=_home_facility(district, facilities, PHARMACY, rng),
        household=household,
        groups=groups,
        reserved=np.arange(n_bg, n),
        used=used,
    )


def _phones(household: np.ndarray, age: np.ndarray, own: pl.Series, outside: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Patient and contact phones: children and some elderly use a working-age household member's phone.

    The contact phone is another household member's (or, alone, a relative's
    number that appears nowhere else).
    """
    n = len(household)
    idx = np.arange(n)
    working = (age >= 20) & (age < 65)
    # first working-age member of each household, -1 when none
    helper_of_hh = np.full(household.max() + 1, n, np.int64)
    np.minimum.at(helper_of_hh, household[working], idx[working])
    helper = helper_of_hh[household]
    has_helper = helper < n
    helper = np.where(has_helper, helper, idx)
    elder_uses = (age >= 70) & ((idx * 2_654_435_761) % 100 < 55)
    use_helper = has_helper & ((age < 16) | elder_uses) & (helper != idx)
    patient = own.gather(np.where(use_helper, helper, idx))
    # contact: the helper when there is one (and it is not me), else the next member of the household, else outside
    same_next = np.append(household[1:] == household[:-1], False)
    same_prev = np.insert(household[1:] == household[:-1], 0, False)
    other = np.where(same_next, np.minimum(idx + 1, n - 1), np.where(same_prev, np.maximum(idx - 1, 0), -1))
    contact_row = np.where(has_helper & (helper != idx), helper, other)
    contact = pl.concat([own, outside]).gather(np.where(contact_row >= 0, contact_row, n + idx))
    return patient, contact


def _special_address(g: Group, district: int, city: City, rng: np.random.Generator, index: int) -> tuple[str, str]:
    """The shared address of a nursing home or dormitory and (for a home) its front-desk phone."""
    dname = city.districts[district].name
    street = STREETS[int(rng.integers(len(STREETS)))]
    number = 300 + index
    names = NURSING_HOME_NAMES if g.kind == "nursing_home" else DORMITORY_NAMES
    place = f"{city.name}{dname}{street}{number}号{names[int(rng.integers(len(names)))]}"
    desk = mobile_numbers(np.array([PHONE_PLANTED + 9_000_000 + index]), rng, salt=11)[0]
    return place, desk
