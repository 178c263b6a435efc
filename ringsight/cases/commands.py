"""CLI: ``ringsight users|case|audit|sanction …`` and ``ringsight export referral``.

User management and the audit trail run as the shell's account (``cli:<os
user>``, admin rights): whoever can run ``ringsight`` against the data already
holds the database, and the audit trail records who they were. Case work
acts *as* a RingSight user, so the same role rules apply as in the web UI and
the audit trail names the person — proven by ``ringsight login NAME`` (a
saved token) or ``RINGSIGHT_PASSWORD`` with ``--as NAME``
(:mod:`ringsight.cases.cli_login`), never by the name alone.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from ringsight.errors import RingSightError

console = Console()
TZ = ZoneInfo("Asia/Shanghai")

users_app = typer.Typer(help="Manage RingSight accounts and roles.", no_args_is_help=True)
case_app = typer.Typer(help="Open, list and move investigation cases.", no_args_is_help=True)
audit_app = typer.Typer(help="Read and export the audit trail.", no_args_is_help=True)
export_app = typer.Typer(help="Export packages for other bodies.", no_args_is_help=True)
sanction_app = typer.Typer(help="Record rectifications and sanctions; see repeat offenders.", no_args_is_help=True)

AS_OPTION = typer.Option(
    None,
    "--as",
    envvar="RINGSIGHT_USER",
    help="Act as this RingSight user (default: the one `ringsight login` saved); needs their login or "
    "RINGSIGHT_PASSWORD.",
)


def register(app: typer.Typer) -> None:
    """Attach the cases area's command groups to the main app."""
    app.add_typer(users_app, name="users")
    app.add_typer(case_app, name="case")
    app.add_typer(audit_app, name="audit")
    app.add_typer(export_app, name="export")
    app.add_typer(sanction_app, name="sanction")
    app.command("login")(login_command)
    app.command("logout")(logout_command)


def _store():  # type: ignore[no-untyped-def]
    from ringsight.graph import open_store

    store = open_store()
    store.ensure_schema()
    return store


class CliInputError(RingSightError):
    """A command was given something it cannot use (a missing or unknown user, a bad date): exit 2."""

    exit_code = 2


def _acting(store: Any, username: str | None) -> Any:
    from ringsight.cases.cli_login import acting_user
    from ringsight.config import get_settings

    return acting_user(store, username, get_settings())


