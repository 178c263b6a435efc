"""A synthetic investigation graph written straight to the store, per docs/graph-contract.md.

The UI tests, the UI benchmark and screenshots need a graph whose every node
and relationship they control: a city background (hospitals, clinics,
pharmacies, doctors, insured persons visiting them) with four planted rings
and one finished detection run that found them. Writing it directly with
``UNWIND … CREATE`` keeps the fixture fast and independent of the loader and
of detection, which are tested on their own.

The rings follow typologies from DOMAIN.md: card collecting at a pharmacy
(C000001), ghost patients sharing phones and an address at a private hospital
(C000002), doctor–pharmacy collusion (C000003) and impersonation with one card
used by several people (C000004).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import polars as pl

from ringsight.appdb import for_store
from ringsight.appdb.vault import store_identities
from ringsight.config import Settings
from ringsight.graph.store import GraphStore
from ringsight.identity import pseudonym, resident_id_check_char

SHANGHAI = timezone(timedelta(hours=8))
START = datetime(2025, 1, 1, tzinfo=SHANGHAI)
DAYS = 180

_FAMILY = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红建国建华德明志强海燕"
_DISTRICTS = [
    ("110105", "朝阳区"),
    ("110108", "海淀区"),
    ("110106", "丰台区"),
    ("110102", "西城区"),
    ("110114", "昌平区"),
]
_DIAG = [
    ("J06.900", "急性上呼吸道感染"),
    ("I10.x00", "原发性高血压"),
    ("E11.900", "2型糖尿病"),
    ("M54.500", "腰痛"),
    ("K29.700", "胃炎"),
    ("J44.900", "慢性阻塞性肺病"),
]


@dataclass
class SampleGraph:
    """What :func:`build_sample` wrote, for tests to refer to by key."""

    run_id: str
    clusters: dict[str, dict[str, Any]]
    patients: list[dict[str, Any]]
    facilities: list[dict[str, Any]]
    doctors: list[dict[str, Any]]
    claims: int
    phones: list[str] = field(default_factory=list)
    big_hospital: str = ""
    counts: dict[str, int] = field(default_factory=dict)


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, SHANGHAI).isoformat(timespec="seconds")


def _resident_id(rng: random.Random, region: str) -> tuple[str, str, str]:
    """A valid 18-character resident ID with its birth date and gender."""
    birth = datetime(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 60))
    seq = rng.randrange(100, 999)
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    rid = body + resident_id_check_char(body)
    return rid, birth.date().isoformat(), "M" if seq % 2 else "F"


class _Builder:
    """Accumulates rows for each label and relationship, then writes them in batches."""

    def __init__(self, settings: Settings, seed: int) -> None:
        self.settings = settings
        self.rng = random.Random(seed)
        self.patients: list[dict[str, Any]] = []
        self.cards: list[dict[str, Any]] = []
        self.phones: dict[str, dict[str, Any]] = {}
        self.addresses: dict[str, dict[str, Any]] = {}
        self.facilities: list[dict[str, Any]] = []
        self.doctors: list[dict[str, Any]] = []
        self.terminals: list[dict[str, Any]] = []
        self.operators: list[dict[str, Any]] = []
        self.claims: list[dict[str, Any]] = []
        self.rels: dict[str, list[dict[str, Any]]] = {}
        self.identities: list[tuple[str, str, str]] = []
        self.seq = 0

    # -- entities -----------------------------------------------------------------
    def patient(self, district: int | None = None, phone: str | None = None, address: str | None = None) -> dict:
        rng = self.rng
        region, dname = _DISTRICTS[district if district is not None else rng.randrange(len(_DISTRICTS))]
        rid, birth, gender = _resident_id(rng, region)
        name = rng.choice(_FAMILY) + rng.choice(_GIVEN) + (rng.choice(_GIVEN) if rng.random() < 0.6 else "")
        pid = self.pseudonym("patient", rid)
        n = len(self.patients)
        p = {
            "pid": pid,
            "id_type": "resident_id",
            "gender": gender,
            "birth_cohort": f"{int(birth[:4]) // 5 * 5}-{int(birth[:4]) // 5 * 5 + 4}",
            "insurance_type": rng.choice(["employee", "resident"]),
            "surname_group": pseudonym("patient", "surname:" + name[0], self.settings.pseudonym_key()),
            # clear values: in the identity vault only (tests read them here)
            "id_raw": rid,
            "person_no": f"PSN{n:08d}",
            "name": name,
            "birth_date": birth,
            "district": dname,
        }
        self.patients.append(p)
        fields = {"resident_id": rid, "id_type": "resident", "person_no": p["person_no"], "name": name}
        self.identities.append(("patient", pid, json.dumps({**fields, "birth_date": birth}, ensure_ascii=False)))
        card = f"6217{rng.randrange(10**11, 10**12)}{n % 10}"
        p["card_number"], p["card"] = card, self.pseudonym("card", card)
        self.cards.append({"card_id": p["card"], "card_kind": "ssc"})
        self.rel("HAS_CARD", pid, p["card"])
        phone = phone or f"1{rng.choice('3589')}{rng.randrange(10**8, 10**9)}"
        p["phone_number"], p["phone"] = phone, self.pseudonym("phone", phone)
        self.phones.setdefault(phone, {"number": p["phone"]})
        self.rel("HAS_PHONE", pid, p["phone"])
        if address is None:
            address = f"北京市{dname}{rng.choice(['幸福', '和平', '建设', '光明', '团结'])}路{rng.randrange(1, 300)}号"
        p["address_text"], p["address"] = address, self.pseudonym("address", address.replace("北京市", ""), address)
        self.addresses.setdefault(p["address"], {"key": p["address"], "district": dname})
        self.rel("LIVES_AT", pid, p["address"])
        return p

    def pseudonym(self, kind: str, value: str, shown: str | None = None) -> str:
        """The graph key of a personal value, its clear form (``shown``, default ``value``) kept for the vault."""
        key = pseudonym(kind, value, self.settings.pseudonym_key())
        if kind != "patient":
            self.identities.append((kind, key, shown or value))
        return key

    def facility(self, code: str, name: str, kind: str, ownership: str, level: str, region: str) -> dict:
        f = {"code": code, "name": name, "kind": kind, "level": level, "ownership": ownership, "region": region}
        self.facilities.append(f)
        term = {"key": f"{code}:T1", "terminal_id": "T1", "facility_code": code}
        oper = {"key": f"{code}:OP1", "operator_id": "OP1", "facility_code": code}
        self.terminals.append(term)
        self.operators.append(oper)
        self.rel("T_IN", term["key"], code)
        self.rel("O_IN", oper["key"], code)
        return f

    def doctor(self, code: str, name: str, facility: str) -> dict:
        d = {"code": code, "name": name, "facility": facility}
        self.doctors.append(d)
        self.rel("WORKS_AT", code, facility)
        return d

    def rel(self, kind: str, a: str, b: str) -> None:
        self.rels.setdefault(kind, []).append({"a": a, "b": b})

    # -- claims -------------------------------------------------------------------
    def claim(
        self,
        patient: dict,
        facility: dict,
        ts: int,
        amount: float,
        *,
        doctor: dict | None = None,
        card: str | None = None,
        visit: str | None = None,
        stay_days: int = 0,
        diagnosis: tuple[str, str] | None = None,
    ) -> dict:
        self.seq += 1
        visit = visit or ("pharmacy" if facility["kind"] == "pharmacy" else "outpatient")
        diag = diagnosis or self.rng.choice(_DIAG)
        amount = round(amount, 2)
        fund = round(amount * 0.7, 2)
        c = {
            "claim_id": f"S{self.seq:09d}",
            "visit_type": visit,
            "time_ts": ts,
            "time": _iso(ts),
            "total_amount": amount,
            "fund_paid": fund,
            "account_paid": round(amount * 0.1, 2),
            "self_paid": round(amount - fund - round(amount * 0.1, 2), 2),
            "diagnosis_code": diag[0],
            "diagnosis_name": diag[1],
            "department": "药房" if visit == "pharmacy" else "内科",
            "item_count": self.rng.randrange(1, 8),
            "item_codes": ["XA01", "XB02"],
            "trace_codes": [],
            "content_hash": f"h{self.seq}",
            "load_id": "sample",
            "pid": patient["pid"],
            "card": card or patient["card"],
            "facility": facility["code"],
            "doctor": doctor["code"] if doctor else None,
            "terminal": f"{facility['code']}:T1",
            "operator": f"{facility['code']}:OP1",
        }
        if visit == "inpatient":
            c["admit_ts"] = ts - stay_days * 86400
            c["admit_time"] = _iso(c["admit_ts"])
            c["discharge_ts"] = ts
            c["discharge_time"] = _iso(ts)
            c["bed_no"] = f"B{self.rng.randrange(1, 60):02d}"
        self.claims.append(c)
        return c

    def ts(self, day: int | None = None, hour: int | None = None) -> int:
        day = self.rng.randrange(DAYS) if day is None else day
        hour = self.rng.randrange(8, 18) if hour is None else hour
        moment = START + timedelta(days=day, hours=hour, minutes=self.rng.randrange(60))
        return int(moment.astimezone(UTC).timestamp())


def _background(b: _Builder, patients: int, claims: int) -> tuple[list[dict], dict, list[dict]]:
    """Facilities, doctors and ordinary patients with ordinary visits."""
    rng = b.rng
    big = b.facility("H110105000001", "北京朝阳中心医院", "hospital", "public", "三级甲等", "110105")
    hospitals = [
        big,
        b.facility("H110108000002", "海淀区人民医院", "hospital", "public", "二级甲等", "110108"),
        b.facility("H110106000003", "丰台仁爱医院", "hospital", "private", "二级", "110106"),
    ]
    clinics = [
        b.facility("C110105000011", "朝阳社区卫生服务中心", "clinic", "public", "一级", "110105"),
        b.facility("C110102000012", "西城德胜门诊部", "clinic", "private", "一级", "110102"),
    ]
    pharmacies = [
        b.facility("P110105000021", "康顺大药房", "pharmacy", "private", "", "110105"),
        b.facility("P110108000022", "同济堂药店", "pharmacy", "private", "", "110108"),
        b.facility("P110114000023", "昌平百姓药房", "pharmacy", "private", "", "110114"),
    ]
    for i, f in enumerate(hospitals + clinics):
        for j in range(3 if f["kind"] == "hospital" else 1):
            b.doctor(f"D{i:02d}{j:02d}", rng.choice(_FAMILY) + rng.choice(_GIVEN) + "医生", f["code"])
    people = [b.patient() for _ in range(patients)]
    sites = hospitals + clinics + pharmacies
    weights = [8, 3, 2, 3, 2, 2, 2, 2]
    doctors_at: dict[str, list[dict]] = {}
    for d in b.doctors:
        doctors_at.setdefault(d["facility"], []).append(d)
    for _ in range(claims):
        p = rng.choice(people)
        f = rng.choices(sites, weights)[0]
        doc = rng.choice(doctors_at[f["code"]]) if f["code"] in doctors_at else None
        b.claim(p, f, b.ts(), rng.lognormvariate(5, 0.8), doctor=doc)
    return people, big, hospitals + clinics + pharmacies


def _card_collecting(b: _Builder, pharmacy: dict) -> dict:
    """Fourteen cards from far-away residents swiped at one pharmacy terminal in night bursts."""
    holders = [b.patient(district=4) for _ in range(14)]
    for day in (20, 48, 75, 103, 131):
        for p in holders:
            b.claim(p, pharmacy, b.ts(day, 22), 500.0)
    members = [("Facility", pharmacy["code"], "hub"), ("Terminal", f"{pharmacy['code']}:T1", "terminal")]
    members += [("Card", p["card"], "card") for p in holders]
    return {
        "cluster_id": "C000001",
        "score": 92.0,
        "typologies": ["card_collecting"],
        "members": members,
        "signals": [
            _signal(
                "burst_swipes", 0.5, 14, "14 张医保卡在同一终端夜间集中刷卡", "14 cards swiped on one terminal at night"
            ),
            _signal("round_amounts", 0.3, 70, "70 笔整数金额结算 ¥500", "70 settlements of exactly ¥500"),
            _signal("far_residents", 0.2, 14, "持卡人均居住在 30 公里外", "all holders live more than 30 km away"),
        ],
        "explanation_zh": "药店终端夜间突击划卡，疑似聚敛盗刷社保卡",
        "explanation_en": "Night-time swipe bursts on one pharmacy terminal: suspected card collecting",
        "change": "new",
        "district": "朝阳区",
        "facilities": [pharmacy["code"]],
        "holders": holders,
    }


def _ghost_patients(b: _Builder, hospital: dict) -> dict:
    """Ten 'patients' sharing two phones and one address, admitted together, one doctor."""
    address = "北京市丰台区幸福路88号院"
    shared = ["13911110001", "13911110002"]
    group = [b.patient(district=2, phone=shared[i % 2], address=address) for i in range(10)]
    doctor = b.doctor("D9901", "钱多多医生", hospital["code"])
    for admit in (30, 66, 110, 150):
        for p in group:
            b.claim(p, hospital, b.ts(admit + 5, 10), 8800.0, doctor=doctor, visit="inpatient", stay_days=5)
    members = [("Facility", hospital["code"], "hub"), ("Doctor", doctor["code"], "doctor")]
    members += [("Patient", p["pid"], "patient") for p in group]
    members += [("Phone", b.pseudonym("phone", n), "shared_phone") for n in shared]
    members += [("Address", group[0]["address"], "shared_address")]
    return {
        "cluster_id": "C000002",
        "score": 81.0,
        "typologies": ["ghost_patients", "induced_admission"],
        "members": members,
        "signals": [
            _signal(
                "co_admission",
                0.5,
                4,
                "10 人 4 次同日入院同日出院",
                "10 people admitted and discharged together 4 times",
            ),
            _signal(
                "shared_contact", 0.5, 2, "10 人共用 2 个电话和 1 个地址", "10 people share 2 phones and 1 address"
            ),
        ],
        "explanation_zh": "民营医院成批收治共用联系方式的参保人，疑似假病人/诱导住院",
        "explanation_en": "A private hospital admits groups sharing contacts: suspected ghost patients",
        "change": "grown",
        "district": "丰台区",
        "facilities": [hospital["code"]],
        "phones": shared,
    }


def _doctor_pharmacy(b: _Builder, hospital: dict, pharmacy: dict, people: list[dict]) -> dict:
    """One doctor's prescriptions filled at one pharmacy far above chance."""
    doctor = b.doctor("D9902", "孙思远医生", hospital["code"])
    patients = people[:8]
    for p in patients:
        for _ in range(6):
            b.claim(p, pharmacy, b.ts(), 1200.0, doctor=doctor)
    members = [("Doctor", doctor["code"], "doctor"), ("Facility", pharmacy["code"], "pharmacy")]
    members += [("Patient", p["pid"], "patient") for p in patients]
    return {
        "cluster_id": "C000003",
        "score": 64.0,
        "typologies": ["doctor_pharmacy"],
        "members": members,
        "signals": [
            _signal(
                "doctor_pharmacy_lift",
                1.0,
                9.5,
                "处方流向单一药店的比例是预期的 9.5 倍",
                "prescriptions go to one pharmacy 9.5x expected",
            ),
        ],
        "explanation_zh": "医师处方集中流向单一药店",
        "explanation_en": "A doctor's prescriptions concentrate on one pharmacy",
        "change": "recurring",
        "district": "海淀区",
        "facilities": [pharmacy["code"], hospital["code"]],
    }


