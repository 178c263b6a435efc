"""Embedded store figures: server start time and batched write throughput.

Starts a fresh embedded FalkorDB server in a temporary directory (cold start),
stops it and starts it again over its persisted data (warm restart), then
writes N simple rows with ``UNWIND $rows AS row MERGE …`` in batches and
prints rows/s.

    python bench/bench_store.py --rows 100000 --batch 5000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from ringsight.config import Settings
from ringsight.graph import open_store
from ringsight.graph.embedded import EmbeddedServer

STATEMENT = "UNWIND $rows AS row MERGE (p:Patient {pid: row.pid}) SET p.name = row.name, p.gender = row.g"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000, help="rows to write (issue figure: 100000)")
    parser.add_argument("--batch", type=int, default=5_000, help="rows per UNWIND batch")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="rs-bench-") as tmp:
        server = EmbeddedServer(Path(tmp))
        t0 = time.perf_counter()
        server.ensure_running()
        cold = time.perf_counter() - t0
        settings = Settings(data_dir=Path(tmp), graph_name="bench")
        rows = [{"pid": f"p{i:08d}", "name": f"姓名{i}", "g": "MF"[i % 2]} for i in range(args.rows)]
        try:
            with open_store(settings) as store:
                store.ensure_schema()
                t0 = time.perf_counter()
                store.write_rows(STATEMENT, rows, batch_size=args.batch)
                write_s = time.perf_counter() - t0
                count = store.count_nodes("Patient")
            server.stop()
            t0 = time.perf_counter()
            server.ensure_running()
            warm = time.perf_counter() - t0
        finally:
            server.stop()
    print(f"embedded server cold start: {cold:.3f} s")
    print(f"embedded server restart with {count} nodes persisted: {warm:.3f} s")
    print(f"batched MERGE write: {args.rows} rows in {write_s:.2f} s = {args.rows / write_s:,.0f} rows/s "
          f"(batch {args.batch}); nodes counted {count}")


if __name__ == "__main__":
    main()
