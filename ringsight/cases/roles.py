"""Roles and what each may do: one table, checked on the server for every action.

Four roles, from the way a medical-insurance bureau works (DOMAIN.md, "Who
uses it"):

- **investigator** (稽核人员): works the queue, annotates, opens and moves
  cases, may reveal a person's identity (each reveal is audited) and export a
  referral package;
- **analyst** (数据分析): runs and saves Cypher queries, annotates; sees
  personal data masked, always;
- **supervisor** (科室负责人): everything an investigator may do, plus
  assigning cases, deciding outcomes, recording sanctions and reading or
  exporting the audit trail;
- **admin** (系统管理员): manages accounts and may read the audit trail, but is
  not cleared for personal data and does not handle cases — keeping account
  administration apart from case work means no single technical account can
  both create a user and use it to read identities unnoticed.

Functions here take a :class:`~ringsight.cases.accounts.User` (or anything with
``username``, ``role`` and ``active``) and raise :class:`AccessDenied` —
callers (CLI commands, Dash callbacks) do not need to repeat the policy.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from ringsight.errors import RingSightError


class Role(StrEnum):
    """The four RingSight roles."""

    INVESTIGATOR = "investigator"
    ANALYST = "analyst"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


ROLES: tuple[str, ...] = tuple(r.value for r in Role)
ROLE_LABELS_ZH = {"investigator": "稽核人员", "analyst": "数据分析", "supervisor": "科室负责人", "admin": "系统管理员"}


class Permission(StrEnum):
    """Things a user may be allowed to do."""

    VIEW = "view"  # queue, canvas, details (personal data masked)
    UNMASK = "unmask"  # reveal personal data of a record (audited)
    ANNOTATE = "annotate"  # notes and tags
    CASE_EDIT = "case.edit"  # open a case, move it through the review steps, add evidence
    CASE_ASSIGN = "case.assign"  # assign a case to an investigator
    CASE_DECIDE = "case.decide"  # record the handling outcome, close or reopen a case
    EXPORT_REFERRAL = "export.referral"  # the referral package (holds identities unmasked)
    QUERY_READ = "query.read"  # run read-only Cypher
    QUERY_WRITE = "query.write"  # run library write queries (audited)
    QUERY_SAVE = "query.save"  # add a named query to the library
    SANCTION_ADD = "sanction.add"  # record rectification and sanctions
    AUDIT_VIEW = "audit.view"  # read and export the audit trail
    USER_MANAGE = "user.manage"  # add, disable, re-role users, reset passwords


P = Permission
_INVESTIGATOR = frozenset({P.VIEW, P.UNMASK, P.ANNOTATE, P.CASE_EDIT, P.EXPORT_REFERRAL, P.QUERY_READ})
PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.INVESTIGATOR: _INVESTIGATOR,
    Role.ANALYST: frozenset({P.VIEW, P.ANNOTATE, P.QUERY_READ, P.QUERY_WRITE, P.QUERY_SAVE}),
    Role.SUPERVISOR: _INVESTIGATOR
    | {P.CASE_ASSIGN, P.CASE_DECIDE, P.SANCTION_ADD, P.AUDIT_VIEW, P.QUERY_WRITE, P.QUERY_SAVE},
    Role.ADMIN: frozenset({P.VIEW, P.QUERY_READ, P.AUDIT_VIEW, P.USER_MANAGE}),
}


class Principal(Protocol):
    """What the checks need to know about a user."""

    username: str
    role: str
    active: bool


class AccessDenied(RingSightError):
    """The user's role does not allow the action (or the account is disabled)."""

    exit_code = 7


def check_role(role: str) -> str:
    """Return ``role`` if it is a RingSight role, else raise with the list of roles."""
    if role not in ROLES:
        raise RingSightError(f"'{role}' is not a RingSight role.", f"Use one of: {', '.join(ROLES)}.")
    return role


def permissions_of(role: str) -> frozenset[Permission]:
    """The permissions a role carries (empty for an unknown role)."""
    return PERMISSIONS.get(role, frozenset())


def can(user: Principal | None, permission: Permission | str) -> bool:
    """True when the user exists, is active and their role grants the permission."""
    if user is None or not getattr(user, "active", False):
        return False
    return Permission(permission) in permissions_of(user.role)


def may_unmask(role: str) -> bool:
    """True when the role is cleared to see personal data (on request, audited)."""
    return Permission.UNMASK in permissions_of(role)


def require(user: Principal | None, permission: Permission | str) -> Principal:
    """Return the user when allowed, else raise :class:`AccessDenied` with a readable reason."""
    permission = Permission(permission)
    if user is None:
        raise AccessDenied("You are not logged in.", "Log in, then try again.")
    if not getattr(user, "active", False):
        raise AccessDenied(f"The account '{user.username}' is disabled.", "Ask an administrator to enable it.")
    if permission not in permissions_of(user.role):
        allowed = [r for r in ROLES if permission in permissions_of(r)]
        raise AccessDenied(
            f"The role '{user.role}' of '{user.username}' may not do '{permission.value}'.",
            f"Roles that may: {', '.join(allowed) or 'none'}. Ask a supervisor or an administrator.",
        )
    return user


def require_role(user: Principal | None, *roles: str) -> Principal:
    """Return the user when logged in, active and holding one of ``roles``; else raise :class:`AccessDenied`."""
    if user is None:
        raise AccessDenied("You are not logged in.", "Log in, then try again.")
    if not getattr(user, "active", False):
        raise AccessDenied(f"The account '{user.username}' is disabled.", "Ask an administrator to enable it.")
    if roles and user.role not in roles:
        raise AccessDenied(
            f"This needs the role {' or '.join(roles)}; '{user.username}' is {user.role}.",
            "Ask a supervisor or an administrator.",
        )
    return user
