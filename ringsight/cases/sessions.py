"""Login sessions: signed, expiring tokens that the server can revoke.

A token is ``itsdangerous``-signed (HMAC with ``ui.secret_key``) and carries
the user name and a random session id; its signature carries the time it was
issued. :func:`verify` refuses a token that is forged, older than
``ui.session_minutes``, or whose session id has no row in the application
database's ``sessions`` table — which is how logout, a password reset and
disabling an account end sessions in every process at once. The session ids
live in the application database, never in the graph, so no query can read
one. The role is read on each verification, so a role change applies to the
next request.

Use in a Flask/Dash app::

    session = sessions.issue(store, user)              # after accounts.authenticate(...)
    response.set_cookie(SESSION_COOKIE, session.token, httponly=True, samesite="Lax")
    ...
    session = sessions.verify(store, request.cookies.get(SESSION_COOKIE))   # every request / callback
    if session.refresh_due:
        session = sessions.refresh(store, session)      # sliding expiry: set the new cookie
    ...
    sessions.logout(store, session)
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, insert, select, update

from ringsight.appdb import for_store, users
from ringsight.appdb import sessions as sessions_table
from ringsight.cases import audit
from ringsight.cases.accounts import User
from ringsight.cases.roles import Permission, require
from ringsight.config import Settings, get_settings
from ringsight.errors import RingSightError
from ringsight.graph.store import GraphStore

SESSION_COOKIE = "ringsight_session"
DEFAULT_SECRET = "change-me-ringsight-session-key"
_SALT = "ringsight.session.v1"

#: Secrets at most this long, or equal to the default, are weak: anyone may guess or know them.
MIN_SECRET_LENGTH = 32


class SessionError(RingSightError):
    """The session token is missing, forged, expired or revoked: the user must log in again."""

    exit_code = 7


@dataclass(frozen=True)
class Session:
    """A verified login: the token, its id, the current user and when it expires."""

    token: str
    sid: str
    user: User
    issued_ts: int
    expires_ts: int

    @property
    def refresh_due(self) -> bool:
        """True when more than half the lifetime has passed (issue a fresh token to slide the expiry)."""
        return time.time() > self.issued_ts + (self.expires_ts - self.issued_ts) / 2


def _settings(settings: Settings | None) -> Settings:
    return settings or get_settings()


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.ui.secret_key, salt=_SALT)


def lifetime_seconds(settings: Settings | None = None) -> int:
    """How long a token stays valid without refresh (``ui.session_minutes``)."""
    return int(_settings(settings).ui.session_minutes) * 60


def secret_is_default(settings: Settings | None = None) -> bool:
    """True when ``ui.secret_key`` is still the shipped default (anyone could forge tokens): warn or refuse."""
    return _settings(settings).ui.secret_key == DEFAULT_SECRET


def secret_is_weak(settings: Settings | None = None) -> bool:
    """True when ``ui.secret_key`` is empty, shorter than 32 characters, or the shipped default."""
    key = _settings(settings).ui.secret_key or ""
    return key == DEFAULT_SECRET or len(key.strip()) < MIN_SECRET_LENGTH


def issue(store: GraphStore, user: User, *, settings: Settings | None = None, sid: str | None = None) -> Session:
    """Start (or, with ``sid``, renew) a session for an authenticated user and return it with its token."""
    settings = _settings(settings)
    now = int(time.time())
    life = lifetime_seconds(settings)
    t = sessions_table.c
    with for_store(store, settings).begin() as conn:
        conn.execute(delete(sessions_table).where(t.username == user.username, t.issued_ts < now - life))
        if sid is None:
            sid = secrets.token_urlsafe(16)
            conn.execute(insert(sessions_table).values(sid=sid, username=user.username, created_ts=now, issued_ts=now))
        else:  # renewing: never bring back a session that was ended meanwhile
            renewed = conn.execute(
                update(sessions_table).where(t.sid == sid, t.username == user.username).values(issued_ts=now)
            ).rowcount
            if not renewed:
                raise SessionError("This session has ended.", "Log in again.")
    token = _serializer(settings).dumps({"u": user.username, "s": sid})
    return Session(token=token, sid=sid, user=user, issued_ts=now, expires_ts=now + life)


def verify(
    store: GraphStore, token: str | None, *, settings: Settings | None = None, now: float | None = None
) -> Session:
    """The session a token stands for, with the user as the database has them now; else :class:`SessionError`.

    ``now`` (epoch seconds) is for checking expiry at another moment; it defaults to the present.
    """
    settings = _settings(settings)
    now = time.time() if now is None else now
    if not token:
        raise SessionError("You are not logged in.", "Log in to continue.")
    life = lifetime_seconds(settings)
    try:
        data, signed_at = _serializer(settings).loads(token, return_timestamp=True)
    except BadSignature as exc:
        raise SessionError("The session token is not valid.", "Log in again.") from exc
    if not isinstance(data, dict) or not isinstance(data.get("u"), str) or not isinstance(data.get("s"), str):
        raise SessionError("The session token is not valid.", "Log in again.")
    issued = int(signed_at.timestamp())
    if now > issued + life:
        raise SessionError("Your session has expired.", "Log in again.")
    with for_store(store, settings).read() as conn:
        props = conn.execute(select(users).where(users.c.username == data["u"])).mappings().first()
        live = conn.execute(
            select(sessions_table.c.sid).where(
                sessions_table.c.sid == data["s"], sessions_table.c.username == data["u"]
            )
        ).first()
    if props is None:
        raise SessionError("The account of this session no longer exists.", "Log in again.")
    if not props["active"] or live is None:
        raise SessionError(
            "This session has ended (logged out, password changed or account disabled).", "Log in again."
        )
    return Session(token=token, sid=data["s"], user=User.from_props(props), issued_ts=issued, expires_ts=issued + life)


def authorize(
    store: GraphStore,
    token: str | None,
    permission: Permission | str | None = None,
    *,
    settings: Settings | None = None,
) -> Session:
    """Verify the token and, when given, check a permission: the one call a route or Dash callback makes.

    Raises :class:`SessionError` (log in again) or
    :class:`~ringsight.cases.roles.AccessDenied` (logged in, not allowed).
    """
    session = verify(store, token, settings=settings)
    if permission is not None:
        require(session.user, permission)
    return session


def refresh(store: GraphStore, session: Session, *, settings: Settings | None = None) -> Session:
    """A fresh token for the same session id (sliding expiry); the old token stays valid until it expires."""
    return issue(store, session.user, settings=settings, sid=session.sid)


def revoke(store: GraphStore, username: str, sid: str, *, settings: Settings | None = None) -> None:
    """End one session of a user (any token carrying that session id stops verifying)."""
    t = sessions_table.c
    with for_store(store, settings).begin() as conn:
        conn.execute(delete(sessions_table).where(t.sid == sid, t.username == username))


def logout(store: GraphStore, session: Session) -> None:
    """End the session and record the logout in the audit trail."""
    revoke(store, session.user.username, session.sid)
    audit.record(store, user=session.user.username, action="user.logout", target=f"User:{session.user.username}")
