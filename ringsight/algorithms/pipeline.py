"""One detection run, end to end: window → detectors → projection → communities → scores → write-back.

:func:`detect_frames` is the pure part (frames in, clusters out) that tests
and benchmarks call without a database; :func:`run_detection` wraps it with
the store: it reads the window and the previous run, writes the results so
that a failure leaves the previous run current, and writes the run report.
"""

from __future__ import annotations

import contextlib
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from ringsight.algorithms import coverage, frames, history, report, writeback
from ringsight.algorithms.clusters import ClusterSet, build_clusters
from ringsight.algorithms.detectors import engines_used, run_detectors
from ringsight.algorithms.engine import Source
from ringsight.algorithms.lazy import Items
from ringsight.algorithms.leads import lead_members
from ringsight.algorithms.projections import PROJECTION, contexts, person_edges
from ringsight.algorithms.scoring import score_clusters
from ringsight.algorithms.summary import RunSummary
from ringsight.config import DetectSettings, Settings
from ringsight.errors import RingSightError
from ringsight.graph.store import GraphStore
from ringsight.tables import staging_dir

#: Person pairs lighter than this are dropped from the projection (one chance co-visit).
MIN_PAIR_WEIGHT = 0.6


class DetectionError(RingSightError):
    """A detection run failed; the previous run's results stay current."""

    exit_code = 5


@dataclass
class DetectionResult:
    """The pure result of detection over frames (before ids and write-back)."""

    leads: pl.DataFrame
    clusters: pl.DataFrame  # scored, best first; column ``cluster`` is the local index
    members: pl.DataFrame  # cluster, label, key, role, weight
    cluster_set: ClusterSet
    timings: dict[str, float] = field(default_factory=dict)
    edge_count: int = 0
    #: per detector: status (ok | partial | no input), inputs missing, leads (see coverage.py)
    coverage: list[dict[str, Any]] = field(default_factory=list)
    #: per detector (and "projection"): the engine its scan ran on (polars | spark), see docs/engines.md
    engines: dict[str, str] = field(default_factory=dict)


