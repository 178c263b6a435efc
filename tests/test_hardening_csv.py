"""Every CSV RingSight writes neutralises text a spreadsheet would run as a formula.

Writers covered: query output (``ringsight cypher --format csv``), the audit
export, the referral package's members.csv / claims.csv, the loader's rejects.
Numbers — and text that is just a number, like a rejected ``-1.00`` — stay as
they are.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import polars as pl
import pytest
from test_cases_data import PHARMACY, make_users
from test_cases_referral import referred_case  # noqa: F401  (fixture)
from test_load_validation import BASE, ITEM_BASE, _write
from typer.testing import CliRunner

from ringsight.cases import audit
from ringsight.cases.referral import build_referral
from ringsight.cli import app
from ringsight.config import Settings, get_settings
from ringsight.cypher.output import write_csv
from ringsight.cypher.runner import run_adhoc
from ringsight.graph.store import GraphStore, QueryResult
from ringsight.loaders import load_files
from ringsight.safecsv import neutralise, neutralise_frame

FORMULAS = ["=1+2", "+1+2", "-1+2", "@SUM(A1:A9)", "\t=1", "\r=1", '=HYPERLINK("http://x.example","点此")']


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_text_gets_a_quote(text: str) -> None:
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["张三", "a=1", "", " =1", "-12.50", "+3", "-1e5", 42, -7, -1.5, None, True])
def test_other_values_are_left_alone(value: object) -> None:
    assert neutralise(value) == value


def test_frames_neutralise_text_columns_only() -> None:
    frame = pl.DataFrame({"name": ["=cmd", "ok", "-2.50", "-x", None], "amount": [-1.0, 2.0, -3.5, 0.0, None]})
    out = neutralise_frame(frame)
    assert out["name"].to_list() == ["'=cmd", "ok", "-2.50", "'-x", None]
    assert out["amount"].to_list() == [-1.0, 2.0, -3.5, 0.0, None]
    assert out.schema["amount"] == pl.Float64


def test_query_output_csv(
    store: GraphStore, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.write("CREATE (:Facility {code: 'F1', name: $name, amount: -5})", {"name": FORMULAS[-1]})
    text = "MATCH (f:Facility) RETURN f.name AS `=name`, f.amount AS amount"
    result = run_adhoc(store, text, None, settings=settings)
    buffer = io.StringIO(newline="")
    write_csv(result, buffer)
    rows = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert rows == [["'=name", "amount"], ["'" + FORMULAS[-1], "-5"]]
    # the same through the command line, to a file
    out = tmp_path / "q.csv"
    monkeypatch.setenv("RINGSIGHT_GRAPH_NAME", settings.graph_name)
    get_settings.cache_clear()
    try:
        reply = CliRunner().invoke(
            app, ["cypher", "MATCH (f:Facility) RETURN f.name AS name, f.amount AS amount", "-f", "csv", "-o", str(out)]
        )
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert reply.exit_code == 0, reply.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[1] == ["'" + FORMULAS[-1], "-5"]


def test_query_output_keeps_nested_values_as_json() -> None:
    result = QueryResult(columns=["m"], rows=[[{"a": "=1"}], [["@x"]]])
    buffer = io.StringIO(newline="")
    write_csv(result, buffer)
    assert buffer.getvalue().splitlines()[1:] == ['"{""a"": ""=1""}"', '"[""@x""]"']


def test_audit_export(store: GraphStore, tmp_path: Path) -> None:
    users = make_users(store)
    audit.record(store, user="inv", action="case.update", target="=cmd|' /C calc'!A0", after={"n": 1})
    path = tmp_path / "audit.csv"
    audit.export_entries(store, path, users["sup"])
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    targets = [r["target"] for r in rows]
    assert "'=cmd|' /C calc'!A0" in targets and "=cmd|' /C calc'!A0" not in targets


def test_referral_members_and_claims(store: GraphStore, referred_case: dict, tmp_path: Path) -> None:  # noqa: F811
    store.write("MATCH (f:Facility {code: $c}) SET f.name = $n", {"c": PHARMACY["code"], "n": FORMULAS[-1]})
    pkg = build_referral(store, referred_case["case"].case_id, tmp_path / "out", referred_case["users"]["inv"])
    claims = list(csv.DictReader(io.StringIO(pkg.claims_csv.read_text(encoding="utf-8-sig"))))
    assert {c["facility_name"] for c in claims if c["facility_code"] == PHARMACY["code"]} == {"'" + FORMULAS[-1]}
    assert all(not c["total_amount"].startswith("'") for c in claims)
    members = list(csv.DictReader(io.StringIO(pkg.members_csv.read_text(encoding="utf-8-sig"))))
    pharmacy = [m for m in members if m["key"] == PHARMACY["code"]]
    assert pharmacy and pharmacy[0]["name"] == "'" + FORMULAS[-1]
    with zipfile.ZipFile(pkg.zip) as zf:
        assert zf.read("claims.csv") == pkg.claims_csv.read_bytes()


def test_loader_rejects(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    claims = [dict(BASE), {**BASE, "claim_id": "BAD1", "person_no": "@SUM(A1)", "total_amount": "-1.00"}]
    report = load_files(
        [_write(tmp_path / "claims.csv", claims)],
        [_write(tmp_path / "items.csv", [dict(ITEM_BASE)])],
        settings=settings,
        store=store,
        rejects_dir=tmp_path / "rejects",
    )
    assert sum(report.rejected.values()) == 1
    text = (tmp_path / "rejects" / "claims.claims.rejects.csv").read_text(encoding="utf-8-sig")
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["person_no"] == "'@SUM(A1)" and row["total_amount"] == "-1.00"
