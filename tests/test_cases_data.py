"""A small, fully known graph for the cases tests: one card-collecting pharmacy ring.

``build_ring(store)`` writes four patients (valid resident IDs), their cards,
phones and addresses, a pharmacy and a hospital, eleven claims, a finished
detection run and the cluster it found — the shapes docs/graph-contract.md
promises — and returns the facts the tests check against (totals, names, IDs).
Also a test that the builder writes what it says, so a change to it cannot
silently weaken the other tests.
"""

from __future__ import annotations

import functools
import json
import os
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher

from ringsight.cases.accounts import User
from ringsight.graph.store import GraphStore
from ringsight.identity import pseudonym, resident_id_check_char

TZ = ZoneInfo("Asia/Shanghai")
PASSWORD = "correct horse battery"


def ts(iso: str) -> int:
    """Epoch seconds of an ISO local time in Asia/Shanghai."""
    return int(datetime.fromisoformat(iso).replace(tzinfo=TZ).timestamp())


def resident_id(body17: str) -> str:
    return body17 + resident_id_check_char(body17)


PATIENTS = [
    {
        "pid": "p-zhang",
        "name": "张伟民",
        "id_raw": resident_id("11010519580312001"),
        "gender": "M",
        "birth_date": "1958-03-12",
        "card": "6217000011112222",
        "phone": "13812345678",
        "address": "北京市朝阳区幸福里小区3号楼",
    },
    {
        "pid": "p-li",
        "name": "李秀英",
        "id_raw": resident_id("11010519610704002"),
        "gender": "F",
        "birth_date": "1961-07-04",
        "card": "6217000033334444",
        "phone": "13912345679",
        "address": "北京市朝阳区幸福里小区5号楼",
    },
    {
        "pid": "p-wang",
        "name": "王建国",
        "id_raw": resident_id("11010519550101003"),
        "gender": "M",
        "birth_date": "1955-01-01",
        "card": "6217000055556666",
        "phone": "13712345670",
        "address": "北京市海淀区学院路8号",
    },
    {
        "pid": "p-zhao",
        "name": "赵淑芬",
        "id_raw": resident_id("11010519630909004"),
        "gender": "F",
        "birth_date": "1963-09-09",
        "card": "6217000077778888",
        "phone": "13612345671",
        "address": "北京市丰台区南苑路2号",
    },
]
RECRUITER_PHONE_NUMBER = "13800001111"


def _key(kind: str, value: str) -> str:
    """The graph key (pseudonym) of a personal value, with the tests' id_hash_key (see conftest)."""
    return pseudonym(kind, value, os.environ["RINGSIGHT_ID_HASH_KEY"])


RECRUITER_PHONE = _key("phone", RECRUITER_PHONE_NUMBER)  # the Phone node's key
for _p in PATIENTS:  # graph keys next to the clear values the vault holds
    _p |= {"card_number": _p["card"], "phone_number": _p["phone"], "address_text": _p["address"]}
    _p |= {
        "card": _key("card", _p["card"]),
        "phone": _key("phone", _p["phone"]),
        "address": _key("address", _p["address"]),
    }
PHARMACY = {"code": "P11010500001", "name": "康宁大药房", "kind": "pharmacy"}
HOSPITAL = {"code": "H11010500009", "name": "朝阳第一医院", "kind": "hospital"}

_WRITE = """
UNWIND $patients AS p
CREATE (pt:Patient {pid: p.pid, gender: p.gender, birth_cohort: substring(p.birth_date, 0, 4)})
CREATE (cd:Card {card_id: p.card})
CREATE (ph:Phone {number: p.phone})
CREATE (ad:Address {key: p.address})
CREATE (pt)-[:HAS_CARD]->(cd)
CREATE (pt)-[:HAS_PHONE]->(ph)
CREATE (pt)-[:LIVES_AT]->(ad)
"""
_CLAIMS = """
UNWIND $claims AS c
MATCH (pt:Patient {pid: c.pid})-[:HAS_CARD]->(cd:Card)
MATCH (f:Facility {code: c.facility})
CREATE (cl:Claim {claim_id: c.claim_id, visit_type: c.visit_type, time_ts: c.time_ts, time: c.time,
                  total_amount: c.total, fund_paid: c.fund, account_paid: c.account, self_paid: c.self,
                  diagnosis_name: '高血压', item_count: 3})
CREATE (cl)-[:BY_PATIENT]->(pt)
CREATE (cl)-[:WITH_CARD]->(cd)
CREATE (cl)-[:AT_FACILITY]->(f)
"""


