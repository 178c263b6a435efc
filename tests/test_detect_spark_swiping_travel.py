"""burst_swiping and impossible_travel give the same leads on Polars and on Spark (local mode).

The hand-made windows are shaped unlike the generator's: Chinese card, terminal and operator keys,
sittings and jumps across midnight, claims at the same second, null keys, and windows that lack the
optional columns (terminal_id, operator_id, patient_phone) altogether. The Spark side gets the very
same rows through Arrow, so any difference is the engine's.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from ringsight.algorithms import spark
from ringsight.algorithms.detectors import swiping, travel
from ringsight.algorithms.engine import PORTED, spark_source
from ringsight.algorithms.frames import CATEGORICAL_CLAIM_COLUMNS, claims_frame, load_window
from ringsight.config import DetectSettings, Settings
from ringsight.tables import staging_dir

T0 = 1_751_299_200  # 2025-07-01 00:00 +08:00
DAY, HOUR, MINUTE = 86_400, 3_600, 60
SHOP, NIGHT_SHOP = "P11010500001", "P11010600001"  # two pharmacies in Beijing (朝阳, 丰台)
BEIJING, CHENGDU = "H11010100001", "H51010400001"  # 东城 and 锦江: 1,500 km apart
T = DetectSettings().thresholds


def _add(rows: list[dict[str, Any]], **kw: Any) -> None:
    rows.append({"claim_id": f"单-{len(rows):05d}", "visit_type": "outpatient", **kw})


def _burst_rows() -> list[dict[str, Any]]:
    """A shop swiping six collected cards at a back terminal late at night on three days, and a second
    shop's slow sitting (a card every nine minutes from 23:40 to 00:16) that no fixed window holds."""
    rows: list[dict[str, Any]] = []
    for day in (0, 3, 7):
        for i in range(6):
            ts = T0 + day * DAY + 23 * HOUR + 2 * MINUTE + i * 3 * MINUTE
            _add(
                rows,
                pid=f"人甲{i}",
                card_id=f"卡甲{i}",
                facility_code=SHOP,
                facility_kind="pharmacy",
                terminal_id="后台-2",
                operator_id="店员甲",
                claim_ts=ts,
                total_amount=50.0,
            )
    for day in (10, 20, 30):
        for i in range(5):
            ts = T0 + day * DAY + 23 * HOUR + 40 * MINUTE + i * 9 * MINUTE  # the last three after midnight
            _add(
                rows,
                pid=f"人乙{i}",
                card_id=f"卡乙{i}",
                facility_code=NIGHT_SHOP,
                facility_kind="pharmacy",
                claim_ts=ts,
                total_amount=40.0,
            )
        # two swipes in the same second at the night shop: ties in time must not split the sitting
        _add(
            rows,
            pid="人乙0",
            card_id="卡乙0",
            facility_code=NIGHT_SHOP,
            facility_kind="pharmacy",
            claim_ts=T0 + day * DAY + 23 * HOUR + 40 * MINUTE,
            total_amount=40.0,
        )
    for i in range(6):  # the holders usually claim in Chengdu, far from the shop: the far-holders cue
        for k in range(3):
            _add(
                rows,
                pid=f"人甲{i}",
                card_id=f"卡甲{i}",
                facility_code=CHENGDU,
                facility_kind="hospital",
                claim_ts=T0 + (40 + k) * DAY + 10 * HOUR,
                total_amount=123.4,
            )
    # never swipes: no card, no facility, an admission at the shop's facility
    _add(rows, pid="人丙", card_id=None, facility_code=SHOP, claim_ts=T0 + 23 * HOUR + 4 * MINUTE, total_amount=9.0)
    _add(rows, pid="人丙", card_id="卡丙", facility_code=None, claim_ts=T0 + 23 * HOUR + 5 * MINUTE, total_amount=9.0)
    _add(
        rows,
        pid="人丁",
        card_id="卡丁",
        facility_code=SHOP,
        terminal_id="后台-2",
        claim_ts=T0 + 23 * HOUR,
        admit_ts=T0,
        total_amount=900.0,
    )
    return rows


