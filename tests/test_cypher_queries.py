"""Every library query against a hand-built graph with planted answers.

The graph follows docs/graph-contract.md and is written with plain write
queries: a background of ordinary patients (own card, phone, address, a
local pharmacy, claims at least ten days apart, daytime hours) and, on top,
one planted pattern per query. Each test checks that the query returns the
planted answer — and nothing from the background.

The graph is built once per module (the queries only read it); the same tests
run on Neo4j when ``RINGSIGHT_TEST_NEO4J_URI`` is set.
"""

from __future__ import annotations

import hashlib
import math
import os
import pathlib
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ringsight.config import Settings
from ringsight.cypher import QueryLibrary, run_named
from ringsight.graph import open_store
from ringsight.graph.embedded import EmbeddedServer
from ringsight.graph.store import GraphStore, Node, Path, QueryResult, Relationship

TZ = ZoneInfo("Asia/Shanghai")
NEO4J_URI_ENV = "RINGSIGHT_TEST_NEO4J_URI"

SHARED_CARD = "6217000000000SHARED"
RECRUITER_PHONE = "13900000001"
HOUSEHOLD_PHONE = "13900000002"
RESALE_PHONE = "13700000003"
BURST_PHARMACY = "P110105900001"
BURST_TERMINAL = f"{BURST_PHARMACY}:T01"
COLL_DOCTOR = "D110105000777"
COLL_PHARMACY = "P110105900002"
PRIVATE_HOSPITAL = "H110105900003"
FAR_PHARMACY = "P110108900004"
BIG_HOSPITAL = "H110101900005"
DRUG = "XA10BAE010A001010104021"
RESALE_DRUG = "ZA01AAA0001010100000001"
TRACE = "81234567890123456789"
CLUSTER = "C000001"


def ts(text: str) -> int:
    """Epoch seconds of a Beijing local time 'YYYY-MM-DD HH:MM'."""
    return int(datetime.fromisoformat(text).replace(tzinfo=TZ).timestamp())


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, TZ).isoformat(timespec="seconds")


