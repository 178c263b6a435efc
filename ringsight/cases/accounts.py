"""User accounts: rows in the application database, argon2 password hashes, throttled logins.

Accounts live in the application database (:mod:`ringsight.appdb`, see
docs/appdb.md), never in the graph: analysts may run any read-only Cypher on
the graph, and a password hash or a session id must not be one query away.
Every process — the web UI, the CLI, a second UI host on the same PostgreSQL —
sees the same users. Passwords are hashed with argon2id (argon2-cffi's
defaults, the OWASP recommendation); the hash is never returned by this module.

New passwords follow NIST SP 800-63B: at least 8 characters, not on a list of
commonly used passwords (the 30,000 of zxcvbn's list), not the user name.

Login throttling (:class:`LoginThrottle`) counts attempts per *user name and
client address* and per address, in the application database. An attempt
takes its slot before the password is checked, in one serialised
transaction, so 30 parallel guesses for one name from one address check at
most ``login_max_failures_user`` passwords. Limiting per name *and* address
(not per name alone) means nobody can lock a colleague out by typing wrong
passwords for their name: the owner's own address keeps its own count.
"""

from __future__ import annotations

import getpass
import re
import time
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, delete, func, insert, select, update

from ringsight.appdb import USERNAME_MAX, AppDb, for_store, login_attempts, sessions, users
from ringsight.cases import audit
from ringsight.cases.roles import ROLES, Permission, Principal, Role, check_role, require
from ringsight.config import Settings, get_settings
from ringsight.errors import RingSightError
from ringsight.graph.store import GraphStore

_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
#: The password of the accounts ``ringsight demo`` creates (public: a deployment with only these is a demo).
DEMO_PASSWORD = "ringsight-demo"
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
    """Too many failed logins for the user name from this address, or from the address; try again later."""

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
    def from_props(cls, props: Any) -> User:
        """From a ``users`` row (or any mapping with the same keys)."""
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


# --- database access ------------------------------------------------------------
def _db(store: GraphStore, settings: Settings | None = None) -> AppDb:
    return for_store(store, settings)


def _row(conn: Connection, username: str) -> dict[str, Any] | None:
    row = conn.execute(select(users).where(users.c.username == username)).mappings().first()
    return dict(row) if row is not None else None


def _props(store: GraphStore, username: str) -> dict[str, Any] | None:
    with _db(store).read() as conn:
        return _row(conn, username)


def get_user(store: GraphStore, username: str) -> User | None:
    """The account, or None when there is none by that name."""
    name = normalise_username(username, strict=False)
    if not login_name_ok(name):
        return None
    props = _props(store, name)
    return User.from_props(props) if props else None


def list_users(store: GraphStore) -> list[User]:
    """All accounts, by user name."""
    with _db(store).read() as conn:
        rows = conn.execute(select(users).order_by(users.c.username)).mappings().all()
    return [User.from_props(r) for r in rows]


def normalise_username(username: str, *, strict: bool = True) -> str:
    """Lower-case and strip; with ``strict`` check the shape (2–64 of a-z 0-9 _ . -)."""
    name = (username or "").strip().lower()
    if strict and not _USERNAME_RE.match(name):
        raise AccountError(
            f"'{username[:80]}' is not a valid user name.",
            "Use 2–64 characters: lower-case letters, digits, '_', '.' or '-', starting with a letter or digit.",
        )
    return name


