"""Login, logout and the session check in front of every route and every Dash callback.

Nothing in the workbench answers without a valid login. :class:`Gate`
installs a Flask ``before_request`` hook on the Dash server that calls
:func:`ringsight.cases.sessions.authorize` for every request except the login
page itself and static files (``/assets/``, ``/_dash-component-suites/``, the
favicon). A page request without a session is redirected to ``/login``; a
Dash request (``/_dash-layout``, ``/_dash-dependencies``,
``/_dash-update-component``) or any other route gets a 401 (or 403) JSON
answer, which ``assets/40-ringsight-cases.js`` turns into a trip to the
login page.

The hook proves *who* is asking; what they may do is checked again inside
each callback that reads or writes case data (:func:`require_user`,
:func:`guarded`), against the role the graph holds now — so a role change or
a disabled account applies to the very next click.

The session is a signed, expiring token (``sessions.issue``) in an HttpOnly,
SameSite=Lax cookie (Secure when the request came over TLS, directly or
through a trusted proxy's ``X-Forwarded-Proto``); it slides (a fresh token
after half its life) and ends on logout (``GET`` or ``POST /logout``),
password change or when the account is disabled.

Behind a reverse proxy, the client address (for login throttling and the
audit trail) and the scheme come from ``X-Forwarded-For`` /
``X-Forwarded-Proto`` only when the request arrives from an address listed
in ``ui.trusted_proxies``; from anyone else those headers are ignored, so a
client cannot pick its own address to dodge the throttle.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from dash.exceptions import PreventUpdate
from flask import Flask, Response, current_app, g, has_request_context, jsonify, redirect, request

from ringsight.cases import accounts, sessions
from ringsight.cases.accounts import LoginRateLimited, LoginRefused, User
from ringsight.cases.roles import AccessDenied, Permission, require
from ringsight.cases.sessions import SESSION_COOKIE, Session, SessionError
from ringsight.config import Settings
from ringsight.errors import RingSightError
from ringsight.graph.store import GraphStore
from ringsight.ui.i18n import DEFAULT_LANGUAGE, LANGUAGES
from ringsight.ui.session import SESSION_KEY

LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"
LANG_COOKIE = "ringsight_lang"
#: Served to anyone: the login page, logout (it only ends a session) and static files.
PUBLIC_PATHS = frozenset({LOGIN_PATH, LOGOUT_PATH, "/_favicon.ico"})
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/")
_EXTENSION = "ringsight_gate"

F = TypeVar("F", bound=Callable[..., Any])


class InsecureBind(RingSightError):
    """Serving beyond this machine with the shipped session secret (anyone could forge a login)."""

    exit_code = 2


class Gate:
    """The login routes and the per-request session check for one Dash server and store."""

    def __init__(self, store: GraphStore, settings: Settings, *, default_language: str = DEFAULT_LANGUAGE) -> None:
        self.store = store
        self.settings = settings
        self.default_language = default_language

    def install(self, server: Flask) -> None:
        """Register the hook and the ``/login`` and ``/logout`` routes on ``server``."""
        server.extensions[_EXTENSION] = self
        server.before_request(self.check)
        server.after_request(self.slide)
        server.add_url_rule(LOGIN_PATH, "ringsight_login", self.login, methods=["GET", "POST"])
        server.add_url_rule(LOGOUT_PATH, "ringsight_logout", self.logout, methods=["GET", "POST"])

    # -- every request ------------------------------------------------------------
    def check(self) -> Response | None:
        """Refuse any non-public request without a valid session; keep the session in ``g``."""
        path = request.path
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            return None
        try:
            session = sessions.authorize(
                self.store, request.cookies.get(SESSION_COOKIE), Permission.VIEW, settings=self.settings
            )
        except SessionError as exc:
            return self._refuse(401, exc)
        except AccessDenied as exc:
            return self._refuse(403, exc)
        setattr(g, SESSION_KEY, session)
        return None

    def _refuse(self, status: int, exc: RingSightError) -> Response:
        if request.method == "GET" and not request.path.startswith("/_") and status == 401:
            target = request.full_path.rstrip("?") if request.query_string else request.path
            response = redirect(f"{LOGIN_PATH}?next={quote(target)}")
        else:
            response = jsonify(error=exc.message, hint=exc.hint, login=LOGIN_PATH)
            response.status_code = status
        if status == 401 and request.cookies.get(SESSION_COOKIE):
            response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    def slide(self, response: Response) -> Response:
        """Give a session past half its life a fresh token (sliding expiry)."""
        session: Session | None = g.get(SESSION_KEY)
        if session is not None and session.refresh_due and response.status_code < 400:
            try:
                fresh = sessions.refresh(self.store, session, settings=self.settings)
            except SessionError:  # ended meanwhile (logout elsewhere): no fresh token, the next request is refused
                return response
            self._set_session_cookie(response, fresh)
        return response

    def _set_session_cookie(self, response: Response, session: Session) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            session.token,
            max_age=sessions.lifetime_seconds(self.settings),
            path="/",
            httponly=True,
            samesite="Lax",
            secure=request_is_secure(self.settings),
        )

    # -- routes ---------------------------------------------------------------------
    def login(self) -> Response | tuple[str, int]:
        """GET: the login form; POST: check the password (rate-limited), start a session, go on."""
        from ringsight.ui.login import login_page

        lang = request_language(self.default_language)
        target = safe_next(request.values.get("next"))
        if request.method == "GET":
            return login_page(lang, target=target, username=""), 200
        username = request.form.get("username", "")
        shown = username if accounts.login_name_ok(username) else ""  # never echo an unstorable name back
        try:
            user = accounts.authenticate(
                self.store,
                username,
                request.form.get("password", ""),
                client_address(self.settings),
                settings=self.settings,
            )
        except LoginRateLimited as exc:
            minutes = max(1, (exc.retry_after + 59) // 60)
            return login_page(lang, target=target, username=shown, error="login.limited", minutes=minutes), 429
        except LoginRefused as exc:
            key = "login.disabled" if "disabled" in exc.message else "login.refused"
            return login_page(lang, target=target, username=shown, error=key), 401
        session = sessions.issue(self.store, user, settings=self.settings)
        response = redirect(target)
        self._set_session_cookie(response, session)
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, path="/", samesite="Lax")
        return response

    def logout(self) -> Response:
        """End the session (audited) and go back to the login page."""
        try:
            session = sessions.verify(self.store, request.cookies.get(SESSION_COOKIE), settings=self.settings)
        except SessionError:
            session = None
        if session is not None:
            sessions.logout(self.store, session)
        response = redirect(LOGIN_PATH)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response


def install(server: Flask, store: GraphStore, settings: Settings, *, default_language: str = DEFAULT_LANGUAGE) -> Gate:
    """Put the login gate in front of ``server`` (the Dash app's Flask server) and return it."""
    gate = Gate(store, settings, default_language=default_language)
    gate.install(server)
    return gate


def _trusted(addr: str | None, settings: Settings) -> bool:
    """True when ``addr`` is one of ``ui.trusted_proxies`` (addresses or networks)."""
    if not addr or not settings.ui.trusted_proxies:
        return False
    try:
        ip = ipaddress.ip_address(addr.strip().strip("[]"))
    except ValueError:
        return False
    for spec in settings.ui.trusted_proxies:
        try:
            if ip in ipaddress.ip_network(spec.strip(), strict=False):
                return True
        except ValueError:
            continue
    return False


def client_address(settings: Settings) -> str:
    """The client's address: from ``X-Forwarded-For`` when a trusted proxy sent the request, else the peer.

    The header is read right to left, skipping trusted proxies; the first
    other address is the client (anything left of it was written by the client).
    """
    peer = request.remote_addr or ""
    if not _trusted(peer, settings):
        return peer
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop.strip("[]"))
        except ValueError:
            return peer
        if not _trusted(hop, settings):
            return hop
    return hops[0] if hops else peer