@dataclass
class Graph:
    """Rows for the planted graph, written in a handful of UNWIND statements."""

    patients: dict[str, dict[str, Any]] = field(default_factory=dict)
    phones: list[tuple[str, str, str]] = field(default_factory=list)  # pid, number, HAS_PHONE|CONTACT_PHONE
    addresses: list[dict[str, Any]] = field(default_factory=list)
    facilities: dict[str, dict[str, Any]] = field(default_factory=dict)
    doctors: dict[str, dict[str, Any]] = field(default_factory=dict)
    claims: list[dict[str, Any]] = field(default_factory=list)
    seq: int = 0

    def patient(self, name: str, birth: str, *, pid: str | None = None, **props: Any) -> str:
        self.seq += 1
        pid = pid or f"pid{self.seq:05d}"
        year = int(birth[:4]) // 5 * 5
        self.patients[pid] = {  # the contract's analysis fields only: names and IDs are in the vault
            "surname_group": f"sg-{name[0]}",
            "birth_cohort": f"{year}-{year + 4}",
            "gender": "F" if self.seq % 2 else "M",
            **{k: v for k, v in props.items() if k not in ("id_raw", "name", "person_no", "birth_date")},
        }
        return pid

    def facility(self, code: str, name: str, kind: str, **props: Any) -> str:
        self.facilities[code] = {"name": name, "kind": kind, "region": code[1:7], **props}
        return code

    def claim(
        self,
        pid: str,
        facility: str,
        when: str | int,
        *,
        card: str | None = None,
        visit_type: str | None = None,
        amount: float = 100.0,
        fund: float | None = None,
        doctor: str | None = None,
        terminal: str | None = None,
        items: list[str] | None = None,
        trace: list[str] | None = None,
        admit: str | None = None,
        diagnosis: tuple[str, str] = ("J06.900", "急性上呼吸道感染"),
    ) -> str:
        self.seq += 1
        claim_id = f"CL{self.seq:06d}"
        time_ts = when if isinstance(when, int) else ts(when)
        kind = self.facilities[facility]["kind"]
        visit = visit_type or ("pharmacy" if kind == "pharmacy" else "outpatient")
        row: dict[str, Any] = {
            "claim_id": claim_id,
            "pid": pid,
            "card": card or f"CARD-{pid}",
            "facility": facility,
            "doctor": doctor,
            "terminal": terminal,
            "props": {
                "visit_type": visit,
                "time_ts": time_ts,
                "time": iso(time_ts),
                "total_amount": amount,
                "fund_paid": fund if fund is not None else round(amount * 0.7, 2),
                "self_paid": round(amount * 0.3, 2) if fund is None else round(amount - fund, 2),
                "diagnosis_code": diagnosis[0],
                "diagnosis_name": diagnosis[1],
                "item_codes": items or [],
                "item_count": len(items or []),
                "trace_codes": trace or [],
                "load_id": "planted",
            },
        }
        if admit is not None:
            admit_ts = ts(admit)
            row["props"].update(
                admit_ts=admit_ts, admit_time=iso(admit_ts), discharge_ts=time_ts, discharge_time=iso(time_ts)
            )
        self.claims.append(row)
        return claim_id

    def write(self, store: GraphStore) -> None:
        store.write_rows(
            "UNWIND $rows AS row MERGE (p:Patient {pid: row.pid}) SET p += row.props",
            [{"pid": k, "props": v} for k, v in self.patients.items()],
        )
        store.write_rows(
            "UNWIND $rows AS row MERGE (f:Facility {code: row.code}) SET f += row.props",
            [{"code": k, "props": v} for k, v in self.facilities.items()],
        )
        store.write_rows(
            "UNWIND $rows AS row MERGE (d:Doctor {code: row.code}) SET d.name = row.name "
            "WITH d, row MATCH (f:Facility {code: row.facility}) MERGE (d)-[:WORKS_AT]->(f)",
            [{"code": k, **v} for k, v in self.doctors.items()],
        )
        for rel in ("HAS_PHONE", "CONTACT_PHONE"):
            store.write_rows(
                f"UNWIND $rows AS row MATCH (p:Patient {{pid: row.pid}}) MERGE (ph:Phone {{number: row.number}}) "
                f"MERGE (p)-[:{rel}]->(ph)",
                [{"pid": p, "number": n} for p, n, r in self.phones if r == rel],
            )
        store.write_rows(
            "UNWIND $rows AS row MATCH (p:Patient {pid: row.pid}) MERGE (a:Address {key: row.key}) "
            "SET a.text = row.text, a.district = row.district MERGE (p)-[:LIVES_AT]->(a)",
            self.addresses,
        )
        store.write_rows(
            "UNWIND $rows AS row MERGE (c:Claim {claim_id: row.claim_id}) SET c += row.props "
            "WITH c, row MATCH (p:Patient {pid: row.pid}), (f:Facility {code: row.facility}) "
            "MERGE (k:Card {card_id: row.card}) MERGE (p)-[:HAS_CARD]->(k) "
            "MERGE (c)-[:BY_PATIENT]->(p) MERGE (c)-[:WITH_CARD]->(k) MERGE (c)-[:AT_FACILITY]->(f)",
            self.claims,
        )
        store.write_rows(
            "UNWIND $rows AS row MATCH (c:Claim {claim_id: row.claim_id}), (d:Doctor {code: row.doctor}) "
            "MERGE (c)-[:BY_DOCTOR]->(d)",
            [c for c in self.claims if c["doctor"]],
        )
        store.write_rows(
            "UNWIND $rows AS row MATCH (c:Claim {claim_id: row.claim_id}), (f:Facility {code: row.facility}) "
            "MERGE (t:Terminal {key: row.terminal}) SET t.facility_code = row.facility, "
            "t.terminal_id = row.terminal_id MERGE (t)-[:IN_FACILITY]->(f) MERGE (c)-[:ON_TERMINAL]->(t)",
            [{**c, "terminal_id": c["terminal"].split(":")[1]} for c in self.claims if c["terminal"]],
        )
        counts: dict[str, list[str]] = {}
        for c in self.claims:
            for code in c["props"]["trace_codes"]:
                counts.setdefault(code, []).append(c["claim_id"])
        store.write_rows(
            "UNWIND $rows AS row MATCH (c:Claim {claim_id: row.claim_id}) MERGE (t:TraceCode {code: row.code}) "
            "MERGE (c)-[:HAS_TRACE]->(t)",
            [{"code": k, "claim_id": cid} for k, ids in counts.items() if len(ids) > 1 for cid in ids],
        )


SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"


