"""Alembic environment for the application database: runs on the connection RingSight passes in.

RingSight calls ``alembic.command.upgrade`` itself (:func:`ringsight.appdb.engine.migrate`)
with ``config.attributes["connection"]`` set; there is no alembic.ini.
"""

from __future__ import annotations

from alembic import context

from ringsight.appdb.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached when someone runs alembic by hand
    raise RuntimeError("Run migrations through `ringsight appdb upgrade` (ringsight.appdb.migrate).")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