def _impersonation(b: _Builder, sites: list[dict]) -> dict:
    """One card used by three different people at two facilities within hours."""
    owner, *others = [b.patient(district=1) for _ in range(3)]
    for day in (12, 40, 90):
        for i, p in enumerate([owner, *others]):
            b.claim(p, sites[i % 2], b.ts(day, 9 + i), 300.0, card=owner["card"])
    members = [("Card", owner["card"], "card")] + [("Patient", p["pid"], "patient") for p in [owner, *others]]
    return {
        "cluster_id": "C000004",
        "score": 48.0,
        "typologies": ["impersonation"],
        "members": members,
        "signals": [_signal("card_many_people", 1.0, 3, "1 张卡被 3 人使用", "one card used by 3 people")],
        "explanation_zh": "同一医保卡被多人使用，疑似冒名就医",
        "explanation_en": "One card used by several people: suspected impersonation",
        "change": "unchanged",
        "district": "海淀区",
        "facilities": [s["code"] for s in sites[:2]],
    }


def _signal(name: str, weight: float, value: float, zh: str, en: str) -> dict[str, Any]:
    return {
        "name": name,
        "weight": weight,
        "value": value,
        "contribution": weight,
        "evidence_zh": zh,
        "evidence_en": en,
    }


_WRITE_NODES = {
    "Patient": "UNWIND $rows AS r CREATE (n:Patient) SET n = r",
    "Card": "UNWIND $rows AS r CREATE (n:Card) SET n = r",
    "Phone": "UNWIND $rows AS r CREATE (n:Phone) SET n = r",
    "Address": "UNWIND $rows AS r CREATE (n:Address) SET n = r",
    "Facility": "UNWIND $rows AS r CREATE (n:Facility) SET n = r",
    "Doctor": "UNWIND $rows AS r CREATE (n:Doctor) SET n = r",
    "Terminal": "UNWIND $rows AS r CREATE (n:Terminal) SET n = r",
    "Operator": "UNWIND $rows AS r CREATE (n:Operator) SET n = r",
}
_WRITE_RELS = {
    "HAS_CARD": "MATCH (a:Patient {pid: r.a}), (b:Card {card_id: r.b}) CREATE (a)-[:HAS_CARD]->(b)",
    "HAS_PHONE": "MATCH (a:Patient {pid: r.a}), (b:Phone {number: r.b}) CREATE (a)-[:HAS_PHONE]->(b)",
    "LIVES_AT": "MATCH (a:Patient {pid: r.a}), (b:Address {key: r.b}) CREATE (a)-[:LIVES_AT]->(b)",
    "WORKS_AT": "MATCH (a:Doctor {code: r.a}), (b:Facility {code: r.b}) CREATE (a)-[:WORKS_AT]->(b)",
    "T_IN": "MATCH (a:Terminal {key: r.a}), (b:Facility {code: r.b}) CREATE (a)-[:IN_FACILITY]->(b)",
    "O_IN": "MATCH (a:Operator {key: r.a}), (b:Facility {code: r.b}) CREATE (a)-[:IN_FACILITY]->(b)",
}
_WRITE_CLAIMS = """
UNWIND $rows AS r
MATCH (p:Patient {pid: r.pid}), (k:Card {card_id: r.card}), (f:Facility {code: r.facility}),
      (t:Terminal {key: r.terminal}), (o:Operator {key: r.operator})
CREATE (c:Claim) SET c = r.props
CREATE (c)-[:BY_PATIENT]->(p), (c)-[:WITH_CARD]->(k), (c)-[:AT_FACILITY]->(f),
       (c)-[:ON_TERMINAL]->(t), (c)-[:BY_OPERATOR]->(o)
"""
_WRITE_CLAIM_DOCTORS = """
UNWIND $rows AS r
MATCH (c:Claim {claim_id: r.claim_id}), (d:Doctor {code: r.doctor})
CREATE (c)-[:BY_DOCTOR]->(d)
"""
_WRITE_RUN = """
CREATE (r:Run) SET r = $run
WITH r
UNWIND $clusters AS row
CREATE (c:Cluster) SET c = row.props
CREATE (r)-[:FOUND {score: row.props.score, change: row.props.change, member_count: row.props.member_count}]->(c)
"""
_WRITE_MEMBERS = {
    label: f"""
UNWIND $rows AS r
MATCH (c:Cluster {{cluster_id: r.cluster_id}}), (e:{label} {{{key}: r.key}})
CREATE (c)-[:HAS_MEMBER {{role: r.role, weight: r.weight}}]->(e)
"""
    for label, key in [
        ("Patient", "pid"),
        ("Card", "card_id"),
        ("Phone", "number"),
        ("Address", "key"),
        ("Facility", "code"),
        ("Doctor", "code"),
        ("Terminal", "key"),
    ]
}
_CLAIM_FIELDS = (
    *("claim_id", "visit_type", "time_ts", "time", "total_amount", "fund_paid", "account_paid", "self_paid"),
    *("diagnosis_code", "diagnosis_name", "department", "item_count", "item_codes", "trace_codes"),
    *("content_hash", "load_id", "admit_ts", "admit_time", "discharge_ts", "discharge_time", "bed_no"),
)


