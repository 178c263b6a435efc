"""Load a window of claims as Polars frames, and the small store-side inputs of a run.

Why staged tables first: the loader keeps every accepted claim and item as
Parquet (``ringsight/tables.py``), and whole-table aggregates over flat claims
are an order of magnitude faster in Polars than the same aggregate walked in a
graph store (ARCHITECTURE.md: ~0.1 s vs ~1.3 s for one aggregate over 1M
claims). When nothing is staged (a graph loaded by another tool), the same
frame is rebuilt from the store with paged read queries ordered by claim id;
items are then summarised from the claim's ``item_codes`` / ``trace_codes``.

This module and :mod:`ringsight.algorithms.writeback` are the only ones that
touch the store.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from ringsight.algorithms.lazy import Items
from ringsight.config import Settings
from ringsight.errors import InputError
from ringsight.graph.store import GraphStore
from ringsight.partitions import is_remote, scan_table, staged_files, staged_months, window_months
from ringsight.tables import CLAIMS_SCHEMA, ITEMS_SCHEMA, empty_claims, empty_items, staging_dir

PAGE_SIZE = 20_000

_BOUNDS = "MATCH (c:Claim) RETURN min(c.time_ts) AS lo, max(c.time_ts) AS hi, count(c) AS n"

_PAGE = """
MATCH (c:Claim)
WHERE c.claim_id > $after AND c.time_ts >= $since AND c.time_ts < $until
WITH c ORDER BY c.claim_id LIMIT $limit
OPTIONAL MATCH (c)-[:BY_PATIENT]->(p:Patient)
OPTIONAL MATCH (c)-[:WITH_CARD]->(card:Card)
OPTIONAL MATCH (c)-[:AT_FACILITY]->(f:Facility)
OPTIONAL MATCH (c)-[:BY_DOCTOR]->(d:Doctor)
OPTIONAL MATCH (c)-[:ON_TERMINAL]->(t:Terminal)
OPTIONAL MATCH (c)-[:BY_OPERATOR]->(o:Operator)
OPTIONAL MATCH (p)-[:HAS_PHONE]->(ph:Phone)
OPTIONAL MATCH (p)-[:CONTACT_PHONE]->(cp:Phone)
OPTIONAL MATCH (p)-[:LIVES_AT]->(a:Address)
RETURN c.claim_id AS claim_id, c.visit_type AS visit_type, c.time_ts AS claim_ts,
       c.admit_ts AS admit_ts, c.discharge_ts AS discharge_ts,
       p.pid AS pid, p.id_type AS patient_id_type,
       p.gender AS patient_gender, p.birth_cohort AS birth_cohort, p.surname_group AS surname_group,
       p.insurance_type AS insurance_type, card.card_id AS card_id, card.card_kind AS card_kind,
       head(collect(DISTINCT ph.number)) AS patient_phone, head(collect(DISTINCT cp.number)) AS contact_phone,
       head(collect(DISTINCT a.key)) AS address_key,
       head(collect(DISTINCT a.district)) AS district, head(collect(DISTINCT a.county)) AS patient_county,
       f.code AS facility_code, f.name AS facility_name, f.kind AS facility_kind, f.level AS facility_level,
       f.ownership AS facility_ownership, d.code AS doctor_code, d.name AS doctor_name,
       c.department AS department, c.bed_no AS bed_no, c.diagnosis_code AS diagnosis_code,
       c.diagnosis_name AS diagnosis_name, c.total_amount AS total_amount, c.fund_paid AS fund_paid,
       c.account_paid AS account_paid, c.self_paid AS self_paid, t.terminal_id AS terminal_id,
       o.operator_id AS operator_id, c.load_id AS load_id, c.item_codes AS item_codes,
       c.trace_codes AS trace_codes
