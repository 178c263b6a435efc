"""The workbench in headless Chromium: click and read the page like an investigator.

One app per module serves the UI sample graph (tests/sample_graph.py) from the
real embedded store in a background thread; the browser logs in once as an
investigator and each test reloads the page (helpers in tests/ui_harness.py).
Screenshots of each main screen go to test-artifacts/ (look at them).
"""

from __future__ import annotations

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
    open_cluster,
    sample_store,
    serve,
    shot,
    start_browser,
    status,
    wait,
)

from ringsight.identity import pseudonym, short_pseudonym
from ringsight.ui.app import create_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def ui_server(embedded_server, data_dir) -> Iterator[SimpleNamespace]:  # type: ignore[no-untyped-def]
    with sample_store(data_dir, "t_ui") as (settings, store, sample):
        users = make_accounts(store, "investigator")
        app = create_app(settings, store, supernode=150, expand_cap=25)
        with serve(app) as url:
            yield SimpleNamespace(
                url=url, sample=sample, store=store, app=app, user=users["investigator"], settings=settings
            )


@pytest.fixture(scope="module")
def browser(ui_server) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    driver = start_browser()
    yield driver
    driver.quit()


@pytest.fixture
def page(browser, ui_server):  # type: ignore[no-untyped-def]
    ensure_login(browser, ui_server.url, ui_server.user)  # every route needs a login (ringsight.ui.auth)
    wait(lambda: len(browser.find_elements("css selector", ".open-btn")) == 4, what="queue rows")
    return browser


# -- tests -----------------------------------------------------------------------------------
def test_queue_ranks_clusters_and_opens_the_top_one(page, ui_server) -> None:  # type: ignore[no-untyped-def]
    rows = page.find_elements("css selector", ".ag-center-cols-container .ag-row")
    ids = [r.find_element("css selector", '[col-id="cluster_id"]').text for r in rows]
    assert sorted(ids) == ["C000001", "C000002", "C000003", "C000004"]
    first = page.find_element("css selector", '.ag-center-cols-container .ag-row[row-index="0"]')
    assert first.find_element("css selector", '[col-id="cluster_id"]').text == "C000001"
    assert first.find_element("css selector", '[col-id="change_label"]').text == "新发现"
    assert "聚敛盗刷社保卡" in first.find_element("css selector", '[col-id="typologies"]').text
    assert "R20250701-030000" in by_id(page, "run-info").text
    shot(page, "queue")

    members = open_cluster(page, 0)
    expected = ui_server.sample.clusters["C000001"]["members"]
    wait(lambda: len(node_ids(page)) == len(expected), what="all members")
    assert cy(page, "cy.nodes('[member = 1]').length") == len(expected)
    assert {m.split(":")[0] for m in members} == {"Facility", "Terminal", "Card"}
    assert cy(page, "cy.edges('[rel = \"SWIPED_AT\"]').length") == 14
    wait(lambda: "C000001" in status(page), what="status")
    assert "聚敛盗刷社保卡" in by_id(page, "cluster-summary").text
    time.sleep(0.5)
    shot(page, "network")


def test_double_click_expands_and_undo_takes_it_back(page) -> None:  # type: ignore[no-untyped-def]
    before = open_cluster(page, 0)
    wait(lambda: len(node_ids(page)) == 16)
    fit(page)
    positions = cy(page, "Object.fromEntries(cy.nodes().map(n => [n.id(), n.position()]))")
    card = next(i for i in before if i.startswith("Card:"))
    click_element(page, card, double=True)
    grown = wait(lambda: [i for i in node_ids(page) if i not in positions], what="new neighbours")
    assert any(i.startswith("Patient:") for i in grown)  # the card's holder
    after = cy(page, "Object.fromEntries(cy.nodes().map(n => [n.id(), n.position()]))")
    for nid, pos in positions.items():  # the graph grew; nothing that was there moved
        assert abs(after[nid]["x"] - pos["x"]) < 0.5 and abs(after[nid]["y"] - pos["y"]) < 0.5
    assert "展开" in by_id(page, "breadcrumb").text
    by_id(page, "undo-btn").click()
    wait(lambda: set(node_ids(page)) == set(positions), what="undo")
    assert "已撤销" in status(page)


