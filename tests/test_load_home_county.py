"""Home addresses located at load time: the county goes to the staged table and the graph, the text never does.

The addresses are shaped unlike the generator's: a 长春 address, a short
form, an ambiguous district resolved only by the facility's prefecture, one
in English, one contradicting itself. Loaded once with the bulk writer (empty
FalkorDB graph) and once more through MERGE, and exported for neo4j-admin.
"""

from __future__ import annotations

import csv
import shutil
from datetime import datetime
from pathlib import Path

import polars as pl

from ringsight.algorithms.frames import load_window
from ringsight.config import Settings
from ringsight.graph.store import GraphStore
from ringsight.identity import resident_id_check_char
from ringsight.loaders import load_files
from ringsight.loaders.neo4j_import import export_neo4j_import
from ringsight.tables import scan_claims, staging_dir

# address text, facility, expected county
CASES = [
    ("吉林省长春市朝阳区人民大街7号", "H11010500001", "220104"),  # the text wins over a Beijing facility
    ("四川成都武侯区科华北路3号", "H51010700001", "510107"),
    ("朝阳区红旗街9号", "H22010200001", "220104"),  # ambiguous name: the 长春 facility decides
    ("朝阳区建国路88号", "H51010400001", None),  # ambiguous name, 成都 facility: left null
    ("Room 2, 1 Chaoyang Rd, Beijing", "H11010500001", None),
    ("四川省朝阳区某路", "H22010200001", None),  # contradicts itself
    ("ＳＨ上海市黄浦区南京东路１００号", "H31010100001", "310101"),  # full-width
]
SECRET_WORDS = ("人民大街", "科华北路", "红旗街", "建国路", "Chaoyang", "南京东路")


def _rid(n: int) -> str:
    body = f"2201041980{1 + n % 9:02d}1{n % 10}{n:03d}"[:17]
    return body + resident_id_check_char(body)


def _write(path: Path, start: int = 0) -> None:
    header = ["claim_id", "visit_type", "claim_time", "patient_id", "card_id", "facility_id", "total_amount"]
    with open(path, "w", newline="", encoding="utf-8") as out:
        w = csv.writer(out)
        w.writerow([*header, "patient_address"])
        for n, (address, facility, _) in enumerate(CASES):
            w.writerow([f"K{start + n}", "outpatient", f"2025-03-0{1 + n} 09:00:00", _rid(start + n), f"CK{start + n}",
                        facility, "80", address])  # fmt: skip


def _county_by_claim(settings: Settings) -> dict[str, str | None]:
    staged = scan_claims(settings)
    assert staged is not None
    frame = staged.select("claim_id", "patient_county").collect()
    return dict(frame.iter_rows())


def test_staged_table_and_graph_get_the_county_never_the_text(
    tmp_path: Path, settings: Settings, store: GraphStore
) -> None:
    _write(tmp_path / "claims.csv")
    load_files([tmp_path / "claims.csv"], settings=settings, store=store)
    expected = {f"K{n}": county for n, (_, _, county) in enumerate(CASES)}
    assert _county_by_claim(settings) == expected
    # the staged files and the graph carry no word of the address text
    for path in (Path(settings.data_dir) / "staging" / settings.graph_name / "claims").glob("*.parquet"):
        text = pl.read_parquet(path).select(pl.all().cast(pl.String)).write_csv()
        assert not any(word in text for word in SECRET_WORDS)
    rows = store.read(
        "MATCH (c:Claim)-[:BY_PATIENT]->(:Patient)-[:LIVES_AT]->(a:Address) "
        "RETURN c.claim_id AS id, a.county AS county, properties(a) AS props"
    ).records()
    assert {r["id"]: r["county"] for r in rows} == {k: v for k, v in expected.items()}
    for r in rows:
        assert not any(word in str(r["props"]) for word in SECRET_WORDS)

    # a second load goes through MERGE: its addresses get their county too
    _write(tmp_path / "more.csv", start=100)
    load_files([tmp_path / "more.csv"], settings=settings, store=store, mode="merge")
    counties = store.read(
        "MATCH (c:Claim)-[:BY_PATIENT]->(:Patient)-[:LIVES_AT]->(a:Address) WHERE c.claim_id = 'K101' "
        "RETURN a.county AS county"
    ).records()
    assert [r["county"] for r in counties] == ["510107"]

    out = tmp_path / "import"
    export_neo4j_import(settings, out)
    addresses = pl.read_csv(out / "nodes" / "Address.csv", infer_schema=False)
    assert "county" in addresses.columns
    assert set(addresses.get_column("county").drop_nulls()) == {"220104", "510107", "310101"}
    assert not any(word in addresses.write_csv() for word in SECRET_WORDS)

    # a graph with nothing staged (loaded by another tool): detection reads the county from the Address nodes
    shutil.rmtree(staging_dir(settings))
    window = load_window(store, settings, since=datetime(2025, 1, 1))
    assert window.source == "store"
    got = dict(window.claims.select("claim_id", pl.col("patient_county").cast(pl.String)).iter_rows())
    assert got["K0"] == "220104" and got["K1"] == "510107" and got["K4"] is None


def test_a_file_without_addresses_loads_with_no_county(tmp_path: Path, settings: Settings, store: GraphStore) -> None:
    path = tmp_path / "bare.csv"
    with open(path, "w", newline="", encoding="utf-8") as out:
        w = csv.writer(out)
        w.writerow(["claim_id", "visit_type", "claim_time", "patient_id", "card_id", "facility_id", "total_amount"])
        w.writerow(["B1", "outpatient", "2025-03-01 09:00:00", _rid(7), "C7", "H11010500001", "10"])
    load_files([path], settings=settings, store=store)
    assert _county_by_claim(settings) == {"B1": None}


def test_staged_schema_declares_the_county() -> None:
    from ringsight.tables import CLAIMS_SCHEMA, CLEAR_CLAIMS_SCHEMA

    assert CLAIMS_SCHEMA["patient_county"] == pl.String and "patient_county" in CLEAR_CLAIMS_SCHEMA