def build() -> tuple[Graph, dict[str, Any]]:
    """The planted graph and the facts the tests check against."""
    g = Graph()
    rng = random.Random(20240501)
    facts: dict[str, Any] = {}
    # -- facilities -------------------------------------------------------------
    hospitals = [g.facility(f"H11010500{i:04d}", f"第{i}医院", "hospital", ownership="public") for i in range(1, 5)]
    pharmacies = [g.facility(f"P11010500{i:04d}", f"第{i}大药房", "pharmacy", ownership="private") for i in range(1, 7)]
    clinics = [g.facility(f"H11010600{i:04d}", f"第{i}诊所", "clinic", ownership="private") for i in range(1, 3)]
    g.facility(BURST_PHARMACY, "夜间大药房", "pharmacy", ownership="private")
    g.facility(COLL_PHARMACY, "院边大药房", "pharmacy", ownership="private")
    g.facility(PRIVATE_HOSPITAL, "康乐民营医院", "hospital", ownership="private")
    g.facility(FAR_PHARMACY, "远郊药房", "pharmacy", ownership="private")
    g.facility(BIG_HOSPITAL, "市中心医院", "hospital", ownership="public", level="三级")
    doctors = [f"D11010500{i:04d}" for i in range(1, 6)]
    for i, code in enumerate(doctors):
        g.doctors[code] = {"name": f"医生{i}", "facility": hospitals[i % len(hospitals)]}
    g.doctors[COLL_DOCTOR] = {"name": "勾医生", "facility": hospitals[0]}

    # -- background: 60 ordinary patients -----------------------------------------
    start = ts("2024-01-03 09:00")
    for i in range(60):
        pid = g.patient(SURNAMES[i % len(SURNAMES)] + "某" + str(i), f"{1940 + i}-0{1 + i % 9}-1{i % 10}")
        g.phones.append((pid, f"1350000{i:04d}", "HAS_PHONE"))
        g.addresses.append({"pid": pid, "key": f"bg-addr-{i}", "text": f"北京市东城区某路{i}号", "district": "东城区"})
        home = pharmacies[i % len(pharmacies)]
        t = start + rng.randrange(0, 5) * 86400
        for n in range(5):
            t += (10 + rng.randrange(0, 20)) * 86400 + rng.randrange(0, 8 * 3600)
            choice = n % 3
            if choice == 0:
                g.claim(pid, home, t, doctor=rng.choice(doctors), items=[f"XBG{i:020d}"], terminal=f"{home}:T09")
            elif choice == 1:
                g.claim(pid, rng.choice(hospitals + clinics), t, doctor=rng.choice(doctors), items=["001201000010000"])
            elif i % 4 == 0:
                admit = datetime.fromtimestamp(t - 4 * 86400, TZ).strftime("%Y-%m-%d %H:%M")
                g.claim(pid, rng.choice(hospitals), t, visit_type="inpatient", admit=admit, amount=5000.0)
            else:
                g.claim(pid, home, t, items=[f"XBG{i:020d}"], terminal=f"{home}:T09")

    # -- one card, two persons ------------------------------------------------------
    a = g.patient("甲一", "1970-01-01")
    b = g.patient("乙二", "1990-01-01")
    g.claim(a, hospitals[0], "2024-02-01 10:00", card=SHARED_CARD)
    g.claim(b, pharmacies[1], "2024-02-20 15:00", card=SHARED_CARD)
    facts["shared"] = {"card": SHARED_CARD, "pids": {a, b}}

    # -- recruited group: contact phone, admitted and discharged together, a cluster -----
    recruited = []
    for i in range(6):
        pid = g.patient(SURNAMES[i] + "老" + str(i), f"{1945 + i}-05-01")
        g.phones.append((pid, RECRUITER_PHONE, "CONTACT_PHONE"))
        g.addresses.append({"pid": pid, "key": f"village-{i}", "text": f"某村{i}组", "district": "通州区"})
        g.claim(
            pid,
            PRIVATE_HOSPITAL,
            f"2024-03-08 1{i}:00",
            visit_type="inpatient",
            admit=f"2024-03-01 0{i}:30",
            amount=8000.0,
            diagnosis=("I10.x00", "高血压"),
        )
        recruited.append(pid)
    facts["recruited"] = set(recruited)

    # -- a household sharing a phone and an address (legitimate) -----------------------
    household = []
    for i, (name, birth) in enumerate([("王大", "1950-01-01"), ("王二", "1975-01-01"), ("王三", "2000-01-01")]):
        pid = g.patient(name, birth)
        g.phones.append((pid, HOUSEHOLD_PHONE, "HAS_PHONE"))
        g.addresses.append({"pid": pid, "key": "home-wang", "text": "北京市西城区某胡同1号", "district": "西城区"})
        g.claim(pid, pharmacies[2], f"2024-04-0{i + 1} 10:00", items=[f"XHH{i:020d}"])
        household.append(pid)
    # a dormitory: many surnames at one address, different phones
    for i in range(4):
        pid = g.patient(SURNAMES[10 + i] + "工" + str(i), f"{1995 + i}-01-01")
        g.phones.append((pid, f"1360000{i:04d}", "HAS_PHONE"))
        g.addresses.append({"pid": pid, "key": "dorm-1", "text": "某厂宿舍", "district": "大兴区"})

    # -- burst: 12 cards swiped in 24 minutes at night on one terminal -------------------
    burst_cards = []
    for i in range(12):
        pid = g.patient("集" + str(i), f"19{50 + i}-01-01")
        card = f"CARD-BURST-{i:02d}"
        g.claim(pid, BURST_PHARMACY, ts("2024-05-10 22:10") + i * 120, card=card, terminal=BURST_TERMINAL, amount=200.0)
        burst_cards.append(card)
    for i in range(8):  # ordinary daytime trade on the other terminal
        pid = g.patient("散" + str(i), f"19{60 + i}-01-01")
        g.claim(pid, BURST_PHARMACY, ts("2024-05-01 10:00") + i * 86400, terminal=f"{BURST_PHARMACY}:T02")
    facts["burst_cards"] = burst_cards

    # -- doctor → pharmacy collusion ---------------------------------------------------
    for i in range(20):
        pid = g.patient("处" + str(i), f"19{40 + i}-02-02")
        g.claim(pid, COLL_PHARMACY, ts("2024-06-01 09:00") + i * 86400, doctor=COLL_DOCTOR, items=[f"XCO{i:020d}"])
    for i in range(2):
        pid = g.patient("处外" + str(i), "1960-02-02")
        g.claim(pid, pharmacies[i], ts("2024-06-01 09:00") + i * 86400, doctor=COLL_DOCTOR, items=[f"XCX{i:020d}"])

    # -- one card at two distant facilities within an hour -------------------------------
    imp = g.patient("冒一", "1980-01-01")
    g.claim(imp, hospitals[0], "2024-07-01 10:00", card="CARD-IMP")
    g.claim(imp, FAR_PHARMACY, "2024-07-01 11:00", card="CARD-IMP")
    facts["impersonation"] = {"card": "CARD-IMP", "gap": 60}

    # -- one person, one drug, five pharmacies; a phone group, one drug, four pharmacies -----
    y = g.patient("倒一", "1965-01-01")
    for i, ph in enumerate(pharmacies[:5]):
        g.claim(y, ph, f"2024-08-0{i + 1} 10:00", items=[DRUG], amount=900.0)
    facts["reseller"] = y
    group = []
    for i, name in enumerate(["刘甲", "刘乙", "孙丙"]):
        pid = g.patient(name, f"19{70 + i}-01-01")
        g.phones.append((pid, RESALE_PHONE, "HAS_PHONE"))
        g.claim(pid, pharmacies[i], f"2024-09-0{i + 1} 10:00", items=[RESALE_DRUG])
        g.claim(pid, pharmacies[i + 1], f"2024-09-1{i + 1} 10:00", items=[RESALE_DRUG])
        group.append(pid)
    facts["resale_group"] = set(group)

    # -- a trace code settled twice (回流药) -------------------------------------------
    t1 = g.patient("溯一", "1971-01-01")
    t2 = g.patient("溯二", "1972-01-01")
    c1 = g.claim(t1, pharmacies[3], "2024-08-01 10:00", items=[DRUG], trace=[TRACE, "81234567890000000001"])
    c2 = g.claim(t2, pharmacies[4], "2024-08-20 16:00", items=[DRUG], trace=[TRACE])
    facts["trace_claims"] = [c1, c2]

    # -- an inpatient with claims elsewhere during the stay (挂床) -------------------------
    z = g.patient("挂床", "1955-06-01", id_raw="11010519550601002X")
    g.claim(z, pharmacies[5], "2024-06-05 14:00", items=["XZZ00000000000000000001"])
    g.claim(z, hospitals[0], "2024-06-06 09:00")
    stay = g.claim(z, hospitals[1], "2024-06-10 10:00", visit_type="inpatient", admit="2024-06-01 09:00", amount=12000)
    facts["bed_holding"] = {"pid": z, "stay": stay}

    # -- a heavy patient for the neighbourhood cap --------------------------------------
    heavy = g.patient("多次", "1950-01-01")
    for i in range(30):
        g.claim(heavy, hospitals[2], ts("2023-01-01 09:00") + i * 5 * 86400, items=["001201000010000"])
    facts["heavy"] = heavy

    # -- the big hospital: ¥6,000,000 fund in 2024, ¥1,000,000 in 2023 ---------------------
    big = g.patient("大额", "1960-01-01")
    for i in range(3):
        g.claim(big, BIG_HOSPITAL, f"2024-1{i}-01 10:00", amount=2_500_000.0, fund=2_000_000.0)
    g.claim(big, BIG_HOSPITAL, "2023-06-01 10:00", amount=1_200_000.0, fund=1_000_000.0)
    return g, facts