def ring_claims() -> list[dict[str, Any]]:
    """Eight pharmacy claims in the ring (2026-03-01..03-10) and three unrelated hospital claims."""
    claims = []
    for i in range(8):
        p = PATIENTS[i % 4]
        t = f"2026-03-{1 + i:02d}T22:{10 + i:02d}:00"
        total = 1000.0 + 250.0 * i
        claims.append(
            {
                "claim_id": f"CL-P-{i}",
                "pid": p["pid"],
                "facility": PHARMACY["code"],
                "visit_type": "pharmacy",
                "time": t + "+08:00",
                "time_ts": ts(t),
                "total": total,
                "fund": round(total * 0.7, 2),
                "account": round(total * 0.2, 2),
                "self": round(total * 0.1, 2),
            }
        )
    for i in range(3):
        t = f"2026-02-{10 + i:02d}T09:00:00"
        claims.append(
            {
                "claim_id": f"CL-H-{i}",
                "pid": PATIENTS[i]["pid"],
                "facility": HOSPITAL["code"],
                "visit_type": "outpatient",
                "time": t + "+08:00",
                "time_ts": ts(t),
                "total": 300.0,
                "fund": 200.0,
                "account": 50.0,
                "self": 50.0,
            }
        )
    return claims


def expected_totals() -> dict[str, float]:
    ring = [c for c in ring_claims() if c["facility"] == PHARMACY["code"]]
    return {
        "claim_count": len(ring),
        "total_amount": round(sum(c["total"] for c in ring), 2),
        "fund_paid": round(sum(c["fund"] for c in ring), 2),
        "account_paid": round(sum(c["account"] for c in ring), 2),
        "fund_loss": round(sum(c["fund"] + c["account"] for c in ring), 2),
    }


def add_run(
    store: GraphStore,
    run_id: str,
    started: str,
    cluster_id: str,
    members: list[tuple[str, str, str]],
    *,
    date_from: str,
    date_to: str,
    facilities: list[str],
    score: float = 87.5,
) -> None:
    """A done detection Run that FOUND a Cluster with HAS_MEMBER edges to ``(label, key_prop, key)`` members."""
    signals = [
        {
            "name": "burst_swiping",
            "weight": 0.4,
            "value": 8,
            "contribution": 35.0,
            "evidence_zh": "8 张医保卡在 10 天内于同一药店夜间集中刷卡",
            "evidence_en": "8 cards swiped at night",
        },
        {
            "name": "shared_contact_phone",
            "weight": 0.3,
            "value": 4,
            "contribution": 26.0,
            "evidence_zh": "4 名参保人登记同一联系人电话",
            "evidence_en": "4 patients share a contact phone",
        },
    ]
    store.write(
        "MERGE (r:Run {run_id: $run_id}) SET r.status = 'done', r.started_ts = $started_ts, r.started = $started, "
        "r.finished_ts = $started_ts + 60 "
        "MERGE (c:Cluster {cluster_id: $cid}) SET c.score = $score, c.typologies = ['card_collecting'], "
        "c.signals = $signals, c.explanation_zh = '药店夜间集中刷卡，参保人共用联系人电话', c.member_count = $n, "
        "c.claim_count = 8, c.facilities = $facilities, c.date_from = $date_from, c.date_to = $date_to, "
        "c.run_id = $run_id, c.change = 'new' "
        "MERGE (r)-[:FOUND {score: $score, change: 'new', member_count: $n}]->(c)",
        {
            "run_id": run_id,
            "started_ts": ts(started),
            "started": started + "+08:00",
            "cid": cluster_id,
            "score": score,
            "signals": json.dumps(signals, ensure_ascii=False),
            "n": len(members),
            "facilities": facilities,
            "date_from": date_from,
            "date_to": date_to,
        },
    )
    for label, key_prop, key in members:
        store.write(
            f"MATCH (c:Cluster {{cluster_id: $cid}}) MATCH (e:{label} {{{key_prop}: $key}}) "
            "MERGE (c)-[m:HAS_MEMBER]->(e) SET m.role = $role, m.weight = 1.0",
            {"cid": cluster_id, "key": key, "role": "hub" if label == "Facility" else "member"},
        )


