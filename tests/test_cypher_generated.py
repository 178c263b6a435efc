"""The library on generated claims: the queries find the rings the generator planted.

``ringsight.synth.generate`` writes ~2,000 claims with one ring of each
typology and legitimate look-alikes (nursing homes, dormitories, households)
and says in ground_truth.json who is in which ring; ``load_files`` loads them
the way a user would. Each test asks the query an investigator would ask for
one typology and checks that the top of the answer is that ring — by the
ground truth, not by counts the test chose itself.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ringsight.algorithms.evaluate import graph_key
from ringsight.config import Settings
from ringsight.cypher import QueryLibrary, run_named
from ringsight.graph import open_store
from ringsight.graph.embedded import EmbeddedServer
from ringsight.graph.store import GraphStore


@dataclass
class Generated:
    store: GraphStore
    settings: Settings
    library: QueryLibrary
    rings: dict[str, dict[str, Any]]  # typology → ring (ground truth)
    lookalikes: list[dict[str, Any]]

    def records(self, name: str, **params: Any) -> list[dict[str, Any]]:
        return run_named(self.store, self.library, name, params, settings=self.settings).records()

    def members(self, typology: str, kind: str) -> set[str]:
        """The graph keys of a ring's members: persons, cards and phones by their pseudonyms."""
        return self.keys(kind, self.rings[typology]["members"][kind])

    def keys(self, kind: str, values: list[str]) -> set[str]:
        label = {"patients": "Patient", "cards": "Card", "phones": "Phone"}.get(kind, "")
        return {graph_key(label, str(v), self.settings.pseudonym_key()) for v in values}


@pytest.fixture(scope="module")
def generated(
    embedded_server: EmbeddedServer, data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Generated]:
    from ringsight.loaders import load_files
    from ringsight.synth import SynthConfig, generate

    out = tmp_path_factory.mktemp("synth")
    result = generate(SynthConfig(claims=2_000, seed=11), out)
    truth = json.loads(result.ground_truth_path.read_text(encoding="utf-8"))
    settings = Settings(graph="embedded", data_dir=data_dir, graph_name=f"t_cygen_{uuid.uuid4().hex[:10]}")
    store = open_store(settings)
    store.ensure_schema()
    items = [result.items_path] if result.items_path else None
    load_files([result.claims_path], items, settings=settings, store=store)
    rings = {r["typology"]: r for r in truth["rings"]}
    yield Generated(store, settings, QueryLibrary.load(settings), rings, truth["lookalikes"])
    store.clear()
    store.close()


def test_burst_swipes_find_the_card_collecting_pharmacy(generated: Generated) -> None:
    ring_facility = generated.members("card_collecting", "facilities")
    ring_cards = generated.members("card_collecting", "cards")
    rows = generated.records("burst_swipes", per_terminal=True, kind="pharmacy")
    assert rows, "no burst found"
    ours = [r for r in rows if r["facility"] in ring_facility]
    assert ours and ours[0]["cards"] >= len(ring_cards) // 2
    # every burst of at least the ring's size belongs to a card-collecting ring (or its recurrence)
    collectors = ring_facility | generated.members("recurrence", "facilities")
    assert {r["facility"] for r in rows if r["cards"] >= len(ring_cards)} <= collectors


def test_co_admission_finds_the_recruited_group(generated: Generated) -> None:
    rows = generated.records("co_admission_groups")
    assert rows[0]["facility"] in generated.members("induced_admission", "facilities")
    recruited = generated.members("induced_admission", "patients")
    assert set(rows[0]["pids"]) <= recruited
    assert rows[0]["diagnoses"] == 1


def test_repeated_trace_codes_are_the_resale_ring(generated: Generated) -> None:
    rows = generated.records("repeated_trace_codes")
    assert rows
    ring_cards = generated.members("trace_code_resale", "cards")
    ring_facility = generated.members("trace_code_resale", "facilities")
    for row in rows:
        settled = {s["card"] for s in row["settlements"]}
        assert settled <= ring_cards
        assert ring_facility & {s["facility"] for s in row["settlements"]}


def test_inpatients_claiming_elsewhere_are_the_bed_holders(generated: Generated) -> None:
    ring = generated.members("bed_holding", "patients")
    rows = generated.records("inpatient_claims_elsewhere", min_claims=3)
    assert rows[0]["hospital"] in generated.members("bed_holding", "facilities") and rows[0]["pid"] in ring
    # stays that bill almost nothing per day while the patient claims elsewhere: the ring, and only the ring
    thin = generated.records("inpatient_claims_elsewhere", min_claims=2, max_items_per_day=0.25)
    assert len({r["pid"] for r in thin}) >= 3 and {r["pid"] for r in thin} <= ring


def test_doctor_pharmacy_pair_is_the_colluding_one(generated: Generated) -> None:
    row = generated.records("doctor_pharmacy_concentration")[0]
    assert row["doctor"] in generated.members("doctor_pharmacy", "doctors")
    assert row["pharmacy"] in generated.members("doctor_pharmacy", "facilities")
    assert row["share"] > 0.9


def test_same_drug_across_pharmacies_finds_the_dealers_phone(generated: Generated) -> None:
    row = generated.records("same_drug_many_pharmacies_phone")[0]
    assert row["phone"] in generated.members("reselling", "phones")
    assert row["pharmacies"] >= 3


def test_shared_phones_rank_rings_above_look_alikes(generated: Generated) -> None:
    rows = generated.records("phones_shared_by_insured")
    phones = [r["phone"] for r in rows]
    ring_phones = generated.members("ghost_patients", "phones") | generated.members("induced_admission", "phones")
    assert phones[0] in ring_phones
    legit = {p for g in generated.lookalikes for p in generated.keys("phones", g["members"]["phones"])}
    first_legit = min(phones.index(p) for p in legit if p in phones)
    assert generated.members("induced_admission", "phones") <= set(phones[:first_legit])


def test_impersonated_cards_appear_at_distant_facilities(generated: Generated) -> None:
    rows = generated.records("card_two_facilities_within_hours", different_region=True)
    assert generated.members("impersonation", "cards") <= {r["card"] for r in rows}
