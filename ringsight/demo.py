"""``ringsight demo``: the whole flow on the embedded store, from nothing.

Starts the embedded store, creates the schema, writes a small sample graph and
reads it back. (Later steps — generating claims, loading, detecting rings and
serving the UI — hook in here as they land.)
"""

from __future__ import annotations

import time

import typer
from rich.console import Console

from ringsight.config import get_settings

console = Console()

_SAMPLE = """
UNWIND $rows AS row
MERGE (p:Patient {pid: row.pid}) SET p.name = row.name
MERGE (c:Card {card_id: row.card})
MERGE (p)-[:HAS_CARD]->(c)
MERGE (f:Facility {code: row.facility}) SET f.name = row.facility_name, f.kind = 'pharmacy'
MERGE (cl:Claim {claim_id: row.claim}) SET cl.total_amount = row.amount
MERGE (cl)-[:BY_PATIENT]->(p)
MERGE (cl)-[:WITH_CARD]->(c)
MERGE (cl)-[:AT_FACILITY]->(f)
"""


def run_sample(graph_name: str = "ringsight_sample") -> dict[str, int]:
    """Write and read back a five-claim sample graph; return the counts read."""
    from ringsight.graph import open_store

    rows = [
        {
            "pid": f"demo-{i}",
            "name": name,
            "card": f"CARD{i:04d}",
            "facility": "P11010500001",
            "facility_name": "示例大药房",
            "claim": f"DEMO-{i}",
            "amount": 100.0 + i,
        }
        for i, name in enumerate(["张三", "李四", "王五", "赵六", "钱七"])
    ]
    with open_store(graph_name=graph_name) as store:
        store.ensure_schema()
        store.write_rows(_SAMPLE, rows)
        result = store.read(
            "MATCH (c:Claim)-[:AT_FACILITY]->(f:Facility) "
            "RETURN f.name AS facility, count(c) AS claims, sum(c.total_amount) AS amount"
        )
        counts = {"nodes": store.count_nodes(), "relationships": store.count_relationships()}
    for rec in result.records():
        console.print(f"read back: {rec['facility']} — {rec['claims']} claims, ¥{rec['amount']:.2f}")
    return counts


def demo() -> None:
    """Run the demo on the embedded store: start it, build a sample graph, read it back."""
    settings = get_settings()
    console.rule("RingSight demo")
    console.print(f"graph store: {settings.graph_display}; data directory: {settings.data_dir}")
    t0 = time.perf_counter()
    counts = run_sample()
    console.print(
        f"sample graph: {counts['nodes']} nodes, {counts['relationships']} relationships "
        f"({time.perf_counter() - t0:.2f} s)"
    )


def register(app: typer.Typer) -> None:
    """Attach ``demo`` to the CLI."""
    app.command("demo")(demo)