def detect_frames(
    claims: pl.DataFrame,
    items: Items,
    cfg: DetectSettings,
    *,
    sanctions: pl.DataFrame | None = None,
    initial: dict[str, int] | None = None,
    source: Source | None = None,
) -> DetectionResult:
    """Run detectors, the projection, community detection and scoring on plain frames.

    ``source``: the same window on another engine (Spark); the ported detectors scan it there.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    leads, det_times = run_detectors(claims, items, cfg.thresholds, source=source)
    timings["detectors"] = round(time.perf_counter() - t0, 3)
    timings.update({f"detector.{k}": v for k, v in det_times.items()})
    t0 = time.perf_counter()
    focus = lead_members(leads).filter(pl.col("label") == "Patient")["key"].unique()
    ctx = contexts(claims, items, cfg.thresholds, focus=focus, source=source)
    pe = person_edges(ctx, cfg.thresholds.covisit_max_group, MIN_PAIR_WEIGHT, focus=focus)
    timings["projection"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    cs = build_clusters(leads, pe, cfg, initial=initial)
    timings["communities"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    if sanctions is None:
        sanctions = frames.load_sanctions(None)
    scored = score_clusters(cs, leads, claims, sanctions, cfg.weights)
    scored = scored.filter(pl.col("score") >= cfg.min_score).head(cfg.max_clusters)
    members = cs.members.join(scored.select("cluster"), on="cluster", how="semi")
    timings["scoring"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    covered = coverage.detector_coverage(claims, items, leads)
    timings["coverage"] = round(time.perf_counter() - t0, 3)
    engines = {**engines_used(source), PROJECTION: source.engine if source is not None else "polars"}
    return DetectionResult(leads, scored, members, cs, timings, pe.height, covered, engines)


def run_detection(
    store: GraphStore,
    settings: Settings,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    window_days: int | None = None,
    progress: bool = False,
    on_stage: Callable[[str], None] | None = None,
) -> RunSummary:
    """Detect rings over a window of claims, write them back and report.

    Parameters
    ----------
    store : the graph store (results are written to it).
    settings : RingSight settings; ``settings.detect`` holds thresholds, weights, resolution.
    since, until : the window; default: ``window_days`` up to just after the latest claim.
    window_days : overrides ``settings.detect.window_days``.
    progress : print stage progress to the console (the CLI shows a Rich bar).
    on_stage : called with each stage's name as it starts (progress bars, logs).

    Returns a :class:`RunSummary`. Raises :class:`DetectionError` when the run
    fails; the run is then marked ``failed`` and the previous run stays current.
    """
    cfg = settings.detect
    stage = _stage_reporter(on_stage, progress)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    stage("cleanup")
    writeback.abandon_stale_runs(store)
    run_id = _unique_run_id(store)
    stage("read")
    t0 = time.perf_counter()
    spark = cfg.engine == "spark"
    tables = (cfg.spark.tables or str(staging_dir(settings))) if spark else None
    window = frames.load_window(store, settings, since=since, until=until, window_days=window_days, tables=tables)
    source = _spark_source(cfg, tables, window.since_ts, window.until_ts) if tables else None
    sanctions = frames.load_sanctions(store)
    previous, latest_ids = frames.load_previous_clusters(store)
    _, highest = frames.load_known_cluster_ids(store)
    timings["read"] = round(time.perf_counter() - t0, 3)
    params = {
        "window": [window.since_ts, window.until_ts],
        "source": window.source,
        "claims": window.claims.height,
        "detect": cfg.model_dump(exclude={"spark": {"conf"}}),  # Spark settings may hold storage keys
    }
    writeback.start_run(store, run_id, since_ts=window.since_ts, until_ts=window.until_ts, params=params)
    try:
        stage("detect")
        result = detect_frames(
            window.claims,
            window.items,
            cfg,
            sanctions=sanctions,
            initial=frames.load_partition(settings) or history.seed_membership(previous, latest_ids),
            source=source,
        )
        timings.update(result.timings)
        stage("history")
        ids = history.match_clusters(
            result.members.select("cluster", "label", "key"),
            previous,
            latest_ids=latest_ids,
            highest_id=highest,
            min_overlap=cfg.min_overlap,
        )
        clusters = _finalise(result.clusters, ids)
        members = result.members.join(ids.select("cluster", "cluster_id"), on="cluster")
        stage("write")
        t0 = time.perf_counter()
        writeback.write_results(store, run_id, clusters, members)
        timings["write"] = round(time.perf_counter() - t0, 3)
        timings["total"] = round(time.perf_counter() - started, 3)
        writeback.commit_run(store, run_id, timings=timings, cluster_count=clusters.height, coverage=result.coverage)
        frames.save_partition(settings, result.cluster_set.communities.frame())
    except Exception as exc:
        _fail(store, run_id, exc)
        raise DetectionError(
            f"Detection run {run_id} failed: {exc}. The previous run's results stay current.",
            "Check the store (`ringsight store status`) and run `ringsight detect` again; "
            "the failed run is recorded with its error.",
        ) from exc
    stage("report")
    t0 = time.perf_counter()
    summary = RunSummary(
        run_id=run_id,
        status="done",
        since_ts=window.since_ts,
        until_ts=window.until_ts,
        claims=window.claims.height,
        leads=result.leads.height,
        clusters=clusters.height,
        changes=dict(clusters.group_by("change").len().sort("change").iter_rows()),
        timings=timings,
        source=window.source,
        coverage=result.coverage,
        cluster_frame=clusters,
        member_frame=members,
        engines=result.engines,
    )
    paths = report.write_report(Path(settings.data_dir) / "reports", summary, clusters, members, result.leads)
    summary.report_html, summary.report_json = paths
    summary.timings["report"] = round(time.perf_counter() - t0, 3)
    summary.top = (
        clusters.head(10)
        .select("cluster_id", "score", "change", "typologies", "member_count", "explanation_en")
        .to_dicts()
    )
    return summary


def _spark_source(cfg: DetectSettings, tables: str, since_ts: int, until_ts: int) -> Source:
    """The window's claims on the Spark cluster of ``[detect.spark]`` (see docs/engines.md)."""
    from ringsight.algorithms import spark

    session = spark.open_session(cfg.spark)
    return spark.read_claims(session, tables, since_ts, until_ts)


def _finalise(scored: pl.DataFrame, ids: pl.DataFrame) -> pl.DataFrame:
    """Attach ids and changes; a repeat offender's cluster is 'recurring'; rank from 1."""
    out = scored.join(ids, on="cluster").sort("score", "member_count", "cluster_id", descending=[True, True, False])
    out = out.with_columns(
        pl.when(pl.col("repeat_offender") & (pl.col("change") == "new"))
        .then(pl.lit("recurring"))
        .otherwise(pl.col("change"))
        .alias("change"),
        pl.int_range(1, pl.len() + 1).alias("rank"),
    )
    return out


def _fail(store: GraphStore, run_id: str, exc: BaseException) -> None:
    error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    with contextlib.suppress(Exception):
        writeback.fail_run(store, run_id, error)


def _unique_run_id(store: GraphStore) -> str:
    run_id = history.new_run_id()
    existing = store.read("MATCH (r:Run) WHERE r.run_id STARTS WITH $p RETURN r.run_id AS id", {"p": run_id}).column(
        "id"
    )
    if not existing:
        return run_id
    return f"{run_id}-{len(existing) + 1}"


def _stage_reporter(on_stage: Callable[[str], None] | None, progress: bool) -> Callable[[str], None]:
    def stage(name: str) -> None:
        if on_stage is not None:
            on_stage(name)
        elif progress:
            print(f"[detect] {name}", flush=True)

    return stage
