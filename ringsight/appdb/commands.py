"""``ringsight appdb``: migrate the application database, and print the GRANTs for a least-privilege role."""

from __future__ import annotations

import typer
from rich.console import Console

console = Console()
appdb_app = typer.Typer(help="The application database (accounts, sessions, audit trail).", no_args_is_help=True)


@appdb_app.command("upgrade")
def upgrade(
    url: str | None = typer.Option(
        None, "--url", help="Migrate this database (e.g. as the owner role) instead of [appdb] url."
    ),
) -> None:
    """Create or migrate the schema to this version of RingSight (also done automatically at open)."""
    from ringsight.appdb import current_revision, open_appdb

    db = open_appdb(url=url) if url else open_appdb()
    console.print(f"{db.display_url}: schema at revision {current_revision(db)}")


@appdb_app.command("grants")
def grants(
    role: str = typer.Argument(..., help="The PostgreSQL role RingSight runs as."),
    database: str | None = typer.Option(None, "--database", help="Also grant CONNECT on this database."),
) -> None:
    """Print the SQL an owner runs to let ROLE run RingSight (INSERT/SELECT only on the audit trail)."""
    from ringsight.appdb.grants import grant_statements

    for stmt in grant_statements(role, database):
        typer.echo(stmt + ";")


def register(app: typer.Typer) -> None:
    """Attach ``ringsight appdb`` to the main app."""
    app.add_typer(appdb_app, name="appdb")