def build_sample(
    store: GraphStore,
    settings: Settings,
    *,
    patients: int = 200,
    claims: int = 1500,
    seed: int = 7,
    batch_size: int = 5_000,
) -> SampleGraph:
    """Write the sample graph into an empty store and return what was written.

    ``patients`` and ``claims`` size the background city; the planted rings
    add about 40 persons and 250 claims whatever the size.
    """
    b = _Builder(settings, seed)
    people, big, sites = _background(b, patients, claims)
    by_code = {f["code"]: f for f in b.facilities}
    plants = [
        lambda: _card_collecting(b, by_code["P110105000021"]),
        lambda: _ghost_patients(b, by_code["H110106000003"]),
        lambda: _doctor_pharmacy(b, by_code["H110108000002"], by_code["P110108000022"], people),
        lambda: _impersonation(b, [by_code["C110105000011"], by_code["P110114000023"]]),
    ]
    rings = []
    for plant in plants:
        first = len(b.claims)
        ring = plant()
        ring["claims"] = b.claims[first:]
        rings.append(ring)
    _write_entities(store, b, batch_size)
    _write_claims(store, b, batch_size)
    run_id = _write_run(store, b, rings)
    cluster_info = {r["cluster_id"]: r for r in rings}
    return SampleGraph(
        run_id=run_id,
        clusters=cluster_info,
        patients=b.patients,
        facilities=b.facilities,
        doctors=b.doctors,
        claims=len(b.claims),
        phones=sorted(b.phones),
        big_hospital=big["code"],
        counts={"patients": len(b.patients), "claims": len(b.claims), "facilities": len(sites)},
    )


