"""Notes and tags: stored verbatim, linked to what they describe, vocabulary enforced, retracted not deleted."""

from __future__ import annotations

import pytest
from test_cases_data import PATIENTS, PHARMACY, RECRUITER_PHONE, build_ring, make_users

from ringsight.cases import annotations
from ringsight.cases.annotations import LINK, AnnotationError, annotate, link_key, list_annotations
from ringsight.cases.roles import AccessDenied
from ringsight.config import Settings
from ringsight.graph.store import GraphStore

XSS = '<img src=x onerror="alert(document.cookie)"><script>alert(1)</script> & "引号" \'单引号\''


@pytest.fixture
def ring(store: GraphStore) -> dict:
    facts = build_ring(store)
    facts["users"] = make_users(store)
    return facts


def test_a_note_with_markup_is_stored_verbatim(store: GraphStore, ring: dict) -> None:
    note = annotate(store, ring["users"]["inv"], "Facility", PHARMACY["code"], text=XSS)
    stored = store.read(
        "MATCH (a:Annotation)-[:ABOUT]->(f:Facility {code: $code}) RETURN a.text", {"code": PHARMACY["code"]}
    ).scalar()
    assert stored == XSS == note.text  # not escaped, not stripped: the UI renders it as text
    [listed] = list_annotations(store, "Facility", PHARMACY["code"])
    assert listed.text == XSS and listed.author == "inv" and listed.kind == "note" and listed.created_ts > 0


def test_tags_come_from_the_configured_vocabulary(store: GraphStore, ring: dict, settings: Settings) -> None:
    inv = ring["users"]["inv"]
    tag = annotate(store, inv, "Cluster", "C000001", tag="疑似聚敛刷卡", settings=settings)
    assert tag.kind == "tag" and tag.tag == "疑似聚敛刷卡"
    with pytest.raises(AnnotationError, match="not in the tag vocabulary"):
        annotate(store, inv, "Cluster", "C000001", tag="随便写的标签", settings=settings)
    custom = settings.model_copy(update={"cases": settings.cases.model_copy(update={"tags": ["重点关注"]})})
    annotate(store, inv, "Cluster", "C000001", tag="重点关注", settings=custom)
    assert annotations.tags_for(store, "Cluster", ["C000001"]) == {"C000001": sorted(["重点关注", "疑似聚敛刷卡"])}


def test_targets_must_exist_and_be_annotatable(store: GraphStore, ring: dict) -> None:
    inv = ring["users"]["inv"]
    with pytest.raises(AnnotationError, match="not in the graph"):
        annotate(store, inv, "Facility", "NO-SUCH", text="x")
    with pytest.raises(AnnotationError, match="Cannot annotate"):
        annotate(store, inv, "User", "inv", text="x")
    with pytest.raises(AnnotationError, match="empty"):
        annotate(store, inv, "Facility", PHARMACY["code"], text="   ")
    with pytest.raises(AccessDenied):
        annotate(store, ring["users"]["adm"], "Facility", PHARMACY["code"], text="admins do not annotate")
    assert store.count_nodes("Annotation") == 0


def test_notes_on_links_point_at_both_ends(store: GraphStore, ring: dict) -> None:
    zhang = PATIENTS[0]
    key = link_key("Patient", zhang["pid"], "Phone", RECRUITER_PHONE)
    annotate(store, ring["users"]["ana"], "CONTACT_PHONE", key, text="招募人电话")
    annotate(
        store, ring["users"]["inv"], LINK, link_key("Patient", zhang["pid"], "Facility", PHARMACY["code"]), tag="已约谈"
    )
    ends = store.read(
        "MATCH (a:Annotation {target_label: 'CONTACT_PHONE'})-[:ABOUT]->(e) RETURN labels(e)[0] AS l ORDER BY l"
    ).column("l")
    assert ends == ["Patient", "Phone"]
    assert [a.text for a in list_annotations(store, "CONTACT_PHONE", key)] == ["招募人电话"]
    with pytest.raises(AnnotationError, match="not a link key"):
        annotate(store, ring["users"]["inv"], LINK, "Patient:p1", text="x")


def test_retracting_keeps_the_note(store: GraphStore, ring: dict) -> None:
    users = ring["users"]
    note = annotate(store, users["inv"], "Cluster", "C000001", text="误判？")
    with pytest.raises(AnnotationError, match="author or a supervisor"):
        annotations.retract(store, users["inv2"], note.annotation_id, "not mine")
    done = annotations.retract(store, users["sup"], note.annotation_id, "经核实为合理共济")
    assert done.retracted_by == "sup"
    assert list_annotations(store, "Cluster", "C000001") == []
    assert [a.text for a in list_annotations(store, "Cluster", "C000001", include_retracted=True)] == ["误判？"]
    assert store.count_nodes("Annotation") == 1