def test_supernode_is_counted_first_and_expanded_by_type(page, ui_server) -> None:  # type: ignore[no-untyped-def]
    goto_tab(page, "关系图谱")
    search(page, ui_server.sample.big_hospital)
    add_first_hit(page)
    big = f"Facility:{ui_server.sample.big_hospital}"
    wait(lambda: big in node_ids(page))
    click_element(page, big, double=True)
    wait(lambda: "大节点" in status(page), what="supernode message")
    assert node_ids(page) == [big]
    row = "//div[@id='expansions']//div[contains(@class,'expand-row')][contains(., '就诊结算')]//button"
    wait(lambda: page.find_element("xpath", row), what="count-first expansion rows")
    assert "大节点" in by_id(page, "details").text
    time.sleep(0.5)  # the double-click's two taps re-render the panel; click the settled one
    wait(lambda: page.find_element("xpath", row).click() or True, what="expand button")
    wait(lambda: len(node_ids(page)) == 26, what="25 patients (the cap)")
    assert all(i.startswith("Patient:") for i in node_ids(page) if i != big)
    more = wait(lambda: page.find_element("xpath", row + "[normalize-space()='显示更多']"), what="show more")
    more.click()
    wait(lambda: len(node_ids(page)) == 51, what="25 more patients")


def search(driver: Any, text: str) -> None:
    box = by_id(driver, "search-input")
    box.clear()
    box.send_keys(text)
    by_id(driver, "search-btn").click()
    wait(lambda: driver.find_elements("css selector", "#search-hits .hit"), what=f"search hits for {text}")


def add_first_hit(driver: Any) -> None:
    driver.find_element("css selector", "#search-hits .hit button").click()


def test_search_a_phone_and_drop_it_on_the_canvas(page, ui_server) -> None:  # type: ignore[no-untyped-def]
    open_cluster(page, 3)
    phone = ui_server.sample.clusters["C000002"]["phones"][0]
    search(page, phone)
    hit = page.find_element("css selector", "#search-hits .hit")
    key = pseudonym("phone", phone, ui_server.settings.pseudonym_key())
    masked = short_pseudonym("phone", key)
    assert masked in hit.text and phone not in hit.text
    add_first_hit(page)
    node = wait(lambda: cy(page, "cy.nodes('[type = \"Phone\"]').map(n => n.data())"), what="phone on canvas")
    assert node[0]["label"] == masked and node[0]["id"].startswith("Phone:~")
    assert phone not in cy(page, "JSON.stringify(cy.json().elements)")
    wait(lambda: masked in by_id(page, "details").text, what="details of the dropped phone")
    time.sleep(0.4)
    shot(page, "search")


def _date(driver: Any, element_id: str, value: str) -> None:
    from selenium.webdriver.common.keys import Keys

    box = by_id(driver, element_id)
    box.click()
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(value, Keys.ENTER)
    time.sleep(0.2)


def test_time_filter_applies_to_the_canvas(page) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.keys import Keys

    open_cluster(page, 1)
    wait(lambda: cy(page, "cy.edges('[rel = \"VISITED\"]').map(e => e.data('count'))") == [4] * 10)
    _date(page, "time-start", "2025-02-01")
    _date(page, "time-end", "2025-03-31")
    by_id(page, "time-end").send_keys(Keys.ESCAPE)
    by_id(page, "time-apply").click()
    wait(lambda: cy(page, "cy.edges('[rel = \"VISITED\"]').map(e => e.data('count'))") == [2] * 10, what="filtered")
    assert "2025-02-01" in status(page) and "2025-03-31" in status(page)
    shot(page, "time-filter")
    by_id(page, "time-clear").click()
    wait(lambda: cy(page, "cy.edges('[rel = \"VISITED\"]').map(e => e.data('count'))") == [4] * 10, what="cleared")


def test_details_panel_timeline_and_unfolded_claims(page, ui_server) -> None:  # type: ignore[no-untyped-def]
    ids = open_cluster(page, 1)
    fit(page)
    patient = next(i for i in ids if i.startswith("Patient:"))
    click_element(page, patient)
    details = wait(lambda: by_id(page, "node-panel"), what="node details")
    text = details.text
    assert "出生年段" in text and "身份证号" not in text  # analysis fields only: the graph holds no ID
    assert not [p["id_raw"] for p in ui_server.sample.patients if p["id_raw"] in text]
    assert "C000002" in text  # cluster membership
    wait(lambda: page.find_elements("css selector", "#timeline .scatterlayer .point"), what="timeline points")
    assert len(page.find_elements("css selector", "#timeline .scatterlayer .point")) == 4
    time.sleep(0.3)
    shot(page, "details")
    edge = cy(page, f"cy.getElementById('{patient}').connectedEdges('[rel = \"VISITED\"]')[0].id()")
    click_element(page, edge, edge=True)
    wait(lambda: by_id(page, "edge-panel"), what="edge details")
    rows = wait(lambda: page.find_elements("css selector", "#claims-grid .ag-center-cols-container .ag-row"))
    assert len(rows) == 4
    assert "35,200" in by_id(page, "edge-panel").text


