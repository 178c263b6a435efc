"""The workbench does what it says, in headless Chromium: the new-case dialog opens only when asked and warns of
an open case, the side panel's 立案 button works, an expansion lands on free space, searching a node already
drawn selects and centres it, and values read as words (证件类型, dates, people, the store).

One app per module on the UI sample graph; C000002 has an open case from the start.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from ui_harness import (
    by_id,
    click_element,
    cy,
    ensure_login,
    fit,
    goto_tab,
    make_accounts,
    node_ids,
    sample_store,
    serve_to_browser,
    shot,
    status,
    wait,
)

from ringsight.cases import accounts, workflow
from ringsight.ui.app import create_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(embedded_server, data_dir) -> Iterator[SimpleNamespace]:  # type: ignore[no-untyped-def]
    with sample_store(data_dir, "t_uiw") as (settings, store, sample):
        users = make_accounts(store, "investigator", "supervisor")
        inv = accounts.get_user(store, users["investigator"])
        case = workflow.create_case(store, inv, "幸福路医院虚构住院", clusters=["C000002"])
        with serve_to_browser(create_app(settings, store)) as (url, driver):
            yield SimpleNamespace(url=url, store=store, sample=sample, users=users, driver=driver, case=case)


@pytest.fixture
def page(site: SimpleNamespace) -> Any:
    ensure_login(site.driver, site.url, site.users["investigator"])
    goto_tab(site.driver, "线索队列")
    wait(lambda: _row(site.driver, "C000001"), what="the queue")
    return site.driver


def _row(driver: Any, cluster_id: str) -> Any:
    return driver.find_element("css selector", f'#queue-grid .ag-center-cols-container .ag-row[row-id="{cluster_id}"]')


def _open(driver: Any, cluster_id: str) -> list[str]:
    """Open a cluster from its queue row and wait for it on the canvas and in the side panel."""
    goto_tab(driver, "线索队列")
    wait(lambda: _row(driver, cluster_id), what="the queue")
    # the open button sits in the pinned column: the same row id in another row container
    driver.find_element("css selector", f'#queue-grid .ag-row[row-id="{cluster_id}"] .open-btn').click()
    wait(lambda: cluster_id in by_id(driver, "canvas-counts").text, what=f"{cluster_id} on the canvas")
    wait(lambda: by_id(driver, "cluster-case-panel"), what="the side panel's case box")
    return node_ids(driver)


def _modal_open(driver: Any) -> bool:
    return bool(driver.find_elements("css selector", ".modal.show #case-title"))


def test_side_panel_button_opens_the_dialog_and_it_never_opens_by_itself(page: Any, site: SimpleNamespace) -> None:
    _open(page, "C000003")  # no case yet: the panel offers 立案
    button = wait(lambda: page.find_element("css selector", "#cluster-case-panel button.btn-danger"), what="立案")
    button.click()
    title = wait(lambda: page.find_element("css selector", ".modal.show #case-title"), what="the dialog")
    wait(lambda: "C000003" in title.get_attribute("value"), what="a title from the cluster")
    assert not page.find_elements("id", "case-exists")
    by_id(page, "case-create-cancel").click()
    wait(lambda: not _modal_open(page), what="the dialog to close")
    # a cluster without a case, then one with a case: the dialog stays shut
    _open(page, "C000004")
    _open(page, "C000002")
    wait(lambda: site.case.case_id in by_id(page, "cluster-case-panel").text, what="the open case in the panel")
    time.sleep(1.0)  # give a stray callback time to open it
    assert not _modal_open(page)


def test_a_second_case_on_a_cluster_is_warned_and_refused(page: Any, site: SimpleNamespace) -> None:
    _row(page, "C000002").find_element("css selector", '[col-id="cluster_id"]').click()
    wait(lambda: by_id(page, "queue-case-btn").is_enabled(), what="the open-a-case button")
    by_id(page, "queue-case-btn").click()
    # the warning's element can be drawn a moment before its text: wait for the text itself
    warning = wait(lambda: page.find_element("id", "case-exists").text, what="the open-case warning")
    assert site.case.case_id in warning
    by_id(page, "case-create-confirm").click()
    refused = wait(lambda: by_id(page, "case-modal-msg").text, what="the refusal")
    assert site.case.case_id in refused and "已有" in refused
    assert [c.case_id for c in workflow.cases_covering(site.store, "Cluster", "C000002")] == [site.case.case_id]
    by_id(page, "case-create-cancel").click()
    wait(lambda: not _modal_open(page), what="the dialog to close")


def test_an_expansion_lands_on_free_space(page: Any) -> None:
    before = _open(page, "C000001")
    fit(page)
    card = next(i for i in before if i.startswith("Card:"))
    click_element(page, card, double=True)
    grown = wait(lambda: [i for i in node_ids(page) if i not in before], what="new neighbours")
    time.sleep(0.3)
    where = cy(page, "Object.fromEntries(cy.nodes().map(n => [n.id(), n.position()]))")
    for new in grown:
        for other, p in where.items():
            if other == new:
                continue
            gap = math.hypot(where[new]["x"] - p["x"], where[new]["y"] - p["y"])
            assert gap >= 50, (new, other, gap)  # node centres further apart than a node and its label
    shot(page, "expand-free-space")


def test_search_for_a_node_already_drawn_selects_and_centres_it(page: Any, site: SimpleNamespace) -> None:
    _open(page, "C000002")
    phone = "13911110001"  # a member of C000002: already on the canvas
    drawn = [i for i in node_ids(page) if i.startswith("Phone:")]
    assert drawn
    cy(page, "void cy.pan({x: -600, y: -400})")  # move it out of the middle first
    box = by_id(page, "search-input")
    box.clear()
    box.send_keys(phone)
    by_id(page, "search-btn").click()
    wait(lambda: page.find_elements("css selector", "#search-hits .hit button"), what="the hit")
    page.find_element("css selector", "#search-hits .hit button").click()
    wait(lambda: "已在图中" in status(page), what="the already-drawn message")
    assert "已加入 0 个节点" not in status(page)
    selected = wait(lambda: cy(page, "cy.$('node:selected').map(n => n.id())"), what="a selected node")
    assert len(selected) == 1 and selected[0].startswith("Phone:")
    time.sleep(0.5)  # the centring animation
    x, y, w, h = page.execute_script(
        "const cy = document.getElementById('cy')._cyreg.cy;"
        "const p = cy.getElementById(arguments[0]).renderedPosition();"
        "return [p.x, p.y, cy.width(), cy.height()];",
        selected[0],
    )
    assert abs(x - w / 2) < 40 and abs(y - h / 2) < 40


def test_values_read_as_words(page: Any, site: SimpleNamespace) -> None:
    pill = page.find_element("css selector", ".nav-pill").text
    assert "内置图库" in pill and "unix" not in pill and "FalkorDB" not in pill
    assignee = _row(page, "C000002").find_element("css selector", '[col-id="assignee"]').text
    assert assignee == "李调查"
    header = page.find_element("css selector", '#queue-grid .ag-header-cell[col-id="district"]').text
    assert "参保人住址区县" in header
    _open(page, "C000002")
    fit(page)
    patient = next(i for i in node_ids(page) if i.startswith("Patient:"))
    click_element(page, patient)
    details = wait(lambda: by_id(page, "details").text if "证件类型" in by_id(page, "details").text else "")
    assert "居民身份证" in details and "resident" not in details
    ticks = wait(
        lambda: [e.text for e in page.find_elements("css selector", "#timeline .xtick text") if e.text],
        what="timeline ticks",
    )
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", tick) for tick in ticks), ticks
    panel = by_id(page, "cluster-case-panel").text
    assert "李调查" in panel
