"""Attacks on the workbench's accounts and login, through the real HTTP endpoints (Flask test client, real store).

- An analyst's console query for ``User`` or ``AuditEntry`` nodes gets nothing:
  accounts, sessions and the audit trail are not in the graph any more.
- Every console query is in the audit trail with its text.
- The login gate: ``GET /logout`` ends the session; the cookie is ``Secure``
  behind a TLS proxy that is trusted, and ``X-Forwarded-*`` from anyone else
  is ignored; an unstorable user name is refused before anything is stored.
- Serving: a weak secret is refused on any address once a real account
  exists; ``--debug`` is refused off loopback.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select
from test_ui_cases_http import _console_payload, _payload, _text
from typer.testing import CliRunner
from ui_harness import PASSWORD, make_accounts, sample_store

from ringsight.appdb import for_store, login_attempts, sessions, users
from ringsight.cases import accounts, audit
from ringsight.cases.sessions import SESSION_COOKIE
from ringsight.config import Settings
from ringsight.graph import open_store
from ringsight.ui.app import create_app
from ringsight.ui.auth import InsecureBind, check_bind, check_serving

PROXY = "10.20.0.2"


@pytest.fixture(scope="module")
def web(embedded_server, data_dir) -> Iterator[SimpleNamespace]:  # type: ignore[no-untyped-def]
    with sample_store(data_dir, "t_uia", ui={"trusted_proxies": [f"{PROXY}/32"]}) as (settings, store, _sample):
        names = make_accounts(store)
        app = create_app(settings, store)
        yield SimpleNamespace(app=app, store=store, users=names, settings=settings)


def _client(web: SimpleNamespace, role: str | None = None, addr: str = "127.0.0.9", **headers: str) -> Any:
    client = web.app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = addr
    if role:
        reply = client.post(
            "/login", data={"username": web.users[role], "password": PASSWORD, "next": "/"}, headers=headers
        )
        assert reply.status_code == 302, reply.data
    return client


def _console(web: SimpleNamespace, client: Any, cypher: str) -> str:
    reply = client.post("/_dash-update-component", json=_console_payload(web, cypher))
    assert reply.status_code == 200, reply.data
    return _text(reply)


def _secrets(web: SimpleNamespace) -> tuple[list[str], list[str]]:
    with for_store(web.store).read() as conn:
        hashes = list(conn.execute(select(users.c.password_hash)).scalars())
        sids = list(conn.execute(select(sessions.c.sid)).scalars())
    return hashes, sids


@pytest.mark.parametrize(
    "cypher",
    [
        "MATCH (u:User) RETURN u.username, u.session_ids, u.password_hash",
        "MATCH (a:AuditEntry) RETURN a",
        "MATCH (n) WHERE n.password_hash IS NOT NULL OR n.session_ids IS NOT NULL RETURN n",
        "MATCH (n) RETURN DISTINCT labels(n) AS labels",
    ],
)
def test_an_analysts_console_reaches_no_account_session_or_audit_data(web, cypher: str) -> None:  # type: ignore[no-untyped-def]
    _client(web, "supervisor")  # a second live session whose id must not leak either
    analyst = _client(web, "analyst")
    audit.record(web.store, user="someone", action="unmask", target="Patient:p-secret-target")
    text = _console(web, analyst, cypher)
    hashes, sids = _secrets(web)
    assert hashes and sids
    assert "$argon2" not in text and not any(h in text for h in hashes)
    assert not any(sid in text for sid in sids)
    assert "p-secret-target" not in text and "user.login" not in text
    assert "AuditEntry" not in text.replace(cypher, "") and '"User"' not in text


def test_every_console_query_is_audited_with_its_text(web) -> None:  # type: ignore[no-untyped-def]
    analyst = _client(web, "analyst")
    cypher = f"MATCH (f:Facility) RETURN f.name LIMIT 3 // {uuid.uuid4().hex}"
    _console(web, analyst, cypher)
    entries = audit.list_entries(web.store, action="query.read", user=web.users["analyst"])
    assert json.loads(entries[0]["after"]) == {"cypher": cypher}
    # a query that fails is on file too
    bad = "MATCH (n RETURN n // broken"
    _console(web, analyst, bad)
    assert json.loads(audit.list_entries(web.store, action="query.read")[0]["after"]) == {"cypher": bad}


def test_get_logout_ends_the_session(web) -> None:  # type: ignore[no-untyped-def]
    client = _client(web, "investigator")
    token = client.get_cookie(SESSION_COOKIE).value
    assert client.get("/_dash-layout").status_code == 200
    reply = client.get("/logout")
    assert reply.status_code == 302 and reply.headers["Location"] == "/login"
    client.set_cookie(SESSION_COOKIE, token)
    assert client.get("/_dash-layout").status_code == 401


def test_cookie_is_secure_behind_a_trusted_tls_proxy_only(web) -> None:  # type: ignore[no-untyped-def]
    def cookie(addr: str, **headers: str) -> str:
        client = web.app.server.test_client()
        client.environ_base["REMOTE_ADDR"] = addr
        reply = client.post(
            "/login", data={"username": web.users["investigator"], "password": PASSWORD}, headers=headers
        )
        assert reply.status_code == 302
        return next(c for c in reply.headers.getlist("Set-Cookie") if c.startswith(SESSION_COOKIE))

    assert "Secure" in cookie(PROXY, **{"X-Forwarded-Proto": "https"})
    assert "Secure" not in cookie(PROXY)
    assert "Secure" not in cookie("192.0.2.50", **{"X-Forwarded-Proto": "https"})  # not our proxy: ignored


def test_forwarded_for_is_believed_from_the_trusted_proxy_only(web) -> None:  # type: ignore[no-untyped-def]
    name = web.users["admin"]

    def fail(addr: str, forwarded: str) -> int:
        client = web.app.server.test_client()
        client.environ_base["REMOTE_ADDR"] = addr
        return client.post(
            "/login", data={"username": name, "password": "wrong-guess"}, headers={"X-Forwarded-For": forwarded}
        ).status_code

    # An attacker rotating X-Forwarded-For values from one address is still one address: throttled.
    codes = [fail("198.51.100.66", f"203.0.113.{i}") for i in range(8)]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
    addrs = {json.loads(e["after"])["addr"] for e in audit.list_entries(web.store, action="user.login_failed")}
    assert addrs == {"198.51.100.66"}
    # Through the trusted proxy the client's own address counts (and the owner elsewhere is not locked out).
    assert fail(PROXY, "203.0.113.77") == 401
    assert json.loads(audit.list_entries(web.store, action="user.login_failed")[0]["after"])["addr"] == "203.0.113.77"
    assert _client(web, "admin", addr=PROXY, **{"X-Forwarded-For": "203.0.113.78"}) is not None


@pytest.mark.parametrize("name", ["u" * 151, "inv\u0000li", "inv.li\r\nX-Injected: 1", "x" * 2_000_000])
def test_unstorable_user_names_are_refused_at_login_before_anything_is_stored(web, name: str) -> None:  # type: ignore[no-untyped-def]
    before = len(audit.list_entries(web.store, limit=100_000))
    with for_store(web.store).read() as conn:
        attempts = conn.execute(select(func.count()).select_from(login_attempts)).scalar()
    client = _client(web, addr="192.0.2.99")
    reply = client.post("/login", data={"username": name, "password": PASSWORD})
    assert reply.status_code == 401 and len(reply.data) < 20_000  # refused, and not echoed back
    assert len(audit.list_entries(web.store, limit=100_000)) == before
    with for_store(web.store).read() as conn:
        assert conn.execute(select(func.count()).select_from(login_attempts)).scalar() == attempts


def _with_secret(settings: Settings, secret: str) -> Settings:
    return settings.model_copy(update={"ui": settings.ui.model_copy(update={"secret_key": secret})})


def test_a_weak_secret_is_refused_on_any_address_once_real_accounts_exist(embedded_server, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    strong = "s" * 48
    with open_store(settings) as store:
        store.ensure_schema()
        accounts.add_user(store, accounts.system_actor(), "analyst", accounts.DEMO_PASSWORD, "analyst")
        for secret in ("change-me-ringsight-session-key", "", "short-secret"):  # demo accounts only: loopback is fine
            check_serving("127.0.0.1", _with_secret(settings, secret), store)
            with pytest.raises(InsecureBind):
                check_bind("0.0.0.0", _with_secret(settings, secret))
        accounts.add_user(store, accounts.system_actor(), "wang.fang", "黄河远上白云间 2026", "supervisor")
        for secret in ("change-me-ringsight-session-key", "", "short-secret"):
            with pytest.raises(InsecureBind, match="real accounts exist"):
                check_serving("127.0.0.1", _with_secret(settings, secret), store)
        check_serving("127.0.0.1", _with_secret(settings, strong), store)
        check_serving("0.0.0.0", _with_secret(settings, strong), store)


def test_debug_is_refused_off_loopback(embedded_server, settings: Settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    strong = _with_secret(settings, "s" * 48)
    with open_store(strong) as store:
        check_serving("127.0.0.1", strong, store, debug=True)
        with pytest.raises(InsecureBind, match="--debug"):
            check_serving("0.0.0.0", strong, store, debug=True)
    from ringsight.cli import app
    from ringsight.config import get_settings

    monkeypatch.setenv("RINGSIGHT_UI__SECRET_KEY", "s" * 48)
    monkeypatch.setenv("RINGSIGHT_GRAPH_NAME", settings.graph_name)
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["ui", "--host", "0.0.0.0", "--port", "1", "--debug"])
    get_settings.cache_clear()
    assert isinstance(result.exception, InsecureBind) and "--debug" in str(result.exception)


def test_the_audit_tab_warns_when_the_trail_fails_verification(web) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from ringsight.appdb import audit_log

    payload = _payload(
        web,
        "audit-grid.rowData",
        inputs=[("tabs", "active_tab", "audit"), ("audit-reload", "n_clicks", 1), ("lang", "data", "en")],
    )
    supervisor = _client(web, "supervisor")
    assert "fails verification" not in _text(supervisor.post("/_dash-update-component", json=payload))
    victim = audit.list_entries(web.store, limit=1)[0]
    db = for_store(web.store)
    try:
        with db.begin() as conn:
            conn.execute(update(audit_log).where(audit_log.c.seq == victim["seq"]).values(user="nobody"))
        assert "fails verification" in _text(supervisor.post("/_dash-update-component", json=payload))
    finally:
        with db.begin() as conn:
            conn.execute(update(audit_log).where(audit_log.c.seq == victim["seq"]).values(user=victim["user"]))
    assert audit.verify(web.store).ok
