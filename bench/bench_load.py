"""Benchmark of `ringsight load`: N canonical claims (~3 items each) into a fresh graph (embedded or Neo4j).

Prints claims/s, seconds, the loader's peak RSS and the node / relationship
counts. The input comes from ``ringsight.synth.generate`` when it is
available (``--source synth``), else from the simple generator below, which
writes the canonical columns with valid resident IDs and realistic
cardinalities (a patient makes ~3 claims, 1 facility per 500 claims).

    python bench/bench_load.py                    # 50,000 claims (CI smoke run)
    python bench/bench_load.py -n 1000000         # the issue's target: < 60 s, < 2 GB
    python bench/bench_load.py -n 1000000 --keep  # leave the files in --dir for reuse
    python bench/bench_load.py -n 1000000 --incremental 100000 \
        --graph neo4j://neo4j:PASSWORD@localhost:7687/neo4j --clear
                                                  # Neo4j: 1M into an empty database, then 100k new claims
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import polars as pl
import psutil

_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_CHECK = np.array(list("10X98765432"))
_DISTRICTS = ["朝阳区", "海淀区", "东城区", "西城区", "丰台区", "通州区", "昌平区", "大兴区"]


def _resident_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    region = rng.choice([110105, 110108, 110101, 110102, 110106, 110112], n)
    birth = np.datetime64("1940-01-01") + rng.integers(0, 365 * 65, n).astype("timedelta64[D]")
    ymd = pl.Series(birth).dt.strftime("%Y%m%d").to_numpy().astype(str)
    seq = rng.integers(0, 1000, n)
    body = np.char.add(np.char.add(region.astype(str), ymd), np.char.zfill(seq.astype(str), 3))
    digits = np.frombuffer("".join(body).encode(), dtype=np.uint8).reshape(n, 17) - 48
    check = _CHECK[(digits * _WEIGHTS).sum(axis=1) % 11]
    return np.char.add(body, check)


def generate(n: int, out: Path, seed: int = 7) -> tuple[Path, Path]:
    """Write claims.csv and claim_items.csv with ``n`` claims into ``out``."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    n_pat = max(10, n // 3)
    n_fac = max(5, n // 500)
    n_doc = max(10, n // 200)
    ids = _resident_ids(rng, n_pat)
    phones = np.char.add("13", rng.integers(100_000_000, 999_999_999, n_pat).astype(str))
    contact = np.char.add("15", rng.integers(100_000_000, 999_999_999, max(1, n_pat // 4)).astype(str))
    pat = rng.integers(0, n_pat, n)
    fac = rng.integers(0, n_fac, n)
    doc = (fac * 7 + rng.integers(0, 3, n)) % n_doc
    visit = rng.choice(np.array(["outpatient", "pharmacy", "inpatient"]), n, p=[0.6, 0.3, 0.1])
    start = np.datetime64("2024-01-01T00:00:00")
    t = (start + rng.integers(0, 365 * 86400, n).astype("timedelta64[s]")).astype("datetime64[ms]")
    stay = rng.integers(1, 15, n).astype("timedelta64[D]")
    inpatient = visit == "inpatient"
    total = np.round(rng.gamma(2.0, 150.0, n), 2)
    fund = np.round(total * 0.7, 2)
    account = np.round(total * 0.1, 2)
    self_paid = np.round(total - fund - account, 2)
    fac_codes = np.char.add(
        np.where(np.arange(n_fac) % 3 == 0, "P", "H"),
        np.char.add("110105", np.char.zfill(np.arange(n_fac).astype(str), 5)),
    )
    claims = pl.DataFrame(
        {
            "claim_id": np.char.add("S", np.char.zfill(np.arange(n).astype(str), 10)),
            "visit_type": visit,
            "claim_time": pl.Series(t).dt.strftime("%Y-%m-%d %H:%M:%S"),
            "admit_time": pl.Series(np.where(inpatient, t - stay, np.datetime64("NaT", "ms"))).dt.strftime(
                "%Y-%m-%d %H:%M:%S"
            ),
            "discharge_time": pl.Series(np.where(inpatient, t, np.datetime64("NaT", "ms"))).dt.strftime(
                "%Y-%m-%d %H:%M:%S"
            ),
            "patient_id": ids[pat],
            "patient_name": np.char.add("患者", (pat % 9973).astype(str)),
            "insurance_type": rng.choice(np.array(["employee", "resident"]), n),
            "card_id": np.char.add("C", np.char.zfill(pat.astype(str), 9)),
            "patient_phone": phones[pat],
            "contact_phone": contact[pat % len(contact)],
            "patient_address": np.char.add(
                np.char.add(np.array(_DISTRICTS)[pat % len(_DISTRICTS)], "XX路"),
                np.char.add((pat % 500).astype(str), np.char.add("号院1号楼", (pat % 97).astype(str))),
            ),
            "facility_id": fac_codes[fac],
            "facility_name": np.char.add("机构", fac.astype(str)),
            "doctor_id": np.char.add("D", np.char.zfill(doc.astype(str), 8)),
            "doctor_name": np.char.add("医生", doc.astype(str)),
            "department": rng.choice(np.array(["内科", "外科", "儿科", "骨科"]), n),
            "diagnosis_code": rng.choice(np.array(["J06.900", "I10.x00", "E11.900", "M54.500"]), n),
            "total_amount": total,
            "fund_paid": fund,
            "account_paid": account,
            "self_paid": self_paid,
            "terminal_id": np.char.add("T", (fac * 3 + rng.integers(0, 3, n)).astype(str)),
            "operator_id": np.char.add("O", (fac * 2 + rng.integers(0, 2, n)).astype(str)),
        }
    )
    claims_path = out / "claims.csv"
    claims.write_csv(claims_path)
    per = rng.integers(1, 6, n)  # mean 3 items per claim
    owner = np.repeat(np.arange(n), per)
    m = len(owner)
    qty = rng.integers(1, 5, m).astype(float)
    price = np.round(rng.gamma(2.0, 20.0, m), 2)
    drug = rng.integers(0, 2000, m)
    trace = np.where(
        rng.random(m) < 0.2, np.char.add("8", np.char.zfill(rng.integers(0, 10**9, m).astype(str), 19)), ""
    )
    items = pl.DataFrame(
        {
            "claim_id": claims["claim_id"].to_numpy()[owner],
            "item_code": np.char.add("XA01BAC", np.char.zfill(drug.astype(str), 16)),
            "item_name": np.char.add("药品", drug.astype(str)),
            "item_category": "drug",
            "quantity": qty,
            "unit_price": price,
            "amount": np.round(qty * price, 2),
            "trace_codes": trace,
        }
    )
    items_path = out / "claim_items.csv"
    items.write_csv(items_path)
    return claims_path, items_path


def _synth(n: int, out: Path) -> tuple[Path, Path]:
    """The synthetic generator's files (planted rings, realistic vocabularies)."""
    from ringsight.synth import SynthConfig
    from ringsight.synth import generate as synth_generate

    result = synth_generate(SynthConfig(claims=n), out)
    if result.items_path is None:
        raise SystemExit("the generator wrote no items file")
    return Path(result.claims_path), Path(result.items_path)


class PeakRss:
    """Samples this process's resident memory every 50 ms (ru_maxrss misses nothing, but is per-process max)."""

    def __init__(self) -> None:
        self.peak = 0
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._proc = psutil.Process()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        start = time.perf_counter()
        while not self._stop.is_set():
            rss = self._proc.memory_info().rss
            self.peak = max(self.peak, rss)
            self.samples.append((time.perf_counter() - start, rss))
            self._stop.wait(0.05)

    def peak_between(self, t0: float, t1: float) -> int:
        """Peak resident memory between two times (seconds from the start)."""
        return max((rss for t, rss in self.samples if t0 <= t <= t1), default=0)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _inputs(work: Path, source: str) -> tuple[Path, Path]:
    """The claims and items files in ``work`` (the synthetic generator may name them its own way)."""
    if source == "synth":
        found = sorted(work.glob("claims*.csv")), sorted(work.glob("*items*.csv"))
        if found[0] and found[1]:
            return found[0][0], found[1][0]
    return work / "claims.csv", work / "claim_items.csv"


def _split(claims: Path, items: Path, n: int, work: Path) -> tuple[tuple[Path, Path], tuple[Path, Path]]:
    """The first ``n`` claims (and their items) for the first load, the rest for the incremental one."""
    all_claims = pl.read_csv(claims, infer_schema=False)
    all_items = pl.read_csv(items, infer_schema=False)
    out = []
    for name, part in (("base", all_claims.head(n)), ("more", all_claims.slice(n))):
        folder = work / name
        folder.mkdir(exist_ok=True)
        part.write_csv(folder / "claims.csv")
        all_items.join(part.select("claim_id"), on="claim_id", how="semi").write_csv(folder / "claim_items.csv")
        out.append((folder / "claims.csv", folder / "claim_items.csv"))
    return out[0], out[1]


def _empty(store: object, clear: bool) -> None:
    """A benchmark needs an empty graph; a server's graph is emptied only when asked (--clear)."""
    from ringsight.graph.store import GraphStore

    assert isinstance(store, GraphStore)
    if store.count_nodes():
        if not clear:
            raise SystemExit(f"{store.describe()} holds data; add --clear to empty it for the benchmark")
        t = time.perf_counter()
        store.clear()
        print(f"cleared {store.describe()} in {time.perf_counter() - t:.1f} s")
    store.ensure_schema()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--claims", type=int, default=50_000, help="claims to generate (default 50,000)")
    parser.add_argument("--dir", type=Path, default=None, help="where the input files are written / reused")
    parser.add_argument("--source", choices=["builtin", "synth"], default="builtin")
    parser.add_argument(
        "--mode", choices=["auto", "merge", "create"], default="auto", help="merge forces UNWIND/MERGE batches"
    )
    parser.add_argument("--graph", default="embedded", help="embedded (default) or neo4j://user:pass@host:7687/db")
    parser.add_argument("--clear", action="store_true", help="empty a non-embedded graph first (refused otherwise)")
    parser.add_argument("--incremental", type=int, default=0, help="then load this many new claims into the graph")
    parser.add_argument("--chunk-rows", type=int, default=None, help="rows per chunk (default from settings)")
    parser.add_argument("--timeline", action="store_true", help="print resident memory every 5 s")
    parser.add_argument("--keep", action="store_true", help="keep generated files and the data directory")
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    from ringsight.config import LoadSettings, Settings
    from ringsight.graph import embedded_server, open_store
    from ringsight.loaders import load_files

    work = args.dir or Path(tempfile.mkdtemp(prefix="rs-bench-load-"))
    claims_path, items_path = _inputs(work, args.source)
    if args.generate_only:
        (_synth if args.source == "synth" else generate)(args.claims, work)
        return
    total = args.claims + args.incremental
    if not (claims_path.exists() and items_path.exists()):
        # in a child process, so that the loader's peak memory is not the generator's
        t = time.perf_counter()
        command = [sys.executable, __file__, "-n", str(total), "--source", args.source, "--dir", str(work)]
        subprocess.run([*command, "--generate-only"], check=True)
        claims_path, items_path = _inputs(work, args.source)
        print(f"generated {total:,} claims in {time.perf_counter() - t:.1f} s → {work}")
    base, extra = _split(claims_path, items_path, args.claims, work) if args.incremental else (
        (claims_path, items_path),
        None,
    )
    data_dir = work / "data"
    load = LoadSettings(chunk_rows=args.chunk_rows) if args.chunk_rows else LoadSettings()
    settings = Settings(graph=args.graph, data_dir=data_dir, graph_name="bench_load", load=load, demo=True)
    embedded = args.graph in ("", "embedded")
    if embedded:
        embedded_server(settings).stop()  # a fresh store: never wait for an old graph to be read back
    for old in ("falkordb", "staging", "loads", "appdb"):
        shutil.rmtree(data_dir / old, ignore_errors=True)
    store = open_store(settings)
    try:
        if not embedded:
            _empty(store, args.clear)
        with PeakRss() as rss:
            t0, c0 = time.perf_counter(), time.process_time()
            report = load_files([base[0]], [base[1]], settings=settings, store=store, mode=args.mode)
            seconds = time.perf_counter() - t0
            cpu = time.process_time() - c0
        nodes, rels = store.count_nodes(), store.count_relationships()
        if extra is not None:
            t1 = time.perf_counter()
            more = load_files([extra[0]], [extra[1]], settings=settings, store=store, mode=args.mode)
            more_s = time.perf_counter() - t1
            print(
                f"incremental: {more.loaded:,} new claims into the {report.loaded:,}-claim graph in {more_s:.1f} s "
                f"({more.rows_read / more_s:,.0f} claims/s; mode {more.mode}; timings {more.timings})"
            )
    finally:
        store.close()
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"claims: {report.rows_read:,} read, {report.loaded:,} loaded, {report.rejected_total:,} rejected; "
        f"items: {report.items_loaded:,} loaded"
    )
    print(f"mode: {report.mode}; timings {report.timings}")
    load = os.getloadavg()[0]
    print(f"seconds: {seconds:.1f} (loader CPU {cpu:.1f} s; load average {load:.1f} on {os.cpu_count()} cores)")
    print(f"claims/s: {report.rows_read / seconds:,.0f}")
    print(f"peak RSS (loader process): {rss.peak / 2**20:,.0f} MB (ru_maxrss {maxrss_mb:,.0f} MB)")
    edges, at = [], 0.0
    for phase in ("stage_s", "tables_s", "write_s", "schema_s"):
        start, at = at, at + report.timings.get(phase, 0.0)
        edges.append(f"{phase[:-2]} {rss.peak_between(start, at) / 2**20:,.0f} MB")
    print("  peak by phase: " + ", ".join(edges))
    if args.timeline:
        marks = {int(t // 5): rss_ for t, rss_ in rss.samples}
        print("  timeline (s: MB): " + ", ".join(f"{k * 5}: {v / 2**20:,.0f}" for k, v in sorted(marks.items())))
    print(f"graph: {nodes:,} nodes, {rels:,} relationships")
    if not args.keep and embedded:
        embedded_server(settings).stop()
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
