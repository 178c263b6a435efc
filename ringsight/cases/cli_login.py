"""Who a CLI command acts as: proven by a password or a login token, never by a name alone.

Commands that act *as* a RingSight user (``case``, ``sanction``,
``export referral`` with ``--as NAME``) used to trust the name given. Now the
person proves it, one of two ways:

- ``RINGSIGHT_PASSWORD`` in the environment: checked like a web login
  (throttled, audited) for ``--as NAME``;
- ``ringsight login NAME``: asks for the password once and keeps a session
  token in a 0600 file (``RINGSIGHT_TOKEN_FILE``, default
  ``<user config dir>/ringsight/token-<graph>``, per OS user). Later commands
  verify it like a browser cookie — it expires after ``ui.session_minutes``
  and ends on ``ringsight logout``, a password change or a disabled account.
  ``--as`` may then be left out; when given it must name the token's user.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from ringsight.appdb import private_dir
from ringsight.cases import accounts, sessions
from ringsight.cases.accounts import User
from ringsight.config import Settings
from ringsight.errors import RingSightError
from ringsight.graph.store import GraphStore

PASSWORD_ENV = "RINGSIGHT_PASSWORD"
TOKEN_ENV = "RINGSIGHT_TOKEN_FILE"
CLI_ADDRESS = "cli"


class CliLoginRequired(RingSightError):
    """The command acts as a user and nothing proves who is running it."""

    exit_code = 7


class CliUserMissing(RingSightError):
    """A password was given for no named user: bad input, not a refusal."""

    exit_code = 2


def token_path(settings: Settings) -> Path:
    """Where ``ringsight login`` keeps the token for this graph."""
    named = os.environ.get(TOKEN_ENV)
    if named:
        return Path(named)
    return Path(platformdirs.user_config_dir("ringsight", appauthor=False)) / f"token-{settings.graph_name}"


def login(store: GraphStore, username: str, password: str, settings: Settings) -> tuple[User, Path]:
    """Check the password (throttled, audited as a login), start a session and save its token 0600."""
    user = accounts.authenticate(store, username, password, CLI_ADDRESS, settings=settings)
    session = sessions.issue(store, user, settings=settings)
    path = token_path(settings)
    private_dir(path.parent)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(session.token)
    os.chmod(path, 0o600)
    return user, path


def logout(store: GraphStore, settings: Settings) -> str | None:
    """End the saved session (audited) and delete the token file; the user name, or None when none was saved."""
    path = token_path(settings)
    if not path.exists():
        return None
    try:
        session = sessions.verify(store, path.read_text().strip(), settings=settings)
    except sessions.SessionError:
        session = None
    if session is not None:
        sessions.logout(store, session)
    path.unlink(missing_ok=True)
    return session.user.username if session else None


def acting_user(store: GraphStore, username: str | None, settings: Settings) -> User:
    """The user a command acts as, proven by ``RINGSIGHT_PASSWORD`` or the saved token; else refuse."""
    password = os.environ.get(PASSWORD_ENV)
    if password:
        if not username:
            raise CliUserMissing(
                f"{PASSWORD_ENV} is set but no user was named.", "Add --as NAME (or set RINGSIGHT_USER)."
            )
        return accounts.authenticate(store, username, password, CLI_ADDRESS, settings=settings)
    path = token_path(settings)
    if not path.exists():
        raise CliLoginRequired(
            "This command acts as a RingSight user, and nothing proves who you are"
            + (f" (--as {username[:80]} alone is not enough)." if username else "."),
            "Run `ringsight login NAME` first (it asks for the password once), "
            f"or set {PASSWORD_ENV} together with --as NAME.",
        )
    try:
        session = sessions.verify(store, path.read_text().strip(), settings=settings)
    except sessions.SessionError as exc:
        message = f"Your saved login is no longer valid: {exc.message}"
        raise CliLoginRequired(message, "Run `ringsight login NAME`.") from exc
    if username and accounts.normalise_username(username, strict=False) != session.user.username:
        raise CliLoginRequired(
            f"You are logged in as '{session.user.username}', not '{username[:80]}'.",
            f"Run `ringsight login {username[:80]}` to act as them.",
        )
    return session.user
