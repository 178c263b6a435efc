"""The cases area's commands: users, case, audit, sanction and export referral, end to end on a real store."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cases_data import PASSWORD, PHARMACY, build_ring
from typer.testing import CliRunner, Result

from ringsight.cases.roles import AccessDenied
from ringsight.cases.workflow import CaseConflict
from ringsight.cli import app
from ringsight.config import Settings, get_settings
from ringsight.graph.store import GraphStore


@pytest.fixture
def cli(store: GraphStore, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """A CLI runner pointed at this test's graph."""
    monkeypatch.setenv("RINGSIGHT_GRAPH_NAME", settings.graph_name)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("RINGSIGHT_USER", raising=False)
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