def write_cluster(store: GraphStore, recruited: set[str]) -> None:
    """A detection result over the recruited group (docs/graph-contract.md, detection results)."""
    store.write(
        "CREATE (c:Cluster {cluster_id: $id, score: 87.5, typologies: ['induced_admission'], "
        "signals: $signals, explanation_zh: '6 人同日入院、同日出院，共用联系人电话', "
        "explanation_en: '6 persons admitted and discharged together, one contact phone', member_count: 8})",
        {"id": CLUSTER, "signals": '[{"name": "co_admission", "weight": 1.0}]'},
    )
    store.write(
        "MATCH (c:Cluster {cluster_id: $id}) UNWIND $pids AS pid MATCH (p:Patient {pid: pid}) "
        "MERGE (c)-[:HAS_MEMBER {role: 'patient', weight: 1.0}]->(p)",
        {"id": CLUSTER, "pids": sorted(recruited)},
    )
    store.write(
        "MATCH (c:Cluster {cluster_id: $id}), (f:Facility {code: $f}), (ph:Phone {number: $ph}) "
        "MERGE (c)-[:HAS_MEMBER {role: 'facility', weight: 3.0}]->(f) "
        "MERGE (c)-[:HAS_MEMBER {role: 'contact', weight: 2.0}]->(ph)",
        {"id": CLUSTER, "f": PRIVATE_HOSPITAL, "ph": RECRUITER_PHONE},
    )