def login_command(
    username: str = typer.Argument(..., help="Your RingSight user name."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
) -> None:
    """Log in once for the commands that act as you (case, sanction, export referral); saves a 0600 token."""
    from ringsight.cases.cli_login import login
    from ringsight.config import get_settings

    password = sys.stdin.readline().rstrip("\n") if password_stdin else typer.prompt("Password", hide_input=True)
    with _store() as store:
        user, path = login(store, username, password, get_settings())
    console.print(f"logged in as [bold]{user.username}[/] ({user.role}); token saved in {path}")


def logout_command() -> None:
    """End the saved login (``ringsight login``) and delete its token."""
    from ringsight.cases.cli_login import logout
    from ringsight.config import get_settings

    with _store() as store:
        who = logout(store, get_settings())
    console.print(f"logged out {who}" if who else "no saved login")


def _reader(store: Any, username: str | None) -> Any:
    """Who reads: the named user (whose role must allow it), else the shell's account."""
    from ringsight.cases.accounts import system_actor

    return _acting(store, username) if username else system_actor()


def _ts(day: str | None) -> int | None:
    if not day:
        return None
    try:
        d = date.fromisoformat(day)
    except ValueError as exc:
        raise CliInputError(f"'{day}' is not a date.", "Write dates as YYYY-MM-DD.") from exc
    return int(datetime.combine(d, datetime.min.time(), tzinfo=TZ).timestamp())


def _iso(ts: int | None) -> str:
    return datetime.fromtimestamp(ts, tz=TZ).strftime("%Y-%m-%d %H:%M") if ts else "—"


def _password(prompt: str, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt(prompt, hide_input=True, confirmation_prompt=True)


# --- users ---------------------------------------------------------------------------
@users_app.command("add")
def users_add(
    username: str = typer.Argument(..., help="Login name (lower-case letters, digits, _ . -)."),
    role: str = typer.Option(..., "--role", "-r", help="investigator | analyst | supervisor | admin"),
    display_name: str = typer.Option("", "--name", help="Display name, e.g. 王芳."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
) -> None:
    """Create an account (asks for the password twice)."""
    from ringsight.cases.accounts import add_user, system_actor

    password = _password("Password", password_stdin)
    with _store() as store:
        user = add_user(store, system_actor(), username, password, role, display_name)
    console.print(f"added [bold]{user.username}[/] ({user.role})")


@users_app.command("move-from-graph")
def users_move_from_graph() -> None:
    """Move User and AuditEntry nodes left in the graph by an earlier RingSight into the app database."""
    from ringsight.cases.legacy import move_out_of_graph

    with _store() as store:
        moved = move_out_of_graph(store)
    console.print(
        f"moved {moved.users} user(s) ({moved.users_kept} already there) and {moved.entries} audit entries "
        "out of the graph"
    )
    if moved.altered:
        console.print(
            f"[bold red]{len(moved.altered)} old audit entries failed their digest (altered before the move); "
            "they were copied with the action suffixed '.unverified'.[/]"
        )


@users_app.command("list")
def users_list() -> None:
    """List accounts with their roles and last login."""
    from ringsight.cases.accounts import list_users

    with _store() as store:
        users = list_users(store)
    table = Table("user", "name", "role", "active", "created", "last login")
    for u in users:
        table.add_row(
            u.username, u.display_name, u.role, "yes" if u.active else "no", _iso(u.created_ts), _iso(u.last_login_ts)
        )
    console.print(table)


@users_app.command("disable")
def users_disable(username: str) -> None:
    """Disable an account; its sessions end at once."""
    from ringsight.cases.accounts import disable_user, system_actor

    with _store() as store:
        disable_user(store, system_actor(), username)
    console.print(f"disabled {username}")


@users_app.command("enable")
def users_enable(username: str) -> None:
    """Enable a disabled account."""
    from ringsight.cases.accounts import set_active, system_actor

    with _store() as store:
        set_active(store, system_actor(), username, True)
    console.print(f"enabled {username}")


@users_app.command("passwd")
def users_passwd(
    username: str,
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
) -> None:
    """Set a new password (ends the user's sessions)."""
    from ringsight.cases.accounts import set_password, system_actor

    password = _password("New password", password_stdin)
    with _store() as store:
        set_password(store, system_actor(), username, password)
    console.print(f"password changed for {username}")


@users_app.command("role")
def users_role(username: str, role: str) -> None:
    """Change a user's role."""
    from ringsight.cases.accounts import set_role, system_actor

    with _store() as store:
        user = set_role(store, system_actor(), username, role)
    console.print(f"{user.username} is now {user.role}")


# --- cases -----------------------------------------------------------------------------
@case_app.command("list")
def case_list(
    state: str | None = typer.Option(
        None, "--state", help="Only this state (初审, 复审, 申诉, 调查核实, 处理, closed)."
    ),
    assignee: str | None = typer.Option(None, "--assignee", help="Only cases assigned to this user."),
    overdue: bool = typer.Option(False, "--overdue", help="Only open cases past their deadline."),
    open_only: bool = typer.Option(False, "--open", help="Leave out closed cases."),
) -> None:
    """List cases, most urgent first."""
    from ringsight.cases.workflow import list_cases

    with _store() as store:
        cases = list_cases(store, state=state, assignee=assignee, overdue_only=overdue, open_only=open_only)
    table = Table("case", "title", "state", "v", "assignee", "deadline", "outcome")
    for c in cases:
        deadline = _iso(c.deadline_ts)
        if c.is_overdue():
            deadline = f"[red]{deadline} overdue[/]"
        table.add_row(
            c.case_id, c.title, c.state, str(c.version), c.assignee or "—", deadline, "、".join(c.outcome_labels) or "—"
        )
    console.print(table)
    console.print(f"{len(cases)} case(s)")


@case_app.command("show")
def case_show(
    case_id: str,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Show a case: state, deadline, summary, what it covers, outcome and amounts, repeat offenders, history."""
    from ringsight.cases.roles import Permission, require
    from ringsight.cases.sanctions import case_repeat_offenders
    from ringsight.cases.workflow import case_targets, get_case

    with _store() as store:
        require(_reader(store, as_user), Permission.VIEW)
        case = get_case(store, case_id)
        targets = case_targets(store, case_id)
        repeats = case_repeat_offenders(store, case_id)
    if as_json:
        data = case.as_dict() | {"covers": [f"{t['label']}:{t['key']}" for t in targets]}
        data["repeat_offenders"] = [r.as_dict() for r in repeats]
        console.print_json(json.dumps(data, ensure_ascii=False, default=str))
        return
    console.print(f"[bold]{case.case_id}[/] {case.title}")
    overdue = " [red](overdue)[/]" if case.is_overdue() else ""
    console.print(
        f"state {case.state} · version {case.version} · assignee {case.assignee or '—'} · "
        f"deadline {_iso(case.deadline_ts)}{overdue}"
    )
    if case.summary:
        console.print(f"summary: {case.summary}")
    console.print("covers: " + (", ".join(f"{t['label']}:{t['key']}" for t in targets) or "—"))
    if case.outcome:
        console.print("outcome: " + "、".join(case.outcome_labels) + (f" · basis {case.basis}" if case.basis else ""))
    money = [
        f"{name} ¥{value:,.2f}"
        for name, value in (("recovered", case.amount_recovered), ("penalty", case.penalty))
        if value is not None
    ]
    if money:
        console.print(" · ".join(money))
    if case.appeal_outcome:
        console.print(f"appeal: {case.appeal_outcome}")
    for r in repeats:
        console.print(f"[red]{r.explanation_zh}[/]")
    table = Table("time", "user", "action", "from → to", "note / outcome")
    for h in case.history:
        detail = "; ".join(str(x) for x in (h.get("note"), ", ".join(h.get("outcome") or [])) if x)
        table.add_row(
            h.get("time", ""),
            h.get("user", ""),
            h.get("action", ""),
            f"{h.get('from', '')} → {h.get('to', '')}",
            detail,
        )
    console.print(table)


def _entity(spec: str) -> tuple[str, str]:
    label, sep, key = spec.partition(":")
    if not sep or not key:
        raise CliInputError(f"'{spec}' is not Label:key.", "Write entities as e.g. Facility:P11010500001.")
    return label, key


@case_app.command("new")
def case_new(
    title: str = typer.Argument(..., help="A short title."),
    cluster: list[str] = typer.Option([], "--cluster", "-c", help="A cluster id (repeatable)."),
    entity: list[str] = typer.Option([], "--entity", "-e", help="An entity as Label:key (repeatable)."),
    summary: str | None = typer.Option(None, "--summary", help="The facts as known so far."),
    assignee: str | None = typer.Option(None, "--assignee", help="Assign to this user (default: you)."),
    second: bool = typer.Option(False, "--second", help="Open it even though the cluster has an open case."),
    id_only: bool = typer.Option(False, "--id-only", help="Print only the new case's id (for scripts)."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Open a case in 初审 covering clusters and entities (refused when a cluster already has an open case)."""
    from ringsight.cases.workflow import create_case

    with _store() as store:
        user = _acting(store, as_user)
        case = create_case(
            store,
            user,
            title,
            clusters=cluster,
            entities=[_entity(e) for e in entity],
            summary=summary,
            assignee=assignee,
            allow_second=second,
        )
    if id_only:
        typer.echo(case.case_id)
        return
    console.print(
        f"opened [bold]{case.case_id}[/] in {case.state} (version {case.version}), deadline {_iso(case.deadline_ts)}"
    )


@case_app.command("move")
def case_move(
    case_id: str,
    to_state: str = typer.Argument(..., help="The next state."),
    version: int = typer.Option(..., "--version", "-v", help="The version you looked at (from `case show`)."),
    outcome: list[str] = typer.Option(
        [],
        "--outcome",
        "-o",
        help="Outcome code (repeatable): "
        + ", ".join(
            [
                "dismissed",
                "recovered",
                "penalty",
                "suspension",
                "agreement_terminated",
                "blacklisted",
                "referred_police",
                "referred_discipline",
                "referred_health",
            ]
        ),
    ),
    note: str | None = typer.Option(None, "--note", help="Why."),
    appeal: str | None = typer.Option(
        None, "--appeal", help="Leaving 申诉, its outcome (appeal_outcome): upheld, partly_upheld, rejected, withdrawn."
    ),
    recovered: float | None = typer.Option(None, "--recovered", help="Amount recovered (yuan)."),
    penalty: float | None = typer.Option(None, "--penalty", help="Penalty (yuan)."),
    basis: str | None = typer.Option(None, "--basis", help="Legal basis of the decision."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Move a case to its next state (refused if someone changed it since --version)."""
    from ringsight.cases.workflow import move_case

    with _store() as store:
        user = _acting(store, as_user)
        case = move_case(
            store,
            user,
            case_id,
            to_state,
            version,
            outcome=outcome or None,
            note=note,
            appeal_outcome=appeal,
            amount_recovered=recovered,
            penalty=penalty,
            basis=basis,
        )
    console.print(f"{case.case_id} is now {case.state} (version {case.version})")


@case_app.command("assign")
def case_assign(
    case_id: str,
    assignee: str,
    version: int = typer.Option(..., "--version", "-v", help="The version you looked at."),
    note: str | None = typer.Option(None, "--note"),
    as_user: str | None = AS_OPTION,
) -> None:
    """Assign a case to an investigator (supervisors)."""
    from ringsight.cases.workflow import assign_case

    with _store() as store:
        user = _acting(store, as_user)
        case = assign_case(store, user, case_id, assignee, version, note=note)
    console.print(f"{case.case_id} assigned to {case.assignee} (version {case.version})")


# --- audit -------------------------------------------------------------------------------
@audit_app.command("list")
def audit_list(
    user: str | None = typer.Option(None, "--user", help="Only entries by this user."),
    action: str | None = typer.Option(None, "--action", help="Only this action (or a prefix like 'case.*')."),
    target: str | None = typer.Option(None, "--target", help="Only this target, e.g. Case:K20261123-ABC123."),
    since: str | None = typer.Option(None, "--since", help="From this date (YYYY-MM-DD)."),
    limit: int = typer.Option(100, "--limit", help="At most this many entries (newest first)."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Show audit entries, newest first (as the shell's account, or --as a supervisor)."""
    from ringsight.cases.audit import list_for

    with _store() as store:
        reader = _reader(store, as_user)
        entries = list_for(store, reader, user=user, action=action, target=target, since_ts=_ts(since), limit=limit)
        _warn_if_broken(store)
    table = Table("seq", "time", "user", "action", "target", "after")
    for e in entries:
        after = (e.get("after") or "")[:80]
        table.add_row(str(e["seq"]), e["time"], e["user"], e["action"], e["target"], after)
    console.print(table)


def _warn_if_broken(store: Any) -> bool:
    """Print a warning when the trail fails verification; True when it verifies."""
    from ringsight.cases.audit import verify

    result = verify(store)
    if not result.ok:
        console.print(
            f"[bold red]WARNING: the audit trail fails verification ({len(result.problems)} problem(s)): "
            "entries were changed outside RingSight. Run `ringsight audit verify` for details.[/]"
        )
    return result.ok


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the trail's sequence, hash chain and signatures; exit 9 when anything was edited, deleted or moved."""
    from ringsight.cases.audit import verify

    with _store() as store:
        result = verify(store)
    if result.ok:
        console.print(
            f"audit trail OK: {result.count} entries, last seq {result.last_seq}, head {result.last_hash[:16]}…"
        )
        return
    table = Table("seq", "audit id", "problem", "detail")
    for p in result.problems:
        table.add_row(str(p.seq), p.audit_id, p.kind, p.detail)
    console.print(table)
    console.print(f"[bold red]{len(result.problems)} problem(s) in {result.count} entries.[/]")
    raise typer.Exit(9)


@audit_app.command("export")
def audit_export(
    out: Path = typer.Argument(..., help="A .csv or .jsonl file."),
    user: str | None = typer.Option(None, "--user"),
    action: str | None = typer.Option(None, "--action"),
    since: str | None = typer.Option(None, "--since", help="From this date (YYYY-MM-DD)."),
    limit: int = typer.Option(1_000_000, "--limit"),
) -> None:
    """Export audit entries to CSV or JSON Lines (the export is itself audited)."""
    from ringsight.cases.accounts import system_actor
    from ringsight.cases.audit import export_entries

    filters = {k: v for k, v in {"user": user, "action": action, "since_ts": _ts(since)}.items() if v is not None}
    with _store() as store:
        _warn_if_broken(store)
        n = export_entries(store, out, system_actor(), limit=limit, **filters)
    console.print(f"wrote {n} entries to {out}")


# --- export --------------------------------------------------------------------------------
@export_app.command("referral")
def export_referral(
    case_id: str,
    out: Path = typer.Option(..., "--out", help="Directory to write the package into."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Write a case's referral package (PDF + zip with CSVs, picture and JSON). Identities are in clear; audited."""
    from ringsight.cases.referral import build_referral

    with _store() as store:
        user = _acting(store, as_user)
        with console.status("building the referral package…"):
            pkg = build_referral(store, case_id, out, user)
    console.print(f"PDF: {pkg.pdf}\nzip: {pkg.zip}\n(audit {pkg.audit_id})")


# --- sanctions -------------------------------------------------------------------------------
@sanction_app.command("add")
def sanction_add(
    target: str = typer.Argument(..., help="Facility:CODE, Patient:PID or Doctor:CODE."),
    kind: str = typer.Argument(
        ..., help="rectification, warning, recovery, penalty, suspension, agreement_terminated, blacklist, points"
    ),
    from_day: str = typer.Option(..., "--from", help="Start date (YYYY-MM-DD)."),
    until_day: str | None = typer.Option(None, "--until", help="End of the rectification period (YYYY-MM-DD)."),
    note: str | None = typer.Option(None, "--note"),
    amount: float | None = typer.Option(None, "--amount", help="Amount (yuan) for penalties and recoveries."),
    case_id: str | None = typer.Option(None, "--case", help="The case that decided it."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Record a rectification (整改) or sanction on a facility or person."""
    from ringsight.cases.sanctions import add_sanction

    label, key = _entity(target)
    with _store() as store:
        user = _acting(store, as_user)
        s = add_sanction(
            store,
            user,
            label,
            key,
            kind,
            _ts(from_day) or 0,
            until_ts=_ts(until_day),
            note=note,
            amount=amount,
            case_id=case_id,
        )
    console.print(f"recorded {s.sanction_id}: {s.kind_zh} on {label}:{key}")


@sanction_app.command("list")
def sanction_list(
    target: str | None = typer.Argument(None, help="Only this Label:key."),
) -> None:
    """List sanctions, saying which targets were flagged again afterwards (屡查屡犯)."""
    from ringsight.cases.sanctions import list_sanctions, repeat_offender_status

    label, key = _entity(target) if target else (None, None)
    with _store() as store:
        sanctions = list_sanctions(store, label, key)
        status = {
            (s.target_label, s.target_key): repeat_offender_status(store, (s.target_label, s.target_key))
            for s in sanctions
        }
    table = Table("id", "target", "kind", "from", "until", "note", "屡查屡犯")
    for s in sanctions:
        rep = status[(s.target_label, s.target_key)]
        table.add_row(
            s.sanction_id,
            f"{s.target_label}:{s.target_key}",
            s.kind_zh,
            _iso(s.from_ts)[:10],
            _iso(s.until_ts)[:10],
            s.note or "",
            "[red]是[/]" if rep.repeat else "",
        )
    console.print(table)
