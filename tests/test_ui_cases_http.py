"""The workbench's login gate over HTTP (Flask test client, real embedded store, real accounts).

Nothing is reachable without a login: every route the Dash server has —
pages, ``/_dash-layout``, ``/_dash-dependencies``, ``/_dash-update-component``
— is refused, only the login page and static files are public. Callbacks
check the role again: an analyst calling the reveal callback directly gets no
personal data and leaves no unmask entry; an investigator gets it, audited.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner
from ui_harness import PASSWORD, make_accounts, sample_store

from ringsight.cases import audit
from ringsight.cases.sessions import SESSION_COOKIE
from ringsight.config import Settings, get_settings
from ringsight.identity import short_pseudonym
from ringsight.ui.app import create_app
from ringsight.ui.auth import PUBLIC_PATHS, PUBLIC_PREFIXES, InsecureBind, check_bind, safe_next


@pytest.fixture(scope="module")
def web(embedded_server, data_dir) -> Iterator[SimpleNamespace]:  # type: ignore[no-untyped-def]
    with sample_store(data_dir, "t_uih") as (settings, store, sample):
        users = make_accounts(store)
        app = create_app(settings, store)
        yield SimpleNamespace(app=app, store=store, sample=sample, users=users, settings=settings)


def _client(web: SimpleNamespace, role: str | None = None, addr: str = "127.0.0.9") -> Any:
    """A test client, logged in as the account of ``role`` when given."""
    client = web.app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = addr
    if role:
        reply = client.post("/login", data={"username": web.users[role], "password": PASSWORD, "next": "/"})
        assert reply.status_code == 302, reply.data
    return client


def _text(reply: Any) -> str:
    """A JSON reply as text with non-ASCII characters as themselves (Dash escapes them)."""
    return json.dumps(reply.get_json(), ensure_ascii=False)


def _concrete(rule: str) -> str:
    """A URL for a Flask rule, converters filled with sample values."""
    return re.sub(r"<(?:[^:>]+:)?[^>]+>", "x/y.js", rule) if "<" in rule else rule


def test_every_route_and_callback_is_refused_without_login(web) -> None:  # type: ignore[no-untyped-def]
    client = _client(web)
    checked = 0
    for rule in web.app.server.url_map.iter_rules():
        path = _concrete(rule.rule)
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            continue
        for method in sorted(rule.methods - {"OPTIONS", "HEAD"}):
            reply = client.open(path, method=method, json={} if method == "POST" else None)
            checked += 1
            if method == "GET" and not path.startswith("/_"):
                assert reply.status_code == 302 and reply.headers["Location"].startswith("/login"), (path, method)
            else:
                assert reply.status_code == 401, (path, method, reply.status_code)
                assert reply.get_json()["login"] == "/login"
            assert b"C000001" not in reply.data and b"queue-grid" not in reply.data
    assert checked >= 6  # /, /<path>, layout, dependencies, update-component, reload-hash, …
    # a real callback request (the queue's rows) with no cookie, then with a forged one
    payload = _payload(web, "queue-grid.rowData", inputs=[("lang", "data", "zh"), ("case-refresh", "data", 0)])
    assert client.post("/_dash-update-component", json=payload).status_code == 401
    client.set_cookie(SESSION_COOKIE, "eyJ1IjoiaW52LmxpIiwicyI6IngifQ.forged.signature")
    reply = client.post("/_dash-update-component", json=payload)
    assert reply.status_code == 401 and b"C000001" not in reply.data
    # public: the login page and static files
    assert client.get("/login").status_code == 200
    assert client.get("/assets/10-ringsight.css").status_code == 200


def test_login_sets_a_hardened_cookie_and_logout_ends_the_session(web) -> None:  # type: ignore[no-untyped-def]
    client = _client(web)
    page = client.get("/login").get_data(as_text=True)
    assert "用户名" in page and "English" in page  # Chinese first, with a switch
    assert "User name" in client.get("/login?lang=en").get_data(as_text=True)
    reply = client.post("/login", data={"username": web.users["investigator"], "password": PASSWORD, "next": "/"})
    cookie = reply.headers["Set-Cookie"]
    assert reply.status_code == 302 and reply.headers["Location"] == "/"
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and cookie.startswith(SESSION_COOKIE)
    token = client.get_cookie(SESSION_COOKIE).value
    layout = client.get("/_dash-layout")
    assert layout.status_code == 200 and "李调查" in _text(layout)
    payload = _payload(web, "queue-grid.rowData", inputs=[("lang", "data", "zh"), ("case-refresh", "data", 0)])
    rows = client.post("/_dash-update-component", json=payload)
    assert rows.status_code == 200 and b"C000001" in rows.data
    assert client.post("/logout").headers["Location"] == "/login"
    # the old token no longer opens anything, even if a client kept it
    client.set_cookie(SESSION_COOKIE, token)
    assert client.get("/_dash-layout").status_code == 401
    assert client.post("/_dash-update-component", json=payload).status_code == 401
    entries = audit.list_entries(web.store, user=web.users["investigator"])
    assert {"user.login", "user.logout"} <= {e["action"] for e in entries}


def test_wrong_passwords_are_refused_then_rate_limited(web) -> None:  # type: ignore[no-untyped-def]
    client = _client(web, addr="10.9.9.9")
    name = web.users["admin"]
    for _ in range(5):
        reply = client.post("/login", data={"username": name, "password": "not-the-password"})
        assert reply.status_code == 401 and "用户名或密码错误" in reply.get_data(as_text=True)
    reply = client.post("/login", data={"username": name, "password": PASSWORD})  # right, but locked out
    assert reply.status_code == 429 and "分钟后再试" in reply.get_data(as_text=True)
    assert SESSION_COOKIE not in reply.headers.get("Set-Cookie", "")


def test_login_redirects_only_to_local_pages() -> None:
    assert safe_next("/?tab=cases") == "/?tab=cases"
    for bad in ("https://evil.example/", "//evil.example/x", "/\\evil.example", None, "", "/login", "javascript:x"):
        assert safe_next(bad) == "/"


def _payload(
    web: SimpleNamespace,
    output: str | tuple[str, ...],
    *,
    inputs: list[Any],
    state: list[Any] = (),
    changed: str | None = None,
) -> dict[str, Any]:
    """A ``/_dash-update-component`` body like the renderer sends, for the callback that has ``output``
    (or exactly the outputs in a tuple).

    ``inputs``/``state`` are ``(id, property, value)`` tuples, or a list for a pattern-matching ALL.
    """
    for key in sorted(web.app.callback_map, key=lambda k: k.startswith("..")):  # a single-output one first
        parts = key.strip(".").split("...") if key.startswith("..") else [key]
        bare = tuple(p.split("@", 1)[0] for p in parts)
        if output == bare if isinstance(output, tuple) else output in bare:
            break
    else:
        raise AssertionError(f"no callback for {output}")
    specs = [{"id": p.split(".", 1)[0], "property": p.split(".", 1)[1]} for p in parts]

    def items(spec: list[Any]) -> list[Any]:
        return [x if isinstance(x, list) else {"id": x[0], "property": x[1], "value": x[2]} for x in spec]

    first = inputs[0]
    return {
        "output": key,
        "outputs": specs if key.startswith("..") else specs[0],
        "inputs": items(inputs),
        "state": items(list(state)),
        "changedPropIds": [changed or f"{first[0]}.{first[1]}"],
    }


def _console_payload(web: SimpleNamespace, cypher: str) -> dict[str, Any]:
    """The request the console's 运行 button sends for an ad-hoc query, as the browser would send it."""
    return _payload(
        web,
        "query-grid.rowData",
        inputs=[("query-run", "n_clicks", None), ("adhoc-run", "n_clicks", 1)],
        state=[("query-select", "value", None), [], [], ("adhoc-text", "value", cypher), ("lang", "data", "zh")],
        changed="adhoc-run.n_clicks",
    )