@dataclass
class Planted:
    store: GraphStore
    settings: Settings
    library: QueryLibrary
    facts: dict[str, Any]
    graph: Graph

    def run(self, name: str, **params: Any) -> QueryResult:
        return run_named(self.store, self.library, name, params, settings=self.settings)

    def records(self, name: str, **params: Any) -> list[dict[str, Any]]:
        return self.run(name, **params).records()


@pytest.fixture(scope="module", params=["falkordb", "neo4j"])
def planted(request: pytest.FixtureRequest, embedded_server: EmbeddedServer, data_dir: Any) -> Iterator[Planted]:
    settings = Settings(graph="embedded", data_dir=data_dir, graph_name=f"t_cy_{uuid.uuid4().hex[:10]}")
    if request.param == "neo4j":
        uri = os.environ.get(NEO4J_URI_ENV)
        if not uri:
            pytest.skip(f"no Neo4j configured for tests: set {NEO4J_URI_ENV}")
        settings = settings.model_copy(update={"graph": uri})
    store = open_store(settings)
    store.clear()
    store.ensure_schema()
    graph, facts = build()
    graph.write(store)
    write_cluster(store, facts["recruited"])
    yield Planted(store, settings, QueryLibrary.load(settings), facts, graph)
    store.clear()
    store.close()


# --- the queries ------------------------------------------------------------------------


def test_cards_shared_by_persons(planted: Planted) -> None:
    rows = planted.records("cards_shared_by_persons")
    assert [r["card"] for r in rows] == [SHARED_CARD]
    assert set(rows[0]["pids"]) == planted.facts["shared"]["pids"]
    assert rows[0]["persons"] == 2 and rows[0]["facilities"] == 2
    # the window excludes the second person's claim
    assert planted.records("cards_shared_by_persons", until="2024-02-10") == []


def test_phones_shared_rank_unrelated_persons_first(planted: Planted) -> None:
    rows = planted.records("phones_shared_by_insured")
    assert [r["phone"] for r in rows] == [RECRUITER_PHONE, RESALE_PHONE, HOUSEHOLD_PHONE]
    top = rows[0]
    assert (top["persons"], top["surnames"], top["addresses"], top["as_contact"]) == (6, 6, 6, 6)
    household = rows[-1]
    assert (household["surnames"], household["addresses"]) == (1, 1)
    assert [r["phone"] for r in planted.records("phones_shared_by_insured", min_surnames=2)] == [
        RECRUITER_PHONE,
        RESALE_PHONE,
    ]


def test_addresses_shared_rank_unrelated_persons_first(planted: Planted) -> None:
    rows = planted.records("addresses_shared_by_insured")
    assert [r["address_key"] for r in rows] == ["dorm-1", "home-wang"]
    assert (rows[0]["surnames"], rows[0]["phones"]) == (4, 4)
    assert (rows[1]["surnames"], rows[1]["phones"]) == (1, 1)
    assert [r["address_key"] for r in planted.records("addresses_shared_by_insured", district="西城区")] == [
        "home-wang"
    ]


