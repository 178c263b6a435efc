"""The projection's context scan gives the same person–person edges on Polars and on Spark.

Hand-made claims, shaped unlike the generator's: every context kind, persons missing, a facility
missing, Chinese keys, a hub address larger than ``covisit_max_group`` (adds nothing), out-of-focus
groups, a trace code sold twice. The expected weights are worked out by hand from the resource
allocation rule (``CONTEXT_WEIGHTS[kind] / (k - 1)``).
"""

from __future__ import annotations

import polars as pl
import pytest

from ringsight.algorithms.engine import polars_source, spark_source
from ringsight.algorithms.frames import DETECT_CLAIM_COLUMNS, claims_frame, compact, items_frame
from ringsight.algorithms.pipeline import detect_frames
from ringsight.algorithms.projections import contexts, person_edges
from ringsight.config import DetectSettings

T0 = 1_751_335_200  # 2025-07-01 10:00 +08:00
DAY = 86_400


def _claims() -> pl.DataFrame:
    rows: list[dict] = []

    def add(**kw: object) -> None:
        rows.append({"claim_id": f"单-{len(rows):03d}", "claim_ts": T0 + len(rows) * 7_200, **kw})

    add(pid="甲", card_id="卡1")  # 甲 and 乙 share a card (1.0)
    add(pid="乙", card_id="卡1")
    for p in ("甲", "丙", "丁"):  # one address, three persons: 0.4 / 2 per pair
        add(pid=p, address_key="幸福路 1 号")
    add(pid="戊", patient_phone="138")  # own phone (1.0) and contact phone (0.8) are two kinds
    add(pid="甲", contact_phone="138")
    add(pid="己", contact_phone="138")
    for i in range(60):  # a hub address: more persons than covisit_max_group, adds nothing
        add(pid="甲" if i == 0 else f"众{i}", address_key="养老院")
    add(pid=None, card_id="卡1")  # no person: never a member
    # a burst: three swipes at one terminal within minutes, at a facility with no code
    for p in ("庚", "乙"):
        rows.append({"claim_id": f"爆-{p}", "claim_ts": T0 + 40 * DAY + 60, "pid": p, "terminal_id": "T9"})
    # co-admission and one bed: admitted and discharged the same days at one facility
    for p, bed in (("辛", "3床"), ("甲", "3床")):
        rows.append(
            {
                "claim_id": f"住-{p}",
                "claim_ts": T0 + 50 * DAY,
                "pid": p,
                "facility_code": "医院A",
                "admit_ts": T0 + 45 * DAY,
                "discharge_ts": T0 + 50 * DAY,
                "bed_no": bed,
                "visit_type": "inpatient",
            }
        )
    for p in ("壬", "癸"):  # a card shared by two persons nobody in focus knows: no edge with a focus
        add(pid=p, card_id="卡远")
    return claims_frame(rows)


def _items() -> pl.DataFrame:
    return items_frame(
        [
            {"claim_id": "单-000", "item_code": "药", "trace_codes": ["溯源码-1"]},
            {"claim_id": "单-007", "item_code": "药", "trace_codes": ["溯源码-1"]},  # 己's claim
        ]
    )


def _edges(claims: pl.DataFrame, items: pl.DataFrame, focus: pl.Series | None, source=None) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    t = DetectSettings().thresholds
    ctx = contexts(claims, items, t, focus=focus, source=source)
    return person_edges(ctx, t.covisit_max_group, 0.0, focus=focus).with_columns(pl.col("a", "b").cast(pl.String))


def _pair(x: str, y: str) -> tuple[str, str]:
    return (x, y) if x < y else (y, x)


def _as_dict(edges: pl.DataFrame) -> dict[tuple[str, str], float]:
    return {_pair(a, b): round(w, 9) for a, b, w in edges.iter_rows()}


def _spark_window(session, claims: pl.DataFrame):  # type: ignore[no-untyped-def]
    return spark_source(session.createDataFrame(claims.select(DETECT_CLAIM_COLUMNS).to_arrow()))


def test_hand_worked_weights_on_polars() -> None:
    claims, items = compact(_claims(), _items())
    got = _as_dict(_edges(claims, items, None))
    assert got[_pair("乙", "甲")] == 1.0  # the card
    assert got[_pair("丙", "丁")] == 0.2 and got[_pair("丙", "甲")] == 0.2  # the address, three persons
    assert got[_pair("己", "甲")] == pytest.approx(0.8 + 1.0)  # the contact phone and the trace code
    assert _pair("己", "戊") not in got, "戊 holds the number as own phone: another kind, a context of one"
    assert got[_pair("乙", "庚")] == 0.5  # the burst at a facility without code
    assert got[_pair("甲", "辛")] == pytest.approx(1.0 + 0.8)  # co-admission and the bed
    assert got[_pair("壬", "癸")] == 1.0
    assert not any("众1" in pair for pair in got), "a hub larger than covisit_max_group adds nothing"
    focused = _as_dict(_edges(claims, items, pl.Series(["甲"])))
    assert set(focused) == {pair for pair in got if "甲" in pair}
    assert all(focused[p] == got[p] for p in focused), "a focus keeps the full projection's weights"


@pytest.mark.parametrize("focus", [None, ["甲", "庚"], ["不存在"]], ids=["all", "two persons", "nobody"])
def test_same_edges_on_polars_and_spark(spark_session, focus: list[str] | None) -> None:  # type: ignore[no-untyped-def]
    claims, items = compact(_claims(), _items())
    pids = None if focus is None else pl.Series(focus)
    on_polars = _edges(claims, items, pids)
    on_spark = _edges(claims, items, pids, _spark_window(spark_session, claims))
    assert _as_dict(on_spark) == _as_dict(on_polars)
    assert (on_polars.height == 0) == (focus == ["不存在"])
    same_source = _edges(claims, items, pids, polars_source(claims))
    assert same_source.equals(on_polars)


def test_detection_reports_where_the_projection_ran(spark_session) -> None:  # type: ignore[no-untyped-def]
    claims, items = compact(_claims(), _items())
    cfg = DetectSettings()
    here = detect_frames(claims, items, cfg)
    there = detect_frames(claims, items, cfg, source=_spark_window(spark_session, claims))
    assert here.engines["projection"] == "polars" and there.engines["projection"] == "spark"
    assert there.edge_count == here.edge_count
    assert there.members.sort(pl.all()).equals(here.members.sort(pl.all()))


def test_edges_are_oriented_by_text_whatever_order_the_window_was_read_in() -> None:
    """a < b as text, so a rerun over the same claims gives the very same edges (and communities).

    Categorical codes follow the order strings were first seen; the parallel read of a window sees
    them in a different order each run, and the pairs used to come out a ↔ b swapped.
    """
    import uuid

    tag = uuid.uuid4().hex  # names no earlier test has put into the categorical cache
    first, second = f"z-{tag}", f"a-{tag}"
    pl.Series([first, second], dtype=pl.Categorical)  # "z-" gets the smaller code
    ctx = pl.DataFrame(
        {"kind": ["card", "card"], "ctx": [1, 1], "pid": [first, second]},
        schema={"kind": pl.String, "ctx": pl.UInt64, "pid": pl.Categorical},
    )
    edges = person_edges(ctx, 40)
    assert edges.rows() == [(second, first, 1.0)]
    assert edges.schema["a"] == pl.String
