"""Case work in headless Chromium: log in, see what the role may see, annotate, walk a case to a police referral.

One app per module serves the UI sample graph with four accounts and one
sanction (so cluster C000003 is a repeat offender). Tests run in file order
and share the browser; each logs in as the role it needs. Screenshots of the
login page, the annotated network, the case view and the audit trail go to
test-artifacts/ (look at them).
"""

from __future__ import annotations

import csv
import io
import time
import zipfile
from collections.abc import Iterator
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pytest
from sample_graph import SHANGHAI
from ui_harness import (
    by_id,
    click_element,
    cy,
    ensure_login,
    fit,
    goto_tab,
    login,
    make_accounts,
    node_ids,
    open_cluster,
    sample_store,
    serve_to_browser,
    shot,
    wait,
)

from ringsight.cases import accounts, audit, sanctions, workflow
from ringsight.identity import short_pseudonym
from ringsight.ui.app import create_app

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)><script>window.__xss = 1</script>"


@pytest.fixture(scope="module")
def site(embedded_server, data_dir) -> Iterator[SimpleNamespace]:  # type: ignore[no-untyped-def]
    with sample_store(data_dir, "t_uic") as (settings, store, sample):
        users = make_accounts(store)
        supervisor = accounts.get_user(store, users["supervisor"])
        facility = store.read("MATCH (c:Cluster {cluster_id: 'C000003'}) RETURN c.facilities").scalar()[0]
        rectified = int(datetime(2025, 3, 1, tzinfo=SHANGHAI).timestamp())
        note = "2025 年约谈整改"
        sanctions.add_sanction(store, supervisor, "Facility", facility, "rectification", rectified, note=note)
        with serve_to_browser(create_app(settings, store)) as (url, driver):
            yield SimpleNamespace(url=url, store=store, sample=sample, users=users, driver=driver, case={})


def _patient(site: SimpleNamespace) -> dict[str, Any]:
    node = site.store.read(
        "MATCH (c:Cluster {cluster_id: 'C000002'})-[:HAS_MEMBER]->(p:Patient) RETURN p ORDER BY p.pid LIMIT 1"
    ).scalar()
    clear = next(p for p in site.sample.patients if p["pid"] == node.properties["pid"])  # vault-side values
    return {**clear, **node.properties}


def _select_patient(driver: Any, pid: str) -> None:
    open_cluster(driver, 1)  # C000002: ghost patients
    node = f"Patient:{pid}"
    wait(lambda: node in node_ids(driver), what="the patient on the canvas")
    fit(driver)
    click_element(driver, node)
    wait(lambda: by_id(driver, "node-panel"), what="the patient's details")


def _queue_row(driver: Any, cluster_id: str) -> Any:
    return driver.find_element("css selector", f'#queue-grid .ag-center-cols-container .ag-row[row-id="{cluster_id}"]')


def test_login_page_refuses_a_wrong_password_then_admits(site) -> None:  # type: ignore[no-untyped-def]
    driver = site.driver
    driver.get(site.url)
    wait(lambda: "/login" in driver.current_url, what="redirect to the login page")
    assert "用户名" in by_id(driver, "login-card").text
    by_id(driver, "login-switch").click()
    wait(lambda: "User name" in by_id(driver, "login-card").text, what="English login page")
    by_id(driver, "login-switch").click()
    wait(lambda: "用户名" in by_id(driver, "login-card").text, what="Chinese again")
    by_id(driver, "login-username").send_keys(site.users["investigator"])
    by_id(driver, "login-password").send_keys("wrong-password")
    by_id(driver, "login-submit").click()
    error = wait(lambda: by_id(driver, "login-error"), what="the refusal")
    assert "用户名或密码错误" in error.text
    shot(driver, "cases-login")
    login(driver, site.url, site.users["investigator"])
    assert by_id(driver, "nav-user").text == "李调查" and "稽核人员" in by_id(driver, "role-pill").text
    wait(lambda: _queue_row(driver, "C000003"), what="queue rows")
    assert "屡查屡犯" in _queue_row(driver, "C000003").find_element("css selector", '[col-id="repeat"]').text
    assert "未立案" in _queue_row(driver, "C000001").find_element("css selector", '[col-id="case_state"]').text
    assert not driver.find_elements("id", "tab-audit")  # investigators do not read the audit trail


