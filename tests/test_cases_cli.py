"""The cases area's commands: users, case, audit, sanction and export referral, end to end on a real store."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cases_data import PASSWORD, PHARMACY, build_ring
from typer.testing import CliRunner, Result

from ringsight.cases import audit, workflow
from ringsight.cases.accounts import LoginRefused
from ringsight.cases.roles import AccessDenied
from ringsight.cases.workflow import CaseConflict
from ringsight.cli import app
from ringsight.config import Settings, get_settings
from ringsight.graph.store import GraphStore


@pytest.fixture
def cli(store: GraphStore, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[CliRunner]:
    """A CLI runner pointed at this test's graph."""
    monkeypatch.setenv("RINGSIGHT_GRAPH_NAME", settings.graph_name)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("RINGSIGHT_USER", raising=False)
    monkeypatch.setenv("RINGSIGHT_PASSWORD", PASSWORD)  # every test account has it; proves --as NAME
    monkeypatch.setenv("RINGSIGHT_TOKEN_FILE", str(tmp_path / "config" / "token"))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def run(cli: CliRunner, *args: str, input: str | None = None) -> Result:
    result = cli.invoke(app, list(args), input=input)
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result


def test_users_commands(cli: CliRunner) -> None:
    run(cli, "users", "add", "boss", "--role", "admin", "--password-stdin", input=PASSWORD + "\n")
    run(cli, "users", "add", "wangfang", "--role", "investigator", "--name", "王芳", input=f"{PASSWORD}\n{PASSWORD}\n")
    listed = run(cli, "users", "list").output
    assert "wangfang" in listed and "王芳" in listed and "investigator" in listed
    run(cli, "users", "role", "wangfang", "supervisor")
    run(cli, "users", "passwd", "wangfang", "--password-stdin", input="another long password\n")
    run(cli, "users", "disable", "wangfang")
    listed = run(cli, "users", "list").output
    assert re.search(r"wangfang\s.*supervisor\s.*no", listed)
    run(cli, "users", "enable", "wangfang")
    bad = cli.invoke(app, ["users", "add", "x", "--role", "boss", "--password-stdin"], input=PASSWORD + "\n")
    assert bad.exit_code != 0 and "not a valid user name" in str(bad.exception)
    actions = run(cli, "audit", "list", "--action", "user.*").output
    for action in ("user.add", "user.role", "user.passwd", "user.disable", "user.enable"):
        assert action in actions