def ring_members() -> list[tuple[str, str, str]]:
    members = [("Facility", "code", PHARMACY["code"]), ("Phone", "number", RECRUITER_PHONE)]
    members += [("Patient", "pid", p["pid"]) for p in PATIENTS]
    members += [("Card", "card_id", p["card"]) for p in PATIENTS]
    return members


def build_ring(store: GraphStore) -> dict[str, Any]:
    """Write the ring and return its facts."""
    store.write("CREATE (a:Facility) SET a = $a CREATE (b:Facility) SET b = $b", {"a": PHARMACY, "b": HOSPITAL})
    store.write(_WRITE, {"patients": PATIENTS})
    write_vault(store)
    store.write(
        "CREATE (rp:Phone {number: $n}) WITH rp MATCH (p:Patient) CREATE (p)-[:CONTACT_PHONE]->(rp)",
        {"n": RECRUITER_PHONE},
    )
    store.write(_CLAIMS, {"claims": ring_claims()})
    add_run(
        store,
        "R20260315-020000",
        "2026-03-15T02:00:00",
        "C000001",
        ring_members(),
        date_from="2026-03-01",
        date_to="2026-03-10",
        facilities=[PHARMACY["code"]],
    )
    return {"cluster_id": "C000001", "totals": expected_totals(), "patients": PATIENTS, "pharmacy": PHARMACY}


def write_vault(store: GraphStore) -> None:
    """The clear values behind the ring's pseudonyms, in the identity vault of the store's app database."""
    import polars as pl

    from ringsight.appdb import for_store
    from ringsight.appdb.vault import store_identities

    rows = [("phone", RECRUITER_PHONE, RECRUITER_PHONE_NUMBER)]
    for p in PATIENTS:
        person = {
            "resident_id": p["id_raw"],
            "name": p["name"],
            "birth_date": p["birth_date"],
            "id_type": "resident_id",
        }
        rows += [("patient", p["pid"], json.dumps(person, ensure_ascii=False))]
        rows += [("card", p["card"], p["card_number"]), ("phone", p["phone"], p["phone_number"])]
        rows += [("address", p["address"], p["address_text"])]
    store_identities(for_store(store), pl.DataFrame(rows, schema=["kind", "pseudonym", "value"], orient="row"))


@functools.cache
def _password_hash() -> str:
    return PasswordHasher().hash(PASSWORD)


USER_ROLES = {"inv": "investigator", "inv2": "investigator", "ana": "analyst", "sup": "supervisor", "adm": "admin"}


def make_users(store: GraphStore) -> dict[str, User]:
    """One account per role (and a second investigator), all with PASSWORD.

    Written straight to the store's application database with one argon2 hash
    computed once per test session (hashing is deliberately slow);
    ``accounts.add_user`` itself is tested in test_cases_accounts.py.
    """
    from sqlalchemy import insert

    from ringsight.appdb import for_store, users

    now = int(time.time())
    rows = [
        {
            "username": n,
            "display_name": n.upper(),
            "role": r,
            "password_hash": _password_hash(),
            "active": True,
            "created_ts": now,
            "updated_ts": now,
        }
        for n, r in USER_ROLES.items()
    ]
    with for_store(store).begin() as conn:
        conn.execute(insert(users), rows)
    return {
        n: User(username=n, role=r, display_name=n.upper(), active=True, created_ts=now) for n, r in USER_ROLES.items()
    }


def test_build_ring_writes_what_it_promises(store: GraphStore) -> None:
    facts = build_ring(store)
    assert store.count_nodes("Patient") == 4
    assert store.count_nodes("Claim") == 11
    assert store.count_relationships("HAS_MEMBER") == len(ring_members())
    ring = store.read(
        "MATCH (c:Claim)-[:AT_FACILITY]->(:Facility {code: $code}) RETURN count(c) AS n, sum(c.total_amount) AS t",
        {"code": PHARMACY["code"]},
    ).records()[0]
    assert ring["n"] == facts["totals"]["claim_count"] == 8
    assert ring["t"] == facts["totals"]["total_amount"] == 15000.0