def request_is_secure(settings: Settings) -> bool:
    """True for a TLS request: direct HTTPS, or ``X-Forwarded-Proto: https`` from a trusted proxy."""
    if request.is_secure:
        return True
    if _trusted(request.remote_addr, settings):
        proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
        return proto == "https"
    return False


def request_language(default: str = DEFAULT_LANGUAGE) -> str:
    """The language asked for (``?lang=`` / form field), else the one chosen at login, else ``default``."""
    if not has_request_context():
        return default
    for value in (request.values.get("lang"), request.cookies.get(LANG_COOKIE)):
        if value in LANGUAGES:
            return value
    return default


def safe_next(target: str | None) -> str:
    """Where to go after login: a local path only (never another site), else the workbench."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path.startswith((LOGIN_PATH, LOGOUT_PATH)):
        return "/"
    return target


# -- inside callbacks -------------------------------------------------------------------
def current_session() -> Session:
    """The verified session of the request being served; :class:`SessionError` when there is none.

    The gate verified it for this very request; when the gate is not in front
    (a server built without it) the session is verified here instead.
    """
    if not has_request_context():
        raise SessionError("There is no web request to take a login from.", "Log in through the workbench.")
    session: Session | None = g.get(SESSION_KEY)
    if session is None:
        gate: Gate | None = current_app.extensions.get(_EXTENSION)
        if gate is None:
            raise SessionError("This server has no login gate.", "Build the app with ringsight.ui.app.create_app.")
        session = sessions.authorize(gate.store, request.cookies.get(SESSION_COOKIE), settings=gate.settings)
        setattr(g, SESSION_KEY, session)
    return session


def require_user(permission: Permission | str | None = Permission.VIEW) -> User:
    """The logged-in user, checked for ``permission``; raises SessionError or AccessDenied."""
    user = current_session().user
    if permission is not None:
        require(user, permission)
    return user  # type: ignore[return-value]


def guarded(permission: Permission | str = Permission.VIEW) -> Callable[[F], F]:
    """Decorate a Dash callback so it runs only for a session whose role has ``permission``.

    A refused callback changes nothing (``PreventUpdate``); callbacks that must
    tell the user why call :func:`require_user` themselves.
    """

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                require_user(permission)
            except (SessionError, AccessDenied) as exc:
                raise PreventUpdate from exc
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


# -- serving ---------------------------------------------------------------------------
def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_serving(host: str, settings: Settings, store: GraphStore, *, debug: bool = False) -> None:
    """Everything ``ringsight ui`` checks before listening: the bind address, the secret, debug mode.

    - ``--debug`` (tracebacks for anyone, a code reloader) only on loopback;
    - a weak secret (empty, short or the default) is refused beyond loopback
      always, and on any address once a real (non-demo) account exists —
      a proxy in front of 127.0.0.1 would otherwise expose forgeable sessions.
    """
    if debug and not is_loopback(host):
        raise InsecureBind(
            f"Refusing to serve with --debug on {host}: debug mode shows tracebacks (and source) to anyone "
            "who can reach the server, before they log in.",
            "Drop --debug, or serve on 127.0.0.1 only.",
        )
    check_bind(host, settings)
    if sessions.secret_is_weak(settings) and accounts.has_real_accounts(store):
        raise InsecureBind(
            "Refusing to serve the workbench: real accounts exist and the session secret (ui.secret_key) is "
            f"empty, shorter than {sessions.MIN_SECRET_LENGTH} characters or the shipped default, so a login "
            "cookie could be forged (also through a proxy in front of 127.0.0.1).",
            _SECRET_HINT,
        )


_SECRET_HINT = (
    "Set a long random secret first, e.g. `export RINGSIGHT_UI__SECRET_KEY=$(python -c "
    '"import secrets; print(secrets.token_urlsafe(32))")` (or ui.secret_key in the settings file).'
)


def check_bind(host: str, settings: Settings) -> None:
    """Refuse to listen beyond this machine while the session secret is weak (empty, short or the default)."""
    if sessions.secret_is_weak(settings) and not is_loopback(host):
        raise InsecureBind(
            f"Refusing to serve the workbench on {host}: the session secret (ui.secret_key) is empty, shorter "
            f"than {sessions.MIN_SECRET_LENGTH} characters or still the default that ships with RingSight, so "
            "anyone who can reach the server could forge a login cookie and read case files.",
            _SECRET_HINT + " Or serve on 127.0.0.1 only.",
        )