def _travel_rows() -> list[dict[str, Any]]:
    """Four cards held in Beijing and used again 80–100 minutes later in Chengdu under one gang phone (one
    jump crosses midnight), a card with two claims in the same second, and a same-day traveller."""
    rows: list[dict[str, Any]] = []
    for c in range(4):
        card, phone = f"卡丙{c}", f"1390000000{c}"
        for k in range(3):  # the holder at home, own phone
            _add(
                rows,
                pid=f"持卡人{c}",
                card_id=card,
                facility_code=BEIJING,
                patient_phone=phone,
                claim_ts=T0 + (2 + 5 * k) * DAY + 9 * HOUR,
                total_amount=88.0,
            )
        for k, start in enumerate((T0 + 20 * DAY + 10 * HOUR, T0 + 30 * DAY + 23 * HOUR + 30 * MINUTE)):
            _add(
                rows,
                pid=f"持卡人{c}",
                card_id=card,
                facility_code=BEIJING,
                patient_phone=phone,
                claim_ts=start + c * MINUTE,
                total_amount=60.0,
            )
            _add(
                rows,
                pid=f"冒用者{c}",
                card_id=card,
                facility_code=CHENGDU,
                patient_phone="13700000000",
                claim_ts=start + c * MINUTE + (80 + 20 * k) * MINUTE,
                total_amount=300.0 + k,
            )
    # the same second at two places: the claim id orders them, alike on both engines
    for fac in (CHENGDU, BEIJING):
        _add(
            rows,
            pid="同秒",
            card_id="卡-同秒",
            facility_code=fac,
            patient_phone="13500000000",
            claim_ts=T0 + 50 * DAY,
            total_amount=10.0,
        )
    # a traveller 6 hours later in Chengdu under their own phone: not a jump that counts
    _add(
        rows,
        pid="旅客",
        card_id="卡-旅",
        facility_code=BEIJING,
        patient_phone="13600000000",
        claim_ts=T0 + 60 * DAY + 7 * HOUR,
        total_amount=20.0,
    )
    _add(
        rows,
        pid="旅客",
        card_id="卡-旅",
        facility_code=CHENGDU,
        patient_phone="13600000000",
        claim_ts=T0 + 60 * DAY + 13 * HOUR,
        total_amount=20.0,
    )
    _add(rows, pid="无卡", card_id=None, facility_code=CHENGDU, claim_ts=T0 + 20 * DAY + 11 * HOUR)
    _add(rows, pid="无院", card_id="卡丙0", facility_code=None, claim_ts=T0 + 20 * DAY + 10 * HOUR + 30 * MINUTE)
    return rows


def _window(rows: list[dict[str, Any]], drop: tuple[str, ...] = ()) -> pl.DataFrame:
    """The claims as detection holds them on Polars (repeated strings categorical), less ``drop``."""
    frame = claims_frame(rows).drop(*drop)
    return frame.with_columns(pl.col(c).cast(pl.Categorical) for c in CATEGORICAL_CLAIM_COLUMNS if c in frame.columns)


def _on_spark(session: Any, frame: pl.DataFrame) -> Any:
    plain = frame.with_columns(pl.col(pl.Categorical).cast(pl.String))
    return spark_source(session.createDataFrame(plain.to_arrow(), schema=None))


def _sorted(leads: pl.DataFrame) -> pl.DataFrame:
    """A detector's leads in a fixed order (its rows come in group-by order, on either engine)."""
    return leads.sort("evidence_en", "numbers", pl.col("claim_ids").list.join(","))


def _both(session: Any, detector: Any, frame: pl.DataFrame) -> pl.DataFrame:
    on_polars = _sorted(detector(frame, T))
    on_spark = _sorted(detector(_on_spark(session, frame), T))
    assert on_spark.equals(on_polars), (on_polars, on_spark)
    return on_polars


def test_both_detectors_are_ported() -> None:
    assert {"burst_swiping", "impossible_travel"} <= set(PORTED)


