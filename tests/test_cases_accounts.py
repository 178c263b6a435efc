"""Accounts, login throttling (atomic, across processes) and sessions: expiry, logout, revocation.

The tests taking ``app_store`` run twice: with the application database on
SQLite and on a real PostgreSQL (tests/pg_harness.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select
from test_cases_data import PASSWORD, make_users

from ringsight.appdb import for_store, login_attempts
from ringsight.appdb import users as users_table
from ringsight.cases import accounts, audit, sessions
from ringsight.cases.accounts import AccountError, LoginRateLimited, LoginRefused, authenticate
from ringsight.cases.roles import AccessDenied
from ringsight.config import Settings
from ringsight.graph.store import GraphStore


def _with_cases(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(update={"cases": settings.cases.model_copy(update=changes)})


def test_passwords_are_argon2_hashes_never_returned_nor_in_the_graph(app_store: GraphStore) -> None:
    store = app_store
    users = make_users(store)
    accounts.add_user(store, users["adm"], "zhao.min", "纸飞机 over the river", "analyst", "赵敏")
    with for_store(store).read() as conn:
        stored = conn.execute(select(users_table.c.password_hash).where(users_table.c.username == "zhao.min")).scalar()
    assert stored.startswith("$argon2id$") and "纸飞机" not in stored
    user = accounts.get_user(store, "ZHAO.MIN")  # names are case-insensitive
    assert user is not None and user.display_name == "赵敏" and not hasattr(user, "password_hash")
    assert [u.username for u in accounts.list_users(store)] == ["adm", "ana", "inv", "inv2", "sup", "zhao.min"]
    assert store.count_nodes("User") == 0  # nothing about accounts in the graph


def test_new_passwords_follow_nist_800_63b(store: GraphStore) -> None:
    adm = make_users(store)["adm"]
    for weak in ("12345678", "password1", "Qwertyuiop", "iloveyou", "inv3-secret-pass", "3vni"[::-1] + "abcdefgh"):
        with pytest.raises(AccountError, match=r"commonly used|user name|too short"):
            accounts.add_user(store, adm, "inv3", weak, "investigator")
    with pytest.raises(AccountError, match="user name"):
        accounts.set_password(store, adm, "inv2", "my name is inv2!")
    assert accounts.add_user(store, adm, "inv3", "黄河远上白云间 2026", "investigator").username == "inv3"


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


@pytest.mark.parametrize("name", ["x" * 151, "inv\n", "in\x00v", "inv\u202e", "a" * 20_000_000])
def test_unstorable_user_names_are_refused_before_anything_is_stored(
    store: GraphStore, settings: Settings, name: str
) -> None:
    make_users(store)
    before = len(audit.list_entries(store))
    with pytest.raises(LoginRefused, match="Wrong user name or password"):
        authenticate(store, name, PASSWORD, "10.0.0.1", settings=settings)
    assert len(audit.list_entries(store)) == before
    with for_store(store).read() as conn:
        assert conn.execute(select(func.count()).select_from(login_attempts)).scalar() == 0


def test_user_management_rules(store: GraphStore) -> None:
    users = make_users(store)
    with pytest.raises(AccessDenied):
        accounts.add_user(store, users["sup"], "x1", PASSWORD, "analyst")
    with pytest.raises(AccountError, match="already exists"):
        accounts.add_user(store, users["adm"], "inv", PASSWORD, "analyst")
    with pytest.raises(AccountError, match="too short"):
        accounts.add_user(store, users["adm"], "newbie", "short", "analyst")
    with pytest.raises(AccountError, match="not a valid user name"):
        accounts.add_user(store, users["adm"], "x" * 65, PASSWORD, "analyst")
    with pytest.raises(AccountError, match="not a valid user name"):
        accounts.add_user(store, users["adm"], "bad name!", PASSWORD, "analyst")
    with pytest.raises(Exception, match="not a RingSight role"):
        accounts.set_role(store, users["adm"], "inv", "superuser")
    with pytest.raises(AccountError, match="last active admin"):
        accounts.disable_user(store, users["adm"], "adm")
    assert accounts.set_role(store, users["adm"], "ana", "supervisor").role == "supervisor"
    accounts.set_password(store, users["adm"], "inv2", "another long password")
    assert authenticate(store, "inv2", "another long password", "10.0.0.2").username == "inv2"


def test_rate_limit_refuses_the_attempt_after_the_limit(app_store: GraphStore, settings: Settings) -> None:
    store = app_store
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
    # nor is "sup" from another address: a stranger's wrong guesses cannot lock anyone out
    assert authenticate(store, "sup", PASSWORD, "10.0.0.5", settings=settings).username == "sup"


def test_thirty_parallel_guesses_check_at_most_the_limit(app_store: GraphStore, settings: Settings) -> None:
    store = app_store
    make_users(store)
    limit = settings.cases.login_max_failures_user
    checked: list[str] = []
    refused: list[str] = []
    start = threading.Barrier(30)

    def guess(i: int) -> None:
        start.wait()
        try:
            authenticate(store, "sup", f"guess number {i}", "198.51.100.7", settings=settings)
        except LoginRateLimited:
            refused.append("limited")
        except LoginRefused:
            checked.append("checked")

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(checked) <= limit and len(checked) + len(refused) == 30
    assert len(audit.list_entries(store, action="user.login_failed")) == len(checked)


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
    """The throttle is in the app database: guesses made by another process count here too."""
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
        authenticate(store, "ana", PASSWORD, "10.9.9.9", settings=settings)
    assert authenticate(store, "ana", PASSWORD, "10.1.1.1", settings=settings).username == "ana"


def test_sessions_verify_expire_and_logout(app_store: GraphStore, settings: Settings) -> None:
    store = app_store
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
    with pytest.raises(sessions.SessionError):  # a refresh never brings back an ended session
        sessions.refresh(store, session, settings=settings)
    with pytest.raises(sessions.SessionError):
        sessions.verify(store, session.token, settings=settings)


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
    assert sessions.secret_is_default(settings) and sessions.secret_is_weak(settings)
    assert sessions.secret_is_weak(other_key)  # short
    strong = settings.model_copy(update={"ui": settings.ui.model_copy(update={"secret_key": "k" * 40})})
    assert not sessions.secret_is_weak(strong)
