"""Every error path of the CLI exits with the code the README's table gives, and says what to do.

The commands run through ``ringsight.cli.main`` (the console script's entry
point), in process, against this test's graph: 2 bad input, 3 store
unreachable, 4 query refused, 5 detection failed, 6 a missing font, 7 not
permitted, 8 a conflict with someone else's change.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator

import pytest
from test_cases_data import PASSWORD, PHARMACY, build_ring, make_users

from ringsight.cases import workflow
from ringsight.cli import main
from ringsight.config import Settings, get_settings
from ringsight.graph.store import GraphStore

Run = Callable[..., tuple[int, str]]


@pytest.fixture
def cli(
    store: GraphStore, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Run]:
    """Run ``ringsight ARGS`` as the console script would; return (exit code, stdout + stderr)."""
    monkeypatch.setenv("RINGSIGHT_GRAPH_NAME", settings.graph_name)
    monkeypatch.setenv("RINGSIGHT_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("RINGSIGHT_USER", raising=False)
    monkeypatch.setenv("RINGSIGHT_PASSWORD", PASSWORD)  # proves who --as names (every test user has PASSWORD)
    monkeypatch.setenv("COLUMNS", "80")  # recorded, so what main() sets is undone after the test
    monkeypatch.delenv("COLUMNS")
    get_settings.cache_clear()

    def run(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["ringsight", *args])
        with pytest.raises(SystemExit) as done:
            main()
        out = capsys.readouterr()
        code = done.value.code if isinstance(done.value.code, int) else (0 if done.value.code is None else 1)
        return code, re.sub(r"[│╭╮╰╯─\s]+", " ", out.out + out.err)

    yield run
    get_settings.cache_clear()


@pytest.fixture
def case(store: GraphStore) -> workflow.Case:
    facts = build_ring(store)
    users = make_users(store)
    return workflow.create_case(store, users["inv"], "康宁大药房聚敛盗刷社保卡", clusters=[facts["cluster_id"]])


def test_role_refusal_exits_7(cli: Run, case: workflow.Case) -> None:
    code, out = cli("case", "move", case.case_id, "复审", "--version", "1", "--as", "ana")
    assert code == 7 and "may not do 'case.edit'" in out and "What to do" in out
    # the way around: an investigator may
    code, out = cli("case", "move", case.case_id, "复审", "--version", "1", "--as", "inv")
    assert code == 0 and "复审" in out


def test_missing_user_exits_2_and_unknown_user_is_refused(cli: Run, case: workflow.Case) -> None:
    code, out = cli("case", "move", case.case_id, "复审", "--version", "1")
    assert code == 2 and "--as NAME" in out
    code, out = cli("case", "move", case.case_id, "复审", "--version", "1", "--as", "nobody")
    assert code == 7 and "What to do" in out


def test_stale_version_exits_8_and_illegal_transition_exits_2(cli: Run, case: workflow.Case) -> None:
    assert cli("case", "move", case.case_id, "复审", "--version", "1", "--as", "inv")[0] == 0
    code, out = cli("case", "move", case.case_id, "申诉", "--version", "1", "--as", "inv")
    assert code == 8 and "now version 2" in out
    code, out = cli("case", "move", case.case_id, "处理", "--version", "2", "--as", "inv")
    assert code == 2 and "cannot move from 复审 to 处理" in out


def test_leaving_appeal_names_the_option(cli: Run, case: workflow.Case) -> None:
    cli("case", "move", case.case_id, "复审", "--version", "1", "--as", "inv")
    cli("case", "move", case.case_id, "申诉", "--version", "2", "--as", "inv")
    code, out = cli("case", "move", case.case_id, "调查核实", "--version", "3", "--as", "inv")
    assert code == 2 and "--appeal" in out
    code, _ = cli("case", "move", case.case_id, "调查核实", "--version", "3", "--appeal", "rejected", "--as", "inv")
    assert code == 0


def test_a_second_case_on_a_cluster_is_refused_unless_asked(cli: Run, case: workflow.Case) -> None:
    code, out = cli("case", "new", "重复", "--cluster", "C000001", "--as", "inv")
    assert code == 8 and case.case_id in out
    code, out = cli("case", "new", "第二个", "--cluster", "C000001", "--second", "--as", "inv")
    assert code == 0 and "opened" in out


def test_case_show_and_audit_list_act_as_a_user(cli: Run, store: GraphStore, case: workflow.Case) -> None:
    sup = workflow.get_case(store, case.case_id)
    workflow.update_case(store, _user(store, "sup"), case.case_id, sup.version, summary="夜间集中刷卡")
    code, out = cli("case", "show", case.case_id, "--as", "ana")
    assert code == 0 and "summary: 夜间集中刷卡" in out
    code, out = cli("audit", "list", "--as", "sup")
    assert code == 0 and "case.create" in out
    code, out = cli("audit", "list", "--as", "ana")
    assert code == 7
    code, out = cli("case", "show", case.case_id, "--as", "nobody")
    assert code == 7


def test_case_show_prints_the_recovered_amount(cli: Run, store: GraphStore, case: workflow.Case) -> None:
    inv, sup = _user(store, "inv"), _user(store, "sup")
    c = workflow.move_case(store, inv, case.case_id, "复审", 1)
    c = workflow.move_case(store, inv, c.case_id, "调查核实", c.version)
    workflow.move_case(
        store, sup, c.case_id, "处理", c.version, outcome=["recovered"], amount_recovered=13500, basis="条例第四十条"
    )
    code, out = cli("case", "show", case.case_id, "--as", "inv")
    assert code == 0 and "recovered ¥13,500.00" in out and "条例第四十条" in out


def test_bad_query_parameter_exits_2(cli: Run, case: workflow.Case) -> None:
    code, out = cli("query", "run", "burst_swipes", "-p", "per_terminal=maybe")
    assert code == 2 and "per_terminal" in out


def test_cypher_syntax_error_exits_4_with_what_to_do(cli: Run, case: workflow.Case) -> None:
    code, out = cli("cypher", "RETRUN 1")
    assert code == 4 and "What to do" in out and "SUBSET.md" in out


def test_a_read_before_anything_is_loaded_finds_no_rows(cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RINGSIGHT_GRAPH_NAME", "never_loaded_graph")
    get_settings.cache_clear()
    code, out = cli("cypher", "MATCH (n:Claim) RETURN n.claim_id")
    assert code == 0 and "0 rows" in out and "empty key" not in out


def test_piped_tables_are_not_cut_at_80_columns(cli: Run, store: GraphStore, case: workflow.Case) -> None:
    long_title = "丰台某医院虚构住院及串换药品案件，涉及多家定点医药机构与多名参保人" * 2
    workflow.create_case(store, _user(store, "inv"), long_title, entities=[("Facility", PHARMACY["code"])])
    code, out = cli("case", "list")
    assert code == 0 and long_title in out.replace(" ", "")


def test_query_list_has_formats(cli: Run) -> None:
    code, out = cli("query", "list", "--format", "csv")
    assert code == 0 and "name,title_zh,title_en,tags,mode,source" in out
    assert "burst_swipes" in out
    code, out = cli("query", "list", "--format", "xml")
    assert code == 2


def _user(store: GraphStore, name: str):  # type: ignore[no-untyped-def]
    from ringsight.cases.accounts import get_user

    return get_user(store, name)
