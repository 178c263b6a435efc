"""The ported inpatient and basket detectors give the same leads on Polars and on Spark (local mode).

Hand-made claims shaped unlike the generator's: Chinese keys, null doctors, beds and patients, a
stay claimed before the window that would complete a lead if it were counted, ties in admission
time, basket lines in different orders and quantities that round alike; then the empty window and a
small synthetic set with planted rings, loaded through the real loader.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ringsight.algorithms import spark
from ringsight.algorithms.detectors import engines_used, run_detectors
from ringsight.algorithms.engine import PORTED, Source, polars_source, spark_source
from ringsight.algorithms.frames import DETECT_ITEM_COLUMNS, claims_frame, items_frame, load_window
from ringsight.config import DetectSettings, Settings
from ringsight.graph.store import GraphStore
from ringsight.tables import staging_dir

T0 = 1_751_299_200  # 2025-07-01 00:00 +08:00
DAY = 86_400
UNTIL = T0 + 31 * DAY
NAMES = ["repeated_admission", "split_charges", "stay_overlap", "shared_bed", "identical_baskets"]


class _Rows:
    """Claims and items made by hand; claim ids are Chinese and unique."""

    def __init__(self) -> None:
        self.claims: list[dict[str, Any]] = []
        self.items: list[dict[str, Any]] = []

    def stay(self, pid: str | None, fac: str, day: float, nights: int, **kw: Any) -> str:
        cid = f"住院-{len(self.claims):04d}"
        admit = int(T0 + day * DAY)
        discharge = admit + nights * DAY
        row = {"claim_id": cid, "pid": pid, "facility_code": fac, "total_amount": 1000.1, "claim_ts": discharge}
        self.claims.append({**row, "admit_ts": admit, "discharge_ts": discharge, "visit_type": "inpatient", **kw})
        return cid

    def visit(self, pid: str | None, fac: str, day: float, **kw: Any) -> str:
        cid = f"门诊-{len(self.claims):04d}"
        self.claims.append({"claim_id": cid, "pid": pid, "facility_code": fac, "claim_ts": int(T0 + day * DAY), **kw})
        return cid

    def lines(self, cid: str, *lines: tuple[str, float]) -> None:
        for code, qty in lines:
            self.items.append({"claim_id": cid, "item_code": code, "quantity": qty, "amount": 9.9})


def _hand_made() -> _Rows:
    r = _Rows()
    # repeated admission: three patients of 王医生 at 甲医院 admitted four times each → a lead
    for p in ("张三", "李四", "王五"):
        for k in range(4):
            r.stay(p, "甲医院", 1 + 7 * k, 2, doctor_code="王医生", diagnosis_code=f"诊断{k}")
    # no doctor recorded at 乙医院 (the column null throughout): three patients, four stays each → "?" lead
    for p in ("赵一", "钱二", "孙三"):
        for k in range(4):
            r.stay(p, "乙医院", 2 + 7 * k, 1)
    # 刘医生: the third patient's fourth stay was claimed before the window → only two patients → no lead
    for p in ("周甲", "吴乙", "郑丙"):
        for k in range(3):
            r.stay(p, "丙医院", 3 + 7 * k, 1, doctor_code="刘医生", diagnosis_code="X")
    for p in ("周甲", "吴乙"):
        r.stay(p, "丙医院", 25, 1, doctor_code="刘医生", diagnosis_code="X")
    r.stay("郑丙", "丙医院", -9, 2, doctor_code="刘医生")  # claim_ts before T0: outside the window
    # split charges: readmitted within 3 days for the same diagnosis at 丁医院, two patients → a lead;
    # ties in admission time are ordered by claim id on both engines
    for p in ("冯甲", "陈乙"):
        r.stay(p, "丁医院", 1, 4, doctor_code="黄医生", diagnosis_code="肺炎")
        r.stay(p, "丁医院", 7, 4, doctor_code="黄医生", diagnosis_code="肺炎")
        r.stay(p, "丁医院", 7, 2, doctor_code="黄医生", diagnosis_code="肺炎")
    r.stay("褚丙", "丁医院", 1, 4, doctor_code="黄医生", diagnosis_code="肺炎")
    r.stay("褚丙", "丁医院", 7, 4, doctor_code="黄医生", diagnosis_code="骨折")  # another diagnosis
    r.stay(None, "丁医院", 1, 2, diagnosis_code=None)  # no patient, no diagnosis: never a split
    # stay overlap: 戊医院's stays have no billed lines while the patients claim at other places
    for p in ("蒋甲", "沈乙", "韩丙"):
        r.stay(p, "戊医院", 3, 6, total_amount=3000.3)
        r.visit(p, "社区药店", 5.5, total_amount=20.0)
    r.stay("杨丁", "戊医院", 3, 6)
    r.stay("杨丁", "己医院", 4, 5)  # two hospitals at once
    r.visit("朱戊", "戊医院", 4)  # at the same facility: not elsewhere
    r.stay("朱戊", "戊医院", 3, 6)
    for k in range(12):  # 己医院 treats its patients: many lines a day, and nobody is away
        cid = r.stay(f"己病人{k}", "己医院", 10 + k, 3)
        r.lines(cid, *[(f"药{j}", 1.0) for j in range(6)])
    # shared bed: three patients on bed 3 of 庚医院 at once; empty and null beds never pair
    for p, day in (("秦一", 1), ("尤二", 2), ("许三", 3)):
        r.stay(p, "庚医院", day, 5, bed_no="3床")
    for p in ("何四", "吕五", "施六"):
        r.stay(p, "庚医院", 1, 5, bed_no="")
        r.stay(p, "庚医院", 1, 5)
    # identical baskets at 一号药店 on five cards (one with no card), lines in any order; a sixth elsewhere
    for k in range(5):
        cid = r.visit(f"顾客{k}", "一号药店", 1 + k, card_id=None if k == 0 else f"卡{k}", facility_kind="pharmacy")
        basket = [("保健品甲", 2.0 + 0.001 * k), ("洗发水", 1.0)]
        r.lines(cid, *(basket if k % 2 else basket[::-1]))
    cid = r.visit("路人", "二号药店", 3, card_id="卡9", facility_kind="pharmacy")
    r.lines(cid, ("洗发水", 1.0), ("保健品甲", 2.0))
    for shop in range(5):  # a common basket: five cards at each of five pharmacies, 20 % at each → no lead
        for k in range(5):
            cid = r.visit(f"街坊{shop}{k}", f"连锁药店{shop}号", 4, card_id=f"街卡{shop}{k}", facility_kind="pharmacy")
            r.lines(cid, ("感冒灵", 1.0), ("维生素C", 2.0))
    for k in range(5):  # one-item baskets are never signatures
        cid = r.visit(f"单品{k}", "一号药店", 2, card_id=f"单卡{k}", facility_kind="pharmacy")
        r.lines(cid, ("口罩", 1.0))
    return r


def _write(tmp_path: Path, claims: pl.DataFrame, items: pl.DataFrame) -> str:
    for name, frame in (("claims", claims), ("items", items)):
        (tmp_path / name).mkdir(parents=True)
        frame.write_parquet(tmp_path / name / "part-0.parquet")
    return str(tmp_path)


def _on_spark(session: Any, tables: str, since_ts: int, until_ts: int) -> Source:
    """The window's claims and its items on Spark (items of claims outside the window never match)."""
    claims = spark.read_claims(session, tables, since_ts, until_ts).claims.to_native()
    items = session.read.parquet(f"{tables}/items").select(*DETECT_ITEM_COLUMNS)
    return spark_source(claims, items)


