"""Detection accuracy and speed on synthetic claims with planted rings.

Generates N claims with ``ringsight.synth`` (rings, look-alikes and a ground
truth), loads them with ``ringsight.loaders`` into a fresh embedded store
(graph + staged tables), records the rectifications of the ``recurrence``
rings as Sanction nodes (what a bureau's case system holds), then times one
full ``run_detection`` — reading the window, detecting, writing back — and
scores the result against the ground truth:

- recall: a ring is found when one cluster holds ≥ 80 % of its core members;
- precision of the top K clusters, K = the number of planted rings (or --top); look-alike groups in the top K;
- recall and precision per typology, and recall per rendering of each
  typology (``ringsight.synth.renderings``), with the held-back renderings
  (not used to tune detection) summed up on their own.

Peak memory is the resident-set high-water mark of this process (ru_maxrss).

    python bench/bench_detect.py --claims 1000000          # the issue's figure
    python bench/bench_detect.py                            # CI smoke run (small)
    python bench/bench_detect.py --claims 1000000 --data /tmp/rs-bench --keep   # keep the loaded graph
    python bench/bench_detect.py --data /tmp/rs-bench --graph NAME --truth DIR/ground_truth.json   # reuse it
    python bench/bench_detect.py --frames-from DIR   # scale mode: a generator folder, no loader/store
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl

from ringsight.algorithms import run_detection
from ringsight.algorithms.evaluate import evaluate
from ringsight.algorithms.results import cluster_queue
from ringsight.config import Settings
from ringsight.graph import open_store
from ringsight.graph.embedded import EmbeddedServer
from ringsight.graph.store import GraphStore

_SANCTION = """
UNWIND $rows AS row
MATCH (f:Facility {code: row.code})
MERGE (s:Sanction {sanction_id: row.id})
SET s.kind = 'rectification', s.from_ts = row.from_ts, s.until_ts = row.until_ts, s.note = row.note
MERGE (s)-[:SANCTIONED]->(f)
"""


def _ts(day: str) -> int:
    return int(datetime.combine(date.fromisoformat(day), datetime.min.time()).timestamp())


def write_sanctions(store: GraphStore, truth: dict) -> int:
    """Rectification records for the rings that have a rectification date (the recurrence typology)."""
    rows = []
    for ring in truth["rings"]:
        if ring.get("rectification_date"):
            end = _ts(ring["rectification_date"])
            for code in _sanctioned(ring):
                rows.append(
                    {
                        "id": f"S-{ring['ring_id']}-{code}",
                        "code": code,
                        "from_ts": end - 30 * 86_400,
                        "until_ts": end,
                        "note": "rectification (synthetic)",
                    }
                )
    if rows:
        store.write_rows(_SANCTION, rows)
    return len(rows)


def prepare(claims: int, seed: int, data: Path, graph: str) -> tuple[Settings, Path, dict[str, float]]:
    """Generate and load the data unless the graph's ground truth is already there."""
    from ringsight.loaders import load_files
    from ringsight.synth.config import SynthConfig
    from ringsight.synth.generator import generate

    settings = Settings(data_dir=data, graph_name=graph, demo=True)
    out = data / f"synth-{graph}"
    truth_path = out / "ground_truth.json"
    figures: dict[str, float] = {}
    if truth_path.exists() and (data / "staging" / graph / "claims").exists():
        return settings, truth_path, figures
    t0 = time.perf_counter()
    generate(SynthConfig(claims=claims, seed=seed), out)
    figures["generate_s"] = time.perf_counter() - t0
    with open_store(settings) as store:
        store.clear()
        t0 = time.perf_counter()
        load_files([out / "claims.csv"], [out / "claim_items.csv"], settings=settings, store=store)
        figures["load_s"] = time.perf_counter() - t0
        write_sanctions(store, json.loads(truth_path.read_text(encoding="utf-8")))
    return settings, truth_path, figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claims", type=int, default=20_000, help="claims to generate (issue figure: 1000000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, default=None, help="data directory (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the data directory and its server running")
    parser.add_argument("--top", type=int, default=None, help="K for precision (default: the number of planted rings)")
    parser.add_argument("--graph", default=None, help="use this already loaded graph of --data …")
    parser.add_argument("--truth", type=Path, default=None, help="… with this ground_truth.json")
    parser.add_argument(
        "--frames-from",
        type=Path,
        default=None,
        help="scale mode: stage a generator output folder without the loader, then run detection",
    )
    args = parser.parse_args()
    if args.frames_from is not None:
        tmp = None
        if args.data is None:
            tmp = tempfile.TemporaryDirectory(prefix="rs-bench-scale-")
            args.data = Path(tmp.name)
        server = EmbeddedServer(args.data)
        server.ensure_running()
        try:
            scale_run(args.frames_from, args.data, args.top)
        finally:
            server.stop()
            if tmp is not None:
                tmp.cleanup()
        return

    tmp = None
    if args.data is None:
        tmp = tempfile.TemporaryDirectory(prefix="rs-bench-detect-")
        args.data = Path(tmp.name)
    server = EmbeddedServer(args.data)
    server.ensure_running()
    try:
        if args.graph and args.truth:
            settings, truth_path, figures = (
                Settings(data_dir=args.data, graph_name=args.graph, demo=True),
                args.truth,
                {},
            )
            with open_store(settings) as store:
                if not store.count_nodes("Sanction"):
                    write_sanctions(store, json.loads(truth_path.read_text(encoding="utf-8")))
        else:
            graph = f"bench{args.claims}s{args.seed}"
            settings, truth_path, figures = prepare(args.claims, args.seed, args.data, graph)
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        start = date.fromisoformat(truth["start"])
        window = {
            "since": datetime.combine(start, datetime.min.time()),
            "until": datetime.combine(start + timedelta(days=truth["days"]), datetime.min.time()),
        }
        with open_store(settings) as store:
            t0 = time.perf_counter()
            summary = run_detection(store, settings, **window)
            total = time.perf_counter() - t0
            queue = cluster_queue(store)
            members = _members(store, summary.run_id)
        clusters = pl.DataFrame(
            {
                "cluster_id": [c["cluster_id"] for c in queue],
                "score": [c["score"] for c in queue],
                "typologies": [c["typologies"] or [] for c in queue],
            },
            schema={"cluster_id": pl.String, "score": pl.Float64, "typologies": pl.List(pl.String)},
        )
        k = args.top or len(truth["rings"])
        ev = evaluate(truth, clusters, members, id_hash_key=settings.id_hash_key, top=k)
        _print(summary, total, figures, ev)
        ok = ev.recall >= 0.95 and ev.precision >= 0.95 and not ev.lookalikes_in_top
        print(
            f"accuracy targets (recall ≥ 95 %, top-{k} precision ≥ 95 %, no look-alike): "
            f"{'met' if ok else 'NOT met'}"
        )
    finally:
        if not args.keep:
            server.stop()
            if tmp is not None:
                tmp.cleanup()


