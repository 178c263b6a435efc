"""One load from files to graph: check headers, stage chunks, write the graph, report.

The order is what makes a load safe:

1. **Headers first.** Every file's headers are mapped before anything is
   written; a file lacking a required column stops the load there.
2. **Stage.** Each chunk is validated and normalised; rejects and the
   accepted rows go to Parquet files in the load's pending directory, the
   rows' keys to hash buckets (:mod:`ringsight.loaders.buckets`), and the
   journal records the chunk.
3. **Decide, one bucket at a time** (:mod:`ringsight.loaders.classify`):
   which claims are new, unchanged repeats or conflicts (against every claim
   staged before), which items are kept, skipped or orphans, their line
   numbers and per-claim aggregates, the trace codes settled twice. A reload
   writes nothing and an overlapping load writes only what is new; memory
   follows the bucket, not the load.
4. **Write the graph** from the staged tables — bulk into a new graph, MERGE
   batches otherwise (see :mod:`ringsight.loaders.writer`).
5. **Finish.** Staged tables move into place for detection, rejects and the
   report are written, the pending directory goes.

Killed anywhere, a rerun of the same command resumes from the journal.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ringsight.appdb import for_store
from ringsight.appdb.vault import store_identities
from ringsight.config import Settings
from ringsight.errors import InputError
from ringsight.graph.store import GraphStore
from ringsight.loaders import entities as ent
from ringsight.loaders import validate as val
from ringsight.loaders.buckets import (
    bucket_count,
    estimate_claim_rows,
    index_file_name,
    read_bucket,
    read_index_bucket,
    write_buckets,
    write_index,
)
from ringsight.loaders.classify import (
    CLAIM_INDEX_SCHEMA,
    KNOWN_SCHEMA,
    ROW,
    SEQ,
    chunk_seq,
    decide_claims,
    decide_items,
    trace_pairs,
)
from ringsight.loaders.create import CreateWriter
from ringsight.loaders.journal import Journal, load_lock, write_parquet_atomic
from ringsight.loaders.normalise import (
    HASH_VERSION,
    PseudonymCache,
    claims_table,
    clean_frame,
    content_hashes,
    items_table,
    pseudonymise,
)
from ringsight.loaders.profiles import (
    HeaderMapping,
    Profile,
    TableProfile,
    load_profile,
    map_headers,
    require_columns,
)
from ringsight.loaders.readers import LINE, Source, iter_chunks, open_source
from ringsight.loaders.report import FileReport, LoadReport
from ringsight.loaders.safe_text import plain
from ringsight.loaders.shape import Joined, add_joins, joined_headers, read_join, shape_chunk
from ringsight.loaders.writer import bulk_build, merge_links, merge_nodes, supports_bulk
from ringsight.partitions import bucket_of as partition_bucket
from ringsight.partitions import layout_buckets, month_expr, record_layout, staged_files, write_partitioned
from ringsight.private import private_dir, private_file, private_tree, restrict_umask
from ringsight.safecsv import neutralise_frame
from ringsight.tables import CLAIMS_SCHEMA, ITEMS_SCHEMA, staging_dir

SOURCE = "_source_file"
_REPEAT_SCHEMA = {
    ROW: pl.Int64,
    "claim_id": pl.String,
    "existing_hash": pl.String,
    "new_hash": pl.String,
    "conflict": pl.Boolean,
}
_CONFLICT_SAMPLE = 20


@dataclass
class Input:
    """An input file with its header mapping and the files the profile joins onto it."""

    kind: str  # claims | items
    index: int
    source: Source
    mapping: HeaderMapping
    joins: list[Joined] = field(default_factory=list)


def open_input(kind: str, index: int, path: Path, table: TableProfile, chunk_rows: int = 200_000) -> Input:
    """Open one file (the profile's sheet, or the best-matching one), read its joins, map its headers."""

    def header_score(headers: list[str]) -> int:
        return len(map_headers(headers, table).mapped)

    source = open_source(Path(path), sheet=table.sheet, header_score=header_score)
    headers = list(source.headers)
    joins = [read_join(spec, table, headers, chunk_rows) for spec in table.joins]
    mapping = map_headers(headers + joined_headers(joins), table)
    return Input(kind, index, source, mapping, joins)


def prepare_inputs(
    claims: list[Path], items: list[Path] | None, profile: Profile, chunk_rows: int = 200_000
) -> list[Input]:
    """Open every file and map its headers; refuse the load if any lacks a required column."""
    inputs: list[Input] = []
    for kind, paths, table in (("claims", claims, profile.claims), ("items", items or [], profile.items)):
        for index, path in enumerate(paths):
            inp = open_input(kind, index, Path(path), table, chunk_rows)
            require_columns(inp.mapping, table, inp.source.path, kind)
            inputs.append(inp)
    return inputs


def load_files(
    claims: list[Path],
    items: list[Path] | None = None,
    *,
    settings: Settings,
    store: GraphStore | None = None,
    profile: Path | str | None = None,
    progress: bool = False,
    rejects_dir: Path | None = None,
    report_path: Path | None = None,
    mode: str = "auto",
    console: Console | None = None,
    max_reject_share: float | None = None,
    joins: dict[str, Path] | None = None,
) -> LoadReport:
    """Load claims (and optionally claim items) files into the graph; return the load report.

    Parameters
    ----------
    claims, items : the input files (CSV in UTF-8 or GB18030/GBK, XLSX, Parquet).
    settings : where the data directory and the graph are; ``load.chunk_rows``
        and ``load.batch_size`` tune memory and batch sizes.
    store : an open store (else one is opened from ``settings`` and closed after).
    profile : a TOML column profile for non-canonical exports (a path or a shipped profile's name).
    joins : join name → file, overriding the files the profile's joins name.
    progress : show a Rich progress bar.
    rejects_dir, report_path : where rejected rows and the JSON report go
        (default: ``<data_dir>/loads/<graph>/<load_id>/``).
    mode : ``auto`` (bulk into an empty FalkorDB graph, CREATE-what-is-new on Neo4j, else MERGE),
        ``merge``, ``bulk``, ``create`` (see :mod:`ringsight.loaders.create`), or ``stage``: validate
        and stage the tables only, write no graph (for ``ringsight export neo4j-import``).
    max_reject_share : refuse the load when more than this share of claim (or
        item) rows is rejected, or when there is no claim row at all; default:
        the profile's ``[load] max_reject_share``, else ``load.max_reject_share``.

    Raises
    ------
    MissingColumnError (an InputError) before anything is written when a file
    lacks a required column; InputError for unreadable files;
    MostlyRejectedError (an InputError, exit 2) when too many rows are
    rejected — the rejects and the report are written, the graph is not.
    """
    t0 = time.perf_counter()
    restrict_umask()  # staged tables, rejects and reports hold personal data: 0600 files, 0700 directories
    private_dir(settings.data_dir, tighten=True)
    prof = load_profile(profile, joins)
    inputs = prepare_inputs(list(claims), list(items or []), prof, settings.load.chunk_rows)
    if max_reject_share is None:
        max_reject_share = prof.max_reject_share
    if max_reject_share is None:
        max_reject_share = settings.load.max_reject_share
    own = store is None and mode != "stage"
    if own:
        from ringsight.graph import open_store

        store = open_store(settings)
    try:
        staged_only = None if mode == "stage" else store
        run = _Load(settings, staged_only, prof, inputs, progress, console or Console(stderr=True))
        run.max_reject_share = max_reject_share
        report = run.execute(t0, mode, rejects_dir, report_path)
        private_tree(run.staging)  # also what an older version staged with looser modes
        return report
    finally:
        if own:
            store.close()


class _Load:
    """The state of one load while it runs."""

    def __init__(
        self,
        settings: Settings,
        store: GraphStore | None,
        profile: Profile,
        inputs: list[Input],
        progress: bool,
        console: Console,
    ) -> None:
        self.settings = settings
        self.store = store
        self.profile = profile
        self.inputs = inputs
        self.graph = str(getattr(store, "graph_name", None) or settings.graph_name)
        self.staging = staging_dir(settings, self.graph)
        self.partition_buckets = layout_buckets(self.staging, settings.load.partition_buckets)
        self.chunk_rows = settings.load.chunk_rows
        self.batch_size = settings.load.batch_size
        self.show = progress
        self.console = console
        self.timings: dict[str, float] = {}
        self.max_reject_share = 0.5
        self._pseudonyms = PseudonymCache()  # values hashed by earlier chunks of this load
        self._offered: pl.DataFrame | None = None  # (kind, pseudonym) of the identities earlier chunks staged
        self._vault_writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="identity-vault")
        self.appdb = for_store(store, settings)  # the identity vault of this graph

    # -- the whole run ---------------------------------------------------------------
    def execute(self, t0: float, mode: str, rejects_dir: Path | None, report_path: Path | None) -> LoadReport:
        with load_lock(self.staging), self._progress() as bar, self._vault_writer:
            self.bar = bar
            journal, abandoned = Journal.open(self.staging, self._fingerprint())
            self.journal = journal
            if journal.get("mode") is None:
                self._choose_mode(mode)
            if journal.get("buckets") is None:
                paths = [i.source.path for i in self.inputs if i.kind == "claims"]
                journal.set("buckets", bucket_count(estimate_claim_rows(paths), self.settings.load.bucket_claims))
            self.buckets = int(journal.get("buckets"))
            self._refresh_hashes()
            tick, cpu = time.perf_counter(), time.process_time()
            for inp in self.inputs:
                if inp.kind == "claims":
                    self._stage_file(inp, self._stage_claims)
            self._once("claims_decided", self._decide_claims)
            self._finish_claim_chunks()
            for inp in self.inputs:
                if inp.kind == "items":
                    self._stage_file(inp, self._stage_items)
            self._once("items_decided", self._decide_items)
            self._once("orphans_rejected", self._reject_orphans)
            self._once("traces_decided", self._decide_traces)
            self.timings["stage_s"] = round(time.perf_counter() - tick, 3)
            self.timings["stage_cpu_s"] = round(time.process_time() - cpu, 3)
            if not journal.get("written"):
                self._refuse_if_mostly_rejected(t0, rejects_dir, report_path, abandoned)
            tick, cpu = time.perf_counter(), time.process_time()
            vault = None if journal.get("vault_written") else self._vault_writer.submit(self._write_vault)
            if not journal.get("written"):
                written = self._write_graph() if self.store is not None else {}
                journal.data["written_stats"] = written
                journal.set("written", True)
            if vault is not None:
                journal.data["vault_rows"] = vault.result()
                journal.set("vault_written", True)
            self.timings["graph_s"] = round(time.perf_counter() - tick, 3)
            self.timings["graph_cpu_s"] = round(time.process_time() - cpu, 3)
            report = self._finish(t0, rejects_dir, report_path, abandoned)
        return report

    def _once(self, step: str, work: Callable[[], None]) -> None:
        """Run a step of the table layer unless the journal records it done (each step is idempotent)."""
        if not self.journal.get(step):
            work()
            self.journal.set(step, True)

    def _progress(self) -> Progress:
        return Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,.0f}{task.fields[unit]}"),
            TimeElapsedColumn(),
            console=self.console,
            disable=not self.show,
            transient=False,
        )

    def _fingerprint(self) -> str:
        parts = [f"{i.kind}:{i.source.fingerprint()}" for i in self.inputs]
        parts += [f"join:{j.spec.name}:{Source(j.path, '').fingerprint()}" for i in self.inputs for j in i.joins]
        if self.profile.source is not None:
            parts.append(hashlib.sha1(Path(self.profile.source).read_bytes()).hexdigest())
        parts.append(self.settings.pseudonym_key())
        return hashlib.sha1("\n".join(parts).encode()).hexdigest()

    def _choose_mode(self, mode: str) -> None:
        if self.store is None:  # staging only: the staged tables are the output
            self.journal.set("mode", "stage")
            return
        empty = graph_is_empty(self.store)
        if empty:
            self._wipe_stale_staging()
        bulk = empty and supports_bulk(self.store) and mode in ("auto", "bulk")
        if mode == "bulk" and not bulk:
            from ringsight.errors import RingSightError

            raise RingSightError(
                "A bulk load needs an empty FalkorDB graph.", "Load without mode='bulk' to MERGE into this graph."
            )
        create = mode == "create" or (mode == "auto" and self.store.backend == "neo4j")
        self.journal.data["empty_at_start"] = empty
        self.journal.set("mode", "bulk" if bulk else "create" if create else "merge")

    def _wipe_stale_staging(self) -> None:
        """Tables staged for a graph that is now empty (it was cleared) describe nothing: remove them."""
        for name in ("claims", "items", "hashes"):
            shutil.rmtree(self.staging / name, ignore_errors=True)

    # -- the table layer ---------------------------------------------------------------
    def _pending(self, name: str) -> Path:
        return self.journal.directory / name

    def _refresh_hashes(self) -> None:
        """Rebuild the staged claim index (claim_id → content hash, in buckets) when another version made it."""
        directory = self.staging / "hashes"
        marker = directory / "VERSION"
        claims = staged_files(self.staging / "claims")
        if not claims or (marker.exists() and marker.read_text().strip() == HASH_VERSION):
            return
        for stale in directory.glob("*.parquet"):
            stale.unlink()
        for path in claims:
            table = pl.read_parquet(path)
            hashes = table.select("claim_id").with_columns(content_hashes(table))
            write_index(
                hashes, "claim_id", bucket_count(hashes.height, self.settings.load.bucket_claims), directory, path.stem
            )
        marker.write_text(HASH_VERSION)

    def _pending_files(self, kind: str) -> list[Path]:
        return sorted((self.journal.directory / kind).glob("*.parquet"))

    def _stage_file(self, inp: Input, stage: Callable[[Input, pl.DataFrame, str, int], dict]) -> None:
        task = self.bar.add_task(f"{inp.kind} {inp.source.path.name}", total=None, unit=" rows")
        rows = 0
        for k, chunk in enumerate(iter_chunks(inp.source, self.chunk_rows, tmp_dir=self.journal.directory)):
            key = chunk_key(inp.kind, inp.index, k)
            rows += chunk.height
            if self.journal.chunk(key) is None:
                outcome = stage(inp, chunk, key, chunk_seq(inp.index, k))
                self.journal.chunk_done(key, outcome)
            self.bar.update(task, completed=rows)
        self.journal.data.setdefault("file_rows", {})[f"{inp.kind}:{inp.index}"] = rows
        self.journal.save()

    def _canonical(self, inp: Input, chunk: pl.DataFrame, table: TableProfile) -> pl.DataFrame:
        """The chunk with its joined files, shaped into the canonical columns by the profile."""
        return shape_chunk(add_joins(chunk, inp.joins), inp.mapping, table)

    def _refuse_if_mostly_rejected(
        self, t0: float, rejects_dir: Path | None, report_path: Path | None, abandoned: list[str]
    ) -> None:
        """Stop before the graph when too many rows were rejected: rejects and report written, graph untouched."""
        report = self._report(t0, abandoned)
        problem = rejection_problem(report, self.max_reject_share)
        if problem is None:
            return
        report = self._finish(t0, rejects_dir, report_path, abandoned, refused=problem)
        raise MostlyRejectedError(problem, report)

    def _rejects(self, inp: Input, chunk: pl.DataFrame, bad: pl.DataFrame) -> pl.DataFrame:
        meta = bad.select(LINE, val.COLUMN, val.REASON, val.DETAIL)
        raw = chunk.join(meta, on=LINE, how="inner")
        return raw.select(
            pl.lit(str(inp.source.path)).alias(SOURCE),
            pl.col(LINE),
            pl.col(val.COLUMN),
            pl.col(val.REASON),
            pl.col(val.DETAIL),
            *[pl.col(c).cast(pl.String) for c in chunk.columns if c != LINE],
        )

    def _stage_claims(self, inp: Input, chunk: pl.DataFrame, key: str, seq: int) -> dict:
        """Validate a chunk; stage its accepted rows whole and, by bucket, their (claim_id, content hash)."""
        canon = self._canonical(inp, chunk, self.profile.claims)
        checked = val.apply_rules(val.parse_claims(canon, self.profile.claims), val.claim_rules(self.profile.claims))
        if inp.mapping.kept_extra:
            checked = val.reject_extra_text(checked, chunk, inp.mapping.kept_extra)
        bad = checked.filter(pl.col(val.REASON).is_not_null())
        good = checked.filter(pl.col(val.REASON).is_null())
        if bad.height:
            write_parquet_atomic(self._rejects(inp, chunk, bad), self.journal.subdir("rejects") / f"{key}.parquet")
        secret = self.settings.pseudonym_key()
        clear = claims_table(good, id_hash_key=secret, load_id=self.journal.load_id, cache=self._pseudonyms)
        table, identities = pseudonymise(clear, secret, self._pseudonyms)
        # The chunk's identities wait beside it in the load's pending directory (as private as the input
        # file they come from) until the vault step writes them all at once (see _write_vault).
        write_parquet_atomic(self._not_offered(identities), self.journal.subdir("identities") / f"{key}.parquet")
        staged = table.with_columns(
            content_hashes(table), good.get_column(LINE), pl.int_range(pl.len(), dtype=pl.Int64).alias(ROW)
        )
        write_parquet_atomic(staged, self.journal.subdir("staged_claims") / f"{key}.parquet")
        if inp.mapping.kept_extra:
            self._stage_extras(inp, chunk, staged, key)
        index = staged.select("claim_id", "content_hash", pl.lit(seq, dtype=pl.Int64).alias(SEQ), ROW, "claim_ts")
        write_buckets(index, "claim_id", self.buckets, self._pending("claim_index"), key)
        return {
            "rows": chunk.height,
            "rejected": _counts(bad.get_column(val.REASON)),
            "warnings": val.claim_warnings(good),
        }

    def _not_offered(self, identities: pl.DataFrame) -> pl.DataFrame:
        """A chunk's identities less those an earlier chunk of this load already staged.

        The vault keeps the first value in staging order, so a repeat could
        never be written; dropping it here spares the vault step from reading
        and sorting each person about three times. A resumed load starts with
        nothing offered and stages the full rows again (a harmless superset).
        """
        keys = ["kind", "pseudonym"]
        if self._offered is not None:
            identities = identities.join(self._offered, on=keys, how="anti", maintain_order="left")
        offered = (
            identities.select(keys) if self._offered is None else pl.concat([self._offered, identities.select(keys)])
        )
        if offered.height <= self._pseudonyms.limit:
            self._offered = offered
        return identities

    def _write_vault(self) -> int:
        """Write the identities of every staged chunk into the vault, while the graph is written.

        Each pseudonym keeps its first value in staging order (and, across
        loads, the value already in the vault). Idempotent: a resumed load
        runs it again from the same files. Returns the rows written.
        """
        order = list(self.journal.data.get("chunks", {}))
        folder = self.journal.directory / "identities"
        files = [folder / f"{key}.parquet" for key in order if (folder / f"{key}.parquet").exists()]
        if not files:
            return 0
        prefixes = [None] if self.buckets == 1 else list("0123456789abcdef")  # one slice at a time when big
        written = 0
        for prefix in prefixes:
            rows = pl.scan_parquet(files)
            if prefix is not None:
                rows = rows.filter(pl.col("pseudonym").str.starts_with(prefix))
            rows = rows.unique(["kind", "pseudonym"], keep="first", maintain_order=True).collect()
            written += store_identities(self.appdb, rows)
        return written

    def _stage_extras(self, inp: Input, chunk: pl.DataFrame, staged: pl.DataFrame, key: str) -> None:
        """Columns the profile keeps (``keep_extra``) become Claim properties; staged beside the chunk."""
        names = extra_property_names(inp.mapping.kept_extra)
        extras = clean_frame(chunk.select(LINE, *[pl.col(h).cast(pl.String).alias(names[h]) for h in names]), (LINE,))
        extras = staged.select(LINE, ROW, "claim_id").join(extras, on=LINE, how="left").drop(LINE)
        write_parquet_atomic(extras, self.journal.subdir("staged_extras") / f"{key}.parquet")

    def _decide_claims(self) -> None:
        """Bucket by bucket: which staged claims are new, unchanged repeats or conflicts."""
        for bucket in range(self.buckets):
            staged = read_bucket(self._pending("claim_index"), bucket, CLAIM_INDEX_SCHEMA)
            decision = decide_claims(staged, self._earlier_claims(bucket))
            write_parquet_atomic(decision.new, self._new_claims_path(bucket))
            self._write_by_seq(decision.repeats, "claim_repeats", bucket)

    def _earlier_claims(self, bucket: int) -> pl.DataFrame:
        """claim_id, content_hash of the claims staged by earlier loads, in one bucket."""
        return read_index_bucket(self.staging / "hashes", "claim_id", bucket, self.buckets, KNOWN_SCHEMA)

    def _new_claims_path(self, bucket: int) -> Path:
        """This load's new claims of one bucket: moved into the staged index when the load finishes."""
        return self.journal.subdir("new_claims") / index_file_name(self.journal.load_id, self.buckets, bucket)

    def _finish_claim_chunks(self) -> None:
        """Keep each staged chunk's new claims; record its repeats and conflicts."""
        for inp in self.inputs:
            if inp.kind != "claims":
                continue
            for k in range(self._chunk_count(inp)):
                key = chunk_key(inp.kind, inp.index, k)
                outcome = self.journal.chunk(key)
                if outcome is not None and not outcome.get("finished"):
                    outcome.update(self._finish_claim_chunk(inp, key, chunk_seq(inp.index, k)))
                    self.journal.chunk_done(key, {**outcome, "finished": True})

    def _chunk_count(self, inp: Input) -> int:
        prefix = chunk_key(inp.kind, inp.index, 0)[:-5]
        return sum(1 for key in self.journal.data["chunks"] if key.startswith(prefix))

    def _finish_claim_chunk(self, inp: Input, key: str, seq: int) -> dict:
        staged = pl.read_parquet(self.journal.directory / "staged_claims" / f"{key}.parquet")
        repeat_files = self._by_seq("claim_repeats", seq)
        repeats = pl.read_parquet(repeat_files) if repeat_files else pl.DataFrame(schema=_REPEAT_SCHEMA)
        new = staged.filter(~pl.col(ROW).is_in(repeats.get_column(ROW).implode()))
        write_parquet_atomic(new.select(list(CLAIMS_SCHEMA)), self.journal.subdir("claims") / f"{key}.parquet")
        hashes = new.select("claim_id", "content_hash")
        write_parquet_atomic(hashes, self.journal.subdir("chunk_hashes") / f"{key}.parquet")
        extras = self.journal.directory / "staged_extras" / f"{key}.parquet"
        if extras.exists():
            kept = pl.read_parquet(extras).filter(pl.col(ROW).is_in(new.get_column(ROW).implode())).drop(ROW)
            write_parquet_atomic(kept, self.journal.subdir("extras") / f"{key}.parquet")
        conflicts = (
            repeats.filter(pl.col("conflict"))
            .sort(ROW)
            .join(staged.select(ROW, LINE), on=ROW, how="left", maintain_order="left")
            .select("claim_id", LINE, "existing_hash", "new_hash", pl.lit(str(inp.source.path)).alias(SOURCE))
        )
        if conflicts.height:
            write_parquet_atomic(conflicts, self.journal.subdir("conflicts") / f"{key}.parquet")
        return {
            "loaded": new.height,
            "unchanged": repeats.height - conflicts.height,
            "conflicts": conflicts.height,
            "conflict_ids": conflicts.get_column("claim_id").head(_CONFLICT_SAMPLE).to_list(),
        }

    def _stage_items(self, inp: Input, chunk: pl.DataFrame, key: str, seq: int) -> dict:
        """Validate a chunk of items; stage the accepted rows by the bucket of their claim_id."""
        canon = self._canonical(inp, chunk, self.profile.items)
        checked = val.apply_rules(val.parse_items(canon, self.profile.items), val.item_rules(self.profile.items))
        bad = checked.filter(pl.col(val.REASON).is_not_null())
        good = checked.filter(pl.col(val.REASON).is_null())
        if bad.height:
            write_parquet_atomic(self._rejects(inp, chunk, bad), self.journal.subdir("rejects") / f"{key}.parquet")
        table = items_table(good, load_id=self.journal.load_id).with_columns(
            good.get_column(LINE),
            pl.lit(seq, dtype=pl.Int64).alias(SEQ),
            pl.int_range(pl.len(), dtype=pl.Int64).alias(ROW),
        )
        write_buckets(table, "claim_id", self.buckets, self._pending("item_index"), key)
        return {
            "rows": chunk.height,
            "rejected": _counts(bad.get_column(val.REASON)),
            "warnings": val.item_warnings(good),
        }

    def _decide_items(self) -> None:
        """Bucket by bucket: keep and number the items of new claims, aggregate them per claim, find orphans."""
        schema = {**ITEMS_SCHEMA, LINE: pl.Int64, SEQ: pl.Int64, ROW: pl.Int64}
        totals = {"loaded": 0, "skipped": 0}
        for bucket in range(self.buckets):
            staged = read_bucket(self._pending("item_index"), bucket, schema)
            new_claims = pl.read_parquet(self._new_claims_path(bucket))
            earlier = self._earlier_claims(bucket).get_column("claim_id")
            decision = decide_items(staged, new_claims, earlier, LINE)
            del staged
            write_parquet_atomic(decision.kept, self.journal.subdir("items") / f"b{bucket:03d}.parquet")
            self._write_by_seq(decision.aggregates, "aggregates", bucket)
            self._write_by_seq(decision.orphans, "orphans", bucket)
            write_buckets(
                trace_pairs(decision.kept), "code", self.buckets, self._pending("trace_pairs"), f"n{bucket:03d}"
            )
            totals["loaded"] += decision.kept.height
            totals["skipped"] += decision.skipped
        self.journal.data["items_totals"] = totals

    def _write_by_seq(self, frame: pl.DataFrame, name: str, bucket: int) -> None:
        """Rows tagged with a staged chunk (SEQ) go to ``name/s<seq>/b<bucket>.parquet``."""
        for (seq,), part in frame.partition_by(SEQ, as_dict=True).items():
            folder = self._pending(name) / f"s{seq:010d}"
            folder.mkdir(parents=True, exist_ok=True)
            write_parquet_atomic(part.drop(SEQ), folder / f"b{bucket:03d}.parquet")

    def _by_seq(self, name: str, seq: int) -> list[Path]:
        return sorted((self._pending(name) / f"s{seq:010d}").glob("*.parquet"))

    def _reject_orphans(self) -> None:
        """Items whose claim is nowhere go whole to the rejects: their rows are read again from the input."""
        for inp in self.inputs:
            if inp.kind != "items":
                continue
            wanted = {k for k in range(self._chunk_count(inp)) if self._by_seq("orphans", chunk_seq(inp.index, k))}
            if not wanted:
                continue
            for k, chunk in enumerate(iter_chunks(inp.source, self.chunk_rows, tmp_dir=self.journal.directory)):
                if k not in wanted:
                    continue
                key = chunk_key(inp.kind, inp.index, k)
                orphans = pl.read_parquet(self._by_seq("orphans", chunk_seq(inp.index, k))).sort(LINE)
                bad = orphans.select(
                    LINE,
                    pl.lit("claim_id").alias(val.COLUMN),
                    pl.lit("orphan_item").alias(val.REASON),
                    pl.format("claim_id '{}' is not among the claims", pl.col("claim_id")).alias(val.DETAIL),
                )
                write_parquet_atomic(
                    self._rejects(inp, chunk, bad), self.journal.subdir("rejects") / f"{key}-orphans.parquet"
                )
                outcome = self.journal.chunk(key) or {}
                rejected = Counter(outcome.get("rejected", {}))
                rejected["orphan_item"] += orphans.height
                outcome["rejected"] = dict(rejected)
                self.journal.data["chunks"][key] = outcome

    def _decide_traces(self) -> None:
        """Trace codes settled on two or more claims (counting claims of earlier loads), bucket by code."""
        pairs_dir = self._pending("trace_pairs")
        final = staged_files(self.staging / "items")
        if final and self.journal.get("mode") != "bulk":
            earlier = pl.scan_parquet(final).select("claim_id", pl.col("trace_codes").alias("code")).explode("code")
            for number, batch in enumerate(earlier.drop_nulls().collect_batches(chunk_size=self.chunk_rows)):
                write_buckets(batch, "code", self.buckets, pairs_dir, f"p{number:05d}")
        for bucket in range(self.buckets):
            files = sorted((pairs_dir / f"b{bucket:03d}").glob("*.parquet"))
            mine = [f for f in files if f.name.startswith("n")]
            if not mine:
                continue
            codes = pl.scan_parquet(mine).select("code").unique()
            pairs = pl.scan_parquet(files).join(codes, on="code", how="semi")
            table = ent.repeated_trace_pairs(pairs)
            write_parquet_atomic(table, self.journal.subdir("traces") / f"b{bucket:03d}.parquet")

    # -- the graph ------------------------------------------------------------------
    def _write_graph(self) -> dict:
        """Write this load's staged tables to the graph, one table (or one staged chunk) at a time.

        Entities are deduplicated in groups of staged chunks and merged one
        hash bucket at a time (:class:`ringsight.loaders.entities.StagedClaims`),
        claims are written chunk by chunk, so memory follows the chunk and the
        entity tables handed to the writer, not the size of the load.
        """
        started = time.perf_counter()
        files = self._pending_files("claims")
        # entity tables in 1/8 as many buckets as claims: a bucket of entities is about 4M claims' worth
        staged = ent.StagedClaims(files, self._pending("entities"), max(1, self.buckets // 8))
        trace_files = self._pending_files("traces")
        traces = (
            pl.read_parquet(trace_files)
            if trace_files
            else pl.DataFrame(schema={"claim_id": pl.String, "code": pl.String})
        )
        bulk = self.journal.get("mode") == "bulk"
        self.timings["tables_s"] = round(time.perf_counter() - started, 3)
        started = time.perf_counter()
        sizes: dict[str, int] = {}

        def claim_chunks(columns: list[str] | None = None) -> Iterator[pl.DataFrame]:
            for path in files:
                yield pl.read_parquet(path, columns=columns)

        def nodes() -> Iterator[ent.NodeTable]:
            yield from ent.entity_nodes(staged)
            for path, chunk in zip(files, claim_chunks(), strict=True):
                hashes = pl.read_parquet(self.journal.directory / "chunk_hashes" / path.name)
                parts = self._by_seq("aggregates", key_seq(path.stem))
                aggregates = pl.read_parquet(parts) if parts else None
                table = ent.claim_nodes(chunk, hashes, aggregates)
                extras = self.journal.directory / "extras" / path.name
                if extras.exists():
                    kept = pl.read_parquet(extras)
                    table.frame = table.frame.join(kept, on="claim_id", how="left", maintain_order="left")
                yield table
            yield ent.NodeTable("TraceCode", "code", traces.select("code").unique().sort("code"))

        def counted(tables: Iterator[ent.NodeTable]) -> Iterator[ent.NodeTable]:
            for table in tables:
                sizes[table.label] = sizes.get(table.label, 0) + table.frame.height
                yield table

        def links() -> Iterator[ent.LinkTable]:
            yield from ent.entity_links(staged)
            offset = 0
            needed = ["claim_id", "pid", "card_id", "facility_code", "doctor_code", "terminal_id", "operator_id"]
            for chunk in claim_chunks(needed):
                yield from ent.claim_links(chunk, positional=bulk, offset=offset)
                if bulk and traces.height:  # HAS_TRACE by claim position too
                    at = chunk.select("claim_id", (pl.int_range(pl.len(), dtype=pl.Int64) + offset).alias("start"))
                    pairs = at.join(traces, on="claim_id").select("start", pl.col("code").alias("end"))
                    yield ent.LinkTable("HAS_TRACE", "Claim", "claim_id", "TraceCode", "code", pairs, True)
                offset += chunk.height
            if not bulk:
                pairs = traces.select(pl.col("claim_id").alias("start"), pl.col("code").alias("end"))
                yield ent.LinkTable("HAS_TRACE", "Claim", "claim_id", "TraceCode", "code", pairs)

        task = self.bar.add_task(f"graph ({self.journal.get('mode')})", total=None, unit=" rows")

        def tick(n: int) -> None:
            self.bar.advance(task, n)

        if bulk:
            created, rels = bulk_build(self.store, counted(nodes()), links(), tick=tick)
        elif self.journal.get("mode") == "create":
            self.store.ensure_schema()  # the uniqueness constraints guard CREATE; MATCH by key needs them
            writer = CreateWriter(
                self.store,
                self.journal,
                empty=bool(self.journal.get("empty_at_start")),
                batch_size=self.settings.load.create_batch_size,
                workers=self.settings.load.write_workers,
                tick=tick,
            )
            created, rels = writer.write(counted(nodes()), links())
        else:
            self.store.ensure_schema()  # MERGE and MATCH by key need the indexes
            created = {}
            parts: Counter[str] = Counter()
            for table in counted(nodes()):
                made = merge_nodes(
                    self.store, table, self.journal, batch_size=self.batch_size, tick=tick, part=parts[table.label]
                )
                parts[table.label] += 1
                created[table.label] = created.get(table.label, 0) + made
            rels = 0
            for link in links():
                name = f"{link.rel_type}:{link.start_label}"
                rels += merge_links(
                    self.store, link, self.journal, batch_size=self.batch_size, tick=tick, part=parts[name]
                )
                parts[name] += 1
        self.timings["write_s"] = round(time.perf_counter() - started, 3)
        started = time.perf_counter()
        self.store.ensure_schema()
        self.timings["schema_s"] = round(time.perf_counter() - started, 3)
        return {"created": created, "sizes": sizes, "relationships": rels}

    # -- finishing ------------------------------------------------------------------
    def _finish(
        self,
        t0: float,
        rejects_dir: Path | None,
        report_path: Path | None,
        abandoned: list[str],
        refused: str | None = None,
    ) -> LoadReport:
        out_dir = Path(self.settings.data_dir) / "loads" / self.graph / self.journal.load_id
        rejects_dir = Path(rejects_dir) if rejects_dir else out_dir
        report_path = Path(report_path) if report_path else out_dir / "report.json"
        rejects_path = self._write_rejects(rejects_dir)
        conflicts_path = None if refused else self._write_conflicts(rejects_dir)
        if not refused:
            self._move_into_place()
        report = self._report(t0, abandoned)
        if refused:
            report.refused = refused
            report.loaded = 0
            report.items_loaded = 0
        report.rejects_path = str(rejects_path) if rejects_path else None
        report.conflicts_path = str(conflicts_path) if conflicts_path else None
        report.report_path = str(report_path)
        report.write(report_path)
        self.journal.discard()
        return report

    def _reject_example(self) -> str | None:
        """The first rejected row of the load, in words (file, line, column, reason), quoting little."""
        files = self._pending_files("rejects")
        if not files:
            return None
        row = pl.read_parquet(files[0], n_rows=1).row(0, named=True)
        return (
            f"{Path(str(row[SOURCE])).name} line {row[LINE]}, column {row[val.COLUMN]}: "
            f"{row[val.REASON]} ({plain(row[val.DETAIL] or '', 80)})"
        )

    def _write_rejects(self, directory: Path) -> Path | None:
        """One CSV of rejected rows per input file (UTF-8 with BOM so Excel shows Chinese), in line order.

        Written chunk by chunk, so a file with millions of bad rows never sits in memory at once.
        """
        files = self._pending_files("rejects")
        if not files:
            return None
        directory.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        for inp in self.inputs:
            prefix = f"{inp.kind[0]}{inp.index:03d}-"
            by_chunk: dict[str, list[Path]] = {}
            for path in files:
                if path.name.startswith(prefix):
                    by_chunk.setdefault(path.name[: len(prefix) + 5], []).append(path)
            if not by_chunk:
                continue
            target = directory / f"{inp.source.path.stem}.{inp.kind}.rejects.csv"
            frames = (pl.read_parquet(paths).sort(LINE) for _, paths in sorted(by_chunk.items()))
            _write_csv_parts(frames, target, bom=True)
            written.append(target)
        return written[0] if len(written) == 1 else directory

    def _write_conflicts(self, directory: Path) -> Path | None:
        files = self._pending_files("conflicts")
        if not files:
            return None
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / "conflicts.csv"
        _write_csv_parts((pl.read_parquet(path) for path in files), target, bom=False)
        return target

    def _move_into_place(self) -> None:
        """This load's staged tables join those detection and later loads read (claims/, items/, hashes/).

        Claims and items go in as month/bucket partitions (:mod:`ringsight.partitions`), one file per
        partition and load; each file moves by an atomic rename, so a rerun after a crash moves the rest.
        """
        started, cpu = time.perf_counter(), time.process_time()
        self._once("partitioned", self._partition_tables)
        self.timings["partition_s"] = round(time.perf_counter() - started, 3)
        self.timings["partition_cpu_s"] = round(time.process_time() - cpu, 3)
        record_layout(self.staging, self.partition_buckets)
        for table in ("claims", "items"):
            root = self._pending("parts") / table
            for path in sorted(root.rglob("*.parquet")):
                target = self.staging / table / path.relative_to(root)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)
        target = self.staging / "hashes"
        target.mkdir(parents=True, exist_ok=True)
        for path in self._pending_files("new_claims"):
            os.replace(path, target / path.name)
        (self.staging / "hashes" / "VERSION").write_text(HASH_VERSION)

    def _partition_tables(self) -> None:
        """Split this load's new claims and kept items into month/bucket partitions (pending, then merged).

        Pieces are cut per staged chunk (claims) and per load bucket (items, whose claim's month comes
        from the new-claims index), then merged into one file per partition, in staging order. Built
        from the pending files alone, so a rerun rebuilds the same files.
        """
        pieces, parts, buckets = self._pending("pieces"), self._pending("parts"), self.partition_buckets
        shutil.rmtree(pieces, ignore_errors=True)
        for path in self._pending_files("claims"):
            frame = pl.read_parquet(path)
            tagged = frame.with_columns(month_expr(), partition_bucket(frame.get_column("claim_id"), buckets))
            write_partitioned(tagged, pieces / "claims", path.stem)
        for path in self._pending_files("items"):
            index = pl.read_parquet(self._new_claims_path(int(path.stem[1:])), columns=["claim_id", "claim_ts"])
            frame = pl.read_parquet(path).join(
                index.select("claim_id", month_expr()), on="claim_id", how="left", maintain_order="left"
            )
            tagged = frame.with_columns(partition_bucket(frame.get_column("claim_id"), buckets))
            write_partitioned(tagged, pieces / "items", path.stem)
        for table in ("claims", "items"):
            merge_pieces(pieces / table, parts / table, self.journal.load_id)

    def _report(self, t0: float, abandoned: list[str]) -> LoadReport:
        chunks = self.journal.data["chunks"]
        report = LoadReport(
            load_id=self.journal.load_id,
            graph=self.graph,
            store=self.store.describe() if self.store is not None else "none (staged only)",
            mode=str(self.journal.get("mode")),
            resumed=self.journal.resumed,
            abandoned_loads=abandoned,
        )
        rejected: Counter[str] = Counter()
        items_rejected: Counter[str] = Counter()
        warnings: Counter[str] = Counter()
        for key, outcome in sorted(chunks.items()):
            warnings.update(outcome.get("warnings", {}))
            if key.startswith("c"):
                report.rows_read += outcome["rows"]
                report.loaded += outcome.get("loaded", 0)
                report.unchanged += outcome.get("unchanged", 0)
                report.conflicts += outcome.get("conflicts", 0)
                rejected.update(outcome["rejected"])
                room = _CONFLICT_SAMPLE - len(report.conflict_ids)
                report.conflict_ids.extend(outcome.get("conflict_ids", [])[: max(room, 0)])
            else:
                report.items_read += outcome["rows"]
                items_rejected.update(outcome["rejected"])
        totals = self.journal.get("items_totals", {})
        report.items_loaded, report.items_skipped = int(totals.get("loaded", 0)), int(totals.get("skipped", 0))
        report.rejected, report.items_rejected, report.warnings = dict(rejected), dict(items_rejected), dict(warnings)
        written = self.journal.get("written_stats", {})
        created = written.get("created", {})
        for label, size in written.get("sizes", {}).items():
            report.entities_created[label] = int(created.get(label, 0))
            report.entities_matched[label] = int(size) - int(created.get(label, 0))
        report.relationships_created = int(written.get("relationships", 0))
        for inp in self.inputs:
            report.files.append(
                FileReport(
                    path=str(inp.source.path),
                    kind=inp.kind,
                    format=inp.source.format,
                    encoding=inp.source.encoding if inp.source.format == "csv" else None,
                    sheet=inp.source.sheet,
                    sheet_note=inp.source.sheet_note,
                    constants=inp.mapping.constants,
                    derived=sorted(inp.mapping.derived),
                    joined=[str(j.path) for j in inp.joins],
                    rows=int(self.journal.data.get("file_rows", {}).get(f"{inp.kind}:{inp.index}", 0)),
                    mapped=inp.mapping.mapped,
                    ignored_headers=inp.mapping.ignored,
                )
            )
        report.reject_example = self._reject_example()
        report.timings = self.timings
        report.duration_s = round(time.perf_counter() - t0, 3)
        report.claims_per_s = round(report.rows_read / report.duration_s, 1) if report.duration_s else 0.0
        return report


class MostlyRejectedError(InputError):
    """More of a load's rows were rejected than allowed; the graph was not written (exit code 2)."""

    def __init__(self, message: str, report: LoadReport) -> None:
        super().__init__(
            message,
            "Read the rejects file, fix the export or the profile (`ringsight profile check FILE --profile P` "
            "predicts the rejects), and load again; or raise [load] max_reject_share if the rows really are bad.",
        )
        self.report = report


def rejection_problem(report: LoadReport, max_share: float) -> str | None:
    """Why a load with these counts must not be written (no claim row, or too many rejected), else None."""
    if report.rows_read == 0:
        names = ", ".join(f.path for f in report.files if f.kind == "claims")
        return f"The claims file(s) {names} hold no data row (a header only). Nothing was loaded."
    for what, read, rejected in (
        ("claim", report.rows_read, report.rejected),
        ("item", report.items_read, report.items_rejected),
    ):
        total = sum(rejected.values())
        if read and total / read > max_share:
            top = "; ".join(f"{reason} {n:,}" for reason, n in Counter(rejected).most_common(3))
            return (
                f"{total:,} of {read:,} {what} rows ({total / read:.0%}) were rejected, more than the "
                f"{max_share:.0%} allowed, so nothing was written to the graph. Top reasons: {top}."
                + (f" Example: {report.reject_example}." if report.reject_example else "")
            )
    return None


def chunk_key(kind: str, file_index: int, chunk: int) -> str:
    """The name of a staged chunk: ``c000-00012`` is chunk 12 of the first claims file."""
    return f"{kind[0]}{file_index:03d}-{chunk:05d}"


def key_seq(key: str) -> int:
    """The :func:`ringsight.loaders.classify.chunk_seq` of a chunk key."""
    file_index, chunk = key[1:].split("-")
    return chunk_seq(int(file_index), int(chunk))


def extra_property_names(headers: list[str]) -> dict[str, str]:
    """Claim property names for kept extra headers: the folded header, prefixed when it would shadow one of ours."""
    from ringsight.loaders.profiles import normalise_header

    taken = {"claim_id", *ent.CLAIM_PROPS}
    names = {}
    for header in headers:
        name = normalise_header(header) or "extra"
        names[header] = f"extra_{name}" if name in taken else name
    return names


def merge_pieces(pieces: Path, parts: Path, load_id: str) -> None:
    """One file per partition (``<load_id>-<month>-<bucket>.parquet``) from its pieces, in piece-name order."""
    for folder in sorted(pieces.glob("month=*/bucket=*")):
        files = sorted(folder.glob("*.parquet"))
        month, bucket = folder.parent.name.split("=", 1)[1], folder.name.split("=", 1)[1]
        target = parts / folder.parent.name / folder.name / f"{load_id}-{month}-{bucket}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        if len(files) == 1:
            os.replace(files[0], target)
            continue
        tmp = target.with_name(target.name + ".tmp")
        pl.scan_parquet(files).sink_parquet(tmp, compression="lz4", statistics=True)
        os.replace(tmp, target)


def graph_is_empty(store: GraphStore) -> bool:
    """True when the graph has no node (a FalkorDB graph never created reads as no rows, so counts as empty)."""
    return store.count_nodes() == 0


def _write_csv_parts(frames: Iterator[pl.DataFrame], target: Path, *, bom: bool) -> None:
    """Write frames with the same columns to one CSV, the header once, formula-like text neutralised."""
    with open(target, "wb") as handle:
        if bom:
            handle.write(b"\xef\xbb\xbf")
        for number, frame in enumerate(frames):
            neutralise_frame(frame).write_csv(handle, include_header=number == 0)
    private_file(target)


def _counts(reasons: pl.Series) -> dict[str, int]:
    if reasons.len() == 0:
        return {}
    return {str(k): int(v) for k, v in reasons.value_counts().iter_rows()}
