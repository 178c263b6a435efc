"""The case workflow: allowed moves, outcomes, deadlines, assignment, and versioned edits under concurrency."""

from __future__ import annotations

import threading

import pytest
from test_cases_data import PHARMACY, build_ring, make_users

from ringsight.cases import audit, workflow
from ringsight.cases.roles import AccessDenied
from ringsight.cases.workflow import CLOSED, CaseConflict, CaseError
from ringsight.config import Settings
from ringsight.graph import open_store
from ringsight.graph.store import GraphStore


@pytest.fixture
def ring(store: GraphStore) -> dict:
    facts = build_ring(store)
    facts["users"] = make_users(store)
    return facts


def _open(store: GraphStore, ring: dict) -> workflow.Case:
    return workflow.create_case(
        store,
        ring["users"]["inv"],
        "康宁大药房聚敛盗刷社保卡",
        clusters=["C000001"],
        entities=[("Facility", PHARMACY["code"])],
    )


def test_a_case_walks_from_first_review_to_police_referral(store: GraphStore, ring: dict) -> None:
    inv, sup = ring["users"]["inv"], ring["users"]["sup"]
    case = _open(store, ring)
    assert (case.state, case.version, case.assignee) == ("初审", 1, "inv")
    assert sorted(t["label"] for t in workflow.case_targets(store, case.case_id)) == ["Cluster", "Facility"]
    case = workflow.move_case(store, inv, case.case_id, "复审", 1)
    case = workflow.move_case(store, inv, case.case_id, "申诉", case.version, note="药店提出申诉")
    with pytest.raises(CaseError, match="appeal's outcome"):
        workflow.move_case(store, inv, case.case_id, "调查核实", case.version)
    case = workflow.move_case(store, inv, case.case_id, "调查核实", case.version, appeal_outcome="rejected")
    assert case.appeal_outcome == "rejected"
    with pytest.raises(AccessDenied, match=r"case\.decide"):
        workflow.move_case(store, inv, case.case_id, "处理", case.version, outcome=["referred_police"], basis="x")
    with pytest.raises(CaseError, match="legal basis"):
        workflow.move_case(store, sup, case.case_id, "处理", case.version, outcome=["referred_police"])
    with pytest.raises(CaseError, match="amount recovered"):
        workflow.move_case(store, sup, case.case_id, "处理", case.version, outcome=["recovered"], basis="条例第四十条")
    case = workflow.move_case(
        store,
        sup,
        case.case_id,
        "处理",
        case.version,
        outcome=["recovered", "referred_police"],
        amount_recovered=13500.0,
        basis="《医疗保障基金使用监督管理条例》第四十条",
    )
    assert case.outcome == ("recovered", "referred_police") and case.referral["to"] == ["referred_police"]
    case = workflow.update_case(
        store, inv, case.case_id, case.version, referral_receipt_ts=1_800_000_000, referral_decision="立案"
    )
    case = workflow.move_case(store, sup, case.case_id, CLOSED, case.version)
    assert case.state == CLOSED and case.deadline_ts is None and not case.is_overdue()
    assert case.referral["decision"] == "立案" and case.version == 7
    steps = [(h["action"], h.get("from"), h.get("to")) for h in case.history]
    assert steps[0] == ("create", None, "初审") and steps[-1] == ("move", "处理", CLOSED)
    assert [h["version"] for h in case.history] == list(range(1, 8))
    # Every change has its audit entry, written in the same statement as the change.
    moves = audit.list_entries(store, target=f"Case:{case.case_id}")
    assert [e["action"] for e in moves].count("case.move") == 5
    assert len(moves) == 7


