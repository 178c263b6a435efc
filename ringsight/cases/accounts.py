"""User accounts: ``User`` nodes in the graph, argon2 password hashes, rate-limited logins.

Accounts live in the graph (docs/graph-contract.md, "Investigation") so every
process — the web UI, the CLI, a second UI host on the same Neo4j — sees the
same users. Passwords are hashed with argon2id (argon2-cffi's defaults, the
OWASP recommendation); the hash is never returned by this module.

Failed logins are counted per user name and per remote address in a small
SQLite file in the data directory (:class:`LoginLimiter`), so the limit holds
across worker processes and restarts: after ``login_max_failures_user``
failures for one name, or ``login_max_failures_addr`` from one address, within
``login_window_seconds``, further attempts are refused without checking the
password until the window has passed.
"""

from __future__ import annotations

import getpass
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ringsight.cases import audit
from ringsight.cases.roles import ROLES, Permission, Principal, Role, check_role, require
from ringsight.config import Settings, get_settings
from ringsight.errors import RingSightError
from ringsight.graph.model import USER
from ringsight.graph.store import GraphStore

_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")
MIN_PASSWORD_LENGTH = 8
_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("ringsight-no-such-user")


class AccountError(RingSightError):
    """A user-management request cannot be carried out as given."""

    exit_code = 2


class LoginRefused(RingSightError):
    """Wrong user name or password, or a disabled account."""

    exit_code = 7


class LoginRateLimited(LoginRefused):
    """Too many failed logins for the user name or from the address; try again later."""

    def __init__(self, message: str, hint: str | None = None, *, retry_after: int = 0) -> None:
        super().__init__(message, hint)
        self.retry_after = retry_after


@dataclass(frozen=True)
class User:
    """A RingSight account as the rest of the code sees it (never with its password hash)."""

    username: str
    role: str
    display_name: str = ""
    active: bool = True
    created_ts: int | None = None
    last_login_ts: int | None = None

    @property
    def label(self) -> str:
        """Display name if set, else the user name."""
        return self.display_name or self.username

    @classmethod
    def from_props(cls, props: dict[str, Any]) -> User:
        return cls(
            username=props["username"],
            role=props.get("role", ""),
            display_name=props.get("display_name") or "",
            active=bool(props.get("active", False)),
            created_ts=props.get("created_ts"),
            last_login_ts=props.get("last_login_ts"),
        )


def system_actor() -> User:
    """The actor for commands run from a shell on the server (``cli:<os user>``, admin rights).

    Whoever can run ``ringsight`` against the store's data already holds the
    database; the CLI records who they were in the audit trail.
    """
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return User(username=f"cli:{who}", role=Role.ADMIN, display_name="command line", active=True)


# --- store access -------------------------------------------------------------
def _props(store: GraphStore, username: str) -> dict[str, Any] | None:
    node = store.read(f"MATCH (u:{USER.label} {{username: $u}}) RETURN u", {"u": username}).scalar()
    return dict(node.properties) if node is not None else None


def get_user(store: GraphStore, username: str) -> User | None:
    """The account, or None when there is none by that name."""
    props = _props(store, normalise_username(username, strict=False))
    return User.from_props(props) if props else None


def list_users(store: GraphStore) -> list[User]:
    """All accounts, by user name."""
    rows = store.read(f"MATCH (u:{USER.label}) RETURN u ORDER BY u.username").column("u")
    return [User.from_props(n.properties) for n in rows]


def normalise_username(username: str, *, strict: bool = True) -> str:
    """Lower-case and strip; with ``strict`` check the shape (2–64 of a-z 0-9 _ . -)."""
    name = (username or "").strip().lower()
    if strict and not _USERNAME_RE.match(name):
        raise AccountError(
            f"'{username}' is not a valid user name.",
            "Use 2–64 characters: lower-case letters, digits, '_', '.' or '-', starting with a letter or digit.",
        )
    return name


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"The password is too short (at least {MIN_PASSWORD_LENGTH} characters).",
            "Choose a longer password; a passphrase of several words is easiest to remember.",
        )


def _require_user(store: GraphStore, username: str) -> dict[str, Any]:
    props = _props(store, normalise_username(username, strict=False))
    if props is None:
        raise AccountError(f"There is no user '{username}'.", "List the users with `ringsight users list`.")
    return props


def _public(props: dict[str, Any]) -> dict[str, Any]:
    return {k: props.get(k) for k in ("username", "display_name", "role", "active")}


