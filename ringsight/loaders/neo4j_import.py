"""Node and relationship CSVs for ``neo4j-admin database import full``: backfills of tens of millions of claims.

A transactional load (even the CREATE path) pays for every transaction; the
offline importer writes Neo4j's store files directly. This module turns a
graph's staged tables (what ``ringsight load`` keeps for detection) into the
importer's CSV format, with the same nodes, properties and relationships the
loader writes:

- one file per label, ``nodes/<Label>.csv``, header
  ``pid:ID(Patient),name,…,time_ts:long,total_amount:double,item_codes:string[],:LABEL``
  — every label is its own id space, named after the label;
- one file per relationship type and start label, ``relationships/<TYPE>-<Start>.csv``,
  header ``:START_ID(Claim),:END_ID(Patient),:TYPE``;
- ``import.sh``: the exact ``neo4j-admin database import full`` command
  (Neo4j 5.19+ wants the database name before the options), and
  ``import-files.txt`` listing them.

Entities are deduplicated exactly as the loader does (same functions), so
every relationship end is a node of the export and no id repeats.
"""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ringsight.config import Settings
from ringsight.errors import InputError
from ringsight.loaders import entities as ent
from ringsight.loaders.buckets import bucket_count, write_buckets
from ringsight.loaders.normalise import content_hashes
from ringsight.partitions import staged_files
from ringsight.tables import staging_dir

ARRAY_DELIMITER = ";"
Tick = Callable[[int], None]


@dataclass
class ImportFiles:
    """What an export wrote: files per label / relationship file, row counts, and the command."""

    directory: Path
    nodes: dict[str, Path] = field(default_factory=dict)
    relationships: dict[str, Path] = field(default_factory=dict)
    node_rows: dict[str, int] = field(default_factory=dict)
    relationship_rows: dict[str, int] = field(default_factory=dict)
    command: str = ""


def neo4j_type(dtype: pl.DataType) -> str:
    """The importer's type suffix for a column (``""`` for strings, the default)."""
    if dtype == pl.Boolean:
        return ":boolean"
    if dtype.is_integer():
        return ":long"
    if dtype.is_float():
        return ":double"
    if isinstance(dtype, pl.List):
        return ":string[]"
    return ""


def node_frame(table: ent.NodeTable) -> pl.DataFrame:
    """A node table with the importer's header names and lists joined by the array delimiter."""
    frame = table.frame
    renames = {table.key: f"{table.key}:ID({table.label})"}
    exprs = []
    for name, dtype in frame.schema.items():
        if name != table.key:
            renames[name] = f"{name}{neo4j_type(dtype)}"
        if isinstance(dtype, pl.List):
            exprs.append(_joined(frame, name))
    out = frame.with_columns(exprs) if exprs else frame
    return out.rename(renames).with_columns(pl.lit(table.label).alias(":LABEL"))


def _joined(frame: pl.DataFrame, name: str) -> pl.Expr:
    values = frame.get_column(name).cast(pl.List(pl.String)).explode().drop_nulls()
    if values.str.contains(ARRAY_DELIMITER, literal=True).any():
        raise InputError(f"A value of {name} contains '{ARRAY_DELIMITER}', the importer's array delimiter.")
    return pl.col(name).cast(pl.List(pl.String)).list.join(ARRAY_DELIMITER)


def link_frame(table: ent.LinkTable) -> pl.DataFrame:
    """A relationship table with the importer's header (ids in the start and end labels' id spaces)."""
    return table.frame.select(
        pl.col("start").cast(pl.String).alias(f":START_ID({table.start_label})"),
        pl.col("end").cast(pl.String).alias(f":END_ID({table.end_label})"),
        pl.lit(table.rel_type).alias(":TYPE"),
    )


class _Writer:
    """Appends frames to one CSV per label / relationship file, the header once."""

    def __init__(self, directory: Path) -> None:
        self.result = ImportFiles(directory)
        (directory / "nodes").mkdir(parents=True, exist_ok=True)
        (directory / "relationships").mkdir(parents=True, exist_ok=True)

    def nodes(self, table: ent.NodeTable) -> None:
        if table.frame.height == 0:  # no file for a label without nodes (the importer needs none)
            return
        path = self.result.directory / "nodes" / f"{table.label}.csv"
        self._append(path, node_frame(table), table.label in self.result.nodes)
        self.result.nodes[table.label] = path
        self.result.node_rows[table.label] = self.result.node_rows.get(table.label, 0) + table.frame.height

    def links(self, table: ent.LinkTable) -> None:
        if table.frame.height == 0:
            return
        name = f"{table.rel_type}-{table.start_label}"
        path = self.result.directory / "relationships" / f"{name}.csv"
        self._append(path, link_frame(table), name in self.result.relationships)
        self.result.relationships[name] = path
        self.result.relationship_rows[name] = self.result.relationship_rows.get(name, 0) + table.frame.height

    @staticmethod
    def _append(path: Path, frame: pl.DataFrame, exists: bool) -> None:
        with open(path, "ab" if exists else "wb") as handle:
            frame.write_csv(handle, include_header=not exists)