def _date(schema: pl.Schema, col: str) -> pl.Expr:
    """A date column of the generator's files: typed in Parquet, ``YYYY-MM-DD`` text in CSV."""
    if schema[col] == pl.Date:
        return pl.col(col)
    return pl.col(col).cast(pl.String).str.to_date("%Y-%m-%d", strict=False)


def stage_synth(folder: Path, settings: Settings) -> int:
    """Stream a generator folder into the staged tables of ``settings`` (the loader's output format).

    A quick stand-in for the loader when only detection is measured (a 10M-claim load takes about
    8 minutes here): persons, cards, phones and addresses are normalised and keyed by the same
    pseudonyms as the loader makes them (so the truth's members match), and no graph is built.
    Streams (``sink_parquet``), so it needs little memory. Returns the claim count.
    """
    from ringsight.algorithms.frames import DETECT_CLAIM_COLUMNS, DETECT_ITEM_COLUMNS
    from ringsight.gazetteer import address_counties
    from ringsight.identity import PSEUDONYM_PREFIX
    from ringsight.loaders.normalise import address_key, birth_cohort, norm_id, norm_phone
    from ringsight.tables import CLAIMS_SCHEMA, ITEMS_SCHEMA, staging_dir

    def read(name: str) -> pl.LazyFrame:
        pq = folder / f"{name}.parquet"
        return pl.scan_parquet(pq) if pq.exists() else pl.scan_csv(folder / f"{name}.csv", infer_schema=False)

    raw = read("claims")
    schema = raw.collect_schema()

    def ts(col: str) -> pl.Expr:
        if isinstance(schema[col], pl.Datetime):  # Parquet output is typed
            return pl.col(col).dt.replace_time_zone("Asia/Shanghai").dt.epoch("s")
        text = pl.col(col).cast(pl.String)
        return text.str.to_datetime("%Y-%m-%d %H:%M:%S", time_zone="Asia/Shanghai", strict=False).dt.epoch("s")

    key = settings.id_hash_key
    renamed = {"facility_id": "facility_code", "doctor_id": "doctor_code"}
    address, district = address_key(pl.col("patient_address").cast(pl.String))
    # each distinct address's county, picked by position like the pseudonyms (the loader does the same)
    addresses = raw.select(pl.col("patient_address").cast(pl.String).unique()).collect()["patient_address"].drop_nulls()
    counties = address_counties(addresses)
    claims = (
        raw.with_columns(
            norm_id(pl.col("patient_id").cast(pl.String)).alias("patient_id"),
            norm_id(pl.col("card_id").cast(pl.String)).alias("card_id"),
            norm_phone(pl.col("patient_phone").cast(pl.String)).alias("patient_phone"),
            norm_phone(pl.col("contact_phone").cast(pl.String)).alias("contact_phone"),
            address.alias("address_key"),
            district.alias("district"),
            birth_cohort(_date(schema, "patient_birth_date")).alias("birth_cohort"),
        )
        .with_columns(
            _pseudonyms(raw_ids(raw, ["patient_id"], norm_id), key, PSEUDONYM_PREFIX["patient"], "patient_id", "pid"),
            _pseudonyms(raw_ids(raw, ["card_id"], norm_id), key, PSEUDONYM_PREFIX["card"], "card_id"),
            *(
                _pseudonyms(raw_ids(raw, ["patient_phone", "contact_phone"], norm_phone), key, "phone:", c)
                for c in ("patient_phone", "contact_phone")
            ),
            _pseudonyms(raw_ids(raw, ["patient_address"], lambda e: address_key(e)[0]), key, "address:", "address_key"),
        )
        .rename(renamed)
        .with_columns(
            ts("claim_time").alias("claim_ts"),
            ts("admit_time").alias("admit_ts"),
            ts("discharge_time").alias("discharge_ts"),
            pl.lit(counties)
            .gather(pl.col("patient_address").cast(pl.String).cast(pl.Enum(addresses)).to_physical())
            .alias("patient_county"),
        )
    )
    # Columns detection reads come from the files; the rest stay empty (typed) in the staged tables.
    claims = claims.select(
        [(pl.col(c) if c in DETECT_CLAIM_COLUMNS else pl.lit(None)).cast(t).alias(c) for c, t in CLAIMS_SCHEMA.items()]
    )
    items = read("claim_items").with_columns(
        pl.col("trace_codes").cast(pl.String).str.split(";").list.eval(pl.element().filter(pl.element() != ""))
    )
    items = items.select(
        [
            (pl.col(c) if c in DETECT_ITEM_COLUMNS and c != "line_no" else pl.lit(None)).cast(t).alias(c)
            for c, t in ITEMS_SCHEMA.items()
        ]
    )
    base = staging_dir(settings)
    for name, frame in (("claims", claims), ("items", items)):
        (base / name).mkdir(parents=True, exist_ok=True)
        frame.sink_parquet(base / name / "SCALE.parquet")
    return int(pl.scan_parquet(base / "claims" / "SCALE.parquet").select(pl.len()).collect().item())