def _patient_node(web: SimpleNamespace) -> tuple[str, dict[str, Any]]:
    node = web.store.read(
        "MATCH (c:Cluster {cluster_id: 'C000002'})-[:HAS_MEMBER]->(p:Patient) RETURN p ORDER BY p.pid LIMIT 1"
    ).scalar()
    pid = node.properties["pid"]
    clear = next(p for p in web.sample.patients if p["pid"] == pid)  # the clear values are in the vault only
    return f"Patient:{pid}", {**clear, **node.properties}


def test_reveal_callback_checks_the_role_on_the_server(web) -> None:  # type: ignore[no-untyped-def]
    node_id, props = _patient_node(web)
    payload = _payload(
        web,
        "reveal-result.children",
        inputs=[("reveal-btn", "n_clicks", 1)],
        state=[("selected", "data", {"kind": "node", "id": node_id}), ("lang", "data", "zh")],
    )
    target = f"Patient:{props['pid']}"
    # the analyst's browser never shows the button; calling the callback directly is refused all the same
    reply = _client(web, "analyst").post("/_dash-update-component", json=payload)
    assert reply.status_code == 200
    assert props["name"] not in _text(reply) and props["id_raw"] not in _text(reply)
    assert "reveal-refused" in _text(reply)
    assert not audit.list_entries(web.store, action="unmask", target=target)
    # an investigator is cleared: the clear values come back and the reveal is in the audit trail
    reply = _client(web, "investigator").post("/_dash-update-component", json=payload)
    assert props["name"] in _text(reply) and props["id_raw"] in _text(reply)
    [entry] = audit.list_entries(web.store, action="unmask", target=target)
    assert entry["user"] == web.users["investigator"] and props["name"] not in (entry["after"] or "")


