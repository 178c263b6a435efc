"""What the UI tests of the workbench share: a sample graph, serving an app, headless Chromium, logging in, reading
the page.

Used by tests/test_ui_browser.py and tests/test_ui_workbench_browser.py (the
workbench), tests/test_ui_cases*.py (login, cases, notes, audit) and
tests/test_ui_auth_http.py. Nothing here is a fixture: each test module builds
its own graph and server and calls these helpers from its fixtures.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from threading import Thread
from typing import Any

from conftest import require_tool
from sample_graph import SampleGraph, build_sample
from werkzeug.serving import make_server

from ringsight.cases import accounts
from ringsight.config import Settings
from ringsight.graph import open_store
from ringsight.graph.store import GraphStore

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
WIDTH, HEIGHT = 1600, 960
PASSWORD = "correct-horse-battery"
#: role -> (user name, display name) of the accounts the browser tests log in with.
ACCOUNTS = {
    "investigator": ("inv.li", "李调查"),
    "analyst": ("ana.zhao", "赵分析"),
    "supervisor": ("sup.wang", "王科长"),
    "admin": ("adm.sun", "孙管理"),
}


def make_accounts(store: GraphStore, *roles: str) -> dict[str, str]:
    """Create the test accounts for ``roles`` (all four by default); return role -> user name."""
    out = {}
    for role in roles or tuple(ACCOUNTS):
        username, display = ACCOUNTS[role]
        if accounts.get_user(store, username) is None:
            accounts.add_user(store, accounts.system_actor(), username, PASSWORD, role, display)
        out[role] = username
    return out


@contextmanager
def sample_store(
    data_dir: Path, prefix: str, *, ui: dict[str, Any] | None = None
) -> Iterator[tuple[Settings, GraphStore, SampleGraph]]:
    """A graph of its own (``<prefix>_<random>``) on the embedded server holding the UI sample graph.

    Each module gets a fresh graph so modules cannot see each other's cases and accounts;
    ``ui`` overrides UI settings (e.g. trusted proxies). The graph is cleared and closed afterwards.
    """
    settings = Settings(graph="embedded", data_dir=data_dir, graph_name=f"{prefix}_{uuid.uuid4().hex[:10]}")
    if ui:
        settings = settings.model_copy(update={"ui": settings.ui.model_copy(update=ui)})
    store = open_store(settings)
    store.ensure_schema()
    try:
        yield settings, store, build_sample(store, settings)
    finally:
        store.clear()
        store.close()


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve a Dash app on a free local port in a background thread; yield its URL."""
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()


def start_browser() -> Any:
    """Headless Chromium at a fixed size, downloading into ``driver.downloads`` without asking."""
    chromedriver = require_tool("chromedriver", "chromium-driver")
    chromium = require_tool("chromium", "chromium")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = Path(tempfile.mkdtemp(prefix="rs-ui-dl-"))
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        f"--window-size={WIDTH},{HEIGHT}",
        f"--user-data-dir={tempfile.mkdtemp(prefix='rs-ui-chrome-')}",
    ):
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    metrics = {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.set_script_timeout(30)
    driver.downloads = downloads
    return driver


@contextmanager
def serve_to_browser(app: Any) -> Iterator[tuple[str, Any]]:
    """Serve the app and open a headless Chromium for it; yield (URL, driver). The browser quits first."""
    driver = start_browser()
    try:
        with serve(app) as url:
            yield url, driver
    finally:
        driver.quit()


# -- logging in ---------------------------------------------------------------------------------
def login(driver: Any, url: str, username: str, password: str = PASSWORD) -> None:
    """Log in through the form and wait for the workbench."""
    driver.get(url.rstrip("/") + "/login")
    wait(lambda: driver.find_element("id", "login-username"), what="login form")
    box = driver.find_element("id", "login-username")
    box.clear()
    box.send_keys(username)
    driver.find_element("id", "login-password").send_keys(password)
    driver.find_element("id", "login-submit").click()
    wait(lambda: driver.find_elements("id", "nav-user"), what=f"the workbench for {username}")


def logout(driver: Any) -> None:
    """Press the top bar's logout button and wait for the login form."""
    driver.find_element("css selector", "#logout-form button").click()
    wait(lambda: driver.find_elements("id", "login-username"), what="the login form after logout")


def ensure_login(driver: Any, url: str, username: str) -> None:
    """Open the workbench, logging in as ``username`` when the browser is not (or someone else is)."""
    driver.get(url)
    wait(lambda: driver.find_elements("id", "login-username") or driver.find_elements("id", "nav-user"))
    user = driver.find_elements("id", "nav-user")
    if user and user[0].get_attribute("title") == username:
        return
    if user:
        logout(driver)
    login(driver, url, username)


# -- reading and driving the page ------------------------------------------------------------
def wait(check: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy."""
    end = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < end:
        try:
            last = check()
        except Exception as exc:  # the page may be re-rendering
            last = exc
        else:
            if last:
                return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def shot(driver: Any, name: str) -> Path:
    """Save a screenshot as test-artifacts/ui-<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"ui-{name}.png"
    driver.save_screenshot(str(path))
    return path


def cy(driver: Any, expr: str) -> Any:
    """Evaluate a JS expression with ``cy`` bound to the canvas's Cytoscape instance."""
    return driver.execute_script(f"const cy = document.getElementById('cy')._cyreg.cy; return ({expr});")


def node_ids(driver: Any) -> list[str]:
    return cy(driver, "cy.nodes().map(n => n.id())")


def status(driver: Any) -> str:
    return driver.find_element("id", "status").text


def by_id(driver: Any, element_id: str) -> Any:
    return driver.find_element("id", element_id)


def click_element(driver: Any, element_id: str, *, double: bool = False, edge: bool = False) -> None:
    """Click (or double-click) a node or an edge where it is drawn, once the view has stopped moving."""
    from selenium.webdriver.common.action_chains import ActionChains

    time.sleep(0.1)
    wait(lambda: not cy(driver, "cy.animated()"), what="the view to settle")

    getter = "renderedMidpoint()" if edge else "renderedPosition()"
    x, y, w, h = driver.execute_script(
        f"const cy = document.getElementById('cy')._cyreg.cy; const e = cy.getElementById(arguments[0]);"
        f"const p = e.{getter}; const r = document.getElementById('cy').getBoundingClientRect();"
        "return [p.x, p.y, r.width, r.height];",
        element_id,
    )
    actions = ActionChains(driver).move_to_element_with_offset(by_id(driver, "cy"), int(x - w / 2), int(y - h / 2))
    (actions.double_click() if double else actions.click()).perform()


def open_cluster(driver: Any, row: int) -> list[str]:
    """Open the queue's row ``row`` (0 = top) and wait for its members on the canvas."""
    wait(lambda: driver.find_elements("css selector", ".open-btn")[row], what="queue rows").click()
    wait(lambda: driver.find_element("css selector", "#tabs .nav-link.active").text in ("关系图谱", "Network"))
    return wait(lambda: node_ids(driver), what="cluster on the canvas")


def goto_tab(driver: Any, label: str) -> None:
    driver.find_element("xpath", f"//a[contains(@class,'nav-link')][contains(., '{label}')]").click()
    wait(lambda: driver.find_element("css selector", "#tabs .nav-link.active").text == label, what=f"tab {label}")


def fit(driver: Any) -> None:
    cy(driver, "void cy.fit(undefined, 60)")
    time.sleep(0.2)
