"""Who is using the workbench, and whether they see personal data: decided here only.

Login and accounts belong to ``ringsight.cases``; until they are wired in,
every session is an investigator. Every masking decision in the UI goes
through :func:`personal_data_visible`, so connecting login later changes this
module and nothing else.

Policy (from ``ringsight.cases.roles``): personal data is masked on screen for
every role. Roles cleared to unmask (investigator, supervisor) may reveal a
record on request, and each reveal is audited — that reveal is a case action,
not a display default, so the workbench shows masked forms until a reveal
is granted for the session (``reveal=True``).
"""

from __future__ import annotations

from ringsight.cases.roles import may_unmask

DEFAULT_ROLE = "investigator"


def current_role() -> str:
    """The role of the current session (an investigator until login is wired in)."""
    return DEFAULT_ROLE


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