_BUILDER_ONLY = (
    *("card", "phone", "address", "district", "id_raw", "person_no", "name", "birth_date"),
    *("card_number", "phone_number", "address_text"),
)


def _write_entities(store: GraphStore, b: _Builder, batch_size: int) -> None:
    rows_by_label = {
        "Patient": [{k: v for k, v in p.items() if k not in _BUILDER_ONLY} for p in b.patients],
        "Card": b.cards,
        "Phone": list(b.phones.values()),
        "Address": list(b.addresses.values()),
        "Facility": b.facilities,
        "Doctor": [{"code": d["code"], "name": d["name"]} for d in b.doctors],
        "Terminal": b.terminals,
        "Operator": b.operators,
    }
    for label, rows in rows_by_label.items():
        store.write_rows(_WRITE_NODES[label], rows, batch_size=batch_size)
    vault_rows = pl.DataFrame(b.identities, schema=["kind", "pseudonym", "value"], orient="row")
    store_identities(
        for_store(store, b.settings), vault_rows.unique(["kind", "pseudonym"], keep="first", maintain_order=True)
    )
    for kind, rows in b.rels.items():
        store.write_rows("UNWIND $rows AS r " + _WRITE_RELS[kind], rows, batch_size=batch_size)


def _write_claims(store: GraphStore, b: _Builder, batch_size: int) -> None:
    rows = [
        {
            "pid": c["pid"],
            "card": c["card"],
            "facility": c["facility"],
            "terminal": c["terminal"],
            "operator": c["operator"],
            "props": {k: c[k] for k in _CLAIM_FIELDS if c.get(k) is not None},
        }
        for c in b.claims
    ]
    store.write_rows(_WRITE_CLAIMS, rows, batch_size=batch_size)
    with_doctor = [{"claim_id": c["claim_id"], "doctor": c["doctor"]} for c in b.claims if c["doctor"]]
    store.write_rows(_WRITE_CLAIM_DOCTORS, with_doctor, batch_size=batch_size)