ORDER BY claim_id
"""

_SANCTIONS = """
MATCH (s:Sanction)-[:SANCTIONED]->(e)
RETURN s.sanction_id AS sanction_id, s.kind AS kind, s.from_ts AS from_ts, s.until_ts AS until_ts,
       labels(e)[0] AS label, coalesce(e.code, e.pid) AS key
"""

_PREVIOUS = """
MATCH (c:Cluster)-[m:HAS_MEMBER]->(e)
WHERE c.run_id IS NOT NULL AND (m.run_id IS NULL OR m.run_id = c.run_id)
RETURN c.cluster_id AS cluster_id, labels(e)[0] AS label,
       coalesce(e.pid, e.card_id, e.number, e.code, e.key) AS key
"""

_LATEST_FOUND = """
MATCH (r:Run {status: 'done'}) WITH r ORDER BY r.finished_ts DESC LIMIT 1
MATCH (r)-[:FOUND]->(c:Cluster) RETURN c.cluster_id AS cluster_id
"""


#: The claim columns detection uses; the rest (names, display texts) are not read, which keeps a
#: 10M-claim window in memory.
DETECT_CLAIM_COLUMNS = (
    "claim_id",
    "visit_type",
    "claim_ts",
    "admit_ts",
    "discharge_ts",
    "pid",
    "patient_gender",
    "birth_cohort",
    "card_id",
    "patient_phone",
    "contact_phone",
    "address_key",
    "district",
    "patient_county",
    "facility_code",
    "facility_kind",
    "facility_ownership",
    "doctor_code",
    "bed_no",
    "diagnosis_code",
    "total_amount",
    "fund_paid",
    "terminal_id",
    "operator_id",
)
DETECT_ITEM_COLUMNS = ("claim_id", "item_code", "item_category", "quantity", "amount", "trace_codes")
#: Repeated strings kept as categoricals: half the memory, and grouping runs on integer codes.
CATEGORICAL_CLAIM_COLUMNS = (
    "visit_type",
    "pid",
    "patient_gender",
    "birth_cohort",
    "card_id",
    "patient_phone",
    "contact_phone",
    "address_key",
    "district",
    "patient_county",
    "facility_code",
    "facility_kind",
    "facility_ownership",
    "doctor_code",
    "bed_no",
    "diagnosis_code",
    "terminal_id",
    "operator_id",
)


_CLAIM_CATS = [pl.col(c).cast(pl.Categorical) for c in CATEGORICAL_CLAIM_COLUMNS]
_ITEM_CATS = [pl.col("item_code").cast(pl.Categorical), pl.col("item_category").cast(pl.Categorical)]


def compact(claims: pl.DataFrame, items: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The frames with repeated strings as categoricals (detectors accept both forms)."""
    return claims.with_columns(_CLAIM_CATS), items.with_columns(_ITEM_CATS)


@dataclass
class ClaimsWindow:
    """The claims (and items) a run looks at, and where they came from."""

    claims: pl.DataFrame
    items: Items  # a lazy scan when staged, a frame when rebuilt from the store
    since_ts: int
    until_ts: int
    source: str  # "staged" | "store" | "empty"


def resolve_window(
    latest_ts: int | None, since: datetime | None, until: datetime | None, window_days: int
) -> tuple[int, int]:
    """The [since, until) window in epoch seconds.

    ``until`` defaults to just after the latest claim (the data's "now": a weekly
    job over fresh data ends today; a replay over old data still finds its
    claims); ``since`` defaults to ``window_days`` before ``until``.
    """
    if until is not None:
        until_ts = int(_aware(until).timestamp())
    elif latest_ts is not None:
        until_ts = int(latest_ts) + 1
    else:
        until_ts = int(datetime.now(UTC).timestamp())
    since_ts = int(_aware(since).timestamp()) if since is not None else until_ts - window_days * 86_400
    return since_ts, until_ts


def _aware(moment: datetime) -> datetime:
    """Naive times are local (Asia/Shanghai), like the claims themselves."""
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("Asia/Shanghai"))


