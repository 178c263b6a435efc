"""Who is using the workbench, and whether they see personal data: decided here only.

Login and accounts belong to ``ringsight.cases``; the login gate
(:mod:`ringsight.ui.auth`) verifies the session of every request and keeps it
in ``flask.g``, and the role comes from there. Every masking decision in the
UI goes through :func:`personal_data_visible`.

Policy (from ``ringsight.cases.roles``): personal data is masked on screen for
every role. Roles cleared to unmask (investigator, supervisor) may reveal a
record on request, and each reveal is audited — that reveal is a case action,
not a display default, so the workbench shows masked forms until a reveal
is granted for the session (``reveal=True``).
"""

from __future__ import annotations

from typing import Any

from ringsight.cases.roles import may_unmask

#: The role outside a web request (scripts and tests that build pages directly).
DEFAULT_ROLE = "investigator"
#: The role of a web request without a verified session: no permission at all.
NO_ROLE = "anonymous"
#: Where the login gate keeps the verified session of the request (``flask.g``).
SESSION_KEY = "ringsight_session"


def current_session() -> Any:
    """The verified :class:`~ringsight.cases.sessions.Session` of this web request, or None."""
    from flask import g, has_request_context

    return g.get(SESSION_KEY) if has_request_context() else None


def current_role() -> str:
    """The role of the logged-in user of this request (see :data:`DEFAULT_ROLE` and :data:`NO_ROLE`)."""
    from flask import has_request_context

    session = current_session()
    if session is not None:
        return str(session.user.role)
    return NO_ROLE if has_request_context() else DEFAULT_ROLE


def personal_data_visible(role: str | None = None, *, reveal: bool = False) -> bool:
    """True when personal identifiers may be shown unmasked to this session.

    ``reveal`` is an explicit, audited request from a cleared role; without it
    everyone sees masked forms.
    """
    role = role or current_role()
    return reveal and may_unmask(role)


def can_run_adhoc(role: str | None = None) -> bool:
    """True when the role may type its own read-only Cypher in the console.

    Read-only is enforced by the database (FalkorDB ``GRAPH.RO_QUERY``, Neo4j
    READ access mode), so every role with the ``query.read`` permission may.
    """
    from ringsight.cases.roles import Permission, permissions_of

    return Permission.QUERY_READ in permissions_of(role or current_role())
