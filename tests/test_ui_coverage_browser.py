"""The workbench's run banner says which detectors had nothing to work on, in headless Chromium.

A file with only the required columns (inpatient stays, no phones, items,
pharmacies, trace codes) is loaded into a graph of its own, detection runs
over it, and the banner is read as an investigator sees it: a short line,
a list that unfolds, in both languages. Screenshot: test-artifacts/ui-run-coverage.png.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from ui_harness import by_id, ensure_login, make_accounts, serve_to_browser, shot, wait

from ringsight.algorithms.pipeline import run_detection
from ringsight.config import Settings
from ringsight.graph import open_store
from ringsight.identity import resident_id_check_char
from ringsight.loaders import load_files
from ringsight.ui.app import create_app

pytestmark = pytest.mark.browser


def _rid(n: int) -> str:
    body = f"5101041950{1 + n % 12:02d}{10 + n % 18:02d}{n:03d}"[:17]
    return body + resident_id_check_char(body)


def _stays_only(path: Path) -> None:
    """Required columns only: 30 inpatient stays at two hospitals (no phones, items, pharmacies, trace codes)."""
    with open(path, "w", newline="", encoding="utf-8") as out:
        w = csv.writer(out)
        w.writerow(
            ["claim_id", "visit_type", "claim_time", "admit_time", "discharge_time", "patient_id", "card_id",
             "facility_id", "total_amount"]
        )  # fmt: skip
        for i in range(30):
            day = i % 20
            w.writerow(
                [f"S{i:04d}", "inpatient", f"2025-06-{day + 6:02d} 10:00", f"2025-06-{day + 1:02d} 09:00",
                 f"2025-06-{day + 6:02d} 09:00", _rid(i), f"CARD{i:04d}", f"H51010400{i % 2:03d}", "5200.00"]
            )  # fmt: skip


@pytest.fixture(scope="module")
def workbench(embedded_server, data_dir, tmp_path_factory) -> Iterator[SimpleNamespace]:  # type: ignore[no-untyped-def]
    settings = Settings(graph="embedded", data_dir=data_dir, graph_name=f"t_cov_{uuid.uuid4().hex[:10]}")
    store = open_store(settings)
    store.ensure_schema()
    try:
        path = tmp_path_factory.mktemp("cov") / "stays.csv"
        _stays_only(path)
        load_files([path], settings=settings, store=store)
        summary = run_detection(store, settings, since=datetime(2025, 5, 1))
        users = make_accounts(store, "investigator")
        with serve_to_browser(create_app(settings, store)) as (url, driver):
            yield SimpleNamespace(url=url, driver=driver, user=users["investigator"], summary=summary)
    finally:
        store.clear()
        store.close()


def _banner(driver: Any) -> str:
    return by_id(driver, "run-info").text


def test_run_banner_names_the_detectors_without_input(workbench) -> None:  # type: ignore[no-untyped-def]
    driver = workbench.driver
    idle = [c for c in workbench.summary.coverage if c["status"] == "no input"]
    assert any(c["detector"] == "trace_code_resale" for c in idle)  # the data really lack an input

    ensure_login(driver, workbench.url, workbench.user)
    wait(lambda: f"{len(idle)} 个检测器无输入" in _banner(driver), what="the coverage line in Chinese")
    cov = by_id(driver, "run-coverage")
    assert cov.get_attribute("open") is None  # folded: one short line
    assert "trace_code_resale — 缺 药品追溯码" in cov.get_attribute("title")  # and as a tooltip

    driver.find_element("css selector", "#run-coverage summary").click()
    items = wait(lambda: [li.text for li in driver.find_elements("css selector", ".run-cov-list li") if li.text],
                 what="the unfolded list")  # fmt: skip
    assert "trace_code_resale — 缺 药品追溯码" in items
    assert "drug_shopping — 缺 费用明细; 缺 药店结算" in items
    assert "shared_card — 缺" not in " ".join(items)  # cards were there: not listed as lacking them
    shot(driver, "run-coverage")

    driver.find_element("xpath", "//label[normalize-space()='EN']").click()
    wait(lambda: f"{len(idle)} detectors had no input" in _banner(driver), what="the coverage line in English")
    driver.find_element("css selector", "#run-coverage summary").click()
    items = wait(lambda: [li.text for li in driver.find_elements("css selector", ".run-cov-list li") if li.text],
                 what="the unfolded English list")  # fmt: skip
    assert "trace_code_resale — no trace codes" in items
    assert any(i.startswith("impossible_travel — without ") for i in items)  # partial: no phones
    shot(driver, "run-coverage-en")
    driver.find_element("xpath", "//label[normalize-space()='中文']").click()
