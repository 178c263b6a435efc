"""doctor_pharmacy, drug_shopping, contact_stays and trace_code_resale give the same leads on Polars and Spark.

The hand-made window is shaped unlike the synthetic generator's: Chinese keys everywhere, persons
and doctors missing on some claims, items without a category (a drug known by its X…/Z… code), a
service line with a drug-like code, a trace code twice on one claim, empty trace codes, claims and
items outside the window that would change a lead if they were counted, a care home whose residents
share a desk phone. Then the same four detectors on a small synthetic set loaded by the loader.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from ringsight.algorithms import spark
from ringsight.algorithms.detectors import run_detectors
from ringsight.algorithms.engine import PORTED
from ringsight.algorithms.frames import claims_frame, items_frame, load_window
from ringsight.config import DetectSettings, Settings
from ringsight.graph.store import GraphStore
from ringsight.tables import staging_dir

T0 = 1_751_299_200  # 2025-07-01 00:00 +08:00
DAY = 86_400
SINCE, UNTIL = datetime(2025, 7, 1), datetime(2025, 8, 1)
NAMES = ["doctor_pharmacy", "drug_shopping", "contact_stays", "trace_code_resale"]
T = DetectSettings().thresholds


class Window:
    """Hand-made claims and items, added one claim at a time."""

    def __init__(self) -> None:
        self.claims: list[dict] = []
        self.items: list[dict] = []

    def claim(self, items: list[dict] | None = None, **kw: object) -> str:
        cid = f"单-{len(self.claims):04d}"
        row = {"claim_id": cid, "claim_ts": T0 + len(self.claims) * 600, "total_amount": 33.3, **kw}
        self.claims.append(row)
        self.items += [{"claim_id": cid, **item} for item in items or []]
        return cid


def _prescriptions(w: Window) -> None:
    """医师1 sends 21 fills to 药店-串通 (no visit for 20, one operator, big fills); colleagues spread theirs."""
    visit = {"facility_code": "医院-甲", "facility_kind": "hospital"}
    for d in range(1, 6):
        w.claim(pid="门诊", doctor_code=f"医师{d}", **visit)
    w.claim(pid="复诊", doctor_code="医师1", claim_ts=T0 + 5 * DAY, **visit)  # the one fill after a visit
    rx = {"facility_code": "药店-串通", "facility_kind": "pharmacy", "doctor_code": "医师1"}
    big = [{"item_code": "X中成药-9", "quantity": 6.0, "amount": 60.0}]  # no category: a drug by its code
    service = [{"item_code": "X针灸", "item_category": "service", "quantity": 50.0, "amount": 5.0}]
    for i in range(20):
        w.claim(
            pid=None if i < 2 else f"甲{i}",  # two fills without a person: counted, never a member
            operator_id="操作员-1" if i < 18 else None,
            items=big if i < 5 else service,
            **rx,
        )
    w.claim(pid="复诊", claim_ts=T0 + 6 * DAY, operator_id="操作员-1", **rx)
    for i in range(4):  # outside the window: would lower the share of visits if counted
        w.claim(pid="复诊", claim_ts=T0 - DAY - i, **rx)
    for i in range(60):
        usual = [{"item_code": "X中成药-9", "quantity": 1.0, "amount": 10.0}] if i < 10 else []
        w.claim(
            pid=f"乙{i}",
            facility_code=f"药店{i % 6}",
            facility_kind="pharmacy",
            doctor_code=f"医师{2 + i % 4}",
            items=usual,
        )
    w.claim(pid="无医师", facility_code="药店-串通", facility_kind="pharmacy")  # no doctor: not a prescription


def _shopping(w: Window) -> None:
    """倒卖者 buys 20 packs of one dear drug at four pharmacies; a chronic patient as many packs, cheaply."""
    for i in range(4):
        drug = {"item_code": "Z药-贵", "item_category": "drug", "quantity": 5.0, "amount": 2600.0}
        w.claim(pid="倒卖者", card_id="卡-倒", facility_code=f"药房{i}", facility_kind="pharmacy", items=[drug])
        cheap = {"item_code": "Z药-贵", "item_category": "drug", "quantity": 5.0, "amount": 50.0}
        w.claim(pid="慢病", card_id=None, facility_code=f"药房{i}", facility_kind="pharmacy", items=[cheap])
    for i in range(36):
        drug = {"item_code": "Z药-贵", "item_category": "drug", "quantity": 1.0, "amount": 520.0}
        w.claim(pid=None if i == 0 else f"买{i}", facility_code=f"药房{i % 4}", facility_kind="pharmacy", items=[drug])


def _trace_codes(w: Window) -> None:
    """追溯码-1/-2 sold at 药房0 come back at 回流药房; the others are not resold in the window."""
    w.claim(
        pid="溯甲",
        card_id="卡-溯甲",
        facility_code="药房0",
        facility_kind="pharmacy",
        items=[{"item_code": "X1", "quantity": 1.0, "trace_codes": ["追溯码-1", "追溯码-2", ""]}],
    )
    w.claim(
        pid="溯乙",
        card_id="卡-溯乙",
        facility_code="回流药房",
        facility_kind="pharmacy",
        items=[{"item_code": "X1", "quantity": 1.0, "trace_codes": ["追溯码-2", "追溯码-1", ""]}],
    )
    twice = [{"item_code": "X2", "quantity": 1.0, "trace_codes": ["追溯码-3"]}] * 2  # one claim, two lines
    w.claim(pid="溯丙", facility_code="药房1", facility_kind="pharmacy", items=twice)
    w.claim(
        pid="溯丁",
        facility_code="药房2",
        facility_kind="pharmacy",
        items=[{"item_code": "X3", "quantity": 1.0, "trace_codes": ["追溯码-4"]}],
    )
    w.claim(
        pid="溯戊",
        facility_code="药房3",
        facility_kind="pharmacy",
        claim_ts=T0 - 3 * DAY,  # outside the window
        items=[{"item_code": "X3", "quantity": 1.0, "trace_codes": ["追溯码-4"]}],
    )


def _contacts(w: Window) -> None:
    """Eight persons tied by one phone and one address all stay once at 民营医院-乙; a care home does not count."""
    stay = {"facility_kind": "hospital", "facility_ownership": "private", "diagnosis_code": "J18.9"}
    for i in range(8):
        w.claim(
            pid=f"鬼{i}",
            patient_phone="13912345678" if i < 5 else None,
            address_key="幸福路1号" if i >= 3 else f"鬼址{i}",
            facility_code="民营医院-乙",
            admit_ts=T0 + i * DAY,
            total_amount=8000.0,
            **stay,
        )
    w.claim(pid=None, patient_phone="13912345678", facility_code="民营医院-乙")  # no person: links nobody
    for i in range(30):  # a care home: one address, a desk phone given by ten, all treated at the hospital nearby
        desk = "010-6000" if i < 10 else None
        w.claim(
            pid=f"院{i}",
            address_key="养老院",
            contact_phone=desk,
            facility_code="医院-丙",
            admit_ts=T0 + i * 3600,
            **stay,
        )


def _tables(tmp_path: Path, items: bool = True) -> str:
    w = Window()
    for part in (_prescriptions, _shopping, _trace_codes, _contacts):
        part(w)
    frames = {"claims": claims_frame(w.claims)}
    if items:
        frames["items"] = items_frame(w.items)
    for name, frame in frames.items():
        (tmp_path / name).mkdir()
        frame.write_parquet(tmp_path / name / "part-0.parquet")
    return str(tmp_path)


def _both(session, tables: str, since: datetime = SINCE, until: datetime = UNTIL) -> tuple[pl.DataFrame, pl.DataFrame]:  # type: ignore[no-untyped-def]
    """The four detectors' leads on Polars (the window ``load_window`` holds) and on Spark (the same tables)."""
    window = load_window(None, Settings(data_dir=Path(tables)), since=since, until=until, tables=tables)
    src = spark.read_claims(session, tables, window.since_ts, window.until_ts)
    on_polars, _ = run_detectors(window.claims, window.items, T, NAMES)
    on_spark, _ = run_detectors(window.claims, window.items, T, NAMES, source=src)
    return on_polars, on_spark


