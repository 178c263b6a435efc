"""Every input shape (UTF-8, GBK with Chinese headers, XLSX with national field names, Parquet,
a province profile) builds the same graph on the real embedded store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from ringsight.appdb import for_store
from ringsight.appdb.vault import lookup
from ringsight.config import Settings
from ringsight.graph.store import GraphStore
from ringsight.identity import keyed_hash, pseudonym
from ringsight.loaders import load_files
from ringsight.loaders.profiles import MissingColumnError
from ringsight.tables import scan_claims, scan_items, staging_dir

FIX = Path(__file__).parent / "fixtures" / "load"
EXPECTED_NODES = {
    "Claim": 6,
    "Patient": 3,
    "Card": 4,
    "Phone": 4,
    "Address": 3,
    "Facility": 3,
    "Doctor": 3,
    "TraceCode": 1,
}


def _counts(store: GraphStore) -> dict[str, int]:
    return {label: store.count_nodes(label) for label in EXPECTED_NODES}


@pytest.mark.parametrize(
    ("claims", "items", "profile"),
    [
        ("claims_utf8.csv", "items_utf8.csv", None),
        ("claims_gbk.csv", "items_gbk.csv", None),
        ("claims_national.xlsx", "items.parquet", None),
        ("claims.parquet", "items.parquet", None),
        ("claims_province.csv", "items_utf8.csv", "province.toml"),
    ],
)
def test_every_shape_builds_the_same_graph(
    store: GraphStore, settings: Settings, claims: str, items: str, profile: str | None
) -> None:
    report = load_files(
        [FIX / claims],
        [FIX / items],
        settings=settings,
        store=store,
        profile=FIX / profile if profile else None,
    )
    assert report.rows_read == 6 and report.loaded == 6 and report.rejected == {}
    assert report.items_loaded == 8 and report.items_rejected == {}
    assert _counts(store) == EXPECTED_NODES
    assert store.count_relationships("HAS_TRACE") == 2  # code ...002 settled on S0002 and S0005
    row = store.read(
        "MATCH (c:Claim {claim_id: 'S0003'})-[:BY_PATIENT]->(p:Patient) "
        "RETURN c.visit_type, c.time_ts, c.admit_ts, c.total_amount, c.item_count, p.name, p.gender, p.id_raw"
    ).rows[0]
    assert row[:5] == ["inpatient", 1709604000, 1709341200, 3500.0, 2]
    assert row[5:] == [None, "F", None], "names and IDs are in the identity vault, not in the graph"
    pid = store.read("MATCH (:Claim {claim_id: 'S0003'})-[:BY_PATIENT]->(p:Patient) RETURN p.pid").scalar()
    clear = lookup(for_store(store, settings), [("patient.name", pid), ("patient.resident_id", pid)])
    assert clear[("patient.name", pid)] == "李四"
    assert clear[("patient.resident_id", pid)][:17] == "110108199001010020"[:17]


def test_graph_properties_follow_the_contract(store: GraphStore, settings: Settings) -> None:
    load_files([FIX / "claims_gbk.csv"], [FIX / "items_gbk.csv"], settings=settings, store=store)
    pid = keyed_hash(_patient_id("S0001"), settings.id_hash_key)
    patient = store.read("MATCH (p:Patient {pid: $pid}) RETURN p", {"pid": pid}).scalar()
    assert patient is not None, "patients are keyed by keyed_hash(ID, settings.id_hash_key)"
    props = patient.properties
    assert props == {
        "pid": pid,
        "id_type": "resident_id",
        "gender": "M",
        "birth_cohort": "1985-1989",
        "surname_group": keyed_hash("surname:张", settings.id_hash_key),
    } | ({"insurance_type": props["insurance_type"]} if "insurance_type" in props else {})
    key = settings.id_hash_key
    phone = store.read("MATCH (:Patient {pid: $pid})-[:HAS_PHONE]->(f:Phone) RETURN f.number", {"pid": pid})
    assert phone.column("f.number") == [pseudonym("phone", "13812345678", key)]
    address = store.read("MATCH (:Patient {pid: $pid})-[:LIVES_AT]->(a:Address) RETURN a", {"pid": pid}).scalar()
    assert address.properties == {
        "key": pseudonym("address", "朝阳区XX路1号院2栋3单元401", key),
        "district": "朝阳区",
        "county": "110105",  # located from the text at load time (北京市朝阳区…), the text itself is in the vault
    }
    clear = lookup(
        for_store(store, settings),
        [
            ("patient.name", pid),
            ("patient.birth_date", pid),
            ("phone", phone.scalar()),
            ("address", address.properties["key"]),
        ],
    )
    assert clear[("patient.name", pid)] == "张三" and clear[("patient.birth_date", pid)] == "1985-03-12"
    assert clear[("phone", phone.scalar())] == "13812345678"
    assert "朝阳区" in clear[("address", address.properties["key"])]
    claim = store.read("MATCH (c:Claim {claim_id: 'S0005'}) RETURN c").scalar().properties
    assert claim["time"] == "2024-03-07T16:30:00+08:00"
    assert claim["item_codes"] == ["XA01BAC123456789012345B"]
    assert claim["trace_codes"] == ["8100000000000000002", "8100000000000000003"]
    assert len(claim["content_hash"]) == 20 and claim["load_id"]
    facility = store.read("MATCH (f:Facility {code: 'H11010500003'}) RETURN f").scalar().properties
    assert facility["kind"] == "clinic" and facility["region"] == "110105"
    links = store.read("MATCH (c:Claim {claim_id: 'S0001'})-[r]->(x) RETURN type(r) AS t ORDER BY t").column("t")
    assert links == ["AT_FACILITY", "BY_DOCTOR", "BY_PATIENT", "WITH_CARD"]  # its trace code sold once only
    traced = store.read("MATCH (c:Claim)-[:HAS_TRACE]->(t:TraceCode) RETURN c.claim_id ORDER BY c.claim_id")
    assert traced.column("c.claim_id") == ["S0002", "S0005"]
    assert store.count_relationships("WORKS_AT") == 3


def _patient_id(claim_id: str) -> str:
    frame = pl.read_csv(FIX / "claims_utf8.csv", infer_schema=False)
    return frame.filter(pl.col("claim_id") == claim_id)["patient_id"].item()


def test_staged_tables_keep_the_shared_schema(store: GraphStore, settings: Settings) -> None:
    from ringsight.tables import CLAIMS_SCHEMA, ITEMS_SCHEMA

    load_files([FIX / "claims_utf8.csv"], [FIX / "items_utf8.csv"], settings=settings, store=store)
    claims = scan_claims(settings).collect()
    items = scan_items(settings).collect()
    assert claims.schema == pl.Schema(CLAIMS_SCHEMA)
    assert items.schema == pl.Schema(ITEMS_SCHEMA)
    assert list(claims.columns) == list(CLAIMS_SCHEMA)
    assert list(items.columns) == list(ITEMS_SCHEMA)
    assert claims.height == 6 and items.height == 8
    s3 = items.filter(pl.col("claim_id") == "S0003").sort("line_no")
    assert s3["line_no"].to_list() == [1, 2]
    assert s3["item_category"].to_list() == ["service", "material"]
    address = pseudonym("address", "朝阳区XX路1号院2栋3单元401", settings.id_hash_key)
    assert claims.filter(pl.col("claim_id") == "S0002")["address_key"].item() == address
    assert not (staging_dir(settings) / ".pending").exists() or not any((staging_dir(settings) / ".pending").iterdir())


def test_missing_required_column_is_refused_before_writing(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    frame = pl.read_csv(FIX / "claims_utf8.csv", infer_schema=False).rename({"card_id": "card_no"})
    path = tmp_path / "claims.csv"
    frame.write_csv(path)
    with pytest.raises(MissingColumnError) as caught:
        load_files([FIX / "claims_utf8.csv", path], settings=settings, store=store)
    message = str(caught.value)
    assert "'card_id'" in message and "closest header found is 'card_no'" in message
    assert caught.value.closest == {"card_id": "card_no"}
    assert store.count_nodes() == 0, "nothing is written, not even the good first file"
    assert scan_claims(settings) is None


def test_profile_check_cli(data_dir: Path, tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "ringsight", "profile", "check"]
    ok = subprocess.run([*cmd, str(FIX / "claims_gbk.csv")], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "gb18030" in ok.stdout and "结算ID" in ok.stdout and "ready to load" in ok.stdout
    frame = pl.read_csv(FIX / "claims_utf8.csv", infer_schema=False).rename({"total_amount": "total_amt"})
    frame.write_csv(tmp_path / "c.csv")
    bad = subprocess.run([*cmd, str(tmp_path / "c.csv")], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert "MISSING" in bad.stdout and "total_amt" in bad.stdout
    province = subprocess.run(
        [*cmd, str(FIX / "claims_province.csv"), "--profile", str(FIX / "province.toml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert province.returncode == 0 and "单据号" in province.stdout


def test_load_cli_writes_report_and_rejects(data_dir: Path, tmp_path: Path, graph_name: str) -> None:
    frame = pl.read_csv(FIX / "claims_utf8.csv", infer_schema=False)
    frame = frame.with_columns(
        pl.when(pl.col("claim_id") == "S0004")
        .then(pl.lit("-5"))
        .otherwise(pl.col("total_amount"))
        .alias("total_amount")
    )
    frame.write_csv(tmp_path / "claims.csv")
    env = {**__import__("os").environ, "RINGSIGHT_GRAPH_NAME": graph_name}
    done = subprocess.run(
        [
            sys.executable, "-m", "ringsight", "load", str(tmp_path / "claims.csv"),
            "--items", str(FIX / "items_utf8.csv"),
            "--rejects", str(tmp_path / "rej"), "--report", str(tmp_path / "report.json"), "-q",
        ],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["loaded"] == 5 and report["rejected"] == {"bad_amount": 1}
    assert report["items_rejected"] == {"orphan_item": 1}
    rejects = pl.read_csv(tmp_path / "rej" / "claims.claims.rejects.csv", infer_schema=False)
    assert rejects.select("_line", "_column", "_reason").rows() == [("5", "total_amount", "bad_amount")]
    assert rejects["claim_id"].to_list() == ["S0004"], "the whole row is kept"
    assert "claims loaded" in done.stdout


def test_profile_keeps_extra_columns_as_claim_properties(store: GraphStore, settings: Settings) -> None:
    report = load_files([FIX / "claims_province.csv"], settings=settings, store=store, profile=FIX / "province.toml")
    assert report.loaded == 6
    assert report.files[0].ignored_headers == ["备注"]
    values = store.read("MATCH (c:Claim) RETURN DISTINCT c.`统筹区` AS region").column("region")
    assert values == ["110100"]
    assert store.read("MATCH (c:Claim) WHERE c.`备注` IS NOT NULL RETURN count(c)").scalar() == 0