def test_analyst_sees_personal_data_masked_and_cannot_reveal(site) -> None:  # type: ignore[no-untyped-def]
    driver = site.driver
    ensure_login(driver, site.url, site.users["analyst"])
    patient = _patient(site)
    _select_patient(driver, patient["pid"])
    text = by_id(driver, "node-panel").text
    assert short_pseudonym("patient", patient["pid"]) in text  # the pseudonym, the same in every screen
    assert not by_id(driver, "reveal-box").is_displayed()
    assert patient["name"] not in driver.page_source and patient["id_raw"] not in driver.page_source


def test_investigator_reveals_a_person_and_the_reveal_is_audited(site) -> None:  # type: ignore[no-untyped-def]
    driver = site.driver
    ensure_login(driver, site.url, site.users["investigator"])
    patient = _patient(site)
    _select_patient(driver, patient["pid"])
    assert patient["name"] not in by_id(driver, "node-panel").text  # masked until asked
    wait(lambda: by_id(driver, "reveal-box").is_displayed(), what="the reveal action")
    by_id(driver, "reveal-btn").click()
    revealed = wait(lambda: by_id(driver, "revealed-props"), what="clear values")
    assert patient["name"] in revealed.text and patient["id_raw"] in revealed.text
    [entry] = audit.list_entries(site.store, action="unmask", target=f"Patient:{patient['pid']}")
    assert entry["user"] == site.users["investigator"]


def test_a_note_with_markup_is_shown_as_text_and_marks_the_node(site) -> None:  # type: ignore[no-untyped-def]
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.support.ui import Select

    driver = site.driver
    ensure_login(driver, site.url, site.users["investigator"])
    ids = open_cluster(driver, 0)
    fit(driver)
    card = next(i for i in ids if i.startswith("Card:"))
    assert cy(driver, f"cy.getElementById('{card}').data('annotated')") == 0
    click_element(driver, card)
    wait(lambda: by_id(driver, "notes-box").is_displayed(), what="the notes panel")
    wait(lambda: by_id(driver, "notes-target").text.startswith("医保卡"), what="the card as the note's target")
    by_id(driver, "notes-text").send_keys(XSS)
    Select(by_id(driver, "notes-tag")).select_by_value("疑似聚敛刷卡")
    by_id(driver, "notes-add").click()
    note = wait(lambda: driver.find_element("css selector", "#notes-list .note-text"), what="the note")
    assert note.text == XSS  # shown literally
    assert not driver.find_elements("css selector", "#notes-list img, #notes-list script")
    assert (
        "疑似聚敛刷卡" in by_id(driver, "notes-list").text
        and site.users["investigator"] in note.find_element("xpath", "..").text
    )
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018
    assert driver.execute_script("return window.__xss") is None
    wait(lambda: cy(driver, f"cy.getElementById('{card}').data('annotated')") == 1, what="the canvas marker")
    time.sleep(0.3)
    shot(driver, "cases-notes")
    # the mark survives reopening: the canvas draws it from the graph
    driver.get(site.url)
    wait(lambda: driver.find_elements("css selector", ".open-btn"), what="the queue")
    open_cluster(driver, 0)
    wait(lambda: cy(driver, f"cy.getElementById('{card}').data('annotated')") == 1, what="marker after reopening")


def _step(driver: Any) -> str:
    return driver.find_element("css selector", "#case-steps .step-current").text


def _move(driver: Any, label: str) -> None:
    button = wait(
        lambda: driver.find_element("xpath", f"//div[@id='case-moves']//button[normalize-space()='{label}']"),
        what=f"the button {label}",
    )
    button.click()


