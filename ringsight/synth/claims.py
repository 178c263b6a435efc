"""Turn claim *specs* (integer arrays: who, where, when, what) into canonical claims and claim-item rows.

Background blocks, planted rings and look-alikes all describe their claims the
same way — a spec frame of integers plus an item-spec frame — and this module
renders both into the canonical columns of spec/claims-format.md: it gathers
the person, facility, doctor and diagnosis text, formats claim IDs and trace
codes, and derives totals and the fund / account / self-paid split from the
item amounts in integer fen, so the amounts always add up exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from ringsight.synth.catalog import item_frame
from ringsight.synth.facilities import Facilities
from ringsight.synth.ids import pick, scramble
from ringsight.synth.population import Population
from ringsight.synth.vocab import City

OUTPATIENT, INPATIENT, PHARMACY_VISIT = 0, 1, 2
VISIT_NAMES = ("outpatient", "inpatient", "pharmacy")

CLAIM_COLUMNS = (
    "claim_id", "visit_type", "claim_time", "admit_time", "discharge_time", "patient_id", "patient_id_type",
    "person_no", "patient_name", "patient_gender", "patient_birth_date", "insurance_type", "card_id", "card_kind",
    "patient_phone", "contact_phone", "patient_address", "facility_id", "facility_name", "facility_kind",
    "facility_level", "facility_ownership", "doctor_id", "doctor_name", "department", "bed_no", "diagnosis_code",
    "diagnosis_name", "total_amount", "fund_paid", "account_paid", "self_paid", "terminal_id", "operator_id",
)  # fmt: skip
ITEM_COLUMNS = (
    "claim_id", "item_code", "item_name", "item_category", "quantity", "unit_price", "amount", "item_doctor_id",
    "prescription_id", "external_prescription", "trace_codes",
)  # fmt: skip

#: The claim-spec schema every producer fills (times are naive local epoch seconds; -1 = none for indices).
SPEC_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "day": pl.Int64,
    "seq": pl.Int64,
    "ts": pl.Int64,
    "visit": pl.Int64,
    "person": pl.Int64,
    "card_person": pl.Int64,
    "facility": pl.Int64,
    "doctor": pl.Int64,
    "diag": pl.Int64,
    "admit_ts": pl.Int64,
    "discharge_ts": pl.Int64,
    "bed": pl.Int64,
    "terminal": pl.Int64,
    "operator": pl.Int64,
    "phone": pl.String,
}
ITEM_SPEC_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "row": pl.Int64,
    "item": pl.Int64,
    "qty": pl.Int64,
    "price": pl.Int64,
    "trace_n": pl.Int64,
    "trace": pl.String,
    "external": pl.Boolean,
    "item_doctor": pl.Int64,
    "rx": pl.String,
}

#: Trace-code serial numbers: each block owns 2**21 serials; planted rings use blocks from RING_TRACE_BLOCK up.
TRACE_BLOCK_BITS = 21
RING_TRACE_BLOCK = 4_500_000

# fund share by (employee?, visit type), account share of the remainder
_FUND_RATE = np.array([[0.50, 0.70, 0.20], [0.60, 0.85, 0.35]])
_ACCOUNT_RATE = np.array([[0.0, 0.0, 0.0], [0.6, 0.3, 0.8]])


@dataclass
class World:
    """The fixed tables of a run: facilities, population, catalogue, and the period."""

    city: City
    facilities: Facilities
    population: Population
    start: date
    days: int
    seed: int
    employee: np.ndarray
    items: pl.DataFrame
    doctors_null: pl.DataFrame  # doctor frame + one all-null row (index -1 → last)
    diagnoses_null: pl.DataFrame

    @property
    def start_epoch(self) -> int:
        """Naive local epoch seconds of the first day's midnight."""
        return (self.start - date(1970, 1, 1)).days * 86_400


def make_world(city: City, facilities: Facilities, population: Population, start: date, days: int, seed: int) -> World:
    """Bundle the fixed tables, with null rows appended for optional lookups."""
    from ringsight.synth.catalog import diagnosis_frame

    docs = facilities.doctors
    diags = diagnosis_frame()
    return World(
        city=city,
        facilities=facilities,
        population=population,
        start=start,
        days=days,
        seed=seed,
        employee=(population.frame["insurance_type"] == "employee").to_numpy(),
        items=item_frame(),
        doctors_null=pl.concat([docs, pl.DataFrame(schema=docs.schema, data=[[None]] * docs.width)]),
        diagnoses_null=pl.concat([diags, pl.DataFrame(schema=diags.schema, data=[[None]] * diags.width)]),
    )


def claim_ids(day: np.ndarray, seq: np.ndarray, start: date) -> pl.Series:
    """Claim IDs: S + settlement date + 8 scrambled digits of the within-day sequence (unique per day)."""
    dates = pl.Series(np.datetime64(start, "D") + np.asarray(day).astype("timedelta64[D]")).dt.strftime("%Y%m%d")
    digits = pl.Series(scramble(np.asarray(seq), 8, salt=1)).cast(pl.String).str.zfill(8)
    return "S" + dates + digits