def test_burst_swipes_per_facility_and_per_terminal(planted: Planted) -> None:
    rows = planted.records("burst_swipes")
    assert len(rows) == 1
    row = rows[0]
    assert (row["facility"], row["day"], row["cards"], row["claims"]) == (BURST_PHARMACY, "2024-05-10", 12, 12)
    assert row["off_hours"] == 12 and row["window_start"].startswith("2024-05-10T22:10")
    per_terminal = planted.records("burst_swipes", facility=BURST_PHARMACY, per_terminal="true", min_cards=2)
    assert [(r["place"], r["cards"]) for r in per_terminal] == [(BURST_TERMINAL, 12)]
    # a 10-minute window holds 5 swipes (22:10 … 22:18)
    short = planted.records("burst_swipes", terminal=BURST_TERMINAL, window_minutes=10)
    assert [r["cards"] for r in short] == [5]
    assert planted.records("burst_swipes", min_cards=13) == []


def test_doctor_pharmacy_concentration(planted: Planted) -> None:
    rows = planted.records("doctor_pharmacy_concentration")
    assert [(r["doctor"], r["pharmacy"]) for r in rows] == [(COLL_DOCTOR, COLL_PHARMACY)]
    row = rows[0]
    assert (row["claims_at_pharmacy"], row["doctor_claims"], row["pharmacies"]) == (20, 22, 3)
    assert row["share"] == pytest.approx(20 / 22, abs=1e-3)
    assert row["lift"] > 2
    assert row["works_at"] == ["第1医院"]


def test_co_admission_groups(planted: Planted) -> None:
    rows = planted.records("co_admission_groups")
    assert len(rows) == 1
    row = rows[0]
    assert (row["facility"], row["admit_day"], row["discharge_day"]) == (PRIVATE_HOSPITAL, "2024-03-01", "2024-03-08")
    assert set(row["pids"]) == planted.facts["recruited"]
    assert (row["group_size"], row["phones"], row["addresses"], row["diagnoses"]) == (6, 1, 6, 1)
    assert planted.records("co_admission_groups", min_group=7) == []


def test_card_at_two_facilities_within_hours(planted: Planted) -> None:
    rows = planted.records("card_two_facilities_within_hours")
    assert [(r["card"], r["gap_minutes"], r["facility_2"]) for r in rows] == [("CARD-IMP", 60, FAR_PHARMACY)]
    assert rows[0]["same_region"] is False
    assert planted.records("card_two_facilities_within_hours", hours=0.5) == []


def test_same_drug_many_pharmacies(planted: Planted) -> None:
    rows = planted.records("same_drug_many_pharmacies_person")
    assert [(r["pid"], r["item_code"], r["pharmacies"]) for r in rows] == [(planted.facts["reseller"], DRUG, 5)]
    phone_rows = planted.records("same_drug_many_pharmacies_phone")
    assert [(r["phone"], r["item_code"], r["pharmacies"], r["persons"]) for r in phone_rows] == [
        (RESALE_PHONE, RESALE_DRUG, 4, 3)
    ]
    assert planted.records("same_drug_many_pharmacies_phone", min_pharmacies=5) == []


def test_repeated_trace_codes(planted: Planted) -> None:
    rows = planted.records("repeated_trace_codes")
    assert [r["trace_code"] for r in rows] == [TRACE]
    row = rows[0]
    assert (row["claims"], row["facilities"], row["cards"], row["persons"]) == (2, 2, 2, 2)
    assert [s["claim"] for s in row["settlements"]] == planted.facts["trace_claims"]


def test_inpatient_claims_elsewhere(planted: Planted) -> None:
    rows = planted.records("inpatient_claims_elsewhere")
    assert [r["stay_claim"] for r in rows] == [planted.facts["bed_holding"]["stay"]]
    row = rows[0]
    assert (row["claims_elsewhere"], row["facilities"], row["stay_days"], row["items_per_day"]) == (2, 2, 9, 0)
    assert len(planted.records("inpatient_claims_elsewhere", max_items_per_day=0.5)) == 1
    assert [e["visit_type"] for e in row["elsewhere"]] == ["pharmacy", "outpatient"]
    # ignoring claims within 5 days of admission or discharge leaves none
    assert planted.records("inpatient_claims_elsewhere", margin_hours=120) == []


def test_patient_timeline_by_pid_not_by_resident_id(planted: Planted) -> None:
    pid = planted.facts["bed_holding"]["pid"]
    rows = planted.records("patient_timeline", patient=pid)
    assert [r["visit_type"] for r in rows] == ["pharmacy", "outpatient", "inpatient"]
    assert [r["time"][:10] for r in rows] == ["2024-06-05", "2024-06-06", "2024-06-10"]
    assert planted.records("patient_timeline", patient="11010519550601002X") == []  # no IDs in the graph
    assert len(planted.records("patient_timeline", patient=pid, since="2024-06-06")) == 2


