"""The workbench the ring and look-alike planters share: picking people and places, writing claim specs.

Planted claims are described like background ones (a claim spec plus item
specs, see ``claims.py``); the planter keeps them in order, numbers them, and
remembers which belong to which ring so the ground truth can list them.
Planted claims take within-day sequence numbers from 50,000,000 up, so their
claim IDs never collide with background ones yet look the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl

from ringsight.synth.background import doctors_for
from ringsight.synth.catalog import ITEMS, PRICES
from ringsight.synth.claims import ITEM_SPEC_SCHEMA, RING_TRACE_BLOCK, SPEC_SCHEMA, TRACE_BLOCK_BITS, World
from ringsight.synth.ids import scramble
from ringsight.synth.items import auto_items
from ringsight.synth.names import mobile_numbers
from ringsight.synth.population import PHONE_PLANTED

PLANTED_SEQ_BASE = 50_000_000
MEMBER_KINDS = ("patients", "cards", "phones", "addresses", "facilities", "doctors")


@dataclass
class Ring:
    """One planted ring (or look-alike group) as the ground truth will list it."""

    ring_id: str
    typology: str
    core: list[str]
    description_en: str = ""
    description_zh: str = ""
    rectification_date: date | None = None
    persons: list[int] = field(default_factory=list)
    cards_of: list[int] = field(default_factory=list)  # persons whose cards are members
    phones: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    facilities: list[int] = field(default_factory=list)
    doctors: list[int] = field(default_factory=list)
    claim_rows: list[int] = field(default_factory=list)  # rows of the planted spec that are fraudulent
    rendering: str = "base"  # which rendering of the typology (ringsight.synth.renderings)
    held_back: bool = False  # a rendering detection was not tuned on
    sanctioned: list[int] = field(default_factory=list)  # facilities rectified (when not all of them)


@dataclass
class Planter:
    """Collects planted claims; hands out people, places, phones and trace codes nobody else uses."""

    world: World
    rng: np.random.Generator
    _cols: list[dict[str, np.ndarray]] = field(default_factory=list)
    _records: list[dict[str, Any]] = field(default_factory=list)
    n_rows: int = 0
    used_facilities: set[int] = field(default_factory=set)
    next_phone: int = 0
    next_trace: int = 0
    next_address: int = 0
    next_reserved: int = 0

    # ---- time -------------------------------------------------------------------------------------------------
    @property
    def days(self) -> int:
        """Days in the period."""
        return self.world.days

    def at(self, day: np.ndarray | int, seconds: np.ndarray | int) -> np.ndarray:
        """Naive local epoch seconds of a day index and seconds after midnight."""
        return self.world.start_epoch + np.asarray(day, np.int64) * 86_400 + np.asarray(seconds, np.int64)

    def date_of(self, day: int) -> date:
        """Calendar date of a day index."""
        return self.world.start + timedelta(days=int(day))

    def clip_day(self, day: np.ndarray | int) -> np.ndarray:
        """Keep day indices inside the period."""
        return np.clip(np.asarray(day, np.int64), 0, self.days - 1)

    # ---- people and places ------------------------------------------------------------------------------------
    def persons(
        self, k: int, age: tuple[int, int] = (18, 99), districts: list[int] | None = None, male: bool | None = None
    ) -> np.ndarray:
        """k people with background claims nobody else has planted anything on (filters relax when scarce)."""
        pop = self.world.population
        n_bg = len(pop.age) - len(pop.reserved)
        free = ~pop.used[:n_bg]
        wanted = free & (pop.age[:n_bg] >= age[0]) & (pop.age[:n_bg] <= age[1])
        if districts is not None:
            wanted &= np.isin(pop.district[:n_bg], districts)
        if male is not None:
            wanted &= pop.male[:n_bg] == male
        for mask in (wanted, free & (pop.age[:n_bg] >= age[0]) & (pop.age[:n_bg] <= age[1]), free):
            pool = np.flatnonzero(mask)
            if len(pool) >= k:
                chosen = self.rng.choice(pool, size=k, replace=False)
                pop.used[chosen] = True
                return np.sort(chosen)
        raise ValueError("population too small for the planted rings; raise --claims or lower ring sizes")

    def reserved_persons(self, k: int) -> np.ndarray:
        """k people who have no background claims at all (ghost patients)."""
        pop = self.world.population
        rows = pop.reserved[self.next_reserved : self.next_reserved + k]
        if len(rows) < k:
            raise ValueError("not enough reserved persons for the planted rings")
        self.next_reserved += k
        pop.used[rows] = True
        return rows

    def facility(
        self,
        kind: int,
        private: bool | None = None,
        max_level: int = 3,
        min_level: int = 0,
        district: int | None = None,
        far_from: int | None = None,
        reserve: bool = True,
    ) -> int:
        """A facility of a kind, preferring ones no ring uses (filters relax when scarce).

        ``reserve=False`` picks an innocent bystander (a place an impostor or a reseller merely visits)
        without keeping other rings away from it.
        """
        fac = self.world.facilities
        base = fac.kind == kind
        strict = base & (fac.level <= max_level) & (fac.level >= min_level)
        if private is not None:
            strict &= fac.private == private
        if district is not None:
            strict &= fac.district == district
        if far_from is not None:
            strict &= self.distance(fac.district, far_from) >= 25
        unused = ~np.isin(np.arange(len(fac.kind)), list(self.used_facilities))
        for mask in (strict & unused, strict, base & unused, base):
            pool = np.flatnonzero(mask)
            if len(pool):
                choice = int(self.rng.choice(pool))
                if reserve:
                    self.used_facilities.add(choice)
                return choice
        raise ValueError(f"no facility of kind {kind}")

    def distance(self, districts: np.ndarray | int, other: int) -> np.ndarray:
        """Rough distance in km between district centres."""
        ds = self.world.city.districts
        xy = np.array([(d.x, d.y) for d in ds])
        a = xy[np.asarray(districts)]
        return np.hypot(a[..., 0] - xy[other, 0], a[..., 1] - xy[other, 1])

    def far_districts(self, district: int, km: float = 25) -> list[int]:
        """Districts at least ``km`` from a district (all others when none are that far)."""
        n = len(self.world.city.districts)
        far = [d for d in range(n) if self.distance(d, district) >= km]
        return far or [d for d in range(n) if d != district]

    def doctor_at(self, facility: int, dept: int | None = None) -> int:
        """A doctor working at a facility (of a department when it has one)."""
        fac = self.world.facilities
        docs = fac.doctors_at(facility)
        if dept is not None and len(docs[fac.doctor_dept[docs] == dept]):
            docs = docs[fac.doctor_dept[docs] == dept]
        return int(self.rng.choice(docs))

    def new_phones(self, k: int) -> list[str]:
        """Phone numbers that appear nowhere else (recruiters, dealers, impostors)."""
        idx = np.arange(self.next_phone, self.next_phone + k) + PHONE_PLANTED
        self.next_phone += k
        return mobile_numbers(idx, self.rng, salt=11).to_list()

    def new_address(self, district: int, building: str = "号院") -> str:
        """A street address that appears nowhere else."""
        from ringsight.synth.vocab import STREETS

        self.next_address += 1
        city = self.world.city
        street = STREETS[int(self.rng.integers(len(STREETS)))]
        tower, unit, room = (int(self.rng.integers(lo, hi)) for lo, hi in ((1, 20), (1, 7), (101, 2000)))
        return (
            f"{city.name}{city.districts[district].name}{street}{500 + self.next_address}{building}"
            f"{tower}号楼{unit}单元{room}室"
        )

    def trace_codes(self, item: int, k: int) -> list[str]:
        """k fresh trace codes (one per package) of a drug, unique across the run."""
        serial = (RING_TRACE_BLOCK << TRACE_BLOCK_BITS) + np.arange(self.next_trace, self.next_trace + k)
        self.next_trace += k
        prefix = self.world.items["trace_prefix"][item]
        return [prefix + f"{s:013d}" for s in scramble(serial, 13, salt=3)]

    # ---- claims -----------------------------------------------------------------------------------------------
    def add(self, ring: Ring | None, items: list[list[dict[str, Any]]] | None = None, **cols: Any) -> np.ndarray:
        """Plant claims; return their rows. Columns are arrays (or scalars) named like the claim spec.

        ``items`` gives explicit lines per claim (dicts with item, qty and optionally price, trace, external,
        item_doctor, rx); without it the claims get ordinary items for their visit type and diagnosis.
        Claims are only collected here; frames are built once, in :meth:`spec`.
        """
        n = max(len(np.atleast_1d(v)) for v in cols.values() if v is not None and not isinstance(v, str))

        def col(name: str, default: Any = -1) -> np.ndarray:
            value = cols.get(name, default)
            return np.broadcast_to(np.asarray(-1 if value is None else value, np.int64), n).copy()

        ts, person, facility, diag = col("ts"), col("person"), col("facility"), col("diag")
        if "doctor" in cols:
            doctor = col("doctor")
        else:
            doctor = doctors_for(self.world, facility, diag, self.world.population.age[person] < 14, self.rng)
        fac = self.world.facilities
        rows = np.arange(self.n_rows, self.n_rows + n)
        admit, discharge = col("admit_ts"), col("discharge_ts")
        phone = cols.get("phone")
        self._cols.append(
            {
                "day": (ts - self.world.start_epoch) // 86_400,
                "seq": PLANTED_SEQ_BASE + rows,
                "ts": ts,
                "visit": col("visit"),
                "person": person,
                "card_person": col("card_person", person),
                "facility": facility,
                "doctor": doctor,
                "diag": diag,
                "admit_ts": admit,
                "discharge_ts": discharge,
                "bed": col("bed"),
                "terminal": col("terminal", self.rng.integers(0, 1 << 20, n) % fac.n_terminals[facility]),
                "operator": col("operator", self.rng.integers(0, 1 << 20, n) % fac.n_operators[facility]),
                "phone": np.broadcast_to(np.asarray(phone, object), n).copy(),
                "auto": np.full(n, items is None),
            }
        )
        if items is not None:
            self._records += self._explicit_items(items, rows)
        self.n_rows += n
        if ring is not None:
            ring.claim_rows += rows.tolist()
        return rows

    @staticmethod
    def _explicit_items(items: list[list[dict[str, Any]]], rows: np.ndarray) -> list[dict[str, Any]]:
        records = []
        for row, lines in zip(rows.tolist(), items, strict=True):
            for line in lines:
                item = int(line["item"])
                trace = line.get("trace")
                records.append(
                    {
                        "row": row,
                        "item": item,
                        "qty": int(line["qty"]),
                        "price": int(line.get("price", PRICES[item])),
                        "trace_n": int(line.get("trace_n", 0)),
                        "trace": ";".join(trace) if trace else None,
                        "external": bool(line.get("external", False)),
                        "item_doctor": int(line.get("item_doctor", -1)),
                        "rx": line.get("rx"),
                    }
                )
        return records

    def drug_line(self, item: int, qty: int, traced: bool = True, **extra: Any) -> dict[str, Any]:
        """One drug line with a fresh trace code per package (when traced)."""
        line = {"item": item, "qty": qty, **extra}
        if traced and ITEMS[item].category == "drug":
            line["trace"] = self.trace_codes(item, qty)
        return line

    def spec(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """All planted claims and their items (ordinary items drawn now, for all auto claims at once)."""
        if not self._cols:
            return pl.DataFrame(schema=SPEC_SCHEMA), pl.DataFrame(schema=ITEM_SPEC_SCHEMA)
        cols = {k: np.concatenate([c[k] for c in self._cols]) for k in self._cols[0]}
        auto = np.flatnonzero(cols.pop("auto"))
        phone = cols.pop("phone")
        spec = (
            pl.DataFrame(cols)
            .with_columns(pl.when(pl.col(c) >= 0).then(c).alias(c) for c in ("admit_ts", "discharge_ts"))
            .with_columns(phone=pl.Series(phone.tolist(), dtype=pl.String))
            .select(list(SPEC_SCHEMA))
        )
        stay = np.where(cols["admit_ts"] >= 0, (cols["discharge_ts"] - cols["admit_ts"]) // 86_400, 0)
        generated = auto_items(cols["visit"][auto], cols["diag"][auto], stay[auto], self.rng)
        generated = generated.with_columns(row=pl.Series(auto).gather(generated["row"]))
        explicit = pl.DataFrame(self._records, schema=ITEM_SPEC_SCHEMA, orient="row") if self._records else None
        items = pl.concat([generated, explicit]) if explicit is not None else generated
        items = items.with_columns(_i=pl.int_range(pl.len())).sort("row", "_i").drop("_i")
        return spec.cast(SPEC_SCHEMA), items.cast(ITEM_SPEC_SCHEMA)