def _active_admins(store: GraphStore) -> int:
    q = f"MATCH (u:{USER.label}) WHERE u.role = $role AND u.active = true RETURN count(u)"
    return int(store.read(q, {"role": Role.ADMIN.value}).scalar() or 0)


# --- management (needs user.manage) ---------------------------------------------
def add_user(
    store: GraphStore, actor: Principal, username: str, password: str, role: str, display_name: str = ""
) -> User:
    """Create an account; refused when the name is taken. Audited as ``user.add``."""
    require(actor, Permission.USER_MANAGE)
    name = normalise_username(username)
    check_role(role)
    _check_password(password)
    if _props(store, name) is not None:
        raise AccountError(f"The user '{name}' already exists.", "Pick another name, or change this user's role.")
    now = int(time.time())
    props = {
        "username": name,
        "display_name": display_name or name,
        "role": role,
        "password_hash": _hasher.hash(password),
        "active": True,
        "created_ts": now,
        "updated_ts": now,
        "session_ids": [],
    }
    store.write(f"CREATE (u:{USER.label}) SET u = $props", {"props": props})
    audit.record(store, user=actor.username, action="user.add", target=f"User:{name}", after=_public(props))
    return User.from_props(props)


def _update(store: GraphStore, actor: Principal, username: str, action: str, changes: dict[str, Any]) -> User:
    before = _require_user(store, username)
    changes = {**changes, "updated_ts": int(time.time())}
    node = store.write(
        f"MATCH (u:{USER.label} {{username: $u}}) SET u += $changes RETURN u",
        {"u": before["username"], "changes": changes},
    ).scalar()
    after = dict(node.properties)
    audit.record(
        store,
        user=actor.username,
        action=action,
        target=f"User:{before['username']}",
        before=_public(before),
        after=_public(after),
    )
    return User.from_props(after)


def set_active(store: GraphStore, actor: Principal, username: str, active: bool) -> User:
    """Disable (or re-enable) an account; disabling also ends its sessions. Keeps at least one active admin."""
    require(actor, Permission.USER_MANAGE)
    props = _require_user(store, username)
    if not active and props.get("role") == Role.ADMIN and props.get("active") and _active_admins(store) <= 1:
        raise AccountError(
            "This is the last active admin; disabling it would lock everyone out.", "Add another admin first."
        )
    changes: dict[str, Any] = {"active": bool(active)}
    if not active:
        changes["session_ids"] = []
    return _update(store, actor, username, "user.enable" if active else "user.disable", changes)


def disable_user(store: GraphStore, actor: Principal, username: str) -> User:
    """Disable an account (it can no longer log in; its sessions end). Audited as ``user.disable``."""
    return set_active(store, actor, username, False)


def set_role(store: GraphStore, actor: Principal, username: str, role: str) -> User:
    """Change an account's role; takes effect on the user's next request. Audited as ``user.role``."""
    require(actor, Permission.USER_MANAGE)
    check_role(role)
    props = _require_user(store, username)
    if props.get("role") == Role.ADMIN and role != Role.ADMIN and props.get("active") and _active_admins(store) <= 1:
        raise AccountError(
            "This is the last active admin; changing its role would lock everyone out.", "Add another admin first."
        )
    return _update(store, actor, username, "user.role", {"role": role})


def set_password(store: GraphStore, actor: Principal, username: str, new_password: str) -> User:
    """Set a new password (an administrator's reset); all the user's sessions end. Audited as ``user.passwd``."""
    require(actor, Permission.USER_MANAGE)
    _check_password(new_password)
    return _update(
        store, actor, username, "user.passwd", {"password_hash": _hasher.hash(new_password), "session_ids": []}
    )


def change_own_password(store: GraphStore, user: Principal, old_password: str, new_password: str) -> User:
    """A user changing their own password, proving the old one; other sessions end."""
    props = _require_user(store, user.username)
    if not _verify(props.get("password_hash"), old_password):
        raise LoginRefused("The current password is wrong.", "Type your current password again.")
    _check_password(new_password)
    return _update(
        store, user, user.username, "user.passwd", {"password_hash": _hasher.hash(new_password), "session_ids": []}
    )


# --- login ------------------------------------------------------------------------
def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password or "") and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