def scale_run(folder: Path, data: Path, top: int | None) -> None:
    """``run_detection`` over a generator folder staged without the loader: time, peak memory, accuracy.

    The graph holds no entity nodes, so members are not linked in the store (clusters, runs and the
    report are written); accuracy is scored on the run's member frame.
    """
    truth = json.loads((folder / "ground_truth.json").read_text(encoding="utf-8"))
    top = top or len(truth["rings"])  # K = the planted rings, as in the loaded mode
    settings = Settings(data_dir=data, graph_name="scale", demo=True)
    t0 = time.perf_counter()
    n = stage_synth(folder, settings)
    stage_s = time.perf_counter() - t0
    start = date.fromisoformat(truth["start"])
    since = datetime.combine(start, datetime.min.time())
    until = datetime.combine(start + timedelta(days=truth["days"]), datetime.min.time())
    summary, total, ev = detect_on_fresh_graph(settings, truth, since, until, top)
    print(f"staged {n:,} claims from the generator files in {stage_s:.1f} s (stand-in for the loader)")
    _print(summary, total, {}, ev)


def raw_ids(raw: pl.LazyFrame, cols: list[str], norm: Callable[[pl.Expr], pl.Expr]) -> pl.Series:
    """The distinct normalised values of ``cols`` (one Series: persons, cards, phones or addresses)."""
    parts = [raw.select(norm(pl.col(c).cast(pl.String)).alias("v")) for c in cols]
    return pl.concat(parts).unique().drop_nulls().collect()["v"]


