"""The referral holds the evidence and nothing else: the claims the cluster's signals cite (plus those an
investigator adds), the ring's persons, and totals equal to the cluster's — on clusters found by a real run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cases_data import make_users

from ringsight.algorithms import run_detection
from ringsight.cases import workflow
from ringsight.cases.referral import ReferralRefused, build_referral, collect_referral
from ringsight.config import Settings
from ringsight.graph.store import GraphStore


@pytest.fixture
def detected(any_store: GraphStore, settings: Settings, tmp_path: Path) -> list[dict]:
    """Synthetic claims with planted rings, loaded and detected; the clusters as stored."""
    from ringsight.loaders import load_files
    from ringsight.synth.config import SynthConfig
    from ringsight.synth.generator import generate

    result = generate(SynthConfig(claims=8_000, seed=5), tmp_path / "synth")
    load_files([result.claims_path], [result.items_path], settings=settings, store=any_store)
    run_detection(any_store, settings, window_days=400)
    rows = any_store.read("MATCH (c:Cluster) WHERE c.run_id IS NOT NULL RETURN c ORDER BY c.cluster_id").records()
    clusters = [dict(r["c"].properties) for r in rows]
    assert clusters, "the planted rings gave no cluster"
    return clusters


def _member_pids(store: GraphStore, cluster_id: str) -> set[str]:
    rows = store.read(
        "MATCH (c:Cluster {cluster_id: $id})-[m:HAS_MEMBER]->(p:Patient) WHERE m.run_id = c.run_id RETURN p.pid AS pid",
        {"id": cluster_id},
    )
    return {str(x) for x in rows.column("pid")}


def _facility_claims(store: GraphStore, codes: list[str]) -> int:
    rows = store.read(
        "MATCH (cl:Claim)-[:AT_FACILITY]->(f:Facility) WHERE f.code IN $codes RETURN count(cl) AS n", {"codes": codes}
    )
    return int(rows.scalar() or 0)


def test_referral_equals_the_clusters_evidence(any_store: GraphStore, detected: list[dict]) -> None:
    inv = make_users(any_store)["inv"]
    fewer_than_facility = 0
    for cluster in detected:
        case = workflow.create_case(any_store, inv, f"案件 {cluster['cluster_id']}", clusters=[cluster["cluster_id"]])
        data = collect_referral(any_store, case.case_id)
        claims, totals = data["claims"], data["totals"]

        assert sorted(c["claim_id"] for c in claims) == sorted(cluster["claim_ids"])
        assert totals["claim_count"] == cluster["claim_count"] == len(cluster["claim_ids"])
        assert totals["total_amount"] == pytest.approx(cluster["amount"], abs=0.01)
        assert totals["fund_paid"] == pytest.approx(cluster["fund_amount"], abs=0.01)
        assert data["claims_basis"] == "cited"
        # the persons listed are the ring's members, not everyone who claimed at the facility
        persons = {m["key"] for m in data["members"] if m["label"] == "Patient"}
        assert persons == _member_pids(any_store, cluster["cluster_id"])
        fewer_than_facility += totals["claim_count"] < _facility_claims(any_store, list(cluster["facilities"]))
    # the old package took every claim at the facility in the period; at least one ring's evidence is fewer
    assert fewer_than_facility >= 1


def test_claims_an_investigator_adds_join_the_evidence(any_store: GraphStore, detected: list[dict]) -> None:
    inv = make_users(any_store)["inv"]
    cluster = detected[0]
    outside = any_store.read(
        "MATCH (cl:Claim) WHERE NOT cl.claim_id IN $ids RETURN cl.claim_id AS id, cl.total_amount AS t "
        "ORDER BY cl.claim_id LIMIT 1",
        {"ids": list(cluster["claim_ids"])},
    ).records()[0]
    case = workflow.create_case(any_store, inv, "补充结算", clusters=[cluster["cluster_id"]])
    case = workflow.add_evidence(any_store, inv, case.case_id, "补充结算", kind="claim", ref=outside["id"])
    data = collect_referral(any_store, case.case_id)
    assert data["totals"]["claim_count"] == cluster["claim_count"] + 1
    assert data["totals"]["total_amount"] == pytest.approx(cluster["amount"] + outside["t"], abs=0.01)
    assert outside["id"] in {c["claim_id"] for c in data["claims"]}
    # a claim added as evidence is counted in the claims, not listed one by one in the evidence list
    assert all(e.get("kind") != "claim" for e in data["evidence"])


def test_referral_export_waits_until_after_first_review(
    any_store: GraphStore, detected: list[dict], tmp_path: Path, settings: Settings
) -> None:
    users = make_users(any_store)
    inv = users["inv"]
    case = workflow.create_case(any_store, inv, "初审中的案件", clusters=[detected[0]["cluster_id"]])
    with pytest.raises(ReferralRefused, match="初审"):
        build_referral(any_store, case.case_id, tmp_path / "early", inv, settings=settings)
    assert not (tmp_path / "early").exists()
    case = workflow.move_case(any_store, inv, case.case_id, "复审", case.version)
    pkg = build_referral(any_store, case.case_id, tmp_path / "ok", inv, settings=settings)
    assert pkg.pdf.exists()
    again = build_referral(any_store, case.case_id, tmp_path / "again", inv, settings=settings)
    other = workflow.create_case(any_store, inv, "另一案件", clusters=[detected[-1]["cluster_id"]])
    other = workflow.move_case(any_store, inv, other.case_id, "复审", other.version)
    third = build_referral(any_store, other.case_id, tmp_path / "other", inv, settings=settings)
    numbers = [json.loads(p.json.read_text(encoding="utf-8"))["document_no"] for p in (pkg, again, third)]
    # the case keeps its number across exports; the next case gets the next one
    assert numbers[0] == numbers[1] and numbers[0].endswith("第1号") and numbers[2].endswith("第2号")


def test_network_picture_links_every_address_and_phone(any_store: GraphStore, detected: list[dict]) -> None:
    from ringsight.cases.referral import _network

    inv = make_users(any_store)["inv"]
    with_address = next(
        (
            c
            for c in detected
            if any_store.read(
                "MATCH (c:Cluster {cluster_id: $id})-[:HAS_MEMBER]->(a:Address) RETURN count(a)",
                {"id": c["cluster_id"]},
            ).scalar()
        ),
        detected[0],
    )
    case = workflow.create_case(any_store, inv, "网络图", clusters=[with_address["cluster_id"]])
    data = collect_referral(any_store, case.case_id)
    nodes, edges = _network(data["members"], data["claims"])
    linked = {end for a, b, _ in edges for end in (a, b)}
    for node in nodes:
        if node.label in ("Address", "Phone"):
            assert node.id in linked, node  # nothing floats unlinked in the picture
    assert any(n.label == "Patient" for n in nodes)
    lived_at = {a for m in data["members"] if m["label"] == "Patient" for a in m.get("addresses", [])}
    shared = [m for m in data["members"] if m["label"] == "Address" and m.get("name") in lived_at]
    if shared:  # a shared address is drawn, linked to the members who live there
        assert {f"Address:{m['key']}" for m in shared} <= linked