def test_burst_windows_and_a_sitting_across_midnight_on_both_engines(spark_session) -> None:  # type: ignore[no-untyped-def]
    leads = _both(spark_session, swiping.burst_swiping, _window(_burst_rows()))
    found = sorted(leads["evidence_en"])
    assert len(found) == 2
    assert found[0].startswith(f"terminal {SHOP}:后台-2 swiped 6 cards in bursts on 3 days")
    assert "far_holders" in found[0] and "one_operator" in found[0]
    assert found[1].startswith(f"terminal {NIGHT_SHOP}: swiped 5 cards in bursts on 3 days")  # the sitting


def test_burst_window_without_terminal_and_operator_columns(spark_session) -> None:  # type: ignore[no-untyped-def]
    missing = _both(spark_session, swiping.burst_swiping, _window(_burst_rows(), ("terminal_id", "operator_id")))
    nulls = swiping.burst_swiping(_window([{**r, "terminal_id": None, "operator_id": None} for r in _burst_rows()]), T)
    assert missing.equals(_sorted(nulls))  # a missing optional column reads as a column of nulls
    shop = missing.filter(pl.col("evidence_en").str.contains(SHOP)).row(0, named=True)
    assert "one_operator" not in shop["evidence_en"] and f"terminal {SHOP}: swiped" in shop["evidence_en"]


def test_impostor_jumps_across_midnight_on_both_engines(spark_session) -> None:  # type: ignore[no-untyped-def]
    leads = _both(spark_session, travel.impossible_travel, _window(_travel_rows()))
    cards = sorted(leads["members"].list.eval(pl.element().struct.field("key")).list.first())
    # not the traveller; the card settled in two cities in one second is (far, fast, other city)
    assert cards == ["卡-同秒", *[f"卡丙{c}" for c in range(4)]]
    ev = leads.filter(pl.col("evidence_en").str.contains("卡丙0"))["evidence_en"][0]
    assert "2 times" in ev and "impostor_phone" in ev and "hub" in ev


def test_jumps_without_a_phone_column_on_both_engines(spark_session) -> None:  # type: ignore[no-untyped-def]
    leads = _both(spark_session, travel.impossible_travel, _window(_travel_rows(), ("patient_phone",)))
    assert leads.height == 5 and not leads["evidence_en"].str.contains("odd_phone").any()


def test_same_second_claims_are_ordered_by_claim_id() -> None:
    rows = _travel_rows()
    jumps = travel._jumps(travel.source_of(_window(rows)), T).filter(pl.col("card_id") == "卡-同秒")
    # 单 ids: CHENGDU's claim comes first, so the jump is Chengdu → Beijing
    assert jumps.select("prev_fac", "facility_code").rows() == [(CHENGDU, BEIJING)]


def test_empty_windows_give_no_leads_on_both_engines(spark_session) -> None:  # type: ignore[no-untyped-def]
    for detector in (swiping.burst_swiping, travel.impossible_travel):
        for frame in (_window([]), _window([]).drop("terminal_id", "patient_phone", "operator_id")):
            leads = _both(spark_session, detector, frame)
            assert leads.is_empty() and "members" in leads.columns


def test_a_small_synthetic_set_gives_the_same_leads_on_both_engines(spark_session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from ringsight.synth import SynthConfig, generate

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from bench_detect import stage_synth  # the loader's staged tables without a graph

    generate(SynthConfig(claims=3_000, seed=7, file_format="parquet"), tmp_path / "synth")
    settings = Settings(data_dir=tmp_path / "data", graph_name="g")
    stage_synth(tmp_path / "synth", settings)
    tables = str(staging_dir(settings))
    window = load_window(None, settings, since=datetime(2025, 7, 1), until=datetime(2025, 10, 1), tables=tables)
    src = spark.read_claims(spark_session, tables, window.since_ts, window.until_ts)
    for detector in (swiping.burst_swiping, travel.impossible_travel):
        on_polars = detector(window.claims, T)
        assert not on_polars.is_empty()
        assert _sorted(detector(src, T)).equals(_sorted(on_polars))