def _pseudonyms(distinct: pl.Series, key: str, prefix: str, col: str, alias: str | None = None) -> pl.Expr:
    """``col`` replaced by its keyed pseudonym (the loader's HMAC), looked up by position, not joined.

    A streamed join would buffer GBs of claims at 10M, so the value's index among
    the distinct values (its Enum code) picks its hash.
    """
    from ringsight.loaders.normalise import keyed_hashes

    hashes = keyed_hashes(distinct, key, prefix)
    return pl.lit(hashes).gather(pl.col(col).cast(pl.Enum(distinct)).to_physical()).alias(alias or col)


def detect_on_fresh_graph(settings: Settings, truth: dict, since: datetime, until: datetime, top: int):  # type: ignore[no-untyped-def]
    """One ``run_detection`` over staged tables into an emptied graph holding only the truth's sanctions.

    Returns (summary, seconds the run took, evaluation against the truth's top ``top`` clusters).
    """
    with open_store(settings) as store:
        store.clear()
        store.ensure_schema()
        rows = _sanction_rows(truth)
        if rows:  # the sanctions need their facilities
            store.write_rows("UNWIND $rows AS row MERGE (:Facility {code: row.code})", rows)
            write_sanctions(store, truth)
        t0 = time.perf_counter()
        summary = run_detection(store, settings, since=since, until=until)
        total = time.perf_counter() - t0
    members = summary.member_frame.select("cluster_id", "label", "key")
    clusters = summary.cluster_frame.select("cluster_id", "score", "typologies")
    return summary, total, evaluate(truth, clusters, members, id_hash_key=settings.id_hash_key, top=top)


def _sanction_rows(truth: dict) -> list[dict]:
    return [{"code": c} for r in truth["rings"] if r.get("rectification_date") for c in _sanctioned(r)]


def _sanctioned(ring: dict) -> list[str]:
    """The facilities a recurrence ring's rectification named (a sister shop it moved to was never sanctioned)."""
    return ring.get("sanctioned_facilities") or ring["members"]["facilities"]


def _members(store: GraphStore, run_id: str) -> pl.DataFrame:
    rows = store.read(
        "MATCH (r:Run {run_id: $r})-[:FOUND]->(c:Cluster)-[m:HAS_MEMBER]->(e) WHERE m.run_id = c.run_id "
        "RETURN c.cluster_id AS cluster_id, labels(e)[0] AS label, "
        "coalesce(e.pid, e.card_id, e.number, e.code, e.key) AS key",
        {"r": run_id},
        timeout_ms=600_000,
    ).rows
    return pl.DataFrame(rows, schema={"cluster_id": pl.String, "label": pl.String, "key": pl.String}, orient="row")


def _print(summary, total: float, figures: dict[str, float], ev) -> None:  # type: ignore[no-untyped-def]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"claims: {summary.claims:,} ({summary.source}); leads {summary.leads:,}; clusters {summary.clusters:,}")
    for name, value in figures.items():
        print(f"{name}: {value:.1f} s")
    t = summary.timings
    print(
        f"run_detection end to end: {total:.1f} s  (read {t.get('read', 0):.1f}, "
        f"detectors {t.get('detectors', 0):.1f}, "
        f"projection {t.get('projection', 0):.1f}, communities {t.get('communities', 0):.1f}, "
        f"scoring {t.get('scoring', 0):.1f}, write {t.get('write', 0):.1f}, report {t.get('report', 0):.1f})"
    )
    print("detectors: " + ", ".join(f"{k[9:]} {v:.2f}" for k, v in t.items() if k.startswith("detector.")))
    print(f"peak memory (this process): {peak:,.0f} MB")
    print(
        f"recall: {ev.recall:.1%}   top-{ev.top} precision: {ev.precision:.1%}   "
        f"look-alikes in top {ev.top}: {len(ev.lookalikes_in_top)} {ev.lookalikes_in_top}"
    )
    with pl.Config(tbl_rows=40, tbl_hide_dataframe_shape=True):
        print(ev.per_typology.select("typology", "rings", "found", "recall", "labelled", "precision", "top_hits"))
        if ev.per_rendering is not None:
            print("per rendering (held_back = not used to tune detection):")
            print(ev.per_rendering.select("held_back", "typology", "rendering", "rings", "found", "recall", "top_hits"))
    if ev.recall_held_back is not None:
        print(f"recall on tuned renderings: {ev.recall_tuned:.1%}   on held-back renderings: {ev.recall_held_back:.1%}")
    if ev.missed:
        print(f"missed ({len(ev.missed)}):", ev.missed[:10])
    if ev.false_positives:
        print("top false positives:", ev.false_positives[:10])
    sys.stdout.flush()


if __name__ == "__main__":
    main()
