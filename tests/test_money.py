"""Money comes out in cents from queries, their files, and detection reports; other floats keep their precision."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from ringsight.config import Settings
from ringsight.cypher import QueryLibrary, run_adhoc, run_named
from ringsight.cypher.output import emit
from ringsight.graph.store import GraphStore
from ringsight.money import cents, is_money, money_record

# amounts whose float sum is not a whole number of cents (0.1 + 0.2 = 0.30000000000000004)
AMOUNTS = [9.69, 1.56, 0.07]
SMALL = [0.1, 0.2, 0.123]  # at the pharmacy: sums to 0.423 (or 0.42300000000000004), shown as 0.42


def _claims(store: GraphStore) -> None:
    rows = [
        {"id": f"C{i}", "amount": a, "fund": round(a * 0.7, 2), "ts": 1_700_000_000 + i} for i, a in enumerate(AMOUNTS)
    ]
    store.write(
        "CREATE (:Facility {code: 'H110101000001', name: '第一医院', kind: 'hospital', region: '110101'}) "
        "CREATE (:Facility {code: 'P110101000002', name: '药房', kind: 'pharmacy', region: '110101'})"
    )
    store.write(
        "UNWIND $rows AS r MATCH (f:Facility {code: 'H110101000001'}) "
        "CREATE (:Claim {claim_id: r.id, total_amount: r.amount, fund_paid: r.fund, time_ts: r.ts})"
        "-[:AT_FACILITY]->(f)",
        {"rows": rows},
    )
    store.write(
        "UNWIND $small AS a MATCH (f:Facility {code: 'P110101000002'}) "
        "CREATE (:Claim {claim_id: 'D' + toString(a), total_amount: a, fund_paid: a, time_ts: 1700000000})"
        "-[:AT_FACILITY]->(f)",
        {"small": SMALL},
    )


def _decimals(value: float) -> int:
    text = repr(value)
    return len(text.split(".")[1]) if "." in text else 0


def test_names_that_are_money_and_names_that_are_not() -> None:
    assert all(is_money(n) for n in ("total_amount", "fund_paid", "self_paid", "amount", "fund_loss", "医疗费用金额"))
    assert not any(is_money(n) for n in ("fund_share", "market_share", "lift", "claims", "score", "claim_count"))
    assert cents(0.1 + 0.2) == 0.3 and cents(float("nan")) != cents(float("nan")) and cents(7) == 7
    nested = money_record({"amount": 0.1 + 0.2, "by": [{"fund": 1 / 3, "share": 1 / 3}], "id": "x"})
    assert nested == {"amount": 0.3, "by": [{"fund": 0.33, "share": 1 / 3}], "id": "x"}


def test_library_query_sums_come_out_in_cents(store: GraphStore, settings: Settings) -> None:
    _claims(store)
    raw = store.read("MATCH (c:Claim)-[:AT_FACILITY]->(:Facility {kind: 'pharmacy'}) RETURN sum(c.total_amount) AS s")
    assert abs(raw.scalar() - 0.423) < 1e-9  # the store itself gives more than cents
    library = QueryLibrary.load(settings)
    params = {"since": "2023-01-01", "until": "2030-01-01"}
    result = run_named(store, library, "top_facilities_by_fund", params, settings=settings)
    rows = result.records()
    hospital = next(r for r in rows if r["facility"] == "H110101000001")
    pharmacy = next(r for r in rows if r["facility"] == "P110101000002")
    assert hospital["total_amount"] == round(sum(AMOUNTS), 2)
    assert pharmacy["total_amount"] == 0.42 and pharmacy["fund_paid"] == 0.42
    assert all(_decimals(r["total_amount"]) <= 2 and _decimals(r["fund_paid"]) <= 2 for r in rows)
    shares = [r[c] for r in rows for c in result.columns if "share" in c]
    assert shares and any(_decimals(s) > 2 for s in shares)  # a share is not money: left unrounded


def test_adhoc_results_and_their_files_are_in_cents(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    _claims(store)
    result = run_adhoc(
        store,
        "MATCH (c:Claim)-[:AT_FACILITY]->(:Facility {kind: 'pharmacy'}) "
        "RETURN sum(c.total_amount) AS amount, collect({fund: c.fund_paid})[0..2] AS funds, "
        "sum(c.total_amount) / 7 AS per_day",
        None,
        settings=settings,
    )
    row = result.records()[0]
    assert row["amount"] == 0.42
    assert all(_decimals(f["fund"]) <= 2 for f in row["funds"])
    assert _decimals(row["per_day"]) > 2  # not a money name
    emit(result, "json", tmp_path / "r.json", Console(file=io.StringIO()))
    assert json.loads((tmp_path / "r.json").read_text())["rows"][0]["amount"] == row["amount"]
    emit(result, "csv", tmp_path / "r.csv", Console(file=io.StringIO()))
    text = (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    assert "0.42," in text and "0.423" not in text


def test_amounts_inside_returned_nodes_are_in_cents(store: GraphStore, settings: Settings) -> None:
    store.write(
        "CREATE (:Claim {claim_id: 'N1', total_amount: 12.345678, time_ts: 1700000000, share: 0.123456})"
        "-[:AT_FACILITY]->(:Facility {code: 'H1', fund_paid: 1.005001})"
    )
    result = run_adhoc(
        store, "MATCH p = (c:Claim {claim_id: 'N1'})-[:AT_FACILITY]->(:Facility) RETURN c, p", None, settings=settings
    )
    node, path = result.rows[0]
    assert node.properties["total_amount"] == 12.35 and node.properties["share"] == 0.123456
    assert node.properties["time_ts"] == 1_700_000_000
    assert path.nodes[0].properties["total_amount"] == 12.35 and path.nodes[1].properties["fund_paid"] == 1.01