def test_case_walks_from_first_review_to_a_police_referral(site) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.support.ui import Select

    driver, store = site.driver, site.store
    ensure_login(driver, site.url, site.users["investigator"])
    # open a case from the queue's top row
    wait(lambda: _queue_row(driver, "C000001"), what="the queue")
    _queue_row(driver, "C000001").find_element("css selector", '[col-id="cluster_id"]').click()
    wait(lambda: by_id(driver, "queue-case-btn").is_enabled(), what="the open-a-case button")
    by_id(driver, "queue-case-btn").click()
    title = wait(lambda: by_id(driver, "case-title"), what="the new-case dialog")
    wait(lambda: "C000001" in title.get_attribute("value"), what="a title from the cluster")
    by_id(driver, "case-create-confirm").click()
    case_id = wait(lambda: by_id(driver, "case-id").text, what="the new case")
    site.case["id"] = case_id
    assert _step(driver) == "初审"
    assert workflow.get_case(store, case_id).assignee == site.users["investigator"]

    by_id(driver, "case-note").send_keys("初审：夜间集中刷卡，疑点成立")
    _move(driver, "转至复审")
    wait(lambda: _step(driver) == "复审", what="复审")
    # a supervisor edits the case meanwhile: the investigator's next move is refused, then works on reload
    supervisor = accounts.get_user(store, site.users["supervisor"])
    current = workflow.get_case(store, case_id)
    workflow.update_case(store, supervisor, case_id, current.version, summary="科室负责人补充：调取监控")
    _move(driver, "转至申诉")
    conflict = wait(lambda: by_id(driver, "case-conflict"), what="the conflict message")
    assert "sup.wang" in conflict.text and "未保存" in conflict.text
    assert workflow.get_case(store, case_id).state == "复审"
    wait(lambda: "调取监控" in by_id(driver, "case-head").text, what="the other person's change")
    _move(driver, "转至申诉")
    wait(lambda: _step(driver) == "申诉", what="申诉")
    _move(driver, "转至调查核实")  # needs the appeal's outcome first
    wait(lambda: "申诉结果" in by_id(driver, "case-message").text, what="the appeal outcome asked for")
    Select(by_id(driver, "case-appeal")).select_by_value("rejected")
    _move(driver, "转至调查核实")
    wait(lambda: _step(driver) == "调查核实", what="调查核实")
    deciding = driver.find_element("xpath", "//div[@id='case-moves']//button[normalize-space()='转至处理']")
    assert not deciding.is_enabled()  # only a supervisor decides
    assert not by_id(driver, "case-decide-wrap").is_displayed()
    goto_tab(driver, "线索队列")
    row = wait(lambda: _queue_row(driver, "C000001"))
    wait(lambda: "调查核实" in row.find_element("css selector", '[col-id="case_state"]').text, what="queue state")
    assert "李调查" in row.find_element("css selector", '[col-id="assignee"]').text  # the display name

    # the supervisor decides: referred to the police, with the legal basis, then exports the package
    login(driver, site.url, site.users["supervisor"])
    goto_tab(driver, "案件办理")
    row_css = f'#cases-grid .ag-center-cols-container .ag-row[row-id="{case_id}"] [col-id="case_id"]'
    cell = wait(lambda: driver.find_element("css selector", row_css), what="the case in the list")
    cell.click()
    wait(lambda: by_id(driver, "case-id").text == case_id and _step(driver) == "调查核实", what="the case")
    driver.find_element("xpath", "//div[@id='case-outcome']//label[contains(., '移送公安机关')]").click()
    by_id(driver, "case-basis").send_keys("《医疗保障基金使用监督管理条例》第四十条")
    _move(driver, "转至处理")
    wait(lambda: _step(driver) == "处理", what="处理")
    case = workflow.get_case(store, case_id)
    assert case.outcome == ("referred_police",) and case.appeal_outcome == "rejected"
    assert "移送公安机关" in by_id(driver, "case-head").text
    history = by_id(driver, "case-history").text
    for text in ("初审：夜间集中刷卡", "李调查", "王科长", "申诉不成立", "第四十条"):
        assert text in history, text
    for old in driver.downloads.glob("*"):
        old.unlink()
    by_id(driver, "case-export-btn").click()
    package = wait(lambda: list(driver.downloads.glob("referral-*.zip")), timeout=90, what="the referral zip")[0]
    wait(lambda: zipfile.is_zipfile(package), what="a complete zip")
    names = zipfile.ZipFile(package).namelist()
    assert f"referral-{case_id}.pdf" in names and "members.csv" in names
    [entry] = audit.list_entries(store, action="export.referral", target=f"Case:{case_id}")
    assert entry["user"] == site.users["supervisor"]
    wait(lambda: by_id(driver, "case-export-pdf").is_enabled())
    by_id(driver, "case-export-pdf").click()
    pdf = wait(lambda: list(driver.downloads.glob("referral-*.pdf")), what="the PDF")[0]
    wait(lambda: pdf.read_bytes()[:5] == b"%PDF-", what="a PDF")
    # the police's receipt and decision are tracked on the case
    by_id(driver, "case-receipt").send_keys("2026-01-05")
    by_id(driver, "case-decision").send_keys("已立案侦查")
    by_id(driver, "case-track-save").click()
    wait(lambda: "已立案侦查" in by_id(driver, "case-head").text, what="the decision on the case")
    referral = workflow.get_case(store, case_id).referral
    assert referral["decision"] == "已立案侦查" and referral["to"] == ["referred_police"]
    assert datetime.fromtimestamp(referral["receipt_ts"], SHANGHAI).date().isoformat() == "2026-01-05"
    driver.execute_script("document.getElementById('case-view').scrollTop = 0")
    time.sleep(0.3)
    shot(driver, "cases-case")