def _lead(leads: pl.DataFrame, detector: str) -> dict:
    rows = leads.filter(pl.col("detector") == detector)
    assert rows.height == 1, rows["evidence_en"].to_list()
    return rows.row(0, named=True)


def _keys(lead: dict, role: str) -> list[str]:
    return [m["key"] for m in lead["members"] if m["role"] == role]


def test_the_four_detectors_are_ported() -> None:
    assert set(NAMES) <= set(PORTED)


def test_hand_made_window_gives_the_same_leads_on_polars_and_spark(spark_session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    on_polars, on_spark = _both(spark_session, _tables(tmp_path))
    assert on_spark.equals(on_polars)
    assert sorted(on_polars["detector"]) == sorted(NAMES)  # one lead each, nothing from the look-alikes

    dp = _lead(on_polars, "doctor_pharmacy")
    assert _keys(dp, "prescriber") == ["医师1"] and _keys(dp, "pharmacy") == ["药店-串通"]
    numbers = json.loads(dp["numbers"])
    assert numbers["n_dp"] == 21  # the four fills before the window are not counted
    assert numbers["no_visit"] == 0.95  # one fill of 21 followed a visit to 医师1 within three days
    assert numbers["top_operator"] == 0.9 and numbers["one_operator"]
    assert numbers["fill_ratio"] == 6.0 and numbers["big_fills"]  # the service line is not a drug
    assert None not in _keys(dp, "rx_patient") and "复诊" in _keys(dp, "rx_patient")

    shop = _lead(on_polars, "drug_shopping")
    assert _keys(shop, "buyer") == ["倒卖者"] and _keys(shop, "buyer_card") == ["卡-倒"]
    numbers = json.loads(shop["numbers"])
    assert {k: numbers[k] for k in ("n_pharm", "packs", "median_packs", "amount")} == {
        "n_pharm": 4,
        "packs": 20.0,
        "median_packs": 1.0,
        "amount": 10400.0,
    }
    assert numbers["money_cue"] and numbers["dear_drug"] and not numbers["several_drugs"]
    # 慢病 bought right after 倒卖者 at each of the four shops: together, yet no lead (cheap drug, no money)
    assert numbers["together"] and numbers["cues"] == 3 and numbers["n_counties"] == 0  # 药房0-3: no county code

    trace = _lead(on_polars, "trace_code_resale")
    assert _keys(trace, "reseller") == ["回流药房"] and _keys(trace, "first_seller") == ["药房0"]
    assert json.loads(trace["numbers"])["codes"] == 2  # not the code twice on one claim, nor the one resold too early

    ghosts = _lead(on_polars, "contact_stays")
    assert _keys(ghosts, "ghost_patient") == [f"鬼{i}" for i in range(8)]
    assert _keys(ghosts, "shared_phone") == ["13912345678"] and _keys(ghosts, "shared_address") == ["幸福路1号"]


def test_no_items_and_an_empty_window_on_both_engines(spark_session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tables = _tables(tmp_path, items=False)  # a bureau without line items: no items folder at all
    on_polars, on_spark = _both(spark_session, tables)
    assert on_spark.equals(on_polars)
    assert sorted(on_polars["detector"]) == ["contact_stays", "doctor_pharmacy"]
    numbers = json.loads(_lead(on_polars, "doctor_pharmacy")["numbers"])
    assert numbers["fill_ratio"] is None and not numbers["big_fills"]
    empty_polars, empty_spark = _both(spark_session, tables, datetime(2026, 1, 1), datetime(2026, 2, 1))
    assert empty_polars.is_empty() and empty_spark.is_empty() and empty_spark.columns == empty_polars.columns


@pytest.fixture
def synth_tables(store: GraphStore, settings: Settings, tmp_path: Path) -> tuple[str, dict]:
    """A small synthetic set with planted rings, loaded by the loader (its staged tables)."""
    from ringsight.loaders import load_files
    from ringsight.synth.config import SynthConfig
    from ringsight.synth.generator import generate

    result = generate(SynthConfig(claims=3_000, seed=5), tmp_path / "synth")
    load_files([result.claims_path], [result.items_path], settings=settings, store=store)
    return str(staging_dir(settings)), json.loads(result.ground_truth_path.read_text(encoding="utf-8"))


def test_synthetic_rings_give_the_same_leads_on_polars_and_spark(  # type: ignore[no-untyped-def]
    spark_session, synth_tables: tuple[str, dict]
) -> None:
    tables, truth = synth_tables
    since = datetime.fromisoformat(truth["start"])
    on_polars, on_spark = _both(spark_session, tables, since, since + timedelta(days=truth["days"] + 1))
    assert on_spark.equals(on_polars)
    counts = dict(on_polars.group_by("detector").len().iter_rows())
    assert all(counts.get(name, 0) >= 1 for name in NAMES), counts