def test_case_sanction_audit_and_referral_commands(cli: CliRunner, store: GraphStore, tmp_path: Path) -> None:
    build_ring(store)
    for name, role in (("inv1", "investigator"), ("sup1", "supervisor"), ("ana1", "analyst")):
        run(cli, "users", "add", name, "--role", role, "--password-stdin", input=PASSWORD + "\n")
    out = run(
        cli,
        "case",
        "new",
        "康宁大药房聚敛刷卡",
        "--cluster",
        "C000001",
        "--entity",
        f"Facility:{PHARMACY['code']}",
        "--as",
        "inv1",
    ).output
    case_id = re.search(r"K\d{8}-[0-9A-F]{6}", out).group(0)
    assert case_id in run(cli, "case", "list").output
    run(cli, "case", "move", case_id, "复审", "--version", "1", "--as", "inv1")
    stale = cli.invoke(app, ["case", "move", case_id, "申诉", "--version", "1", "--as", "inv1"])
    assert isinstance(stale.exception, CaseConflict) and "Reload the case" in str(stale.exception)
    denied = cli.invoke(app, ["case", "new", "x", "--cluster", "C000001", "--as", "ana1"])
    assert isinstance(denied.exception, AccessDenied)
    nobody = cli.invoke(app, ["case", "new", "x", "--cluster", "C000001"])
    assert "--as NAME" in str(nobody.exception)
    run(cli, "case", "assign", case_id, "sup1", "--version", "2", "--as", "sup1")
    run(cli, "case", "move", case_id, "调查核实", "--version", "3", "--as", "sup1")
    run(
        cli,
        "case",
        "move",
        case_id,
        "处理",
        "--version",
        "4",
        "--outcome",
        "penalty",
        "--outcome",
        "referred_police",
        "--penalty",
        "27000",
        "--basis",
        "条例第四十条",
        "--as",
        "sup1",
    )
    shown = json.loads(run(cli, "case", "show", case_id, "--json").output)
    assert shown["state"] == "处理" and shown["version"] == 5 and shown["assignee"] == "sup1"
    assert shown["outcome"] == ["penalty", "referred_police"] and f"Facility:{PHARMACY['code']}" in shown["covers"]

    run(
        cli,
        "sanction",
        "add",
        f"Facility:{PHARMACY['code']}",
        "rectification",
        "--from",
        "2026-04-01",
        "--until",
        "2026-06-30",
        "--note",
        "限期整改",
        "--as",
        "sup1",
    )
    assert "责令整改" in run(cli, "sanction", "list").output

    run(cli, "export", "referral", case_id, "--out", str(tmp_path / "ref"), "--as", "inv1")
    assert (tmp_path / "ref" / f"referral-{case_id}.pdf").stat().st_size > 10_000
    assert (tmp_path / "ref" / f"referral-{case_id}.zip").exists()

    run(cli, "audit", "export", str(tmp_path / "audit.jsonl"), "--action", "case.*")
    lines = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [e["action"] for e in lines][::-1] == ["case.create", "case.move", "case.assign", "case.move", "case.move"]
    listed = run(cli, "audit", "list", "--limit", "5").output
    assert "export.audit" in listed and "export.referral" in listed and "sanction.add" in listed


def test_acting_as_a_user_needs_their_password_or_login(
    cli: CliRunner, store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--as NAME` alone no longer makes you NAME: a password (RINGSIGHT_PASSWORD) or `ringsight login` does."""
    from ringsight.cases.cli_login import CliLoginRequired

    build_ring(store)
    for name, role in (("inv1", "investigator"), ("sup1", "supervisor")):
        run(cli, "users", "add", name, "--role", role, "--password-stdin", input=PASSWORD + "\n")
    new_case = ["case", "new", "冒名开案", "--cluster", "C000001"]
    monkeypatch.delenv("RINGSIGHT_PASSWORD")
    bare = cli.invoke(app, [*new_case, "--as", "sup1"])
    assert isinstance(bare.exception, CliLoginRequired) and "ringsight login" in str(bare.exception)
    monkeypatch.setenv("RINGSIGHT_PASSWORD", "not their password")
    wrong = cli.invoke(app, [*new_case, "--as", "sup1"])
    assert isinstance(wrong.exception, LoginRefused)
    monkeypatch.delenv("RINGSIGHT_PASSWORD")
    assert not workflow.list_cases(store)

    bad_login = cli.invoke(app, ["login", "inv1", "--password-stdin"], input="guess\n")
    assert isinstance(bad_login.exception, LoginRefused)
    token = tmp_path / "config" / "token"
    assert not token.exists()
    assert "logged in as inv1" in run(cli, "login", "inv1", "--password-stdin", input=PASSWORD + "\n").output
    assert token.stat().st_mode & 0o777 == 0o600
    out = run(cli, *new_case).output  # --as may be left out: the login says who
    assert workflow.list_cases(store)[0].created_by == "inv1" and "K" in out
    other = cli.invoke(app, [*new_case, "--as", "sup1"])
    assert isinstance(other.exception, CliLoginRequired) and "not 'sup1'" in str(other.exception)
    assert "logged out inv1" in run(cli, "logout").output
    assert not token.exists()
    after = cli.invoke(app, [*new_case, "--as", "inv1"])
    assert isinstance(after.exception, CliLoginRequired)
    actions = [e["action"] for e in audit.list_entries(store, user="inv1")]
    assert actions[:3] == ["user.logout", "case.create", "user.login"]