def _write_run(store: GraphStore, b: _Builder, rings: list[dict[str, Any]]) -> str:
    finished = int(datetime(2025, 7, 1, 3, 0, tzinfo=SHANGHAI).timestamp())
    run_id = "R20250701-030000"
    run = {
        "run_id": run_id,
        "status": "done",
        "started_ts": finished - 600,
        "started": _iso(finished - 600),
        "finished_ts": finished,
        "since_ts": int(START.timestamp()),
        "until_ts": int((START + timedelta(days=DAYS)).timestamp()),
        "params": json.dumps({"resolution": 30}),
        "timings": json.dumps({"total_s": 12.5}),
        "cluster_count": len(rings),
    }
    clusters = []
    for ring in rings:
        own = ring["claims"]
        amount = round(sum(c["total_amount"] for c in own), 2)
        tss = [c["time_ts"] for c in own]
        props = {
            "cluster_id": ring["cluster_id"],
            "score": ring["score"],
            "typologies": ring["typologies"],
            "signals": json.dumps(ring["signals"], ensure_ascii=False),
            "explanation_zh": ring["explanation_zh"],
            "explanation_en": ring["explanation_en"],
            "member_count": len(ring["members"]),
            "claim_count": len(own),
            "amount": amount,
            "fund_amount": round(sum(c["fund_paid"] for c in own), 2),
            "facilities": ring["facilities"],
            "district": ring["district"],
            "date_from": datetime.fromtimestamp(min(tss), SHANGHAI).date().isoformat(),
            "date_to": datetime.fromtimestamp(max(tss), SHANGHAI).date().isoformat(),
            "change": ring["change"],
            "run_id": run_id,
            "first_run_id": run_id,
            "repeat_offender": ring["change"] == "recurring",
        }
        clusters.append({"props": props})
    store.write(_WRITE_RUN, {"run": run, "clusters": clusters})
    for label, cypher in _WRITE_MEMBERS.items():
        rows = [
            {"cluster_id": ring["cluster_id"], "key": key, "role": role, "weight": 1.0 if role == "hub" else 0.5}
            for ring in rings
            for lb, key, role in ring["members"]
            if lb == label
        ]
        if rows:
            store.write_rows(cypher, rows)
    return run_id