def _both(spark_session: Any, tables: str, data_dir: Path, since_ts: int = T0, until_ts: int = UNTIL) -> tuple:
    """The five detectors' leads on Polars (the window as detection loads it) and on Spark."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    since = datetime.fromtimestamp(since_ts, tz).replace(tzinfo=None)
    until = datetime.fromtimestamp(until_ts, tz).replace(tzinfo=None)
    window = load_window(None, Settings(data_dir=data_dir), since=since, until=until, tables=tables)
    t = DetectSettings().thresholds
    on_polars, _ = run_detectors(window.claims, window.items, t, NAMES)
    src = _on_spark(spark_session, tables, window.since_ts, window.until_ts)
    on_spark, _ = run_detectors(window.claims, window.items, t, NAMES, source=src)
    return on_polars, on_spark


def _evidence(leads: pl.DataFrame, detector: str) -> list[str]:
    return sorted(leads.filter(pl.col("detector") == detector)["evidence_en"])


@pytest.fixture
def hand_made(tmp_path: Path) -> str:
    r = _hand_made()
    return _write(tmp_path / "tables", claims_frame(r.claims), items_frame(r.items))


def test_hand_made_leads_are_the_same_on_polars_and_spark(spark_session, hand_made: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    on_polars, on_spark = _both(spark_session, hand_made, tmp_path)
    assert on_spark.equals(on_polars)
    assert _evidence(on_polars, "repeated_admission") == [
        # per facility, any doctor: 甲医院's diagnoses change at every stay (乙医院 records none, 丙医院 one)
        "3 patients admitted again and again at 甲医院 (12 admissions; doctors: 1; cues: varied, soon, lift)",
        "3 patients admitted again and again by doctor ? at 乙医院 (12 admissions, up to 4 each)",
        "3 patients admitted again and again by doctor 王医生 at 甲医院 (12 admissions, up to 4 each)",
    ]  # 刘医生's third patient's fourth stay is outside the window
    assert _evidence(on_polars, "split_charges") == [
        "黄医生 has 4 readmissions for the same diagnosis within 3 days (split stays)"
    ]
    assert _evidence(on_polars, "stay_overlap") == [
        "4 stays at 戊医院 barely treated or away on most days, the patient claiming elsewhere (4 patients; "
        "0 away on most days)"
    ]
    assert _evidence(on_polars, "shared_bed") == [
        "3 patients booked on the same 1 beds at the same time at 庚医院 (3 stays)"
    ]
    assert _evidence(on_polars, "identical_baskets") == [
        "pharmacy 一号药店 settled 1 identical multi-item baskets, one on 5 cards"
    ]


def test_the_engine_hash_groups_alike_and_apart(spark_session) -> None:  # type: ignore[no-untyped-def]
    rows = [("药", 1.0), ("药", 1.0), ("剂", 1.0), (None, 1.0)]
    on_polars = polars_source(pl.DataFrame(rows, schema={"code": pl.String, "q": pl.Float64}, orient="row"))
    on_spark = spark_source(spark_session.createDataFrame(rows, "code string, q double"))
    for src in (on_polars, on_spark):
        h = src.collect(src.with_hash(src.claims, "h", "code", "q"))["h"].to_list()
        assert h[0] == h[1] and len({h[0], h[2], h[3]}) == 3
        assert all(0 <= v < 2**47 for v in h)  # a sum of 65,536 fits in 64 bits on both engines


def test_an_empty_window_gives_no_leads_on_either_engine(spark_session, hand_made: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    on_polars, on_spark = _both(spark_session, hand_made, tmp_path, T0 + 400 * DAY, T0 + 401 * DAY)
    assert on_polars.is_empty() and on_spark.is_empty() and on_spark.schema == on_polars.schema


def test_detectors_reading_items_stay_on_polars_without_items_on_the_source(spark_session, hand_made: str) -> None:  # type: ignore[no-untyped-def]
    read = spark.read_claims(spark_session, hand_made, T0, UNTIL)
    assert engines_used(read, NAMES)["stay_overlap"] == "spark"  # read_claims brings the window's items
    claims_only = spark_source(read.claims.to_native())  # a Spark window made without them
    where = engines_used(claims_only, NAMES)
    assert where["stay_overlap"] == where["identical_baskets"] == "polars"
    assert where["shared_bed"] == where["split_charges"] == "spark"
    assert set(NAMES) <= set(PORTED)
    with pytest.raises(ValueError, match="without its claim items"):
        claims_only.item_lines()


def test_synthetic_rings_give_the_same_leads_on_both_engines(  # type: ignore[no-untyped-def]
    spark_session, store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    from ringsight.loaders import load_files
    from ringsight.synth.config import RingKnobs, SynthConfig
    from ringsight.synth.generator import generate

    rings = {k: RingKnobs(count=2) for k in ("goods_as_drugs", "bed_holding", "repeated_admission", "split_charges")}
    result = generate(SynthConfig(claims=4_000, seed=13, rings=rings), tmp_path / "synth")
    load_files([result.claims_path], [result.items_path], settings=settings, store=store)
    window = load_window(store, settings)
    t = DetectSettings().thresholds
    on_polars, _ = run_detectors(window.claims, window.items, t, NAMES)
    src = _on_spark(spark_session, str(staging_dir(settings)), window.since_ts, window.until_ts)
    on_spark, _ = run_detectors(window.claims, window.items, t, NAMES, source=src)
    assert on_spark.equals(on_polars)
    found = set(on_polars["detector"])
    assert {"identical_baskets", "shared_bed", "repeated_admission", "split_charges"} <= found, found