def test_facility_timeline(planted: Planted) -> None:
    rows = planted.records("facility_timeline", facility=BURST_PHARMACY, since="2024-05-10", until="2024-05-11")
    assert [r["card"] for r in rows] == planted.facts["burst_cards"]
    assert {r["terminal"] for r in rows} == {"T01"}


def test_neighbourhood_caps_each_relationship_type(planted: Planted) -> None:
    heavy = planted.facts["heavy"]
    rows = planted.records("neighbourhood", key=heavy, cap=10)
    assert rows[0]["hop"] == 0 and rows[0]["source"].properties["pid"] == heavy
    by_type: dict[str, list[dict[str, Any]]] = {}
    for r in rows[1:]:
        by_type.setdefault(r["rel_type"], []).append(r)
    assert sorted(by_type) == ["BY_PATIENT", "HAS_CARD"]
    claims = by_type["BY_PATIENT"]
    assert len(claims) == 10 and {r["type_total"] for r in claims} == {30}
    times = [r["target"].properties["time_ts"] for r in claims]
    assert times == sorted(times, reverse=True)  # most recent first
    assert all(isinstance(r["rel"], Relationship) and isinstance(r["target"], Node) for r in claims)


def test_neighbourhood_several_hops(planted: Planted) -> None:
    rows = planted.records("neighbourhood", key=HOUSEHOLD_PHONE, label="Phone", hops=3)
    edges = {(r["hop"], r["rel_type"]) for r in rows}
    assert edges == {
        (0, None),
        (1, "HAS_PHONE"),
        (2, "BY_PATIENT"),
        (2, "HAS_CARD"),
        (2, "LIVES_AT"),
        (3, "AT_FACILITY"),
    }
    assert len([r for r in rows if r["hop"] == 2 and r["rel_type"] == "LIVES_AT"]) == 3
    hop3 = [r["target"].properties["code"] for r in rows if r["hop"] == 3]
    assert hop3 == ["P110105000003"] * 3  # the household's pharmacy, reached from each of its three claims
    assert len(planted.records("neighbourhood", key=HOUSEHOLD_PHONE, hops=1)) == 4


def test_neighbourhood_reaches_detection_results(planted: Planted) -> None:
    rows = planted.records("neighbourhood", key=RECRUITER_PHONE)
    hop1 = {r["target"].properties.get("pid") for r in rows if r["rel_type"] == "CONTACT_PHONE"}
    assert hop1 == planted.facts["recruited"]
    assert [r["target"].properties["cluster_id"] for r in rows if r["rel_type"] == "HAS_MEMBER"] == [CLUSTER]
    assert planted.records("neighbourhood", key="no-such-key") == []
    assert planted.records("neighbourhood", key=RECRUITER_PHONE, label="Card") == []


def test_shortest_paths(planted: Planted) -> None:
    a, b = sorted(planted.facts["shared"]["pids"])
    rows = planted.records("shortest_paths", from_key=a, to_key=b)
    assert len(rows) == 1
    path = rows[0]["path"]
    assert isinstance(path, Path) and rows[0]["hops"] == 2
    assert [n.label for n in path.nodes] == ["Patient", "Card", "Patient"]
    assert rows[0]["route"][1] == f"Card {SHARED_CARD}"
    assert planted.records("shortest_paths", from_key=a, to_key=b, max_hops=1) == []
    # two recruited patients: 4 steps apart through the private hospital or 2 through the contact phone
    r1, r2 = sorted(planted.facts["recruited"])[:2]
    paths = planted.records("shortest_paths", from_key=r1, to_key=r2, from_label="Patient", to_label="Patient")
    assert [p["route"][1] for p in paths] == [f"Phone {RECRUITER_PHONE}"]


def test_cluster_members_evidence(planted: Planted) -> None:
    rows = planted.records("cluster_members_evidence", cluster=CLUSTER)
    assert len(rows) == 8
    assert rows[0]["label"] == "Facility" and rows[0]["linking_claims"] == 6
    assert rows[0]["linking_amount"] == pytest.approx(48_000.0)
    phone = next(r for r in rows if r["label"] == "Phone")
    assert (phone["direct_links"], phone["linking_claims"]) == (6, 0)
    patients = [r for r in rows if r["label"] == "Patient"]
    assert {r["key"] for r in patients} == planted.facts["recruited"]
    assert all(r["direct_links"] == 1 and r["linking_claims"] == 1 for r in patients)
    assert rows[0]["explanation_zh"].startswith("6 人同日入院")