def test_moves_that_the_rules_do_not_allow_are_refused(store: GraphStore, ring: dict) -> None:
    inv, sup = ring["users"]["inv"], ring["users"]["sup"]
    case = _open(store, ring)
    with pytest.raises(CaseError, match="cannot move from 初审 to 处理"):
        workflow.move_case(store, sup, case.case_id, "处理", 1, outcome=["penalty"], penalty=1, basis="x")
    with pytest.raises(CaseError, match="not a case state"):
        workflow.move_case(store, inv, case.case_id, "done", 1)
    with pytest.raises(CaseError, match="dismisses the case"):
        workflow.move_case(store, sup, case.case_id, CLOSED, 1, outcome=["penalty"])
    case = workflow.move_case(store, inv, case.case_id, "复审", 1)
    with pytest.raises(CaseError, match="needs a note"):
        workflow.move_case(store, inv, case.case_id, "初审", case.version)
    case = workflow.move_case(store, inv, case.case_id, "初审", case.version, note="材料不全，退回初审")
    case = workflow.move_case(store, sup, case.case_id, CLOSED, case.version)
    assert case.outcome == ("dismissed",)
    reopened = workflow.move_case(store, sup, case.case_id, "调查核实", case.version, note="发现新线索")
    assert reopened.outcome == () and reopened.state == "调查核实"
    with pytest.raises(AccessDenied):
        workflow.create_case(store, ring["users"]["ana"], "analysts do not open cases", clusters=["C000001"])
    with pytest.raises(CaseError, match="not in the graph"):
        workflow.create_case(store, inv, "missing cluster", clusters=["C999999"])
    assert len(workflow.list_cases(store)) == 1  # the refused case left nothing behind


def test_deadlines_and_overdue(store: GraphStore, ring: dict, settings: Settings) -> None:
    fast = settings.model_copy(
        update={
            "cases": settings.cases.model_copy(update={"deadline_days": {**settings.cases.deadline_days, "复审": 2}})
        }
    )
    case = workflow.create_case(store, ring["users"]["inv"], "t", clusters=["C000001"], settings=fast)
    assert case.deadline_ts == case.state_since_ts + fast.cases.deadline_days["初审"] * 86400
    case = workflow.move_case(store, ring["users"]["inv"], case.case_id, "复审", 1, settings=fast)
    assert case.deadline_ts == case.state_since_ts + 2 * 86400
    assert not case.is_overdue() and 1.9 < case.days_left() <= 2
    later = case.deadline_ts + 6 * 3600
    assert case.is_overdue(later) and case.days_left(later) < 0
    assert [c.case_id for c in workflow.overdue_cases(store, now=later)] == [case.case_id]
    assert workflow.overdue_cases(store) == []
    assert case.as_dict(later)["overdue"] is True


def test_assignment(store: GraphStore, ring: dict) -> None:
    users = ring["users"]
    case = _open(store, ring)
    with pytest.raises(AccessDenied):
        workflow.assign_case(store, users["inv"], case.case_id, "inv2", case.version)
    with pytest.raises(CaseError, match="cannot work on cases"):
        workflow.assign_case(store, users["sup"], case.case_id, "ana", case.version)
    case = workflow.assign_case(store, users["sup"], case.case_id, "inv2", case.version, note="换人")
    case = workflow.assign_case(store, users["sup"], case.case_id, "sup", case.version)
    assigned = store.read("MATCH (c:Case {case_id: $id}) RETURN c.assignee", {"id": case.case_id}).column("c.assignee")
    assert assigned == ["sup"] and case.assignee == "sup"
    assert store.count_nodes("User") == 0 and store.count_relationships("ASSIGNED_TO") == 0  # accounts: app db
    assert [c.case_id for c in workflow.list_cases(store, assignee="sup")] == [case.case_id]
    assert [c.case_id for c in workflow.cases_covering(store, "Cluster", "C000001")] == [case.case_id]


