"""Every Cypher statement the cases area runs is valid Neo4j 5 Cypher (Neo4j's own front end lints it).

A session exercising every query path of ``ringsight.cases`` runs on the real
embedded FalkorDB through a store that writes down each statement it passes
on; the statements are then linted as ``CYPHER 5`` with Neo4j's language
support (see test_cypher_portability.py for the linter set-up; skipped
without Node.js).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from test_cases_data import PASSWORD, PATIENTS, PHARMACY, RECRUITER_PHONE, add_run, build_ring, make_users, ts
from test_cypher_portability import lint, neo4j_lint  # noqa: F401 - the fixture is used by name

from ringsight.cases import access, accounts, annotations, audit, referral, sanctions, sessions, workflow
from ringsight.config import Settings
from ringsight.graph.store import GraphStore, QueryResult


class RecordingStore(GraphStore):
    """A real store that also keeps the text of every statement it runs."""

    def __init__(self, inner: GraphStore) -> None:
        self.inner, self.backend, self.texts = inner, inner.backend, set()
        self.settings = getattr(inner, "settings", None)  # the same app database as the wrapped store

    def read(self, cypher: str, params: Mapping[str, Any] | None = None, **kw: Any) -> QueryResult:
        self.texts.add(cypher)
        return self.inner.read(cypher, params, **kw)

    def write(self, cypher: str, params: Mapping[str, Any] | None = None, **kw: Any) -> QueryResult:
        self.texts.add(cypher)
        return self.inner.write(cypher, params, **kw)

    def write_rows(self, cypher: str, rows: Iterable[Mapping[str, Any]], **kw: Any) -> int:
        self.texts.add(cypher)
        return self.inner.write_rows(cypher, rows, **kw)

    def ensure_schema(self) -> list[str]:
        return self.inner.ensure_schema()

    def clear(self) -> None:
        self.inner.clear()

    def close(self) -> None:
        self.inner.close()

    def describe(self) -> str:
        return self.inner.describe()


def _exercise(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    """Call every function of the cases API that talks to the store."""
    users = make_users(store)
    inv, sup, adm = users["inv"], users["sup"], users["adm"]
    accounts.add_user(store, adm, "newbie", PASSWORD, "analyst")
    me = accounts.authenticate(store, "inv", PASSWORD, "10.0.0.1", settings=settings)
    accounts.set_role(store, adm, "newbie", "investigator")
    accounts.set_password(store, adm, "newbie", "another long password")
    accounts.change_own_password(store, accounts.get_user(store, "newbie"), "another long password", PASSWORD + "!")
    accounts.disable_user(store, adm, "newbie")
    accounts.list_users(store)
    s = sessions.issue(store, me, settings=settings)
    sessions.authorize(store, s.token, "case.edit", settings=settings)
    sessions.logout(store, s)

    annotations.annotate(store, inv, "Facility", PHARMACY["code"], text="note", tag="已约谈")
    link = annotations.link_key("Patient", PATIENTS[0]["pid"], "Phone", RECRUITER_PHONE)
    note = annotations.annotate(store, inv, "CONTACT_PHONE", link, text="link note")
    annotations.tags_for(store, "Facility", [PHARMACY["code"]])
    annotations.recent_annotations(store, author="inv")
    annotations.retract(store, inv, note.annotation_id, "wrong")

    case = workflow.create_case(store, inv, "t", clusters=["C000001"], entities=[("Facility", PHARMACY["code"])])
    case = workflow.move_case(store, inv, case.case_id, "复审", case.version)
    case = workflow.assign_case(store, sup, case.case_id, "inv2", case.version)
    case = workflow.update_case(store, inv, case.case_id, case.version, summary="s", referral_decision="立案")
    workflow.add_evidence(store, inv, case.case_id, "笔录")
    workflow.cover(store, inv, case.case_id, "Patient", PATIENTS[1]["pid"])
    workflow.list_cases(store, state="复审", assignee="inv2", open_only=True)
    workflow.overdue_cases(store)
    workflow.cases_covering(store, "Cluster", "C000001")

    access.reveal(store, inv, "Patient", PATIENTS[0]["pid"])
    sanctions.add_sanction(
        store,
        sup,
        "Facility",
        PHARMACY["code"],
        "rectification",
        ts("2026-04-01T00:00:00"),
        until_ts=ts("2026-06-30T00:00:00"),
        case_id=case.case_id,
    )
    add_run(
        store,
        "R2",
        "2026-08-01T00:00:00",
        "C000002",
        [("Facility", "code", PHARMACY["code"])],
        date_from="2026-07-01",
        date_to="2026-07-20",
        facilities=[PHARMACY["code"]],
    )
    sanctions.repeat_offender_status(store, ("Patient", PATIENTS[0]["pid"]))
    sanctions.repeat_offender_clusters(store, ["C000001", "C000002"])
    sanctions.case_repeat_offenders(store, case.case_id)
    referral.collect_referral(store, case.case_id, by="inv")

    audit.list_entries(store, user="inv", action="case.*", target=f"Case:{case.case_id}", since_ts=0, until_ts=2**40)
    audit.export_entries(store, tmp_path / "a.csv", sup, action="user.login")


@pytest.mark.slow
def test_every_statement_is_valid_neo4j_cypher(
    store: GraphStore,
    settings: Settings,
    tmp_path: Path,
    neo4j_lint: Path,  # noqa: F811
) -> None:
    build_ring(store)
    recording = RecordingStore(store)
    _exercise(recording, settings, tmp_path)
    texts = {f"q{i}": text for i, text in enumerate(sorted(recording.texts))}
    assert len(texts) > 30  # the session reached the query paths (accounts and audit are not Cypher any more)
    problems = {texts[name]: errors for name, errors in lint(neo4j_lint, texts).items() if errors}
    assert problems == {}
