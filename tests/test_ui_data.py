"""The workbench's store reads and canvas operations, on the real embedded store (no browser).

The graph is the UI sample (tests/sample_graph.py): a small city with four
planted rings and one finished detection run, written per the graph contract.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from sample_graph import build_sample
from typer.testing import CliRunner

from ringsight.graph.store import Node
from ringsight.identity import mask_phone, pseudonym, short_pseudonym
from ringsight.ui import session
from ringsight.ui.canvas import Canvas
from ringsight.ui.data import LINK_KINDS, Ref, UiData, date_to_ts
from ringsight.ui.i18n import TEXT, t
from ringsight.ui.present import display_label

UI_DIR = Path(__file__).resolve().parents[1] / "ringsight" / "ui"


@pytest.fixture
def ui(store, settings):  # type: ignore[no-untyped-def]
    sample = build_sample(store, settings, patients=120, claims=800)
    data = UiData(store, settings, supernode=60, expand_cap=10)
    return data, Canvas(data), sample


def _nodes(elements):  # type: ignore[no-untyped-def]
    return {e["data"]["id"]: e for e in elements if "source" not in e["data"]}


def _edges(elements):  # type: ignore[no-untyped-def]
    return [e["data"] for e in elements if "source" in e["data"]]


def test_queue_is_ranked_with_names_and_case_state(ui) -> None:  # type: ignore[no-untyped-def]
    data, _, sample = ui
    rows = data.queue()
    assert [r["cluster_id"] for r in rows] == ["C000001", "C000002", "C000003", "C000004"]
    assert rows[0]["facility_names"] == ["康顺大药房"]
    assert rows[1]["change"] == "grown"
    assert all(r["case_state"] is None for r in rows)
    assert data.run()["run_id"] == sample.run_id


def test_open_cluster_folds_claims_into_links(ui) -> None:  # type: ignore[no-untyped-def]
    _data, canvas, sample = ui
    out = canvas.open_cluster("C000002")
    nodes, edges = _nodes(out.elements), _edges(out.elements)
    assert len(nodes) == len(sample.clusters["C000002"]["members"])
    assert all(n["data"]["member"] == 1 for n in nodes.values())
    visited = [e for e in edges if e["rel"] == "VISITED"]
    # ten ghost patients, each admitted four times at 8,800 yuan: one link each, not 40 claims
    assert len(visited) == 10
    assert {(e["count"], e["amount"]) for e in visited} == {(4, 35200.0)}
    assert all(e["date_from"] <= e["date_to"] for e in visited)
    assert {e["rel"] for e in edges} >= {"HAS_PHONE", "LIVES_AT", "TREATED_BY", "WORKS_AT"}
    hub = next(n for n in nodes.values() if n["data"]["role"] == "hub")
    assert hub["data"]["type"] == "Facility"
    assert hub["data"]["size"] > min(n["data"]["size"] for n in nodes.values())
    assert out.relayout and out.state["cluster"] == "C000002"


def test_personal_keys_never_reach_the_browser(ui, settings) -> None:  # type: ignore[no-untyped-def]
    data, canvas, sample = ui
    out = canvas.open_cluster("C000002")
    text = repr(out.elements) + repr(out.state)
    key = settings.pseudonym_key()
    for phone in sample.clusters["C000002"]["phones"]:
        assert phone not in text and mask_phone(phone) not in text
        assert short_pseudonym("phone", pseudonym("phone", phone, key)) in text
    for p in sample.patients:
        assert p["name"] not in text and p["id_raw"] not in text and p["card_number"] not in text
        assert p["address_text"] not in text and p["phone_number"] not in text
    phone_id = next(i for i in _nodes(out.elements) if i.startswith("Phone:"))
    assert phone_id.startswith("Phone:~")
    shared = {pseudonym("phone", n, key) for n in sample.clusters["C000002"]["phones"]}
    assert data.registry.ref_for(phone_id).key in shared


def test_expand_adds_neighbours_and_keeps_positions(ui) -> None:  # type: ignore[no-untyped-def]
    _data, canvas, _ = ui
    out = canvas.open_cluster("C000001")
    positions = {nid: {"x": 10.0 * i, "y": -5.0 * i} for i, nid in enumerate(_nodes(out.elements))}
    card = next(i for i in positions if i.startswith("Card:"))
    grown = canvas.expand(out.state, out.elements, card, positions)
    assert grown.message == "msg.expanded"
    nodes = _nodes(grown.elements)
    added = grown.state["history"][-1]["added"]
    assert added and all(a in nodes for a in added)
    assert any(a.startswith("Patient:") for a in added)  # the card holder
    for nid, pos in positions.items():
        assert nodes[nid]["position"] == pos
    assert all(nodes[a]["position"] for a in added)
    holder_links = [e for e in _edges(grown.elements) if e["rel"] == "HAS_CARD"]
    assert holder_links and holder_links[0]["target"] == card
    undone = canvas.undo(grown.state, grown.elements, positions)
    assert set(_nodes(undone.elements)) == set(positions)
    assert all(e["source"] in positions and e["target"] in positions for e in _edges(undone.elements))
    assert canvas.undo(undone.state, undone.elements, positions).message == "msg.undo_none"


def test_supernode_is_counted_before_it_is_expanded(ui) -> None:  # type: ignore[no-untyped-def]
    data, canvas, sample = ui
    big = Ref("Facility", sample.big_hospital)
    out = canvas.add({**canvas.open_cluster("C000004").state}, canvas.open_cluster("C000004").elements, [big], {})
    big_id = data.registry.id_for(big)
    counts = {o.kind: o.count for o in data.expansions(big)}
    assert counts["VISITED"] > data.supernode
    capped = {o.kind: o for o in UiData(data.store, data.settings, count_cap=20).expansions(big)}
    assert capped["VISITED"].count == 20 and capped["VISITED"].capped and not capped["WORKS_AT"].capped
    refused = canvas.expand(out.state, out.elements, big_id, {})
    assert refused.message == "msg.supernode" and refused.elements is out.elements
    one_kind = canvas.expand(out.state, out.elements, big_id, {}, kind="VISITED", direction="in")
    added = one_kind.state["history"][-1]["added"]
    assert len(added) == data.expand_cap
    more = canvas.expand(one_kind.state, one_kind.elements, big_id, {}, kind="VISITED", direction="in")
    again = more.state["history"][-1]["added"]
    assert len(again) == data.expand_cap and not set(again) & set(added)  # "show more" brings new ones


def test_hide_collapse_and_undo(ui) -> None:  # type: ignore[no-untyped-def]
    _data, canvas, _ = ui
    out = canvas.open_cluster("C000004")
    patient = next(i for i in _nodes(out.elements) if i.startswith("Patient:"))
    grown = canvas.expand(out.state, out.elements, patient, {}, kind="HAS_PHONE", direction="out")
    phone = grown.state["history"][-1]["added"]
    assert len(phone) == 1 and phone[0].startswith("Phone:~")
    collapsed = canvas.collapse(grown.state, grown.elements, patient, {})
    assert collapsed.message == "msg.collapsed" and not set(phone) & set(_nodes(collapsed.elements))
    restored = canvas.undo(collapsed.state, collapsed.elements, {})
    assert set(phone) <= set(_nodes(restored.elements))
    hidden = canvas.hide(restored.state, restored.elements, patient, {})
    assert patient not in _nodes(hidden.elements) and patient in hidden.state["hidden"]
    assert all(patient not in (e["source"], e["target"]) for e in _edges(hidden.elements))
    back = canvas.undo(hidden.state, hidden.elements, {})
    assert patient in _nodes(back.elements) and patient not in back.state["hidden"]
    # a node the expansion brought in but that is linked to others stays on collapse
    ring = canvas.open_cluster("C000003")
    doctor = next(i for i in _nodes(ring.elements) if i.startswith("Doctor:"))
    with_hospital = canvas.expand(ring.state, ring.elements, doctor, {}, kind="WORKS_AT", direction="out")
    hospital = with_hospital.state["history"][-1]["added"]
    kept = canvas.collapse(with_hospital.state, with_hospital.elements, doctor, {})
    assert set(hospital) <= set(_nodes(kept.elements))


def test_time_filter_recomputes_claim_links(ui) -> None:  # type: ignore[no-untyped-def]
    _, canvas, _ = ui
    out = canvas.open_cluster("C000002")
    # the ghost patients are admitted on days 35, 71, 115 and 155 of 2025: Feb and Mar hold two stays
    since, until = date_to_ts("2025-02-01"), date_to_ts("2025-03-31", end=True)
    filtered = canvas.refilter(out.state, out.elements, since, until, {})
    visited = [e for e in _edges(filtered.elements) if e["rel"] == "VISITED"]
    assert {e["count"] for e in visited} == {2}
    assert filtered.state["since"] == since
    empty = canvas.refilter(out.state, out.elements, date_to_ts("2025-12-01"), date_to_ts("2025-12-31", end=True), {})
    dims = {n["data"]["type"]: n["data"]["dim"] for n in _nodes(empty.elements).values()}
    assert dims["Patient"] == 1 and dims["Phone"] == 0
    cleared = canvas.refilter(filtered.state, filtered.elements, None, None, {})
    assert {e["count"] for e in _edges(cleared.elements) if e["rel"] == "VISITED"} == {4}


def test_search_by_every_identifier(ui, settings) -> None:  # type: ignore[no-untyped-def]
    data, _, sample = ui
    phone = sample.clusters["C000002"]["phones"][0]
    key = pseudonym("phone", phone, settings.pseudonym_key())
    for typed in (phone, f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}", f"0086{phone}"):
        hits = data.search(typed)
        assert hits[0].ref == Ref("Phone", key) and hits[0].display == short_pseudonym("phone", key)
    patient = sample.patients[3]
    assert Ref("Patient", patient["pid"]) in {h.ref for h in data.search(patient["id_raw"])}
    assert Ref("Patient", patient["pid"]) in {h.ref for h in data.search(patient["id_raw"].lower() + " ")}
    assert data.search(patient["name"]) == []  # names are not in the graph: nothing to match
    assert Ref("Card", patient["card"]) in {h.ref for h in data.search(patient["card_number"])}
    assert data.search("P110105000021")[0].ref == Ref("Facility", "P110105000021")
    assert Ref("Facility", "P110105000021") in {h.ref for h in data.search("康顺")}
    assert data.search("D9901")[0].ref == Ref("Doctor", "D9901")
    claim = data.search("S000000001")[0]
    assert claim.ref.label == "Claim" and {r.label for r in claim.claim_refs} >= {"Patient", "Card", "Facility"}
    assert data.search("no such thing 123") == []


def test_details_timeline_and_unfolded_claims(ui) -> None:  # type: ignore[no-untyped-def]
    data, _canvas, sample = ui
    ghost = sample.clusters["C000002"]["members"][2]
    ref = Ref(ghost[0], ghost[1])
    entity = data.entity(ref)
    props = dict(entity["properties"])
    assert "id_raw" not in props and "name" not in props and props["birth_cohort"].count("-") == 1
    assert entity["display"] == short_pseudonym("patient", ghost[1])
    assert entity["memberships"][0]["cluster_id"] == "C000002"
    tl = data.timeline(ref)
    assert tl["mode"] == "claims" and tl["total"] == 4
    busy = data.timeline(Ref("Facility", sample.big_hospital), cap=50)
    assert busy["mode"] == "daily" and sum(p["n"] for p in busy["points"]) == busy["total"]
    link = data.link_claims("VISITED", ref, Ref("Facility", "H110106000003"))
    assert link["count"] == 4 and len(link["rows"]) == 4 and link["amount"] == 35200.0
    assert {r["doctor"] for r in link["rows"]} == {"钱多多医生"}


def test_every_link_kind_counts_and_expands(ui) -> None:  # type: ignore[no-untyped-def]
    data, _, _sample = ui
    pharmacy = Ref("Facility", "P110105000021")
    kinds = {o.kind for o in data.expansions(pharmacy)}
    assert {"SWIPED_AT", "VISITED", "TERMINAL_IN", "OPERATOR_IN"} <= kinds
    for kind in LINK_KINDS:  # every query is valid and returns keys of the declared label
        assert data.neighbours(Ref(kind.a, "none"), kind.name, "out") == []
        assert data.neighbours(Ref(kind.b, "none"), kind.name, "in") == []


def test_masking_goes_through_the_session(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    props = {"pid": "0123456789abcdef0123456789abcdef", "gender": "F"}
    assert session.current_role() == "investigator"
    assert not session.personal_data_visible()
    assert session.personal_data_visible("investigator", reveal=True)
    assert not session.personal_data_visible("analyst", reveal=True)
    assert display_label("Patient", props) == "P#01234567"
    assert display_label("Card", {"card_id": "fedcba9876543210"}, visible=True) == "C#fedcba98"  # nothing clear
    monkeypatch.setattr("ringsight.ui.present.personal_data_visible", lambda *a, **k: True)
    assert display_label("Patient", props) == "P#01234567"


def test_query_result_entities_for_the_canvas(ui) -> None:  # type: ignore[no-untyped-def]
    data, _, _ = ui
    node = Node("1", ("Facility",), {"code": "P110105000021"})
    refs = data.refs_in_result(["f", "phone"], [[node, "13911110001"], [[node], None]])
    assert refs == [Ref("Facility", "P110105000021"), Ref("Phone", "13911110001")]


def test_every_text_has_both_languages_and_every_key_used_exists() -> None:
    assert all(zh and en for zh, en in TEXT.values())
    used: set[str] = set()
    for path in UI_DIR.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in ast.walk(tree):
            if isinstance(call, ast.Call) and getattr(call.func, "id", "") in ("t", "tr") and call.args:
                arg = call.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    used.add(arg.value)
    missing = sorted(k for k in used if k not in TEXT)
    assert not missing, missing
    assert t("msg.opened", "en", cluster="C1", nodes=2, edges=3, s="0.1") == "Opened C1: 2 nodes, 3 links in 0.1 s"
    dynamic = {f"rel.{k.name}" for k in LINK_KINDS} | {f"type.{k.a}" for k in LINK_KINDS}
    assert dynamic <= set(TEXT)
    assert re.search(r"[\u4e00-\u9fff]", t("tab.queue"))


def test_cli_ui_command_is_registered() -> None:
    from ringsight.cli import app

    result = CliRunner().invoke(app, ["ui", "--help"])
    assert result.exit_code == 0 and "--port" in result.output


def test_create_app_builds_the_page(store, settings) -> None:  # type: ignore[no-untyped-def]
    from ringsight.ui.app import create_app

    app = create_app(settings, store)
    page = app.layout()
    text = str(page)
    assert "queue-grid" in text and "cy" in text and "query-grid" in text
    assert len(app.callback_map) > 10
    assert app.ringsight.library is not None  # the Cypher library loads


def test_deltas_carry_only_what_changed_and_rebuild_matches(ui) -> None:  # type: ignore[no-untyped-def]
    from ringsight.ui.canvas import delta

    _data, canvas, _ = ui
    out = canvas.open_cluster("C000001")
    positions = {nid: {"x": float(i), "y": 0.0} for i, nid in enumerate(_nodes(out.elements))}
    card = next(i for i in positions if i.startswith("Card:"))
    grown = canvas.expand(out.state, out.elements, card, positions)
    change = delta(out.elements, grown.elements)
    added = {e["data"]["id"] for e in change["add"]}
    assert set(grown.state["history"][-1]["added"]) <= added and not change["remove"]
    assert all("position" in e for e in change["add"] if "source" not in e["data"])
    assert {u["data"]["id"] for u in change["update"]} <= set(positions)  # e.g. the card's size grew
    assert len(change["update"]) < len(positions)
    assert delta(out.elements, out.elements) == {"reset": False, "add": [], "remove": [], "update": []}
    back = canvas.undo(grown.state, grown.elements, positions)
    assert set(delta(grown.elements, back.elements)["remove"]) >= set(grown.state["history"][-1]["added"])
    rebuilt = canvas.rebuild(grown.state)
    assert {e["data"]["id"]: e["data"] for e in rebuilt} == {e["data"]["id"]: e["data"] for e in grown.elements}


def test_server_layout_is_deterministic_and_keeps_nodes_apart(ui) -> None:  # type: ignore[no-untyped-def]
    import math

    from ringsight.ui.layouts import LABEL_ROOM, force_layout

    _, canvas, _ = ui
    out = canvas.open_cluster("C000002")
    first, second = force_layout(out.elements), force_layout(out.elements)
    assert first == second and set(first) == set(_nodes(out.elements))
    sizes = {i: n["data"]["size"] for i, n in _nodes(out.elements).items()}
    ids = sorted(first)
    gaps = [
        math.dist((first[a]["x"], first[a]["y"]), (first[b]["x"], first[b]["y"])) - (sizes[a] + sizes[b]) / 2
        for i, a in enumerate(ids)
        for b in ids[i + 1 :]
    ]
    assert min(gaps) > LABEL_ROOM  # the hospital and its doctor no longer sit on the patients


def test_a_card_used_by_several_people_shows_each_of_them(ui) -> None:  # type: ignore[no-untyped-def]
    _, canvas, _ = ui
    out = canvas.open_cluster("C000004")  # one card, its holder and two others who used it
    used = [e for e in _edges(out.elements) if e["rel"] == "USED_CARD"]
    assert len(used) == 3 and all(e["target"].startswith("Card:") for e in used)
    assert sum(e["count"] for e in used) == 9
    assert len([e for e in _edges(out.elements) if e["rel"] == "HAS_CARD"]) == 1
