"""Entity resolution in the table layer: one row per node and per relationship, before any write.

Claims reference the same patient, card, phone, address, facility, doctor,
terminal and operator many times. Deduplicating here (Polars ``group_by`` on
the normalised key) means each writer — the bulk path on an empty FalkorDB
graph, the MERGE path everywhere else — sends every entity and every
relationship exactly once, and the property lists live in one place.

When an entity appears with different values (a patient's name spelt two
ways), the first non-null value in file order wins.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ringsight.loaders.buckets import write_buckets
from ringsight.loaders.normalise import iso_local


@dataclass
class NodeTable:
    """Rows of one label: the key column first, then the properties (null = not set).

    A label may come in several consecutive tables (slices of the claims).
    """

    label: str
    key: str
    frame: pl.DataFrame


@dataclass
class LinkTable:
    """Rows of one relationship type between two keyed labels: columns ``start`` and ``end``.

    With ``positional`` the ``start`` column holds row positions in the start
    label's node tables (claims in staging order) instead of keys, which saves
    the bulk writer a join of millions of claim ids.
    """

    rel_type: str
    start_label: str
    start_key: str
    end_label: str
    end_key: str
    frame: pl.DataFrame
    positional: bool = False


DEDUPE_ROWS = 1_000_000
"""Claims deduplicated in one go; larger loads are deduplicated in groups of staged chunks and merged."""


def _groups(files: list[Path]) -> Iterator[pl.LazyFrame]:
    """The staged claims chunks in groups of about DEDUPE_ROWS rows, in staging order."""
    group: list[Path] = []
    rows = 0
    for path in files:
        group.append(path)
        rows += pl.scan_parquet(path).select(pl.len()).collect().item()
        if rows >= DEDUPE_ROWS:
            yield pl.scan_parquet(group)
            group, rows = [], 0
    if group:
        yield pl.scan_parquet(group)


@dataclass
class StagedClaims:
    """The staged claims chunks of a load, in staging order, and where big deduplications spill.

    With ``buckets`` > 1 each entity table is deduplicated in that many hash
    buckets of its key under ``spill`` (see :func:`_dedupe`).
    """

    files: list[Path]
    spill: Path | None = None
    buckets: int = 1


def _dedupe(
    claims: StagedClaims,
    name: str,
    select: Callable[[pl.LazyFrame], pl.LazyFrame],
    key: str | list[str],
    props: list[str],
) -> pl.DataFrame:
    """One row per key; each property is its first non-null value in file order.

    Each group of about DEDUPE_ROWS claims is deduplicated on its own, then
    the groups' results are merged, earlier groups first. Merged in memory,
    the merge grows with the number of entities (1.4M patients in 10M claims
    took 2 GB); with buckets, the group results are spilled by hash bucket of
    the key and merged one bucket at a time, so only the final table (and one
    group) is held at once.
    """
    keys = [key] if isinstance(key, str) else key

    def reduce(frame: pl.LazyFrame) -> pl.LazyFrame:
        if props:
            return frame.group_by(keys, maintain_order=True).agg([pl.col(p).drop_nulls().first() for p in props])
        return frame.unique(keys, maintain_order=True)

    groups = (reduce(select(lazy).drop_nulls(keys)).collect() for lazy in _groups(claims.files))
    if claims.spill is not None and claims.buckets > 1:
        merged = _merge_in_buckets(groups, reduce, keys[0], claims.buckets, claims.spill / name)
    else:
        merged = _merge_in_memory(groups, reduce)
    if merged is None:  # nothing staged: an empty table with the right columns
        from ringsight.tables import CLAIMS_SCHEMA

        return select(pl.LazyFrame(schema=CLAIMS_SCHEMA)).collect()
    return merged.sort(keys)


Reduce = Callable[[pl.LazyFrame], pl.LazyFrame]


def _merge_in_memory(groups: Iterator[pl.DataFrame], reduce: Reduce) -> pl.DataFrame | None:
    running: pl.DataFrame | None = None
    for frame in groups:
        if running is not None:
            frame = reduce(pl.concat([running, frame], how="vertical_relaxed").lazy()).collect()
        running = frame
    return running


def _merge_in_buckets(
    groups: Iterator[pl.DataFrame], reduce: Reduce, key: str, buckets: int, directory: Path
) -> pl.DataFrame | None:
    shutil.rmtree(directory, ignore_errors=True)  # left by an interrupted run
    for number, frame in enumerate(groups):
        write_buckets(frame, key, buckets, directory, f"g{number:05d}")
    merged = []
    for bucket in range(buckets):
        parts = sorted((directory / f"b{bucket:03d}").glob("*.parquet"))  # group order = file order
        if parts:
            merged.append(reduce(pl.scan_parquet(parts)).collect())
    shutil.rmtree(directory, ignore_errors=True)
    return pl.concat(merged, how="vertical_relaxed") if merged else None


def _facility_key(code: str, local: str) -> pl.Expr:
    return pl.when(pl.col(local).is_not_null() & pl.col(code).is_not_null()).then(
        pl.concat_str([pl.col(code), pl.lit(":"), pl.col(local)])
    )


def with_keys(claims: pl.DataFrame) -> pl.DataFrame:
    """Add the composite keys of terminals and operators to a claims table."""
    return claims.with_columns(
        _facility_key("facility_code", "terminal_id").alias("terminal_key"),
        _facility_key("facility_code", "operator_id").alias("operator_key"),
    )


def entity_nodes(files: StagedClaims) -> Iterator[NodeTable]:
    """The distinct entities of the staged claims chunks, one label at a time (Claim and TraceCode come separately).

    Patients, cards, phones and addresses are keyed by their pseudonyms and
    carry no clear personal value (those are in the identity vault). Derived
    properties (facility region) are computed after deduplication, on one row
    per entity instead of one per claim.
    """

    def patients(c: pl.LazyFrame) -> pl.LazyFrame:
        return c.select(
            "pid",
            pl.col("patient_id_type").alias("id_type"),
            pl.col("patient_gender").alias("gender"),
            "birth_cohort",
            "surname_group",
            "insurance_type",
        )

    props = ["id_type", "gender", "birth_cohort", "surname_group", "insurance_type"]
    yield NodeTable("Patient", "pid", _dedupe(files, "Patient", patients, "pid", props))
    yield NodeTable(
        "Card", "card_id", _dedupe(files, "Card", lambda c: c.select("card_id", "card_kind"), "card_id", ["card_kind"])
    )

    def phones(c: pl.LazyFrame) -> pl.LazyFrame:
        return pl.concat(
            [c.select(pl.col("patient_phone").alias("number")), c.select(pl.col("contact_phone").alias("number"))]
        )

    yield NodeTable("Phone", "number", _dedupe(files, "Phone", phones, "number", []))

    def addresses(c: pl.LazyFrame) -> pl.LazyFrame:
        # county: the home's county-level division, read from the text before it was pseudonymised
        county = pl.col("patient_county") if "patient_county" in c.collect_schema() else pl.lit(None, pl.String)
        return c.select(pl.col("address_key").alias("key"), "district", county.alias("county"))

    yield NodeTable("Address", "key", _dedupe(files, "Address", addresses, "key", ["district", "county"]))

    def facilities(c: pl.LazyFrame) -> pl.LazyFrame:
        return c.select(
            pl.col("facility_code").alias("code"),
            pl.col("facility_name").alias("name"),
            pl.col("facility_kind").alias("kind"),
            pl.col("facility_level").alias("level"),
            pl.col("facility_ownership").alias("ownership"),
        )

    table = _dedupe(files, "Facility", facilities, "code", ["name", "kind", "level", "ownership"])
    region = pl.when(pl.col("code").str.contains(r"^[HP]\d{11}$")).then(pl.col("code").str.slice(1, 6))
    yield NodeTable("Facility", "code", table.with_columns(region.alias("region")))
    doctors = lambda c: c.select(pl.col("doctor_code").alias("code"), pl.col("doctor_name").alias("name"))  # noqa: E731
    yield NodeTable("Doctor", "code", _dedupe(files, "Doctor", doctors, "code", ["name"]))
    for label, local in (("Terminal", "terminal_id"), ("Operator", "operator_id")):
        key = pl.concat_str([pl.col("facility_code"), pl.lit(":"), pl.col(local)]).alias("key")
        rows = _dedupe(
            files,
            label,
            lambda c, key=key, local=local: c.select(key, local, "facility_code"),
            "key",
            [local, "facility_code"],
        )
        yield NodeTable(label, "key", rows)


def _pairs(files: StagedClaims, name: str, start: pl.Expr, end: pl.Expr) -> pl.DataFrame:
    return _dedupe(files, name, lambda c: c.select(start.alias("start"), end.alias("end")), ["start", "end"], [])


def entity_links(files: StagedClaims) -> Iterator[LinkTable]:
    """Relationships between entities implied by the claims (patient's card, phone, address, …)."""
    col = pl.col
    links = [
        ("HAS_CARD", "Patient", "pid", "Card", "card_id", col("pid"), col("card_id")),
        ("HAS_PHONE", "Patient", "pid", "Phone", "number", col("pid"), col("patient_phone")),
        ("CONTACT_PHONE", "Patient", "pid", "Phone", "number", col("pid"), col("contact_phone")),
        ("LIVES_AT", "Patient", "pid", "Address", "key", col("pid"), col("address_key")),
        ("WORKS_AT", "Doctor", "code", "Facility", "code", col("doctor_code"), col("facility_code")),
    ]
    for label, local in (("Terminal", "terminal_id"), ("Operator", "operator_id")):
        links.append(
            (
                "IN_FACILITY",
                label,
                "key",
                "Facility",
                "code",
                _facility_key("facility_code", local),
                col("facility_code"),
            )
        )
    for rel, start_label, start_key, end_label, end_key, start, end in links:
        pairs = _pairs(files, f"{rel}-{start_label}", start, end)
        yield LinkTable(rel, start_label, start_key, end_label, end_key, pairs)


def claim_links(claims: pl.DataFrame, *, positional: bool = False, offset: int = 0) -> Iterator[LinkTable]:
    """From each claim to its patient, card, facility, doctor, terminal and operator.

    With ``positional``, starts are the claims' positions (``offset`` + row) in staging order.
    """
    start = pl.int_range(pl.len(), dtype=pl.Int64) + offset if positional else pl.col("claim_id")
    targets = (
        ("BY_PATIENT", "Patient", "pid", pl.col("pid")),
        ("WITH_CARD", "Card", "card_id", pl.col("card_id")),
        ("AT_FACILITY", "Facility", "code", pl.col("facility_code")),
        ("BY_DOCTOR", "Doctor", "code", pl.col("doctor_code")),
        ("ON_TERMINAL", "Terminal", "key", _facility_key("facility_code", "terminal_id")),
        ("BY_OPERATOR", "Operator", "key", _facility_key("facility_code", "operator_id")),
    )
    for rel, label, key, end in targets:
        frame = claims.select(start.alias("start"), end.alias("end")).drop_nulls()
        yield LinkTable(rel, "Claim", "claim_id", label, key, frame, positional)


def item_aggregates(items: pl.LazyFrame | pl.DataFrame) -> pl.LazyFrame:
    """Per claim: item count, distinct item codes (in billing order) and the trace codes settled on it (lazy)."""
    lazy = items.lazy() if isinstance(items, pl.DataFrame) else items
    counts = lazy.group_by("claim_id").agg(
        pl.len().cast(pl.Int64).alias("item_count"),
        pl.col("item_code").unique(maintain_order=True).alias("item_codes"),
    )
    traces = (
        lazy.select("claim_id", "trace_codes")
        .filter(pl.col("trace_codes").list.len() > 0)
        .explode("trace_codes")
        .unique(maintain_order=True)
        .group_by("claim_id")
        .agg(pl.col("trace_codes").sort())
    )
    return counts.join(traces, on="claim_id", how="left")


CLAIM_PROPS: tuple[str, ...] = (
    "visit_type",
    "time_ts",
    "time",
    "admit_ts",
    "admit_time",
    "discharge_ts",
    "discharge_time",
    "total_amount",
    "fund_paid",
    "account_paid",
    "self_paid",
    "diagnosis_code",
    "diagnosis_name",
    "department",
    "bed_no",
    "item_count",
    "item_codes",
    "trace_codes",
    "content_hash",
    "load_id",
)


def claim_nodes(claims: pl.DataFrame, hashes: pl.DataFrame, aggregates: pl.DataFrame | None) -> NodeTable:
    """Claim nodes of a staged chunk with the contract's properties and item aggregates, in staging order."""
    return NodeTable("Claim", "claim_id", _claim_slice(claims, hashes, aggregates))


def _claim_slice(claims: pl.DataFrame, hashes: pl.DataFrame, aggregates: pl.DataFrame | None) -> pl.DataFrame:
    frame = claims.join(hashes, on="claim_id", how="left", maintain_order="left")
    if aggregates is not None and aggregates.height:
        frame = frame.join(aggregates, on="claim_id", how="left", maintain_order="left")
    else:
        frame = frame.with_columns(
            pl.lit(None, dtype=pl.Int64).alias("item_count"),
            pl.lit(None, dtype=pl.List(pl.String)).alias("item_codes"),
            pl.lit(None, dtype=pl.List(pl.String)).alias("trace_codes"),
        )
    empty = pl.lit([], dtype=pl.List(pl.String))
    return frame.select(
        "claim_id",
        "visit_type",
        pl.col("claim_ts").alias("time_ts"),
        iso_local(pl.col("claim_ts")).alias("time"),
        "admit_ts",
        iso_local(pl.col("admit_ts")).alias("admit_time"),
        "discharge_ts",
        iso_local(pl.col("discharge_ts")).alias("discharge_time"),
        "total_amount",
        "fund_paid",
        "account_paid",
        "self_paid",
        "diagnosis_code",
        "diagnosis_name",
        "department",
        "bed_no",
        pl.col("item_count").fill_null(0),
        pl.col("item_codes").fill_null(empty),
        pl.col("trace_codes").fill_null(empty),
        "content_hash",
        "load_id",
    )


def repeated_trace_pairs(pairs: pl.LazyFrame | pl.DataFrame, min_claims: int = 2) -> pl.DataFrame:
    """The (claim_id, code) pairs whose trace code was settled on at least ``min_claims`` distinct claims."""
    lazy = pairs.lazy().select("claim_id", "code").unique()
    repeated = lazy.group_by("code").agg(pl.len().alias("n")).filter(pl.col("n") >= min_claims).select("code")
    return lazy.join(repeated, on="code", how="semi").collect(engine="streaming").sort("code", "claim_id")