def export_neo4j_import(
    settings: Settings, directory: Path, *, database: str = "neo4j", tick: Tick | None = None
) -> ImportFiles:
    """Write the importer's CSVs and command for the graph's staged tables into ``directory`` (emptied first)."""
    staging = staging_dir(settings)
    claim_files = staged_files(staging / "claims")
    if not claim_files:
        raise InputError(
            f"Nothing is staged for graph '{settings.graph_name}' in {staging}.",
            "Stage the claims first with `ringsight load` (or give --claims/--items to this command).",
        )
    item_files = staged_files(staging / "items")
    for sub in ("nodes", "relationships", ".spill"):  # a rerun starts clean
        shutil.rmtree(directory / sub, ignore_errors=True)
    writer = _Writer(directory)
    spill = directory / ".spill"
    staged = ent.StagedClaims(claim_files, spill / "entities", max(1, len(claim_files) // 8))
    traces = _trace_pairs(item_files)
    for table in ent.entity_nodes(staged):
        writer.nodes(table)
        _tick(tick, table.frame.height)
    for chunk, aggregates in _claims_with_aggregates(claim_files, item_files, spill, settings.load.bucket_claims):
        hashes = chunk.select("claim_id").with_columns(content_hashes(chunk))
        writer.nodes(ent.claim_nodes(chunk, hashes, aggregates))
        for link in ent.claim_links(chunk):
            writer.links(link)
        _tick(tick, chunk.height)
    writer.nodes(ent.NodeTable("TraceCode", "code", traces.select("code").unique().sort("code")))
    for link in ent.entity_links(staged):
        writer.links(link)
    pairs = traces.select(pl.col("claim_id").alias("start"), pl.col("code").alias("end"))
    writer.links(ent.LinkTable("HAS_TRACE", "Claim", "claim_id", "TraceCode", "code", pairs))
    shutil.rmtree(directory / ".spill", ignore_errors=True)
    writer.result.command = import_command(writer.result, database)
    _write_command(writer.result)
    return writer.result


def _claims_with_aggregates(
    claim_files: list[Path], item_files: list[Path], spill: Path, per_bucket: int
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame | None]]:
    """Staged claims with their item aggregates, one hash bucket of claim ids at a time.

    Claims and items are spilled by bucket of claim_id first (as the loader
    does), so memory follows a bucket, not the whole backfill. Within a
    bucket, items keep file order, so item codes come out in the loader's order.
    """
    rows = sum(pl.scan_parquet(path).select(pl.len()).collect().item() for path in claim_files)
    buckets = bucket_count(rows, per_bucket)
    for number, path in enumerate(claim_files):
        write_buckets(pl.read_parquet(path), "claim_id", buckets, spill / "claims", f"c{number:06d}")
    for number, path in enumerate(item_files):
        items = pl.read_parquet(path, columns=["claim_id", "item_code", "trace_codes"])
        write_buckets(items, "claim_id", buckets, spill / "items", f"i{number:06d}")
    for bucket in range(buckets):
        claim_parts = sorted((spill / "claims" / f"b{bucket:03d}").glob("*.parquet"))
        if not claim_parts:
            continue
        item_parts = sorted((spill / "items" / f"b{bucket:03d}").glob("*.parquet"))
        aggregates = ent.item_aggregates(pl.read_parquet(item_parts)).collect() if item_parts else None
        yield pl.read_parquet(claim_parts), aggregates


def _tick(tick: Tick | None, n: int) -> None:
    if tick is not None:
        tick(n)


def _trace_pairs(item_files: list[Path]) -> pl.DataFrame:
    if not item_files:
        return pl.DataFrame(schema={"claim_id": pl.String, "code": pl.String})
    pairs = pl.scan_parquet(item_files).select("claim_id", pl.col("trace_codes").alias("code")).explode("code")
    return ent.repeated_trace_pairs(pairs.drop_nulls())


def import_command(files: ImportFiles, database: str = "neo4j") -> str:
    """The ``neo4j-admin database import full`` command for the files, paths relative to their directory."""
    head = " ".join(shlex.quote(p) for p in ("neo4j-admin", "database", "import", "full", database))
    parts: list[str] = []
    parts += [f"--nodes={path.relative_to(files.directory)}" for path in files.nodes.values()]
    parts += [f"--relationships={path.relative_to(files.directory)}" for path in files.relationships.values()]
    parts += [f"--array-delimiter={ARRAY_DELIMITER}", "--id-type=string"]
    return " \\\n  ".join([head, *(shlex.quote(p) for p in parts)])


def _write_command(files: ImportFiles) -> None:
    script = files.directory / "import.sh"
    script.write_text(
        "#!/bin/sh\n"
        "# Offline import into a database that does not exist yet (or is empty and stopped); see docs/neo4j.md.\n"
        "# Run from this directory on the Neo4j server (its import/ folder, or mount it), then start Neo4j\n"
        "# and run `ringsight store schema` to create the constraints and indexes.\n"
        'cd "$(dirname "$0")" || exit 1\n' + files.command + "\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    listing = [f"nodes {label} {path.relative_to(files.directory)}" for label, path in files.nodes.items()]
    listing += [f"relationships {n} {p.relative_to(files.directory)}" for n, p in files.relationships.items()]
    (files.directory / "import-files.txt").write_text("\n".join(listing) + "\n", encoding="utf-8")