def test_cluster_members_evidence_ignores_members_of_a_run_in_progress(planted: Planted) -> None:
    """A detection run writes its members beside the current ones (tagged with its run_id) until it commits."""
    link = (
        "MATCH (c:Cluster {cluster_id: $cluster}) MERGE (d:Doctor {code: 'D-PENDING'}) "
        "MERGE (c)-[:HAS_MEMBER {role: 'doctor', weight: 9.0, run_id: 'R-UNFINISHED'}]->(d)"
    )
    planted.store.write(link, {"cluster": CLUSTER})
    try:
        rows = planted.records("cluster_members_evidence", cluster=CLUSTER)
        assert len(rows) == 8 and "D-PENDING" not in {r["key"] for r in rows}
    finally:
        planted.store.write("MATCH (d:Doctor {code: 'D-PENDING'}) DETACH DELETE d")


def test_top_facilities_by_fund(planted: Planted) -> None:
    rows = planted.records("top_facilities_by_fund", since="2024-01-01", until="2025-01-01", limit=3)
    assert [r["rank"] for r in rows] == [1, 2, 3]
    assert rows[0]["facility"] == BIG_HOSPITAL and rows[0]["fund_paid"] == pytest.approx(6_000_000.0)
    assert rows[0]["fund_share"] > 0.9
    assert rows[1]["fund_paid"] >= rows[2]["fund_paid"]
    only_2023 = planted.records("top_facilities_by_fund", since="2023-01-01", until="2024-01-01", kind="hospital")
    assert only_2023[0]["facility"] == BIG_HOSPITAL and only_2023[0]["fund_paid"] == pytest.approx(1_000_000.0)


def test_facilities_over_annual_fund(planted: Planted) -> None:
    rows = planted.records("facilities_over_annual_fund")
    assert [(r["year"], r["facility"]) for r in rows] == [("2024", BIG_HOSPITAL)]
    assert planted.records("facilities_over_annual_fund", year=2023) == []
    assert [r["year"] for r in planted.records("facilities_over_annual_fund", threshold=900_000)] == ["2024", "2023"]


def expected_sample(codes_by_stratum: dict[str, list[str]], seed: str, fraction: float) -> set[str]:
    """The draw recomputed independently: per stratum, ceil(fraction·n) codes of smallest sha256(seed:code)."""
    chosen: set[str] = set()
    for codes in codes_by_stratum.values():
        ranked = sorted(codes, key=lambda c: hashlib.sha256(f"{seed}:{c}".encode()).hexdigest())
        chosen |= set(ranked[: math.ceil(round(fraction * len(codes), 9))])
    return chosen


def test_random_inspection_sample_is_seeded_and_stratified(planted: Planted) -> None:
    by_kind: dict[str, list[str]] = {}
    for code, props in planted.graph.facilities.items():
        by_kind.setdefault(props["kind"], []).append(code)
    rows = planted.records("random_inspection_sample", seed="2025-Q1")
    assert {r["facility"] for r in rows} == expected_sample(by_kind, "2025-Q1", 0.1)
    for kind, codes in by_kind.items():
        drawn = [r for r in rows if r["stratum"] == kind]
        assert len(drawn) == math.ceil(0.1 * len(codes)) >= 0.1 * len(codes)
        assert [r["draw_rank"] for r in drawn] == list(range(1, len(drawn) + 1))
        assert {r["stratum_size"] for r in drawn} == {len(codes)}
    again = planted.records("random_inspection_sample", seed="2025-Q1")
    assert again == rows
    other = planted.records("random_inspection_sample", seed="2025-Q2", fraction=0.5)
    assert {r["facility"] for r in other} == expected_sample(by_kind, "2025-Q2", 0.5)
    pharmacies = planted.records("random_inspection_sample", seed="x", kind="pharmacy", stratify_by="none")
    assert len(pharmacies) == math.ceil(0.1 * len(by_kind["pharmacy"]))
    active = planted.records("random_inspection_sample", seed="x", fraction=1, active_since="2024-12-01")
    assert {r["facility"] for r in active} == {BIG_HOSPITAL}


def test_every_library_query_is_exercised_here() -> None:
    """A new query in the package needs a planted-answer test in this module."""
    from ringsight.cypher.library import package_dir

    here = pathlib.Path(__file__).parent
    source = "".join(p.read_text(encoding="utf-8") for p in here.glob("test_cypher*.py"))
    missing = [p.stem for p in package_dir().glob("*.cypher") if f'"{p.stem}"' not in source]
    assert missing == []
