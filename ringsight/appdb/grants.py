"""PostgreSQL privileges for the application's own role: everything it needs, and on the audit trail only appends.

The schema is created and migrated by an *owner* role (``ringsight appdb
upgrade`` with an owner URL); RingSight itself runs as a separate role
granted the statements below. That role may INSERT and SELECT on
``audit_log`` — never UPDATE, DELETE or TRUNCATE — so even a compromised
application cannot rewrite the trail; :func:`ringsight.cases.audit.verify`
catches anyone who goes around it with the owner's rights.
"""

from __future__ import annotations

import re

#: Table -> privileges for the application role.
APP_PRIVILEGES: dict[str, str] = {
    "alembic_version": "SELECT",
    "users": "SELECT, INSERT, UPDATE, DELETE",
    "sessions": "SELECT, INSERT, UPDATE, DELETE",
    "login_attempts": "SELECT, INSERT, DELETE",
    "audit_log": "SELECT, INSERT",
}
#: Sequences the application role draws ids from.
APP_SEQUENCES: tuple[str, ...] = ("login_attempts_id_seq",)

_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def grant_statements(role: str, database: str | None = None) -> list[str]:
    """The SQL an owner runs once (after ``ringsight appdb upgrade``) to let ``role`` run RingSight."""
    if not _ROLE.match(role):
        raise ValueError(f"'{role}' is not a plain PostgreSQL role name (a-z, 0-9, _).")
    out = []
    if database:
        out.append(f'GRANT CONNECT ON DATABASE "{database}" TO {role}')
    out.append(f"GRANT USAGE ON SCHEMA public TO {role}")
    out += [f"GRANT {privs} ON {table} TO {role}" for table, privs in APP_PRIVILEGES.items()]
    out += [f"GRANT USAGE ON SEQUENCE {seq} TO {role}" for seq in APP_SEQUENCES]
    return out