def load_window(
    store: GraphStore | None,
    settings: Settings,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    window_days: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    tables: str | None = None,
) -> ClaimsWindow:
    """The claims of the window, from the staged tables when present, else from the store.

    ``tables``: read the claims/ and items/ Parquet under this folder or URL instead of the graph's
    staged tables (``ringsight detect --tables``; what Spark reads too).
    """
    days = window_days or settings.detect.window_days
    if tables is not None:
        check_tables(tables)
        return _from_staging(StagedTables(tables), since, until, days)
    staged = StagedTables(str(staging_dir(settings)))
    if staged.has_claims():
        return _from_staging(staged, since, until, days)
    if store is None:
        since_ts, until_ts = resolve_window(None, since, until, days)
        return ClaimsWindow(empty_claims(), empty_items(), since_ts, until_ts, "empty")
    return _from_store(store, since, until, days, progress)


@dataclass(frozen=True)
class StagedTables:
    """claims/ and items/ Parquet under a folder or URL, in the partitioned layout (or an earlier flat one).

    Every read names the months it needs, so only the window's partitions are opened
    (:mod:`ringsight.partitions`).
    """

    root: str

    @property
    def remote(self) -> bool:
        return is_remote(self.root)

    def table(self, name: str) -> str | Path:
        return f"{self.root.rstrip('/')}/{name}" if self.remote else Path(self.root) / name

    def has_claims(self) -> bool:
        return self.remote or bool(staged_files(Path(self.root) / "claims"))

    def claims(self, months: list[str] | None = None) -> pl.LazyFrame | None:
        return scan_table(self.table("claims"), months)

    def items(self, months: list[str] | None = None) -> pl.LazyFrame | None:
        if not self.remote and not staged_files(Path(self.root) / "items"):
            return None
        return scan_table(self.table("items"), months)

    def latest_ts(self) -> int | None:
        """The latest claim_ts, reading only the latest month's partition (and flat files of earlier layouts)."""
        months = None if self.remote else staged_months(Path(self.root) / "claims")
        scan = self.claims(months[-1:] if months else None)
        if scan is None:
            return None
        latest = scan.select(pl.col("claim_ts").max()).collect().item()
        return None if latest is None else int(latest)


def check_tables(tables: str) -> None:
    """Refuse a --tables folder or URL this machine cannot read, naming it and saying why.

    Raises :class:`InputError` when there is no claims Parquet to read, or when the URL's scheme is
    one Polars cannot read (hdfs://): the detectors not yet ported to Spark and the rest of the run
    read the window on this machine.
    """
    scheme = tables.split("://", 1)[0].lower() if "://" in tables else ""
    if scheme in ("hdfs", "viewfs", "wasb", "abfs"):
        raise InputError(
            f"--tables {tables}: {scheme}:// cannot be read on this machine, and the detectors not yet "
            "ported to Spark, the projection and scoring read the window here (docs/engines.md).",
            "Give a folder this machine can read (a mount, or s3:// / gs:// object storage) holding claims/ "
            "and items/ Parquet.",
        )
    if not scheme and not staged_files(Path(tables) / "claims"):
        raise InputError(
            f"--tables {tables}: no claims Parquet files in {Path(tables) / 'claims'}.",
            "Point --tables at a folder holding claims/ Parquet (month=YYYY-MM/bucket=NN/*.parquet, or flat "
            "*.parquet) and items/ alike, e.g. the staged tables under the data directory's staging/<graph>/.",
        )


def scan_tables(tables: str) -> tuple[pl.LazyFrame, pl.LazyFrame | None]:
    """Lazy scans of every claim and item under ``tables`` (a local folder, or a URL Polars reads: s3://, gs://…)."""
    check_tables(tables)
    staged = StagedTables(tables)
    claims = staged.claims()
    assert claims is not None  # check_tables found claims
    return claims, staged.items()