def amounts(
    spec_len: int, items: pl.DataFrame, employee: np.ndarray, visit: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Totals and the fund / account / self split in fen, per claim (exact: fund + account + self = total)."""
    row = items["row"].to_numpy()
    line = items["qty"].to_numpy() * items["price"].to_numpy()
    total = np.bincount(row, weights=line, minlength=spec_len).astype(np.int64)
    emp = employee.astype(np.int64)
    fund_rate = np.clip(_FUND_RATE[emp, visit] + rng.normal(0, 0.05, spec_len), 0, 0.95)
    fund_rate = np.where((visit == OUTPATIENT) & (rng.random(spec_len) < 0.3), 0.0, fund_rate)
    fund = np.floor(total * fund_rate).astype(np.int64)
    account = np.floor((total - fund) * _ACCOUNT_RATE[emp, visit]).astype(np.int64)
    return total, fund, account, total - fund - account


def render(
    spec: pl.DataFrame, items: pl.DataFrame, world: World, trace_block: int, rng: np.random.Generator
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Canonical claims and items frames for a spec (rows in spec order; items in item-spec order)."""
    pop, fac = world.population, world.facilities
    n = spec.height
    person = spec["person"].to_numpy()
    card_person = spec["card_person"].to_numpy()
    facility = spec["facility"].to_numpy()
    visit = spec["visit"].to_numpy()
    ids = claim_ids(spec["day"].to_numpy(), spec["seq"].to_numpy(), world.start)
    total, fund, account, self_paid = amounts(n, items, world.employee[person], visit, rng)

    people = pop.frame.drop("card_id", "card_kind")[person]
    cards = pop.frame.select("card_id", "card_kind")[card_person]
    places = fac.frame[facility]
    docs = world.doctors_null[np.where(spec["doctor"].to_numpy() < 0, len(world.doctors_null) - 1, spec["doctor"])]
    diag = spec["diag"].to_numpy()
    diags = world.diagnoses_null.drop("department")[np.where(diag < 0, len(world.diagnoses_null) - 1, diag)]
    times = spec.select(
        pl.from_epoch("ts", time_unit="s").alias("claim_time"),
        pl.from_epoch("admit_ts", time_unit="s").alias("admit_time"),
        pl.from_epoch("discharge_ts", time_unit="s").alias("discharge_time"),
        pl.when(pl.col("bed") >= 0)
        .then(
            pl.format(
                "W{}-{}",
                (pl.col("bed") // 40 + 1).cast(pl.String).str.zfill(3),
                (pl.col("bed") % 40 + 1).cast(pl.String).str.zfill(2),
            )
        )
        .alias("bed_no"),
        ("T" + (pl.col("terminal") + 1).cast(pl.String).str.zfill(2)).alias("terminal_id"),
        ("OP" + (pl.col("operator") + 1).cast(pl.String).str.zfill(3)).alias("operator_id"),
        pl.col("phone"),
    )
    claims = pl.concat([people, cards, places, docs, diags, times], how="horizontal").with_columns(
        claim_id=ids,
        visit_type=pick(VISIT_NAMES, visit),
        patient_phone=pl.coalesce("phone", "patient_phone"),
        total_amount=pl.Series(total / 100.0),
        fund_paid=pl.Series(fund / 100.0),
        account_paid=pl.Series(account / 100.0),
        self_paid=pl.Series(self_paid / 100.0),
    )
    claims = claims.select(CLAIM_COLUMNS)
    return claims, render_items(items, ids, world, trace_block)


def render_items(items: pl.DataFrame, ids: pl.Series, world: World, trace_block: int) -> pl.DataFrame:
    """Canonical claim-item rows: catalogue text, amounts, prescriptions and trace codes."""
    row = items["row"].to_numpy()
    cat = world.items[items["item"].to_numpy()]
    trace_n = np.minimum(items["trace_n"].to_numpy(), 3)
    first = (trace_block << TRACE_BLOCK_BITS) + np.cumsum(trace_n) - trace_n
    serial = {f"s{j}": scramble(first + j, 13, salt=3) for j in range(3)}
    item_doc = items["item_doctor"].to_numpy()
    docs = world.doctors_null.select("doctor_id")[np.where(item_doc < 0, len(world.doctors_null) - 1, item_doc)]
    frame = pl.concat(
        [
            cat,
            docs,
            items.select("qty", "price", "trace", "external", "rx"),
            pl.DataFrame({"claim_id": ids.gather(row), "trace_n": trace_n, **serial}),
        ],
        how="horizontal",
    )
    code = [
        pl.when(pl.col("trace_n") > j).then(pl.col("trace_prefix") + pl.col(f"s{j}").cast(pl.String).str.zfill(13))
        for j in range(3)
    ]
    drug = pl.col("item_category") == "drug"
    return frame.select(
        "claim_id",
        "item_code",
        "item_name",
        "item_category",
        pl.col("qty").alias("quantity"),
        (pl.col("price") / 100.0).alias("unit_price"),
        (pl.col("qty") * pl.col("price") / 100.0).alias("amount"),
        pl.col("doctor_id").alias("item_doctor_id"),
        pl.when(pl.col("rx").is_not_null())
        .then("rx")
        .when(drug)
        .then("RX" + pl.col("claim_id").str.slice(1))
        .alias("prescription_id"),
        pl.col("external").alias("external_prescription"),
        pl.coalesce("trace", pl.concat_str(code, separator=";", ignore_nulls=True)).alias("trace_codes"),
    ).with_columns(pl.when(pl.col("trace_codes") != "").then("trace_codes").alias("trace_codes"))
