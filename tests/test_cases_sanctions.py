"""Rectifications, sanctions and repeat offenders (屡查屡犯)."""

from __future__ import annotations

import pytest
from test_cases_data import PATIENTS, PHARMACY, add_run, build_ring, make_users, ts

from ringsight.cases import sanctions, workflow
from ringsight.cases.roles import AccessDenied
from ringsight.cases.sanctions import SanctionError, add_sanction, repeat_offender_status
from ringsight.graph.store import GraphStore

RECT_FROM = ts("2026-04-01T00:00:00")
RECT_UNTIL = ts("2026-06-30T00:00:00")
PHARMACY_REF = ("Facility", PHARMACY["code"])


@pytest.fixture
def ring(store: GraphStore) -> dict:
    facts = build_ring(store)  # run R20260315 found C000001 (activity 2026-03-01..03-10)
    facts["users"] = make_users(store)
    return facts


def _rectify(store: GraphStore, ring: dict) -> sanctions.Sanction:
    return add_sanction(
        store,
        ring["users"]["sup"],
        "Facility",
        PHARMACY["code"],
        "rectification",
        RECT_FROM,
        until_ts=RECT_UNTIL,
        note="责令限期整改",
    )


def test_flagged_before_the_rectification_is_not_a_repeat(store: GraphStore, ring: dict) -> None:
    _rectify(store, ring)
    status = repeat_offender_status(store, PHARMACY_REF)
    assert not status.repeat and status.label_zh is None and len(status.sanctions) == 1


def test_flagged_again_after_the_rectification_is_a_repeat_offender(store: GraphStore, ring: dict) -> None:
    _rectify(store, ring)
    add_run(
        store,
        "R20260801-020000",
        "2026-08-01T02:00:00",
        "C000002",
        [("Facility", "code", PHARMACY["code"]), ("Card", "card_id", PATIENTS[0]["card"])],
        date_from="2026-07-01",
        date_to="2026-07-20",
        facilities=[PHARMACY["code"]],
    )
    status = repeat_offender_status(store, PHARMACY_REF)
    assert status.repeat and status.label_zh == "屡查屡犯"
    assert [r["cluster_id"] for r in status.reflagged] == ["C000002"]
    assert "屡查屡犯" in status.explanation_zh and "C000002" in status.explanation_zh
    assert "2026-06-30" in status.explanation_zh  # the end of the rectification period
    # The same answer for a Node or a {"label", "key"} row, as detection and the queue hold them.
    node = store.read("MATCH (f:Facility {code: $c}) RETURN f", {"c": PHARMACY["code"]}).scalar()
    assert repeat_offender_status(store, node).repeat
    assert repeat_offender_status(store, {"label": "Facility", "key": PHARMACY["code"]}).repeat
    queue = sanctions.repeat_offender_clusters(store, ["C000001", "C000002"])
    assert list(queue) == ["C000002"] and queue["C000002"][0].key == PHARMACY["code"]
    # A case covering the new cluster says so; one covering only the old cluster still names the facility.
    case = workflow.create_case(store, ring["users"]["inv"], "复查", clusters=["C000002"])
    assert [(r.label, r.key) for r in sanctions.case_repeat_offenders(store, case.case_id)] == [PHARMACY_REF]


def test_refinding_only_old_activity_is_not_a_relapse(store: GraphStore, ring: dict) -> None:
    _rectify(store, ring)
    # A run after the rectification that only re-found claims from before it ended.
    add_run(
        store,
        "R20260705-020000",
        "2026-07-05T02:00:00",
        "C000003",
        [("Facility", "code", PHARMACY["code"])],
        date_from="2026-05-01",
        date_to="2026-06-15",
        facilities=[PHARMACY["code"]],
    )
    assert not repeat_offender_status(store, PHARMACY_REF).repeat


def test_a_facility_named_only_in_the_clusters_facilities_counts(store: GraphStore, ring: dict) -> None:
    _rectify(store, ring)
    add_run(
        store,
        "R20260901-020000",
        "2026-09-01T02:00:00",
        "C000004",
        [("Patient", "pid", PATIENTS[1]["pid"])],
        date_from="2026-08-01",
        date_to="2026-08-30",
        facilities=[PHARMACY["code"]],
    )
    assert [r["cluster_id"] for r in repeat_offender_status(store, PHARMACY_REF).reflagged] == ["C000004"]


def test_persons_too_and_the_rules_for_recording(store: GraphStore, ring: dict) -> None:
    users = ring["users"]
    pid = PATIENTS[1]["pid"]
    add_sanction(store, users["sup"], "Patient", pid, "suspension", RECT_FROM, until_ts=RECT_UNTIL)
    add_run(
        store,
        "R20260801-020000",
        "2026-08-01T02:00:00",
        "C000002",
        [("Patient", "pid", pid)],
        date_from="2026-07-01",
        date_to="2026-07-20",
        facilities=[],
    )
    assert repeat_offender_status(store, ("Patient", pid)).repeat
    assert not repeat_offender_status(store, ("Patient", PATIENTS[0]["pid"])).repeat
    with pytest.raises(AccessDenied):
        add_sanction(store, users["inv"], "Facility", PHARMACY["code"], "penalty", RECT_FROM)
    with pytest.raises(SanctionError, match="not a sanction kind"):
        add_sanction(store, users["sup"], "Facility", PHARMACY["code"], "jail", RECT_FROM)
    with pytest.raises(SanctionError, match="not in the graph"):
        add_sanction(store, users["sup"], "Facility", "NOPE", "penalty", RECT_FROM)
    with pytest.raises(SanctionError, match="ends before it starts"):
        add_sanction(store, users["sup"], "Facility", PHARMACY["code"], "rectification", RECT_UNTIL, until_ts=RECT_FROM)
    assert [s.kind for s in sanctions.list_sanctions(store)] == ["suspension"]
    assert store.count_relationships("SANCTIONED") == 1
