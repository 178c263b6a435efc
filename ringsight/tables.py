"""The normalised claims tables shared by the loader (writer) and detection (reader).

After validation and normalisation the loader keeps every accepted claim and
claim item as Parquet in the *staging area* of the graph
(``<data_dir>/staging/<graph_name>/{claims,items}/month=YYYY-MM/bucket=NN/*.parquet``,
see :mod:`ringsight.partitions`), next
to writing them into the graph. Batch detection reads these tables with Polars
instead of walking the graph row by row: whole-table aggregates over flat
claims are an order of magnitude faster than the same aggregate in a graph
store (see the design notes in the README). When no staging exists (a graph
loaded by another tool), detection rebuilds the same frame from the store.

Column names and types are declared once here; both sides import them.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ringsight.config import Settings
from ringsight.partitions import scan_table

#: The settlement itself, first in both claims tables.
_SETTLEMENT_COLUMNS: dict[str, pl.DataType | type[pl.DataType]] = {
    "claim_id": pl.String,
    "visit_type": pl.String,  # outpatient | inpatient | pharmacy
    "claim_ts": pl.Int64,  # epoch seconds (UTC) of the settlement
    "admit_ts": pl.Int64,  # inpatient only, else null
    "discharge_ts": pl.Int64,  # inpatient only, else null
}

#: Place, doctor, diagnosis, money and provenance, last in both claims tables: the same before and after
#: pseudonymisation, so they are declared once and the two tables cannot drift apart.
_FACILITY_AND_AMOUNT_COLUMNS: dict[str, pl.DataType | type[pl.DataType]] = {
    "district": pl.String,  # district name parsed from the address, when found
    "patient_county": pl.String,  # 6-digit county-level division of the home address (gazetteer), when located
    "facility_code": pl.String,
    "facility_name": pl.String,
    "facility_kind": pl.String,  # hospital | clinic | pharmacy
    "facility_level": pl.String,
    "facility_ownership": pl.String,  # public | private
    "doctor_code": pl.String,
    "doctor_name": pl.String,
    "department": pl.String,
    "bed_no": pl.String,
    "diagnosis_code": pl.String,
    "diagnosis_name": pl.String,
    "total_amount": pl.Float64,
    "fund_paid": pl.Float64,
    "account_paid": pl.Float64,
    "self_paid": pl.Float64,
    "terminal_id": pl.String,
    "operator_id": pl.String,
    "load_id": pl.String,
}

#: One row per accepted settlement, after normalisation, before pseudonymisation: held in memory by
#: the loader only, never written (``normalise.pseudonymise`` turns it into CLAIMS_SCHEMA + vault rows).
CLEAR_CLAIMS_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    **_SETTLEMENT_COLUMNS,
    "pid": pl.String,  # keyed hash of the patient ID (graph key of Patient)
    "patient_id": pl.String,  # the raw ID, upper-cased
    "patient_id_type": pl.String,
    "person_no": pl.String,
    "patient_name": pl.String,
    "patient_gender": pl.String,  # M | F
    "patient_birth_date": pl.Date,
    "insurance_type": pl.String,  # employee | resident | maternity
    "card_id": pl.String,
    "card_kind": pl.String,
    "patient_phone": pl.String,  # normalised
    "contact_phone": pl.String,  # normalised
    "address_key": pl.String,  # normalised matching key
    "address_text": pl.String,  # as written (trimmed)
    **_FACILITY_AND_AMOUNT_COLUMNS,
}

#: One row per accepted settlement as staged and as detection reads it: persons, cards, phones and
#: addresses appear only as keyed hashes (pseudonyms; clear values are in the identity vault).
CLAIMS_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    **_SETTLEMENT_COLUMNS,
    "pid": pl.String,  # pseudonym of the patient ID (graph key of Patient)
    "patient_id_type": pl.String,
    "patient_gender": pl.String,  # M | F
    "birth_cohort": pl.String,  # five-year birth cohort, e.g. 1955-1959
    "surname_group": pl.String,  # pseudonym of the family name (counts distinct surnames, reveals none)
    "insurance_type": pl.String,  # employee | resident | maternity
    "card_id": pl.String,  # pseudonym of the card number (graph key of Card)
    "card_kind": pl.String,
    "patient_phone": pl.String,  # pseudonym of the normalised phone (graph key of Phone)
    "contact_phone": pl.String,  # pseudonym of the normalised phone
    "address_key": pl.String,  # pseudonym of the normalised matching key (graph key of Address)
    **_FACILITY_AND_AMOUNT_COLUMNS,
}

#: One row per accepted claim item (费用明细).
ITEMS_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "claim_id": pl.String,
    "line_no": pl.Int32,  # position of the item within its claim, from 1
    "item_code": pl.String,
    "item_name": pl.String,
    "item_category": pl.String,  # drug | service | material
    "quantity": pl.Float64,
    "unit_price": pl.Float64,
    "amount": pl.Float64,
    "item_doctor_code": pl.String,
    "prescription_id": pl.String,
    "external_prescription": pl.Boolean,
    "trace_codes": pl.List(pl.String),
    "load_id": pl.String,
}


def staging_dir(settings: Settings, graph_name: str | None = None) -> Path:
    """Where the normalised tables of one graph are kept."""
    return Path(settings.data_dir) / "staging" / (graph_name or settings.graph_name)


def scan_claims(
    settings: Settings, graph_name: str | None = None, months: list[str] | None = None
) -> pl.LazyFrame | None:
    """The staged claims of a graph (only ``months`` when given) as one lazy frame, or None when nothing is staged."""
    return scan_table(staging_dir(settings, graph_name) / "claims", months)


def scan_items(
    settings: Settings, graph_name: str | None = None, months: list[str] | None = None
) -> pl.LazyFrame | None:
    """The staged claim items of a graph (only their claims' ``months`` when given), or None when nothing is staged."""
    return scan_table(staging_dir(settings, graph_name) / "items", months)


def empty_claims() -> pl.DataFrame:
    """An empty claims frame with the shared schema (for tests and for empty windows)."""
    return pl.DataFrame(schema=CLAIMS_SCHEMA)


def empty_items() -> pl.DataFrame:
    """An empty items frame with the shared schema."""
    return pl.DataFrame(schema=ITEMS_SCHEMA)