def _from_staging(staged: StagedTables, since: datetime | None, until: datetime | None, days: int) -> ClaimsWindow:
    latest = staged.latest_ts() if until is None else None
    since_ts, until_ts = resolve_window(latest, since, until, days)
    months = window_months(since_ts, until_ts)
    claims_lf = staged.claims(months)
    items_lf = staged.items(months)
    # The loader stages each accepted claim once (a re-load of the same claim is a no-op), so no
    # de-duplication is needed here.
    # Casting inside the lazy query never holds the string and the categorical copies together.
    if "patient_county" not in claims_lf.collect_schema():  # staged before home addresses were located
        claims_lf = claims_lf.with_columns(pl.lit(None, dtype=pl.String).alias("patient_county"))
    claims = (
        claims_lf.select(DETECT_CLAIM_COLUMNS)
        .filter(pl.col("claim_ts").is_between(since_ts, until_ts, closed="left"))
        .with_columns(_CLAIM_CATS)
        .collect()
        if claims_lf is not None
        else empty_claims().select(DETECT_CLAIM_COLUMNS).with_columns(_CLAIM_CATS)
    )
    # Items stay a lazy scan of the staged Parquet: detectors stream what they need from it
    # (see ringsight/algorithms/lazy.py), so ~30M item rows of a 10M window are never held at once.
    # They are pruned to the window's months like the claims (an item is filed under its claim's month).
    items: Items
    if items_lf is None or claims_lf is None:
        items = empty_items().select(DETECT_ITEM_COLUMNS)
    elif claims.height == claims_lf.select(pl.len()).collect().item():
        items = items_lf.select(DETECT_ITEM_COLUMNS)  # every claim of the window's months
    else:
        items = items_lf.select(DETECT_ITEM_COLUMNS).join(claims.select("claim_id").lazy(), on="claim_id", how="semi")
    return ClaimsWindow(claims, items, since_ts, until_ts, "staged")


def _from_store(
    store: GraphStore,
    since: datetime | None,
    until: datetime | None,
    days: int,
    progress: Callable[[int, int], None] | None,
) -> ClaimsWindow:
    bounds = store.read(_BOUNDS).records()[0]
    since_ts, until_ts = resolve_window(bounds["hi"], since, until, days)
    total = int(bounds["n"] or 0)
    pages: list[list[dict[str, Any]]] = []
    after = ""
    while True:
        params = {"after": after, "since": since_ts, "until": until_ts, "limit": PAGE_SIZE}
        rows = store.read(_PAGE, params, timeout_ms=600_000).records()
        if not rows:
            break
        pages.append(rows)
        after = rows[-1]["claim_id"]
        if progress is not None:
            progress(len(rows), total)
        if len(rows) < PAGE_SIZE:
            break
    rows = [r for page in pages for r in page]
    claims, items = compact(_claims_frame(rows), _items_frame(rows))
    return ClaimsWindow(claims, items, since_ts, until_ts, "store")


def _claims_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    if not rows:
        return empty_claims()
    cols = {name: [r.get(name) for r in rows] for name in CLAIMS_SCHEMA}
    return pl.DataFrame(cols, schema=CLAIMS_SCHEMA)