def test_supervisor_reads_and_exports_the_audit_trail(site) -> None:  # type: ignore[no-untyped-def]
    driver = site.driver
    ensure_login(driver, site.url, site.users["supervisor"])
    goto_tab(driver, "审计日志")
    grid = wait(lambda: by_id(driver, "audit-grid"))
    wait(lambda: "case.move" in grid.text and "unmask" in grid.text, what="audit entries")
    time.sleep(0.3)
    shot(driver, "cases-audit")
    for old in driver.downloads.glob("*.csv"):
        old.unlink()
    by_id(driver, "audit-export").click()
    exported = wait(lambda: list(driver.downloads.glob("ringsight-audit-*.csv")), what="the CSV")[0]
    wait(lambda: exported.stat().st_size > 200)
    rows = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8-sig"))))
    actions = {r["action"] for r in rows}
    assert {"case.create", "case.move", "unmask", "annotation.add", "export.referral", "user.login"} <= actions
    assert audit.list_entries(site.store, action="export.audit")  # the export is itself audited


def test_a_case_names_its_repeat_offenders_and_switches_language(site) -> None:  # type: ignore[no-untyped-def]
    driver = site.driver
    ensure_login(driver, site.url, site.users["supervisor"])
    supervisor = accounts.get_user(site.store, site.users["supervisor"])
    case = workflow.create_case(site.store, supervisor, "C000003 医药勾结", clusters=["C000003"])
    goto_tab(driver, "案件办理")
    row_css = f'#cases-grid .ag-center-cols-container .ag-row[row-id="{case.case_id}"] [col-id="case_id"]'
    wait(lambda: driver.find_element("css selector", row_css), what="the new case in the list").click()
    repeat = wait(lambda: by_id(driver, "case-repeat"), what="the repeat-offender warning")
    assert "屡查屡犯" in repeat.text and "责令整改" in repeat.text and "C000003" in repeat.text
    driver.find_element("xpath", "//label[normalize-space()='EN']").click()
    wait(lambda: _step(driver) == "first review", what="the case in English")
    assert driver.find_element("xpath", "//div[@id='case-moves']//button[normalize-space()='Move to second review']")
    assert "Repeat offender" in by_id(driver, "case-head").text
    assert "Referred to the police" in by_id(driver, "case-outcome").get_attribute("textContent")
    driver.find_element("xpath", "//label[normalize-space()='中文']").click()
    wait(lambda: _step(driver) == "初审", what="the case in Chinese again")