def login_name_ok(name: str) -> bool:
    """False for a name nothing may store: longer than 150 characters or holding control/format characters."""
    return len(name) <= USERNAME_MAX and not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name)


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords (zxcvbn's list, from leaked password sets), lower-cased."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def check_password(password: str, username: str = "") -> None:
    """Refuse a new password NIST SP 800-63B says to refuse: short, common, or derived from the user name."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"The password is too short (at least {MIN_PASSWORD_LENGTH} characters).",
            "Choose a longer password; a passphrase of several words is easiest to remember.",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"The password is too long (at most {MAX_PASSWORD_LENGTH} characters).", None)
    lowered = password.lower()
    if lowered in _common_passwords() or lowered in ("ringsight", "ringsight1", "ringsight123"):
        raise AccountError(
            "This password is one of the most commonly used passwords; attackers try those first.",
            "Choose something less predictable, e.g. several unrelated words.",
        )
    name = (username or "").strip().lower()
    if name and (name in lowered or lowered in name or lowered == name[::-1]):
        raise AccountError("The password must not contain the user name.", "Choose a password unrelated to it.")


def _require_user(conn: Connection, username: str) -> dict[str, Any]:
    props = _row(conn, normalise_username(username, strict=False))
    if props is None:
        raise AccountError(f"There is no user '{username[:80]}'.", "List the users with `ringsight users list`.")
    return props


def _public(props: dict[str, Any]) -> dict[str, Any]:
    return {k: props.get(k) for k in ("username", "display_name", "role", "active")}


def _active_admins(conn: Connection) -> int:
    q = select(func.count()).select_from(users).where(users.c.role == Role.ADMIN.value, users.c.active.is_(True))
    return int(conn.execute(q).scalar_one())


# --- management (needs user.manage) ---------------------------------------------
def add_user(
    store: GraphStore, actor: Principal, username: str, password: str, role: str, display_name: str = ""
) -> User:
    """Create an account; refused when the name is taken. Audited as ``user.add``."""
    require(actor, Permission.USER_MANAGE)
    name = normalise_username(username)
    check_role(role)
    check_password(password, name)
    now = int(time.time())
    props = {
        "username": name,
        "display_name": (display_name or name)[:200],
        "role": role,
        "password_hash": _hasher.hash(password),
        "active": True,
        "created_ts": now,
        "updated_ts": now,
    }
    with _db(store).begin() as conn:
        if _row(conn, name) is not None:
            raise AccountError(f"The user '{name}' already exists.", "Pick another name, or change this user's role.")
        conn.execute(insert(users).values(**props))
    audit.record(store, user=actor.username, action="user.add", target=f"User:{name}", after=_public(props))
    return User.from_props(props)


def _update(
    store: GraphStore, actor: Principal, username: str, action: str, changes: dict[str, Any], *, end_sessions: bool
) -> User:
    with _db(store).begin() as conn:
        before = _require_user(conn, username)
        name = before["username"]
        conn.execute(update(users).where(users.c.username == name).values(**changes, updated_ts=int(time.time())))
        if end_sessions:
            conn.execute(delete(sessions).where(sessions.c.username == name))
        after = _row(conn, name) or before
    audit.record(
        store, user=actor.username, action=action, target=f"User:{name}", before=_public(before), after=_public(after)
    )
    return User.from_props(after)


def set_active(store: GraphStore, actor: Principal, username: str, active: bool) -> User:
    """Disable (or re-enable) an account; disabling also ends its sessions. Keeps at least one active admin."""
    require(actor, Permission.USER_MANAGE)
    with _db(store).read() as conn:
        props = _require_user(conn, username)
        admins = _active_admins(conn)
    if not active and props.get("role") == Role.ADMIN and props.get("active") and admins <= 1:
        raise AccountError(
            "This is the last active admin; disabling it would lock everyone out.", "Add another admin first."
        )
    action = "user.enable" if active else "user.disable"
    return _update(store, actor, username, action, {"active": bool(active)}, end_sessions=not active)


def disable_user(store: GraphStore, actor: Principal, username: str) -> User:
    """Disable an account (it can no longer log in; its sessions end). Audited as ``user.disable``."""
    return set_active(store, actor, username, False)


def set_role(store: GraphStore, actor: Principal, username: str, role: str) -> User:
    """Change an account's role; takes effect on the user's next request. Audited as ``user.role``."""
    require(actor, Permission.USER_MANAGE)
    check_role(role)
    with _db(store).read() as conn:
        props = _require_user(conn, username)
        admins = _active_admins(conn)
    if props.get("role") == Role.ADMIN and role != Role.ADMIN and props.get("active") and admins <= 1:
        raise AccountError(
            "This is the last active admin; changing its role would lock everyone out.", "Add another admin first."
        )
    return _update(store, actor, username, "user.role", {"role": role}, end_sessions=False)


def set_password(store: GraphStore, actor: Principal, username: str, new_password: str) -> User:
    """Set a new password (an administrator's reset); all the user's sessions end. Audited as ``user.passwd``."""
    require(actor, Permission.USER_MANAGE)
    check_password(new_password, normalise_username(username, strict=False))
    changes = {"password_hash": _hasher.hash(new_password)}
    return _update(store, actor, username, "user.passwd", changes, end_sessions=True)


def change_own_password(store: GraphStore, user: Principal, old_password: str, new_password: str) -> User:
    """A user changing their own password, proving the old one; other sessions end."""
    props = _props(store, user.username)
    if props is None or not _verify(props.get("password_hash"), old_password):
        raise LoginRefused("The current password is wrong.", "Type your current password again.")
    check_password(new_password, user.username)
    changes = {"password_hash": _hasher.hash(new_password)}
    return _update(store, user, user.username, "user.passwd", changes, end_sessions=True)


def has_real_accounts(store: GraphStore) -> bool:
    """True when an active account exists whose password is not the public demo password.

    A deployment with only ``ringsight demo``'s accounts holds nothing worth a
    strong session secret; as soon as a real account exists, serving with a
    weak secret is refused (``ringsight.ui.auth.check_secret``).
    """
    with _db(store).read() as conn:
        hashes = conn.execute(select(users.c.password_hash).where(users.c.active.is_(True))).scalars().all()
    return any(not _verify(h, DEMO_PASSWORD) for h in hashes)


# --- login ------------------------------------------------------------------------
def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password or "") and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


class LoginThrottle:
    """Login attempts per (user name, address) and per address, counted in the application database.

    :meth:`acquire` is one serialised transaction: it counts the attempts in the
    window and, when under both limits, records this attempt *before* the
    password is checked (refusing otherwise). :meth:`succeeded` removes the
    attempts of that name from that address after a correct password.
    """

    def __init__(self, db: AppDb, *, max_user: int, max_addr: int, window: int) -> None:
        self.db = db
        self.max_user, self.max_addr, self.window = max_user, max_addr, window

    @classmethod
    def for_store(cls, store: GraphStore, settings: Settings | None = None) -> LoginThrottle:
        settings = settings or get_settings()
        cfg = settings.cases
        return cls(
            _db(store, settings),
            max_user=cfg.login_max_failures_user,
            max_addr=cfg.login_max_failures_addr,
            window=cfg.login_window_seconds,
        )

    def _wait(self, conn: Connection, where: Any, limit: int, now: float) -> float:
        """Seconds until the oldest of the newest ``limit`` attempts matching ``where`` leaves the window."""
        ts = login_attempts.c.ts
        rows = (
            conn.execute(select(ts).where(where, ts > now - self.window).order_by(ts.desc()).limit(limit))
            .scalars()
            .all()
        )
        return rows[-1] + self.window - now if len(rows) >= limit else 0.0

    def acquire(self, username: str, addr: str, now: float | None = None) -> None:
        """Take a slot for one password check, or raise :class:`LoginRateLimited`."""
        now = time.time() if now is None else now
        t = login_attempts.c
        with self.db.begin() as conn:
            self.db.lock(conn, "ringsight.login")
            wait = max(
                self._wait(conn, (t.username == username) & (t.addr == addr), self.max_user, now),
                self._wait(conn, t.addr == addr, self.max_addr, now),
            )
            if wait > 0:
                seconds = max(1, int(wait + 0.999))
                raise LoginRateLimited(
                    "Too many failed logins for this account from this address, or from this address.",
                    f"Try again in {max(1, seconds // 60)} minute(s), or ask an administrator to reset the password.",
                    retry_after=seconds,
                )
            conn.execute(delete(login_attempts).where(t.ts < now - 2 * self.window))
            conn.execute(insert(login_attempts).values(username=username, addr=addr, ts=now))

    def retry_after(self, username: str, addr: str, now: float | None = None) -> int:
        """Seconds until a login for ``username`` from ``addr`` may be tried again (0: now)."""
        now = time.time() if now is None else now
        t = login_attempts.c
        with self.db.read() as conn:
            wait = max(
                self._wait(conn, (t.username == username) & (t.addr == addr), self.max_user, now),
                self._wait(conn, t.addr == addr, self.max_addr, now),
            )
        return max(0, int(wait + 0.999))

    def succeeded(self, username: str, addr: str) -> None:
        """Forget this name's attempts from this address after a correct password."""
        t = login_attempts.c
        with self.db.begin() as conn:
            conn.execute(delete(login_attempts).where(t.username == username, t.addr == addr))


def authenticate(
    store: GraphStore,
    username: str,
    password: str,
    remote_addr: str,
    *,
    settings: Settings | None = None,
) -> User:
    """Check a login and return the :class:`User`; raise :class:`LoginRefused` or :class:`LoginRateLimited`.

    A name nothing could store (over 150 characters, control characters) is
    refused before anything is written. The refusal does not say whether the
    name or the password was wrong. A throttled attempt is refused before the
    password is checked. Success and failure are both audited
    (``user.login`` / ``user.login_failed``).
    """
    if not login_name_ok(username or "") or len(password or "") > MAX_PASSWORD_LENGTH:
        raise LoginRefused("Wrong user name or password.", "Check both and try again; logins are limited.")
    name = normalise_username(username, strict=False)
    if not name:
        raise LoginRefused("Wrong user name or password.", "Check both and try again; logins are limited.")
    addr = (remote_addr or "unknown")[:64]
    throttle = LoginThrottle.for_store(store, settings)
    throttle.acquire(name, addr)
    props = _props(store, name)
    ok = _verify(props.get("password_hash") if props else None, password)
    if not ok or props is None:
        audit.record(store, user=name, action="user.login_failed", target=f"User:{name}", after={"addr": addr})
        raise LoginRefused("Wrong user name or password.", "Check both and try again; logins are limited.")
    if not props.get("active"):
        raise LoginRefused(f"The account '{name}' is disabled.", "Ask an administrator to enable it.")
    throttle.succeeded(name, addr)
    changes: dict[str, Any] = {"last_login_ts": int(time.time())}
    if _hasher.check_needs_rehash(props["password_hash"]):
        changes["password_hash"] = _hasher.hash(password)
    with _db(store).begin() as conn:
        conn.execute(update(users).where(users.c.username == name).values(**changes))
    audit.record(store, user=name, action="user.login", target=f"User:{name}", after={"addr": addr})
    return User.from_props({**props, **changes})


__all__ = [
    "DEMO_PASSWORD",
    "ROLES",
    "AccountError",
    "LoginRateLimited",
    "LoginRefused",
    "LoginThrottle",
    "User",
    "add_user",
    "authenticate",
    "change_own_password",
    "check_password",
    "disable_user",
    "get_user",
    "has_real_accounts",
    "list_users",
    "login_name_ok",
    "set_active",
    "set_password",
    "set_role",
    "system_actor",
]