def _items_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Items summarised from the claim nodes: one line per distinct item code, trace codes on the first."""
    out: list[dict[str, Any]] = []
    for r in rows:
        codes = r.get("item_codes") or []
        traces = [str(t) for t in (r.get("trace_codes") or [])]
        for i, code in enumerate(codes):
            out.append(
                {
                    "claim_id": r["claim_id"],
                    "line_no": i + 1,
                    "item_code": str(code),
                    "quantity": 1.0,
                    "trace_codes": traces if i == 0 else [],
                }
            )
        if traces and not codes:
            out.append(
                {"claim_id": r["claim_id"], "line_no": 1, "item_code": None, "quantity": 1.0, "trace_codes": traces}
            )
    if not out:
        return empty_items()
    frame = pl.DataFrame(
        out, schema={k: ITEMS_SCHEMA[k] for k in ("claim_id", "line_no", "item_code", "quantity", "trace_codes")}
    )
    missing = [pl.lit(None, dtype=t).alias(k) for k, t in ITEMS_SCHEMA.items() if k not in frame.columns]
    return frame.with_columns(missing).select(list(ITEMS_SCHEMA))


def load_sanctions(store: GraphStore | None) -> pl.DataFrame:
    """Rectifications and sanctions on file: sanction_id, kind, from_ts, until_ts, label, key."""
    schema = {
        "sanction_id": pl.String,
        "kind": pl.String,
        "from_ts": pl.Int64,
        "until_ts": pl.Int64,
        "label": pl.String,
        "key": pl.String,
    }
    if store is None:
        return pl.DataFrame(schema=schema)
    rows = store.read(_SANCTIONS).records()
    return pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)


def load_previous_clusters(store: GraphStore | None) -> tuple[pl.DataFrame, set[str]]:
    """Members of every cluster written before (cluster_id, label, key), and the ids the latest done run found."""
    schema = {"cluster_id": pl.String, "label": pl.String, "key": pl.String}
    if store is None:
        return pl.DataFrame(schema=schema), set()
    rows = store.read(_PREVIOUS, timeout_ms=600_000).rows
    latest = {str(r[0]) for r in store.read(_LATEST_FOUND, timeout_ms=600_000).rows}
    frame = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
    return frame, latest


def load_known_cluster_ids(store: GraphStore | None) -> tuple[set[str], str | None]:
    """Every cluster id ever written and the highest one (new ids continue after it)."""
    if store is None:
        return set(), None
    rows = store.read("MATCH (c:Cluster) RETURN c.cluster_id AS id", timeout_ms=600_000).column("id")
    ids = {str(r) for r in rows if r}
    return ids, max(ids) if ids else None


def previous_run_params(store: GraphStore | None) -> dict[str, Any]:
    """The parameters of the latest done run (empty when none)."""
    if store is None:
        return {}
    node = store.read("MATCH (r:Run {status: 'done'}) RETURN r ORDER BY r.finished_ts DESC LIMIT 1").scalar()
    if node is None:
        return {}
    try:
        return json.loads(node.properties.get("params") or "{}")
    except json.JSONDecodeError:
        return {}


def claims_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """A claims frame from a few dicts (missing columns null): for tests and hand-made examples."""
    data = {name: [r.get(name) for r in rows] for name in CLAIMS_SCHEMA}
    return pl.DataFrame(data, schema=CLAIMS_SCHEMA)


def items_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """An items frame from a few dicts (missing columns null; trace_codes default to [])."""
    data = {name: [r.get(name) for r in rows] for name in ITEMS_SCHEMA}
    data["trace_codes"] = [r.get("trace_codes") or [] for r in rows]
    data["line_no"] = [r.get("line_no", i + 1) for i, r in enumerate(rows)]
    return pl.DataFrame(data, schema=ITEMS_SCHEMA)


def partition_path(settings: Settings) -> Path:
    """Where the full community partition of the latest done run is kept (to seed the next run)."""
    return Path(settings.data_dir) / "detect" / settings.graph_name / "partition.parquet"


def load_partition(settings: Settings) -> dict[str, int]:
    """The latest done run's partition (node name → community), or {} when there is none."""
    path = partition_path(settings)
    if not path.exists():
        return {}
    frame = pl.read_parquet(path)
    return dict(zip(frame["node"].to_list(), frame["community"].to_list(), strict=True))


def save_partition(settings: Settings, partition: pl.DataFrame) -> None:
    """Keep a done run's partition (node, community) for the next run; written atomically."""
    path = partition_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    partition.write_parquet(tmp)
    tmp.replace(path)