#: The queries that got personal data past the old column-name / text-shape masking, and a few more.
ATTACKS = (
    "MATCH (n) RETURN n",
    "MATCH (p:Patient) RETURN p.name AS facility_x, p.id_raw AS facility_y",
    "MATCH (p:Patient) RETURN p.id_raw + 'x' AS a, p.name + '' AS b",
    "MATCH (p:Patient) RETURN substring(p.id_raw, 0, 9) AS a, substring(p.pid, 0, 9) AS b",
    "MATCH (ph:Phone) RETURN toInteger(ph.number) AS n, ph.number AS m",
    "MATCH (p:Patient) RETURN [p.name, p.id_raw, p.person_no, p.birth_date] AS l",
    "MATCH (p:Patient)-[r]->(x) RETURN p, r, x, properties(x) AS props, keys(p) AS k",
    "MATCH (c:Card) RETURN c.card_id AS facility_code, c",
    "MATCH (a:Address) RETURN a.text AS t, a.key AS k, a",
    "MATCH (c:Claim)-[:BY_PATIENT]->(p) RETURN c, p LIMIT 500",
)


def _clear_values(web: SimpleNamespace) -> set[str]:
    """Every resident ID, name, card number, phone and address text of the sample (from the vault's side).

    Names of two characters also occur inside doctors' names (same family and
    given names), so names are checked when nothing else could contain them.
    """
    others = " ".join([d["name"] for d in web.sample.doctors] + [f["name"] for f in web.sample.facilities])
    values = set()
    for p in web.sample.patients:
        values |= {p["id_raw"], p["card_number"], p["phone_number"], p["address_text"], p["person_no"]}
        values |= {p["id_raw"][:9], p["address_text"].removeprefix("北京市")}
        if p["name"] not in others:
            values.add(p["name"])
    return values


def _leaks(text: str, clear: set[str]) -> list[str]:
    return sorted(v for v in clear if v in text)


@pytest.mark.parametrize("role", ["analyst", "investigator"])
def test_console_returns_no_identity_whatever_the_query(web, role) -> None:  # type: ignore[no-untyped-def]
    clear = _clear_values(web)
    assert len(clear) > 500
    for cypher in ATTACKS:
        reply = _client(web, role).post("/_dash-update-component", json=_console_payload(web, cypher))
        assert reply.status_code == 200, cypher
        text = _text(reply)
        assert "rowData" in text and "console-message error" not in text, (cypher, text[:300])
        assert _leaks(text, clear) == [], cypher
    # the way around: the same values are in the vault, and the first query did return the graph
    first = _payload(
        web,
        "query-grid.rowData",
        inputs=[("query-run", "n_clicks", None), ("adhoc-run", "n_clicks", 1)],
        state=[("query-select", "value", None), [], [], ("adhoc-text", "value", ATTACKS[0]), ("lang", "data", "zh")],
        changed="adhoc-run.n_clicks",
    )
    text = _text(_client(web, role).post("/_dash-update-component", json=first))
    patient = web.sample.patients[0]
    assert short_pseudonym("patient", patient["pid"]) in text or patient["pid"] in text


