"""Accounts, login rate limiting (across processes) and sessions: expiry, logout, revocation."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from test_cases_data import PASSWORD, make_users

from ringsight.cases import accounts, audit, sessions
from ringsight.cases.accounts import AccountError, LoginRateLimited, LoginRefused, authenticate
from ringsight.cases.roles import AccessDenied
from ringsight.config import Settings
from ringsight.graph.store import GraphStore


def _with_cases(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(update={"cases": settings.cases.model_copy(update=changes)})


def test_passwords_are_argon2_hashes_never_returned(store: GraphStore) -> None:
    make_users(store)
    props = store.read("MATCH (u:User {username: 'inv'}) RETURN u").scalar().properties
    assert props["password_hash"].startswith("$argon2id$") and PASSWORD not in props["password_hash"]
    user = accounts.get_user(store, "INV")  # names are case-insensitive
    assert user is not None and not hasattr(user, "password_hash")
    assert [u.username for u in accounts.list_users(store)] == ["adm", "ana", "inv", "inv2", "sup"]


def test_login_success_failure_and_disabled(store: GraphStore, settings: Settings) -> None:
    users = make_users(store)
    user = authenticate(store, "inv", PASSWORD, "10.0.0.1", settings=settings)
    assert user.username == "inv" and user.role == "investigator" and user.last_login_ts
    with pytest.raises(LoginRefused, match="Wrong user name or password"):
        authenticate(store, "inv", "wrong password", "10.0.0.1", settings=settings)
    with pytest.raises(LoginRefused, match="Wrong user name or password"):  # same words for an unknown name
        authenticate(store, "nobody", PASSWORD, "10.0.0.1", settings=settings)
    accounts.disable_user(store, users["adm"], "inv")
    with pytest.raises(LoginRefused, match="disabled"):
        authenticate(store, "inv", PASSWORD, "10.0.0.1", settings=settings)
    actions = [e["action"] for e in audit.list_entries(store, action="user.*")]
    assert actions[:4] == ["user.disable", "user.login_failed", "user.login_failed", "user.login"]


def test_user_management_rules(store: GraphStore) -> None:
    users = make_users(store)
    with pytest.raises(AccessDenied):
        accounts.add_user(store, users["sup"], "x1", PASSWORD, "analyst")
    with pytest.raises(AccountError, match="already exists"):
        accounts.add_user(store, users["adm"], "inv", PASSWORD, "analyst")
    with pytest.raises(AccountError, match="too short"):
        accounts.add_user(store, users["adm"], "newbie", "short", "analyst")
    with pytest.raises(AccountError, match="not a valid user name"):
        accounts.add_user(store, users["adm"], "bad name!", PASSWORD, "analyst")
    with pytest.raises(Exception, match="not a RingSight role"):
        accounts.set_role(store, users["adm"], "inv", "superuser")
    with pytest.raises(AccountError, match="last active admin"):
        accounts.disable_user(store, users["adm"], "adm")
    assert accounts.set_role(store, users["adm"], "ana", "supervisor").role == "supervisor"
    accounts.set_password(store, users["adm"], "inv2", "another long password")
    assert authenticate(store, "inv2", "another long password", "10.0.0.2").username == "inv2"


def test_rate_limit_refuses_the_attempt_after_the_limit(store: GraphStore, settings: Settings) -> None:
    make_users(store)
    limit = settings.cases.login_max_failures_user
    for _ in range(limit):
        with pytest.raises(LoginRefused) as exc:
            authenticate(store, "sup", "guess", "10.0.0.3", settings=settings)
        assert not isinstance(exc.value, LoginRateLimited)
    # The N+1th attempt is refused even with the right password, and says when to retry.
    with pytest.raises(LoginRateLimited) as exc:
        authenticate(store, "sup", PASSWORD, "10.0.0.3", settings=settings)
    assert 0 < exc.value.retry_after <= settings.cases.login_window_seconds
    # other users are not locked out by it
    assert authenticate(store, "inv", PASSWORD, "10.0.0.4", settings=settings).username == "inv"


def test_rate_limit_per_address_across_user_names(store: GraphStore, settings: Settings) -> None:
    make_users(store)
    tight = _with_cases(settings, login_max_failures_addr=3, login_max_failures_user=50)
    for name in ("inv", "ana", "sup"):
        with pytest.raises(LoginRefused):
            authenticate(store, name, "guess", "192.0.2.9", settings=tight)
    with pytest.raises(LoginRateLimited):
        authenticate(store, "adm", PASSWORD, "192.0.2.9", settings=tight)
    assert authenticate(store, "adm", PASSWORD, "192.0.2.10", settings=tight).username == "adm"


def test_rate_limit_holds_across_processes(store: GraphStore, settings: Settings, data_dir: Path) -> None:
    make_users(store)
    limit = settings.cases.login_max_failures_user
    script = textwrap.dedent(
        f"""
        from ringsight.cases.accounts import authenticate, LoginRefused
        from ringsight.graph import open_store
        store = open_store()
        for _ in range({limit}):
            try:
                authenticate(store, "ana", "guess", "10.9.9.9")
            except LoginRefused:
                pass
        """
    )
    env = {**os.environ, "RINGSIGHT_DATA_DIR": str(data_dir), "RINGSIGHT_GRAPH_NAME": settings.graph_name}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=120)
    with pytest.raises(LoginRateLimited):
        authenticate(store, "ana", PASSWORD, "10.1.1.1", settings=settings)


def test_sessions_verify_expire_and_logout(store: GraphStore, settings: Settings) -> None:
    make_users(store)
    user = authenticate(store, "inv", PASSWORD, "10.0.0.1", settings=settings)
    session = sessions.issue(store, user, settings=settings)
    again = sessions.verify(store, session.token, settings=settings)
    assert again.user.username == "inv" and again.sid == session.sid
    life = sessions.lifetime_seconds(settings)
    with pytest.raises(sessions.SessionError, match="expired"):
        sessions.verify(store, session.token, settings=settings, now=session.issued_ts + life + 1)
    with pytest.raises(sessions.SessionError, match="not valid"):
        forged = ("x" if session.token[0] != "x" else "y") + session.token[1:]  # change the signed payload
        sessions.verify(store, forged, settings=settings)
    with pytest.raises(sessions.SessionError, match="not logged in"):
        sessions.verify(store, None, settings=settings)
    other = sessions.issue(store, user, settings=settings)
    sessions.logout(store, session)
    with pytest.raises(sessions.SessionError, match="ended"):
        sessions.verify(store, session.token, settings=settings)
    assert sessions.verify(store, other.token, settings=settings).sid == other.sid  # other sessions live on
    assert audit.list_entries(store, action="user.logout")[0]["user"] == "inv"
    # The one call a route or callback makes: a valid session and, optionally, a permission.
    assert sessions.authorize(store, other.token, "case.edit", settings=settings).user.username == "inv"
    with pytest.raises(AccessDenied, match=r"audit\.view"):
        sessions.authorize(store, other.token, "audit.view", settings=settings)
    with pytest.raises(sessions.SessionError):
        sessions.authorize(store, session.token, settings=settings)


def test_sessions_end_on_password_reset_and_disable_and_follow_role_changes(
    store: GraphStore, settings: Settings
) -> None:
    users = make_users(store)
    s1 = sessions.issue(store, users["inv"], settings=settings)
    accounts.set_role(store, users["adm"], "inv", "supervisor")
    assert sessions.verify(store, s1.token, settings=settings).user.role == "supervisor"
    accounts.set_password(store, users["adm"], "inv", "a brand new password")
    with pytest.raises(sessions.SessionError):
        sessions.verify(store, s1.token, settings=settings)
    s2 = sessions.issue(store, users["ana"], settings=settings)
    accounts.disable_user(store, users["adm"], "ana")
    with pytest.raises(sessions.SessionError):
        sessions.verify(store, s2.token, settings=settings)
    other_key = settings.model_copy(update={"ui": settings.ui.model_copy(update={"secret_key": "another-key"})})
    s3 = sessions.issue(store, users["sup"], settings=settings)
    with pytest.raises(sessions.SessionError, match="not valid"):
        sessions.verify(store, s3.token, settings=other_key)
    assert sessions.secret_is_default(settings)
