"""Cases area figures: password hashing, versioned case edits, and building a referral package.

Writes a synthetic ring (one pharmacy, P patients with cards and phones, N
claims) into a scratch graph of the embedded store, then prints:

- argon2id hash and verify time (what one login costs the server);
- versioned case edits per second, one writer, and two writers racing on the
  same version (every round must end with exactly one winner);
- the time to build a referral package (PDF + CSVs + PNG + JSON + zip) for a
  case covering the ring, and the sizes of the files.

    python bench/bench_cases.py                         # CI smoke run (small)
    python bench/bench_cases.py --claims 5000 --patients 200
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from argon2 import PasswordHasher

from ringsight.cases import workflow
from ringsight.cases.accounts import User
from ringsight.cases.referral import build_referral
from ringsight.graph import open_store
from ringsight.graph.store import GraphStore
from ringsight.identity import resident_id_check_char

GRAPH = "bench_cases"
START_TS = 1_772_300_000  # 2026-03-01


def write_ring(store: GraphStore, patients: int, claims: int) -> None:
    """A pharmacy ring: patients with cards and phones, claims spread over them, a done run and its cluster."""
    people = []
    for i in range(patients):
        body = f"110105{1950 + i % 40:04d}0101{i % 1000:03d}"
        people.append(
            {
                "pid": f"p{i}",
                "name": f"参保人{i}",
                "id_raw": body + resident_id_check_char(body),
                "card": f"62170000{i:08d}",
                "phone": f"138{i:08d}",
            }
        )
    store.write("CREATE (f:Facility {code: 'P1', name: '基准大药房', kind: 'pharmacy'})")
    store.write(
        "UNWIND $rows AS p CREATE (pt:Patient {pid: p.pid, name: p.name, id_raw: p.id_raw}) "
        "CREATE (cd:Card {card_id: p.card}) CREATE (ph:Phone {number: p.phone}) "
        "CREATE (pt)-[:HAS_CARD]->(cd) CREATE (pt)-[:HAS_PHONE]->(ph)",
        {"rows": people},
    )
    rows = [
        {"id": f"c{i}", "pid": f"p{i % patients}", "ts": START_TS + i * 600, "amount": 100.0 + i % 50}
        for i in range(claims)
    ]
    store.write_rows(
        "UNWIND $rows AS r MATCH (pt:Patient {pid: r.pid})-[:HAS_CARD]->(cd:Card) MATCH (f:Facility {code: 'P1'}) "
        "CREATE (cl:Claim {claim_id: r.id, time_ts: r.ts, time: toString(r.ts), total_amount: r.amount, "
        "fund_paid: r.amount * 0.7, account_paid: r.amount * 0.2, self_paid: r.amount * 0.1, visit_type: 'pharmacy'}) "
        "CREATE (cl)-[:BY_PATIENT]->(pt) CREATE (cl)-[:WITH_CARD]->(cd) CREATE (cl)-[:AT_FACILITY]->(f)",
        rows,
        batch_size=2_000,
    )
    store.write(
        "CREATE (r:Run {run_id: 'R1', status: 'done', started_ts: $t, finished_ts: $t}) "
        "CREATE (c:Cluster {cluster_id: 'C1', score: 90, facilities: ['P1'], signals: '[]'}) "
        "CREATE (r)-[:FOUND {score: 90}]->(c) WITH c MATCH (p:Patient) CREATE (c)-[:HAS_MEMBER {role: 'member'}]->(p)",
        {"t": START_TS + claims * 600},
    )


def bench_argon2(rounds: int = 5) -> None:
    ph = PasswordHasher()
    t0 = time.perf_counter()
    hashes = [ph.hash("correct horse battery") for _ in range(rounds)]
    t1 = time.perf_counter()
    for h in hashes:
        ph.verify(h, "correct horse battery")
    t2 = time.perf_counter()
    print(f"argon2id: hash {1000 * (t1 - t0) / rounds:.0f} ms, verify {1000 * (t2 - t1) / rounds:.0f} ms")


def bench_edits(store: GraphStore, second: GraphStore, user: User, edits: int, races: int) -> None:
    case = workflow.create_case(store, user, "bench", clusters=["C1"])
    t0 = time.perf_counter()
    for i in range(edits):
        case = workflow.update_case(store, user, case.case_id, case.version, summary=f"edit {i}")
    dt = time.perf_counter() - t0
    print(f"versioned edits, one writer: {edits} in {dt:.2f} s ({edits / dt:.0f}/s, history of {case.version} steps)")
    winners = 0
    t0 = time.perf_counter()
    for _ in range(races):
        version = workflow.get_case(store, case.case_id).version
        outcome: list[str] = []
        barrier = threading.Barrier(2)

        def edit(s: GraphStore, tag: str, v: int = version, out: list[str] = outcome, b: threading.Barrier = barrier):
            b.wait()
            try:
                workflow.update_case(s, user, case.case_id, v, summary=tag)
                out.append("won")
            except workflow.CaseConflict:
                out.append("conflict")

        threads = [threading.Thread(target=edit, args=(s, t)) for s, t in ((store, "a"), (second, "b"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners += sorted(outcome) == ["conflict", "won"]
    dt = time.perf_counter() - t0
    print(f"two writers racing on one version: {winners}/{races} rounds with exactly one winner ({dt:.2f} s)")


def bench_referral(store: GraphStore, user: User) -> None:
    # the edits bench already opened a case on C1: a second one on purpose
    case = workflow.create_case(store, user, "基准案件", clusters=["C1"], allow_second=True)
    case = workflow.move_case(store, user, case.case_id, "复审", case.version)  # a package leaves only after 初审
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        pkg = build_referral(store, case.case_id, Path(tmp), user)
        dt = time.perf_counter() - t0
        sizes = ", ".join(
            f"{p.name} {p.stat().st_size / 1024:.0f} KB"
            for p in (pkg.pdf, pkg.claims_csv, pkg.network_png, pkg.json, pkg.zip)
        )
    print(f"referral package: {dt:.2f} s ({sizes})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claims", type=int, default=300, help="claims in the ring")
    parser.add_argument("--patients", type=int, default=20, help="patients (cluster members) in the ring")
    parser.add_argument("--edits", type=int, default=50, help="sequential versioned edits")
    parser.add_argument("--races", type=int, default=10, help="rounds of two racing writers")
    args = parser.parse_args()

    store, second = open_store(graph_name=GRAPH), open_store(graph_name=GRAPH)
    try:
        store.clear()
        store.ensure_schema()
        store.write("CREATE (u:User {username: 'bench', role: 'supervisor', active: true})")
        user = User(username="bench", role="supervisor", active=True)
        t0 = time.perf_counter()
        write_ring(store, args.patients, args.claims)
        print(f"ring written: {args.patients} patients, {args.claims} claims in {time.perf_counter() - t0:.2f} s")
        bench_argon2()
        bench_edits(store, second, user, args.edits, args.races)
        bench_referral(store, user)
    finally:
        store.clear()
        second.close()
        store.close()


if __name__ == "__main__":
    main()