class LoginLimiter:
    """Failed-login counts per user name and per address, in SQLite so every process shares them.

    ``scope`` separates graphs (each store describes itself differently), so
    two RingSight graphs on one machine keep their own counts.
    """

    def __init__(self, path: Path, scope: str, *, max_user: int, max_addr: int, window: int) -> None:
        self.path, self.scope = path, scope
        self.max_user, self.max_addr, self.window = max_user, max_addr, window
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.execute("CREATE TABLE IF NOT EXISTS failures (scope TEXT, kind TEXT, subject TEXT, ts REAL)")
            db.execute("CREATE INDEX IF NOT EXISTS failures_idx ON failures (scope, kind, subject, ts)")

    @classmethod
    def for_store(cls, store: GraphStore, settings: Settings | None = None) -> LoginLimiter:
        settings = settings or get_settings()
        cfg = settings.cases
        return cls(
            Path(settings.data_dir) / "login-failures.sqlite",
            store.describe(),
            max_user=cfg.login_max_failures_user,
            max_addr=cfg.login_max_failures_addr,
            window=cfg.login_window_seconds,
        )

    def _db(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def retry_after(self, username: str, addr: str, now: float | None = None) -> int:
        """Seconds until a login may be tried again (0 when it may be tried now)."""
        now = time.time() if now is None else now
        waits = [0.0]
        with self._db() as db:
            for kind, subject, limit in (("user", username, self.max_user), ("addr", addr, self.max_addr)):
                rows = db.execute(
                    "SELECT ts FROM failures WHERE scope=? AND kind=? AND subject=? AND ts>? ORDER BY ts DESC LIMIT ?",
                    (self.scope, kind, subject, now - self.window, limit),
                ).fetchall()
                if len(rows) >= limit:
                    waits.append(rows[-1][0] + self.window - now)
        return max(0, int(max(waits) + 0.999))

    def fail(self, username: str, addr: str, now: float | None = None) -> None:
        """Count one failed attempt for the name and the address (and drop counts past the window)."""
        now = time.time() if now is None else now
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            db.executemany(
                "INSERT INTO failures VALUES (?, ?, ?, ?)",
                [(self.scope, "user", username, now), (self.scope, "addr", addr, now)],
            )
            db.execute("DELETE FROM failures WHERE ts < ?", (now - 2 * self.window,))
            db.execute("COMMIT")

    def clear_user(self, username: str) -> None:
        """Forget a name's failures after a successful login (the address keeps its count)."""
        with self._db() as db:
            db.execute("DELETE FROM failures WHERE scope=? AND kind='user' AND subject=?", (self.scope, username))


def authenticate(
    store: GraphStore,
    username: str,
    password: str,
    remote_addr: str,
    *,
    settings: Settings | None = None,
) -> User:
    """Check a login and return the :class:`User`; raise :class:`LoginRefused` or :class:`LoginRateLimited`.

    The refusal does not say whether the name or the password was wrong. A
    rate-limited attempt is refused before the password is checked. Success
    and failure are both audited (``user.login`` / ``user.login_failed``).
    """
    name = normalise_username(username, strict=False)
    addr = remote_addr or "unknown"
    limiter = LoginLimiter.for_store(store, settings)
    wait = limiter.retry_after(name, addr)
    if wait > 0:
        raise LoginRateLimited(
            "Too many failed logins for this account or from this address.",
            f"Try again in {max(1, wait // 60)} minute(s), or ask an administrator to reset the password.",
            retry_after=wait,
        )
    props = _props(store, name) if name else None
    ok = _verify(props.get("password_hash") if props else None, password)
    if not ok or props is None:
        limiter.fail(name, addr)
        audit.record(store, user=name or "?", action="user.login_failed", target=f"User:{name}", after={"addr": addr})
        raise LoginRefused("Wrong user name or password.", "Check both and try again; logins are limited.")
    if not props.get("active"):
        raise LoginRefused(f"The account '{name}' is disabled.", "Ask an administrator to enable it.")
    limiter.clear_user(name)
    changes: dict[str, Any] = {"last_login_ts": int(time.time())}
    if _hasher.check_needs_rehash(props["password_hash"]):
        changes["password_hash"] = _hasher.hash(password)
    store.write(f"MATCH (u:{USER.label} {{username: $u}}) SET u += $c", {"u": name, "c": changes})
    audit.record(store, user=name, action="user.login", target=f"User:{name}", after={"addr": addr})
    return User.from_props({**props, **changes})


__all__ = [
    "ROLES",
    "AccountError",
    "LoginLimiter",
    "LoginRateLimited",
    "LoginRefused",
    "User",
    "add_user",
    "authenticate",
    "change_own_password",
    "disable_user",
    "get_user",
    "list_users",
    "set_active",
    "set_password",
    "set_role",
    "system_actor",
]
