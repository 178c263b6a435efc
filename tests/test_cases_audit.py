"""The audit trail: an entry for every write of a scripted session; append-only through the API."""

from __future__ import annotations

import csv
import inspect
import json
from pathlib import Path

import pytest
from sqlalchemy import update
from test_cases_data import PASSWORD, PATIENTS, PHARMACY, build_ring, make_users, ts

from ringsight.appdb import audit_log, for_store
from ringsight.cases import access, accounts, annotations, audit, sanctions, sessions, workflow
from ringsight.cases.roles import AccessDenied
from ringsight.config import Settings
from ringsight.graph.store import GraphStore


def _scripted_session(store: GraphStore, settings: Settings, tmp_path: Path) -> list[str]:
    """Do one of every kind of write the app offers; return the actions expected, in order."""
    users = make_users(store)
    adm, sup = users["adm"], users["sup"]
    accounts.add_user(store, adm, "wangfang", PASSWORD, "investigator", display_name="王芳")
    me = accounts.authenticate(store, "wangfang", PASSWORD, "10.0.0.7", settings=settings)
    session = sessions.issue(store, me, settings=settings)
    annotations.annotate(store, me, "Facility", PHARMACY["code"], text="夜间刷卡集中", tag="疑似聚敛刷卡")
    case = workflow.create_case(store, me, "康宁大药房", clusters=["C000001"])
    case = workflow.move_case(store, me, case.case_id, "复审", case.version)
    case = workflow.assign_case(store, sup, case.case_id, "inv", case.version)
    case = workflow.update_case(store, me, case.case_id, case.version, summary="补充事实")
    workflow.add_evidence(store, me, case.case_id, "现场检查笔录")
    access.reveal(store, me, "Patient", PATIENTS[0]["pid"], reason="核实身份")
    sanctions.add_sanction(store, sup, "Facility", PHARMACY["code"], "rectification", ts("2026-04-01T00:00:00"))
    accounts.set_role(store, adm, "wangfang", "supervisor")
    accounts.set_password(store, adm, "inv2", "a long new password")
    accounts.disable_user(store, adm, "inv2")
    sessions.logout(store, session)
    audit.export_entries(store, tmp_path / "audit.csv", sup)
    return [
        "user.add",
        "user.login",
        "annotation.add",
        "case.create",
        "case.move",
        "case.assign",
        "case.update",
        "case.evidence",
        "unmask",
        "sanction.add",
        "user.role",
        "user.passwd",
        "user.disable",
        "user.logout",
        "export.audit",
    ]


def test_every_write_of_a_session_is_in_the_trail(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    build_ring(store)
    expected = _scripted_session(store, settings, tmp_path)
    entries = audit.list_entries(store)[::-1]  # oldest first
    assert [e["action"] for e in entries] == expected
    by_action = {e["action"]: e for e in entries}
    move = by_action["case.move"]
    assert json.loads(move["before"])["state"] == "初审" and json.loads(move["after"])["state"] == "复审"
    assert by_action["user.role"]["user"] == "adm"
    assert json.loads(by_action["user.role"]["before"])["role"] == "investigator"
    assert json.loads(by_action["user.role"]["after"])["role"] == "supervisor"
    assert "password" not in by_action["user.passwd"]["after"]  # nor any hash
    assert by_action["annotation.add"]["target"] == f"Facility:{PHARMACY['code']}"
    for e in entries:
        assert e["user"] and e["ts"] > 0 and e["time"].endswith("+08:00") and e["signature"]
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert audit.verify(store).ok
    assert store.count_nodes("AuditEntry") == 0  # the trail is not in the graph
    with (tmp_path / "audit.csv").open(encoding="utf-8-sig") as fh:
        exported = list(csv.DictReader(fh))
    assert len(exported) == len(expected) - 1  # the export's own entry is written after it
    assert {r["action"] for r in exported} == set(expected) - {"export.audit"}


def test_filters(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    build_ring(store)
    _scripted_session(store, settings, tmp_path)
    assert {e["action"] for e in audit.list_entries(store, action="case.*")} == {
        "case.create",
        "case.move",
        "case.assign",
        "case.update",
        "case.evidence",
    }
    assert {e["user"] for e in audit.list_entries(store, user="adm")} == {"adm"}
    assert len(audit.list_entries(store, limit=3)) == 3
    assert audit.list_entries(store, since_ts=2**40) == []


def test_only_supervisors_and_admins_read_or_export_the_trail(store: GraphStore, tmp_path: Path) -> None:
    users = make_users(store)
    audit.record(store, user="inv", action="case.create", target="Case:X")
    assert len(audit.list_for(store, users["sup"])) == 1
    assert len(audit.list_for(store, users["adm"])) == 1
    for name in ("inv", "ana"):
        with pytest.raises(AccessDenied):
            audit.list_for(store, users[name])
        with pytest.raises(AccessDenied):
            audit.export_entries(store, tmp_path / "x.csv", users[name])
    assert not (tmp_path / "x.csv").exists()


def test_the_trail_cannot_be_altered_through_the_api(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    build_ring(store)
    _scripted_session(store, settings, tmp_path)
    before = {e["audit_id"]: dict(e) for e in audit.list_entries(store)}
    # The audit module offers append, list, export and verify — nothing that updates or deletes.
    public = {
        n
        for n, f in inspect.getmembers(audit, inspect.isfunction)
        if f.__module__ == audit.__name__ and not n.startswith("_")
    }
    assert public == {
        "record",
        "list_entries",
        "list_for",
        "export_entries",
        "verify",
        "verify_rows",
        "audit_key",
        "entry_hash",
        "sign",
        "new_audit_id",
    }
    # Returned entries are copies: changing them changes nothing stored.
    listed = audit.list_entries(store)
    listed[0]["action"] = "forged"
    # Everything else the app can do only appends.
    users = {u.username: u for u in accounts.list_users(store)}
    case = workflow.list_cases(store)[0]
    workflow.move_case(store, users["wangfang"], case.case_id, "调查核实", case.version)
    annotations.annotate(store, users["sup"], "Cluster", "C000001", text="复核")
    after = {e["audit_id"]: e for e in audit.list_entries(store)}
    assert {k: after[k] for k in before} == before
    assert len(after) == len(before) + 2
    # Going around the application — straight into the database — is detected (tests/test_audit_chain.py).
    victim = next(iter(before))
    with for_store(store).begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.audit_id == victim).values(user="someone-else"))
    assert [(p.audit_id, p.kind) for p in audit.verify(store).problems] == [(victim, "edited")]


def test_record_needs_who_and_what(store: GraphStore) -> None:
    with pytest.raises(audit.AuditError):
        audit.record(store, user="", action="x", target="y")
    audit_id = audit.record(store, user="system", action="query.write", target="Query:q", after={"rows": 3})
    [entry] = audit.list_entries(store)
    assert entry["audit_id"] == audit_id and json.loads(entry["after"]) == {"rows": 3}


def test_admins_read_the_trail_with_identifiers_masked(store: GraphStore) -> None:
    users = make_users(store)
    build_ring(store)
    rid = PATIENTS[0]["id_raw"]
    annotations.annotate(store, users["inv"], "Cluster", "C000001", text=f"持卡人 {rid} 电话 13812345678")
    [for_sup] = audit.list_for(store, users["sup"], action="annotation.add")
    [for_adm] = audit.list_for(store, users["adm"], action="annotation.add")
    assert rid in for_sup["after"] and "13812345678" in for_sup["after"]
    assert rid not in for_adm["after"] and "138****5678" in for_adm["after"]