def test_a_stale_edit_is_refused_with_who_changed_it(store: GraphStore, ring: dict) -> None:
    users = ring["users"]
    case = _open(store, ring)
    workflow.update_case(store, users["inv2"], case.case_id, 1, summary="李四补充的事实")
    with pytest.raises(CaseConflict) as exc:
        workflow.update_case(store, users["inv"], case.case_id, 1, summary="张三的旧版本")
    assert "inv2" in exc.value.message and "version 1" in exc.value.message and "now version 2" in exc.value.message
    assert exc.value.current_version == 2 and exc.value.changed_by == "inv2"
    assert workflow.get_case(store, case.case_id).summary == "李四补充的事实"


def _race(store_a: GraphStore, store_b: GraphStore, case_id: str, users: dict) -> list[object]:
    """Two writers on two connections submit edits of the same version at the same moment."""
    barrier = threading.Barrier(2)
    results: list[object] = [None, None]

    def edit(i: int, store: GraphStore, user: object, summary: str) -> None:
        barrier.wait()
        try:
            results[i] = workflow.update_case(store, user, case_id, version, summary=summary)
        except CaseConflict as exc:
            results[i] = exc

    version = workflow.get_case(store_a, case_id).version
    threads = [
        threading.Thread(target=edit, args=(0, store_a, users["inv"], f"A{version}")),
        threading.Thread(target=edit, args=(1, store_b, users["inv2"], f"B{version}")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_concurrent_edits_one_wins_the_other_gets_a_conflict(any_store: GraphStore, settings: Settings) -> None:
    build_ring(any_store)
    users = make_users(any_store)
    case = workflow.create_case(any_store, users["inv"], "race", clusters=["C000001"])
    other = open_store(settings) if any_store.backend == "falkordb" else any_store
    try:
        for _ in range(5):
            before = workflow.get_case(any_store, case.case_id).version
            results = _race(any_store, other, case.case_id, users)
            wins = [r for r in results if isinstance(r, workflow.Case)]
            losses = [r for r in results if isinstance(r, CaseConflict)]
            assert len(wins) == 1 and len(losses) == 1, results
            after = workflow.get_case(any_store, case.case_id)
            assert after.version == before + 1 and after.summary == wins[0].summary
            assert "Your change was not saved" in losses[0].message
    finally:
        if other is not any_store:
            other.close()
    final = workflow.get_case(any_store, case.case_id)
    assert final.version == 6 and len(final.history) == 6
    assert len(audit.list_entries(any_store, action="case.update")) == 5  # no audit entry for a refused edit
    assert any_store.read("MATCH (c:Case) WHERE c._lock IS NOT NULL RETURN count(c)").scalar() == 0


def test_additive_changes_retry_instead_of_failing(store: GraphStore, ring: dict) -> None:
    users = ring["users"]
    case = _open(store, ring)
    other = workflow.update_case(store, users["inv2"], case.case_id, case.version, title="新标题")
    case = workflow.add_evidence(store, users["inv"], case.case_id, "现场检查笔录", kind="document", ref="2026-05-01")
    assert case.version == other.version + 1 and case.title == "新标题"
    assert case.evidence[0]["title"] == "现场检查笔录"
    store.write("CREATE (:Patient {pid: 'p-extra'})")
    case = workflow.cover(store, users["inv"], case.case_id, "Patient", "p-extra")
    assert "Patient" in {t["label"] for t in workflow.case_targets(store, case.case_id)}


def test_the_compare_and_set_itself_refuses_a_stale_write(store: GraphStore, ring: dict) -> None:
    """Past the early version check: the single Cypher statement must still refuse the stale edit."""
    users = ring["users"]
    stale = _open(store, ring)
    workflow.update_case(store, users["inv2"], stale.case_id, 1, summary="first")
    event = {"ts": 1, "time": "t", "user": "inv", "action": "update"}
    with pytest.raises(CaseConflict):
        workflow._commit(store, users["inv"], stale, 1, {"summary": "second"}, event, "case.update")
    case = workflow.get_case(store, stale.case_id)
    assert case.summary == "first" and case.version == 2
    assert [e["after"] for e in audit.list_entries(store, action="case.update")] == [
        '{"summary": "first", "version": 2}'
    ]