def test_cli_cypher_returns_no_identity_and_reveals_only_to_cleared_roles(web, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ringsight.cli import app

    monkeypatch.setenv("RINGSIGHT_GRAPH_NAME", web.settings.graph_name)
    get_settings.cache_clear()
    clear = _clear_values(web)
    runner = CliRunner()
    for cypher in ATTACKS:
        out = runner.invoke(app, ["cypher", cypher, "--format", "json"])
        assert out.exit_code == 0, (cypher, out.output)
        assert _leaks(out.output, clear) == [], cypher
    patient = web.sample.patients[0]
    query = f"MATCH (p:Patient {{pid: '{patient['pid']}'}})-[:HAS_CARD]->(c:Card) RETURN p, p.pid AS who, c"
    refused = runner.invoke(app, ["cypher", query, "--format", "json", "--reveal", "--as", web.users["analyst"]])
    assert refused.exit_code != 0 and patient["name"] not in refused.output and patient["id_raw"] not in refused.output
    before = len(audit.list_entries(web.store, action="unmask"))
    shown = runner.invoke(
        app,
        ["cypher", query, "--format", "json", "--reveal", "--as", web.users["investigator"], "--purpose", "核查"],
    )
    assert shown.exit_code == 0, shown.output
    assert patient["name"] in shown.output and patient["id_raw"] in shown.output
    assert patient["card_number"] in shown.output
    entries = audit.list_entries(web.store, action="unmask")
    assert len(entries) == before + 1
    newest = max(entries, key=lambda e: e["ts"])
    assert newest["user"] == web.users["investigator"] and patient["name"] not in (newest["after"] or "")
    get_settings.cache_clear()


def test_serving_beyond_loopback_needs_a_real_secret(data_dir) -> None:  # type: ignore[no-untyped-def]
    default = Settings(graph="embedded", data_dir=data_dir)
    for host in ("127.0.0.1", "localhost", "::1"):
        check_bind(host, default)
    with pytest.raises(InsecureBind, match="secret"):
        check_bind("0.0.0.0", default)
    check_bind("0.0.0.0", default.model_copy(update={"ui": default.ui.model_copy(update={"secret_key": "x" * 40})}))
    from ringsight.cli import app

    result = CliRunner().invoke(app, ["ui", "--host", "0.0.0.0", "--port", "1"])
    assert isinstance(result.exception, InsecureBind) and "RINGSIGHT_UI__SECRET_KEY" in str(result.exception)


def test_case_callbacks_check_the_role_on_the_server(web) -> None:  # type: ignore[no-untyped-def]
    from ringsight.cases import accounts, workflow

    inv = accounts.get_user(web.store, web.users["investigator"])
    case = workflow.create_case(web.store, inv, "C000004 冒名就医", clusters=["C000004"])
    for to in ("复审", "调查核实"):
        case = workflow.move_case(web.store, inv, case.case_id, to, case.version)
    version = {"case_id": case.case_id, "version": case.version}
    decide = _payload(
        web,
        "case-note.value",
        inputs=[[{"id": {"type": "case-move", "step": 4}, "property": "n_clicks", "value": 1}]],
        state=[
            ("case-version", "data", version),
            ("case-note", "value", "移送"),
            ("case-appeal", "value", ""),
            ("case-outcome", "value", ["referred_police"]),
            ("case-basis", "value", "《医疗保障基金使用监督管理条例》第四十条"),
            ("case-recovered", "value", None),
            ("case-penalty", "value", None),
            ("lang", "data", "zh"),
        ],
        changed='{"step":4,"type":"case-move"}.n_clicks',
    )
    assign = _payload(
        web,
        ("case-message.children", "case-refresh.data"),
        inputs=[("case-assign-btn", "n_clicks", 1)],
        state=[
            ("case-version", "data", version),
            ("case-assignee", "value", web.users["supervisor"]),
            ("case-note", "value", None),
            ("lang", "data", "zh"),
        ],
    )
    for payload in (decide, assign):  # an investigator may do neither: refused in the callback, nothing changes
        reply = _client(web, "investigator").post("/_dash-update-component", json=payload)
        assert reply.status_code == 200 and "supervisor" in _text(reply)
    after = workflow.get_case(web.store, case.case_id)
    assert after.state == "调查核实" and after.version == case.version and after.assignee == inv.username
    reply = _client(web, "supervisor").post("/_dash-update-component", json=decide)
    assert reply.status_code == 200 and "已转至处理" in _text(reply)
    assert workflow.get_case(web.store, case.case_id).outcome == ("referred_police",)