def test_named_query_runs_and_shows_on_the_canvas(page) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.keys import Keys

    goto_tab(page, "查询控制台")
    dropdown = wait(lambda: by_id(page, "query-select"))
    dropdown.click()
    search_box = wait(lambda: page.find_element("css selector", "#query-select input, .dash-dropdown-search"))
    search_box.send_keys("neighbourhood")
    search_box.send_keys(Keys.ENTER)
    key = wait(lambda: page.find_element("css selector", 'input[id*=\'"name":"key"\']'), what="parameter form")
    key.send_keys("P110105000021")
    by_id(page, "query-run").click()
    wait(lambda: page.find_elements("css selector", "#query-grid .ag-center-cols-container .ag-row"), what="rows")
    assert "康顺大药房" in by_id(page, "query-grid").text
    time.sleep(0.3)
    shot(page, "console")
    show = by_id(page, "console-show")
    wait(lambda: show.is_enabled())
    show.click()
    wait(lambda: "Facility:P110105000021" in node_ids(page), what="query result on the canvas")
    assert {i.split(":")[0] for i in node_ids(page)} >= {"Facility", "Terminal", "Operator"}
    assert "查询结果" in by_id(page, "breadcrumb").text


def test_adhoc_cypher_is_read_only(page, ui_server) -> None:  # type: ignore[no-untyped-def]
    goto_tab(page, "查询控制台")
    box = wait(lambda: by_id(page, "adhoc-text"))
    box.send_keys("MATCH (f:Facility) WHERE f.kind = 'pharmacy' RETURN f ORDER BY f.code LIMIT 3")
    by_id(page, "adhoc-run").click()
    wait(lambda: len(page.find_elements("css selector", "#query-grid .ag-center-cols-container .ag-row")) == 3)
    box.clear()
    box.send_keys("CREATE (:Facility {code: 'WRITTEN-FROM-UI'})")
    by_id(page, "adhoc-run").click()
    wait(lambda: "error" in by_id(page, "console-message").get_attribute("innerHTML"), what="refusal")
    assert ui_server.store.read("MATCH (f:Facility {code: 'WRITTEN-FROM-UI'}) RETURN count(f)").scalar() == 0


def test_switch_language(page) -> None:  # type: ignore[no-untyped-def]
    page.find_element("xpath", "//label[normalize-space()='EN']").click()
    wait(lambda: page.find_element("css selector", "#tabs .nav-link.active").text == "Queue", what="English tabs")
    wait(lambda: "Score" in by_id(page, "queue-grid").text, what="English grid headers")
    assert "New" in by_id(page, "queue-grid").text and "Card collecting" in by_id(page, "queue-grid").text
    open_cluster(page, 0)
    wait(lambda: "Opened C000001" in status(page), what="English status")
    assert "Legend" in by_id(page, "legend").text and "Cluster summary" in by_id(page, "cluster-summary").text
    time.sleep(0.4)
    shot(page, "network-en")
    page.find_element("xpath", "//label[normalize-space()='中文']").click()
    wait(lambda: page.find_element("css selector", "#tabs .nav-link.active").text == "关系图谱", what="Chinese again")


def test_export_png_and_svg(page, browser) -> None:  # type: ignore[no-untyped-def]
    open_cluster(page, 2)
    for old in browser.downloads.glob("*"):
        old.unlink()
    by_id(page, "png-btn").click()
    png = wait(lambda: [p for p in browser.downloads.glob("*.png")], what="PNG download")[0]
    wait(lambda: png.stat().st_size > 1000)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    by_id(page, "svg-btn").click()
    svg = wait(lambda: [p for p in browser.downloads.glob("*.svg")], what="SVG download")[0]
    wait(lambda: b"<svg" in svg.read_bytes()[:2000])
    assert "C000003" in png.name and "C000003" in svg.name
