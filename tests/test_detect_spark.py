"""The ported detectors on both engines (Polars here, Spark in local mode) give the same leads.

The data is hand-made and shaped unlike the synthetic generator's: empty and missing values, a
phone shared through the own and the contact column, a care home's desk phone, claims outside the
window that would make a lead if they were counted, Chinese keys.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from ringsight.algorithms import run_detection, spark
from ringsight.algorithms.commands import _engine_changes
from ringsight.algorithms.detectors import run_detectors
from ringsight.algorithms.engine import PORTED
from ringsight.algorithms.frames import claims_frame, items_frame, load_window
from ringsight.config import DetectSettings, DetectSparkSettings, Settings
from ringsight.errors import InputError
from ringsight.graph.store import GraphStore

T0 = 1_751_299_200  # 2025-07-01 00:00 +08:00
DAY = 86_400
SINCE, UNTIL = datetime(2025, 7, 1), datetime(2025, 8, 1)


def _rows() -> list[dict]:
    rows: list[dict] = []

    def add(**kw: object) -> None:
        rows.append({"claim_id": f"理赔-{len(rows):04d}", "claim_ts": T0 + len(rows) * 600, "total_amount": 33.3, **kw})

    for i in range(5):  # a card used by five persons at five addresses
        add(pid=f"患者{i}", card_id="卡-甲", address_key=f"村{i}号")
    for i in range(2):  # family mutual aid: two persons, one address — not a lead
        add(pid=f"家{i}", card_id="卡-家", address_key="同一户")
    add(pid=None, card_id="卡-甲", address_key="无名")  # no person: never counted
    add(pid="患者0", card_id="", address_key="村0号")  # empty card: never a shared value
    for i in range(3):  # a phone shared as own number by three and as contact by two more
        add(pid=f"话{i}", patient_phone="13800000001", address_key=f"楼{i}")
    for i in range(3, 5):
        add(pid=f"话{i}", contact_phone="13800000001", address_key=f"楼{i}")
    for i in range(5):
        add(pid=f"话{i}", contact_phone="13800000001", address_key=f"楼{i}")  # contact column: five persons
    for i in range(30):  # a care home: thirty residents, one desk phone — an institution
        add(pid=f"院{i}", contact_phone="010-6000", address_key="养老院")
    for i in range(9):  # nine unrelated persons at one flat
        add(pid=f"租{i}", address_key="出租屋 9-901", total_amount=0.1 * (i + 1))
    # outside the window: would make 卡-乙 a shared card if counted
    for i in range(4):
        rows.append({"claim_id": f"旧-{i}", "claim_ts": T0 - DAY - i, "pid": f"旧{i}", "card_id": "卡-乙"})
    return rows


def _tables(tmp_path: Path) -> str:
    claims = claims_frame(_rows())
    for name, frame in (("claims", claims), ("items", items_frame([]))):
        (tmp_path / name).mkdir()
        frame.write_parquet(tmp_path / name / "part-0.parquet")
    (tmp_path / "claims" / "part-1.parquet.tmp").write_bytes(b"not parquet")  # a loader's temporary file
    return str(tmp_path)


def test_ported_detectors_give_the_same_leads_on_polars_and_spark(spark_session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tables = _tables(tmp_path)
    window = load_window(None, Settings(data_dir=tmp_path), since=SINCE, until=UNTIL, tables=tables)
    src = spark.read_claims(spark_session, tables, window.since_ts, window.until_ts)
    t = DetectSettings().thresholds
    on_polars, _ = run_detectors(window.claims, window.items, t, list(PORTED))
    on_spark, _ = run_detectors(window.claims, window.items, t, list(PORTED), source=src)
    assert on_spark.equals(on_polars)
    found = {d: sorted(on_polars.filter(pl.col("detector") == d)["evidence_en"]) for d in PORTED}
    assert found["shared_card"] == ["card {card:卡-甲} used by 5 different insured persons"]
    assert [e.split(" shared")[0] for e in found["shared_phone"]] == ["contact phone {phone:13800000001}"]
    assert found["shared_address"] == ["9 insured persons registered at address {address:出租屋 9-901}"]
    flat = on_polars.filter(pl.col("detector") == "shared_address").row(0, named=True)
    assert json.loads(flat["numbers"])["amount"] == 4.5  # 0.1 + … + 0.9, in cents whatever the row order


def test_spark_window_leaves_out_claims_outside_it(spark_session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tables = _tables(tmp_path)
    inside = spark.read_claims(spark_session, tables, T0, T0 + 31 * DAY)
    everything = spark.read_claims(spark_session, tables, T0 - 2 * DAY, T0 + 31 * DAY)
    t = DetectSettings().thresholds
    cards = [
        sorted(run_detectors(pl.DataFrame(), items_frame([]), t, ["shared_card"], source=s)[0]["evidence_en"])
        for s in (inside, everything)
    ]
    assert cards[0] == ["card {card:卡-甲} used by 5 different insured persons"]
    assert "card {card:卡-乙} used by 4 different insured persons" in cards[1]


def test_detect_run_on_spark_reports_where_each_detector_ran(  # type: ignore[no-untyped-def]
    spark_session, store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    tables = _tables(tmp_path)
    polars_run = run_detection(
        store, settings.model_copy(update={"detect": DetectSettings()}), since=SINCE, until=UNTIL
    )  # nothing staged in this graph: the empty window
    assert polars_run.engines and set(polars_run.engines.values()) == {"polars"}
    secret = {"spark.hadoop.fs.s3a.secret.key": "s3-secret-7f3a"}  # what a bureau's conf may hold
    cfg = DetectSettings(engine="spark", spark=DetectSparkSettings(master="local[1]", tables=tables, conf=secret))
    summary = run_detection(store, settings.model_copy(update={"detect": cfg}), since=SINCE, until=UNTIL)
    assert summary.claims == len(_rows()) - 4  # the four old claims are outside the window
    # the Spark window carries its items (none staged here: an empty items frame), so every ported scan runs there
    assert {n for n, e in summary.engines.items() if e == "spark"} == set(PORTED) | {"projection"}
    assert summary.engines["burst_swiping"] == summary.engines["impossible_travel"] == "spark"
    report = json.loads(Path(summary.report_json).read_text(encoding="utf-8"))
    assert report["run"]["engines"]["shared_card"] == "spark"
    page = Path(summary.report_html).read_text(encoding="utf-8")
    assert "engines — spark: " in page and "impossible_travel" in page  # every detector ported: no Polars note
    assert "not yet ported to Spark" not in page
    assert report["lead_counts"]["shared_card"] == 1
    params = store.read("MATCH (r:Run {run_id: $r}) RETURN r.params AS p", {"r": summary.run_id}).rows[0][0]
    assert json.loads(params)["detect"]["engine"] == "spark" and "s3-secret-7f3a" not in params


def test_tables_option_errors_name_the_folder(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with pytest.raises(Exception, match=r"no claims Parquet files in .*claims"):
        load_window(None, settings, tables=str(tmp_path / "nothing"))
    with pytest.raises(Exception, match=r"hdfs:// cannot be read on this machine"):
        load_window(None, settings, tables="hdfs://namenode/warehouse/claims_2025")


def test_spark_options_need_the_spark_engine() -> None:
    detect = DetectSettings()
    with pytest.raises(InputError, match="are for --engine spark"):
        _engine_changes(detect, None, None, "/data/tables")
    with pytest.raises(InputError, match="not known"):
        _engine_changes(detect, "dask", None, None)
    changes = _engine_changes(detect, "spark", "spark://h:7077", "/data/tables")
    assert changes["engine"] == "spark" and changes["spark"].master == "spark://h:7077"  # type: ignore[attr-defined]
    assert detect.spark.master == "local[2]"  # the settings themselves are not changed


def test_open_session_without_java_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyspark")
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(spark.SparkUnavailable, match="Java runtime") as err:
        spark.open_session(DetectSparkSettings())
    assert err.value.exit_code == 2 and "default-jre-headless" in str(err.value)


def test_an_empty_window_on_spark_gives_no_leads_in_the_lead_schema(spark_session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tables = _tables(tmp_path)
    nothing = spark.read_claims(spark_session, tables, T0 + 400 * DAY, T0 + 401 * DAY)
    t = DetectSettings().thresholds
    leads, _ = run_detectors(claims_frame([]), items_frame([]), t, list(PORTED), source=nothing)
    assert leads.is_empty() and "members" in leads.columns
