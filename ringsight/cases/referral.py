"""The referral package of a case: everything the receiving body needs, in one audited export.

What goes in follows DOMAIN.md ("What a referral needs", from 国务院令310 and
医保发〔2021〕49号): how the case was found (the detection run and the
signals, in plain words), the facts, the members with their identities in
clear, the claims and amounts with totals and date range, the fraud amount
against the 诈骗 thresholds and the administrative penalty ranges, the
investigator's notes and the case history with timestamps, the handling
result and its basis, and the evidence list.

:func:`build_referral` writes, into ``out_dir``::

    referral-<case>.pdf   the report, Chinese text with an embedded CJK font
    members.csv           members with identities (UTF-8 with BOM, opens in Excel)
    claims.csv            the claims involved
    network.png           the network picture
    referral.json         all of the above as data
    referral-<case>.zip   the five files together

Because identities leave the system in clear, only roles with
``export.referral`` may build it, and each build is an ``export.referral``
audit entry with the files' SHA-256 digests.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ringsight import __version__, safecsv
from ringsight.cases import audit
from ringsight.cases.annotations import annotations_for
from ringsight.cases.identities import render_text, reveal_many, text_refs
from ringsight.cases.labels_zh import LABEL_ZH, signal_zh, typology_zh, value_zh
from ringsight.cases.network import PictureNode, draw_network
from ringsight.cases.roles import Permission, Principal, require
from ringsight.cases.sanctions import repeat_offenders
from ringsight.cases.workflow import CLOSED, OUTCOMES, STATE_NAMES_ZH, Case, case_targets, get_case
from ringsight.config import Settings, get_settings
from ringsight.errors import RingSightError
from ringsight.graph.model import NODE_TYPE_BY_LABEL
from ringsight.graph.store import GraphStore
from ringsight.identity import short_pseudonym
from ringsight.private import private_dir, private_file, restrict_umask

TZ = ZoneInfo("Asia/Shanghai")
CLAIM_CAP = 50_000
# How a member of each label is linked to its claims.
CLAIM_REL = {
    "Patient": "BY_PATIENT",
    "Card": "WITH_CARD",
    "Doctor": "BY_DOCTOR",
    "Terminal": "ON_TERMINAL",
    "Operator": "BY_OPERATOR",
    "Facility": "AT_FACILITY",
}
# 诈骗罪 amount bands (两高 2011 解释, DOMAIN.md): each province sets its line within [low, high].
FRAUD_BANDS: tuple[tuple[str, str, float, float], ...] = (
    ("large", "数额较大", 3_000, 10_000),
    ("huge", "数额巨大", 30_000, 100_000),
    ("especially_huge", "数额特别巨大", 500_000, 500_000),
)
MEMBER_FIELDS = (
    "label",
    "label_zh",
    "key",
    "roles",
    "name",
    "id_raw",
    "gender",
    "gender_zh",
    "birth_date",
    "person_no",
    "phones",
    "addresses",
    "cards",
    "kind",
    "region",
    "repeat_offender",
)
CLAIM_FIELDS = (
    "claim_id",
    "time",
    "visit_type",
    "facility_code",
    "facility_name",
    "patient_name",
    "patient_id",
    "card_id",
    "doctor_code",
    "doctor_name",
    "diagnosis_code",
    "diagnosis_name",
    "total_amount",
    "fund_paid",
    "account_paid",
    "self_paid",
    "item_count",
)


@dataclass(frozen=True)
class ReferralPackage:
    """The files of a referral package."""

    directory: Path
    pdf: Path
    zip: Path
    json: Path
    members_csv: Path
    claims_csv: Path
    network_png: Path
    audit_id: str


def _iso(ts: int | float | None) -> str | None:
    return datetime.fromtimestamp(ts, tz=UTC).astimezone(TZ).isoformat(timespec="seconds") if ts else None


def _day_start_ts(day: str) -> int:
    return int(datetime.combine(date.fromisoformat(day[:10]), datetime.min.time(), tzinfo=TZ).timestamp())


# --- collecting ------------------------------------------------------------------------
def _clusters(store: GraphStore, cluster_ids: list[str]) -> list[dict[str, Any]]:
    rows = store.read(
        "MATCH (c:Cluster) WHERE c.cluster_id IN $ids "
        "OPTIONAL MATCH (r:Run)-[f:FOUND]->(c) "
        "RETURN c, collect({run_id: r.run_id, started: r.started, started_ts: r.started_ts, score: f.score, "
        "change: f.change, status: r.status}) AS runs",
        {"ids": cluster_ids},
    ).records()
    out = []
    for rec in rows:
        c = dict(rec["c"].properties)
        c["signals"] = json.loads(c.get("signals") or "[]")
        c["runs"] = sorted((r for r in rec["runs"] if r.get("run_id")), key=lambda r: r.get("started_ts") or 0)
        out.append(c)
    return sorted(out, key=lambda c: c["cluster_id"])


def _members(store: GraphStore, cluster_ids: list[str], direct: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Members of the clusters plus the entities the case covers directly, one row per entity."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    rows = store.read(
        "MATCH (c:Cluster)-[m:HAS_MEMBER]->(e) WHERE c.cluster_id IN $ids "
        "AND (m.run_id IS NULL OR m.run_id = c.run_id) "
        "RETURN c.cluster_id AS cid, m.role AS role, e",
        {"ids": cluster_ids},
    ).records()
    for rec in rows:
        node = rec["e"]
        label = next((lb for lb in node.labels if lb in NODE_TYPE_BY_LABEL), node.label)
        key = str(node.properties.get(NODE_TYPE_BY_LABEL[label].key))
        row = found.setdefault((label, key), {"label": label, "key": key, "props": dict(node.properties), "roles": []})
        row["roles"].append(f"{rec['cid']}:{rec['role'] or 'member'}")
    for t in direct:
        if t["label"] == "Cluster":
            continue
        row = found.setdefault(
            (t["label"], str(t["key"])),
            {"label": t["label"], "key": str(t["key"]), "props": t["properties"], "roles": []},
        )
        row["roles"].append("case")
    members = list(found.values())
    _add_person_details(store, members)
    return sorted(members, key=lambda m: (list(NODE_TYPE_BY_LABEL).index(m["label"]), m["key"]))


def _add_person_details(store: GraphStore, members: list[dict[str, Any]]) -> None:
    """Phones, addresses and cards of member patients; holders of member cards and phones."""
    pids = [m["key"] for m in members if m["label"] == "Patient"]
    details: dict[str, dict[str, list[str]]] = {}
    if pids:
        for rel, attr, prop in (
            ("HAS_PHONE|CONTACT_PHONE", "Phone", "number"),
            ("LIVES_AT", "Address", "key"),
            ("HAS_CARD", "Card", "card_id"),
        ):
            rows = store.read(
                f"MATCH (p:Patient)-[:{rel}]->(x:{attr}) WHERE p.pid IN $pids "
                f"RETURN p.pid AS pid, collect(DISTINCT x.{prop}) AS v",
                {"pids": pids},
            ).records()
            for rec in rows:
                details.setdefault(rec["pid"], {})[attr] = sorted(str(v) for v in rec["v"] if v)
    holders: dict[tuple[str, str], list[str]] = {}
    for label, rel, prop in (("Card", "HAS_CARD", "card_id"), ("Phone", "HAS_PHONE|CONTACT_PHONE", "number")):
        keys = [m["key"] for m in members if m["label"] == label]
        if not keys:
            continue
        rows = store.read(
            f"MATCH (p:Patient)-[:{rel}]->(x:{label}) WHERE x.{prop} IN $keys "
            "RETURN x.{prop} AS k, collect(DISTINCT p.pid) AS who".replace("{prop}", prop),
            {"keys": keys},
        ).records()
        for rec in rows:
            holders[(label, str(rec["k"]))] = sorted(rec["who"])
    for m in members:
        p = m["props"]
        d = details.get(m["key"], {}) if m["label"] == "Patient" else {}
        m.update(
            name=p.get("name") or p.get("text") or "",
            id_raw=p.get("id_raw"),
            gender=p.get("gender"),
            birth_date=p.get("birth_date"),
            person_no=p.get("person_no"),
            phones=d.get("Phone", []),
            addresses=d.get("Address", []),
            cards=d.get("Card", []),
            kind=p.get("kind"),
            region=p.get("region"),
            holders=holders.get((m["label"], m["key"]), []),
        )


def _window(clusters: list[dict[str, Any]]) -> tuple[int | None, int | None]:
    starts = [c["date_from"] for c in clusters if c.get("date_from")]
    ends = [c["date_to"] for c in clusters if c.get("date_to")]
    lo = _day_start_ts(min(starts)) if starts else None
    hi = _day_start_ts(max(ends)) + 86400 if ends else None
    return lo, hi


_CLAIM_ROWS = (
    "OPTIONAL MATCH (cl)-[:AT_FACILITY]->(f:Facility) "
    "OPTIONAL MATCH (cl)-[:BY_PATIENT]->(p:Patient) "
    "OPTIONAL MATCH (cl)-[:WITH_CARD]->(cd:Card) "
    "OPTIONAL MATCH (cl)-[:BY_DOCTOR]->(d:Doctor) "
    "RETURN cl, f.code AS facility_code, f.name AS facility_name, p.pid AS pid, p.name AS patient_name, "
    "p.id_raw AS patient_id, cd.card_id AS card_id, d.code AS doctor_code, d.name AS doctor_name "
)


def _claim_rows(result: Any) -> list[dict[str, Any]]:
    rows = []
    for rec in result.records():
        c = dict(rec.pop("cl").properties)
        rows.append({**c, **rec})
    return rows


def _claims_by_id(store: GraphStore, claim_ids: list[str]) -> list[dict[str, Any]]:
    """The claims with these ids (the evidence the signals cite and those an investigator added)."""
    by_id: dict[str, dict[str, Any]] = {}
    for start in range(0, len(claim_ids), 5_000):
        chunk = claim_ids[start : start + 5_000]
        result = store.read(f"MATCH (cl:Claim) WHERE cl.claim_id IN $ids {_CLAIM_ROWS}", {"ids": chunk})
        for row in _claim_rows(result):
            by_id.setdefault(row["claim_id"], row)
    return sorted(by_id.values(), key=lambda r: (r.get("time_ts") or 0, r["claim_id"]))


def _claims_of_members(
    store: GraphStore, members: list[dict[str, Any]], facilities: list[str], window: tuple[int | None, int | None]
) -> tuple[list[dict[str, Any]], bool]:
    """Claims of the persons, cards and doctors a case covers directly (a case opened without a cluster).

    A facility a case names limits the claims to it; it never adds every claim
    made there (that would put uninvolved persons in the package).
    """
    person_side = [m for m in members if m["label"] not in ("Facility", "Address", "Phone")]
    lo, hi = window
    params: dict[str, Any] = {"lo": lo if lo is not None else -(2**62), "hi": hi if hi is not None else 2**62}
    params["facs"] = facilities
    params["cap"] = CLAIM_CAP + 1
    fac_filter = "WHERE f.code IN $facs " if facilities else ""
    groups: dict[str, list[str]] = {}
    for m in person_side:
        groups.setdefault(m["label"], []).append(m["key"])
    by_id: dict[str, dict[str, Any]] = {}
    truncated = False
    for label, keys in groups.items():
        if label not in CLAIM_REL:
            continue
        nt = NODE_TYPE_BY_LABEL[label]
        cypher = (
            f"MATCH (cl:Claim)-[:{CLAIM_REL[label]}]->(e:{label}) WHERE e.{nt.key} IN $keys "
            "AND cl.time_ts >= $lo AND cl.time_ts < $hi WITH DISTINCT cl "
            f"OPTIONAL MATCH (cl)-[:AT_FACILITY]->(f:Facility) WITH cl, f {fac_filter}"
            "OPTIONAL MATCH (cl)-[:BY_PATIENT]->(p:Patient) "
            "OPTIONAL MATCH (cl)-[:WITH_CARD]->(cd:Card) "
            "OPTIONAL MATCH (cl)-[:BY_DOCTOR]->(d:Doctor) "
            "RETURN cl, f.code AS facility_code, f.name AS facility_name, p.pid AS pid, "
            "cd.card_id AS card_id, d.code AS doctor_code, d.name AS doctor_name "
            "ORDER BY cl.time_ts LIMIT $cap"
        )
        for row in _claim_rows(store.read(cypher, {**params, "keys": keys})):
            by_id.setdefault(row["claim_id"], row)
        truncated = truncated or len(by_id) > CLAIM_CAP
    claims = sorted(by_id.values(), key=lambda r: (r.get("time_ts") or 0, r["claim_id"]))
    return claims[:CLAIM_CAP], truncated


def evidence_claim_ids(case: Case, clusters: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """The claims the clusters' signals cite, and those an investigator added to the case (evidence kind 'claim')."""
    cited = sorted({str(i) for c in clusters for i in (c.get("claim_ids") or [])})
    added = sorted({str(e["ref"]) for e in case.evidence if e.get("kind") == "claim" and e.get("ref")} - set(cited))
    return cited, added


def _claims(
    store: GraphStore,
    case: Case,
    clusters: list[dict[str, Any]],
    members: list[dict[str, Any]],
    facilities: list[str],
) -> tuple[list[dict[str, Any]], bool, str]:
    """The package's claims and how they were chosen (``basis``: cited / members)."""
    cited, added = evidence_claim_ids(case, clusters)
    if any("claim_ids" in c for c in clusters) or not members or added:
        ids = (cited + added)[:CLAIM_CAP]
        return _claims_by_id(store, ids), len(cited) + len(added) > CLAIM_CAP, "cited"
    # clusters written before runs kept their cited claims, or a case opened on entities alone
    claims, truncated = _claims_of_members(store, members, facilities, _window(clusters))
    return claims, truncated, "members"


def _totals(claims: list[dict[str, Any]]) -> dict[str, Any]:
    def total(name: str) -> float:
        return round(sum(float(c.get(name) or 0) for c in claims), 2)

    fund, account = total("fund_paid"), total("account_paid")
    times = [c["time"] for c in claims if c.get("time")]
    by_fac = Counter()
    amount_by_fac: dict[str, float] = {}
    for c in claims:
        key = f"{c.get('facility_name') or ''}（{c.get('facility_code') or '-'}）"
        by_fac[key] += 1
        amount_by_fac[key] = round(amount_by_fac.get(key, 0.0) + float(c.get("total_amount") or 0), 2)
    return {
        "claim_count": len(claims),
        "total_amount": total("total_amount"),
        "fund_paid": fund,
        "account_paid": account,
        "self_paid": total("self_paid"),
        "fund_loss": round(fund + account, 2) if (fund or account) else total("total_amount"),
        "fund_loss_basis": "统筹基金支付 + 个人账户支付" if (fund or account) else "医疗费用总额（缺少基金支付数据）",
        "date_from": min(times)[:10] if times else None,
        "date_to": max(times)[:10] if times else None,
        "patients": len({c["pid"] for c in claims if c.get("pid")}),
        "cards": len({c["card_id"] for c in claims if c.get("card_id")}),
        "facilities": [{"facility": k, "claims": n, "total_amount": amount_by_fac[k]} for k, n in by_fac.most_common()],
        "by_visit_type": dict(Counter(c.get("visit_type") or "unknown" for c in claims)),
    }


def legal_assessment(amount: float) -> dict[str, Any]:
    """The amount against the 诈骗 thresholds and the administrative penalty ranges (国务院令735)."""
    bands = []
    for code, name, low, high in FRAUD_BANDS:
        if amount >= high:
            status, zh = "reached", f"已达到（不低于各地标准上限 ¥{high:,.0f}）"
        elif amount >= low:
            status, zh = "depends_on_province", f"可能达到（介于 ¥{low:,.0f}–¥{high:,.0f}，取决于本省标准）"
        else:
            status, zh = "not_reached", f"未达到（低于 ¥{low:,.0f}）"
        bands.append({"band": code, "name_zh": name, "low": low, "high": high, "status": status, "status_zh": zh})
    reached = [b["name_zh"] for b in bands if b["status"] == "reached"]

    def rng(lo: float, hi: float) -> dict[str, float]:
        return {"min": round(amount * lo, 2), "max": round(amount * hi, 2)}

    return {
        "amount": round(amount, 2),
        "fraud_bands": bands,
        "highest_band_reached_zh": reached[-1] if reached else None,
        "penalties": [
            {
                "who": "定点医药机构（违规）",
                "basis": "《医疗保障基金使用监督管理条例》第三十八条",
                "rule": "责令退回，处 1–2 倍罚款",
                **rng(1, 2),
            },
            {
                "who": "定点医药机构（骗保）",
                "basis": "《条例》第四十条",
                "rule": "责令退回，处 2–5 倍罚款；可暂停相关责任部门 6–12 个月医保服务，直至解除服务协议",
                **rng(2, 5),
            },
            {
                "who": "参保个人（骗保）",
                "basis": "《条例》第四十一条",
                "rule": "责令退回；暂停其医疗费用联网结算 3–12 个月；处 2–5 倍罚款",
                **rng(2, 5),
            },
            {
                "who": "法定代表人/主要负责人",
                "basis": "《条例》第四十三条",
                "rule": "5 年内禁止从事定点医药机构管理活动",
            },
        ],
        "report_deadline_zh": (
            "涉案金额超过 50 万元或移送公安：3 日内报告；"
            "移送决定 3 日内作出，决定后 24 小时内移送（国务院令310、医保发〔2021〕49号）"
            if amount >= 500_000
            else "决定移送的，3 日内作出移送决定，24 小时内移送（国务院令310、医保发〔2021〕49号）"
        ),
    }


def _notes(store: GraphStore, case: Case, clusters: list[str], members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    targets: dict[str, list[str]] = {"Case": [case.case_id], "Cluster": clusters}
    for m in members:
        targets.setdefault(m["label"], []).append(m["key"])
    notes = []
    for label, keys in targets.items():
        for key, anns in annotations_for(store, label, keys).items():
            for a in anns:
                notes.append({**a.as_dict(), "time": _iso(a.created_ts), "target": f"{label}:{key}"})
    return sorted(notes, key=lambda n: n["created_ts"])


def _network(
    members: list[dict[str, Any]], claims: list[dict[str, Any]], captions: dict[str, str] | None = None
) -> tuple[list[PictureNode], list]:
    """Nodes and claim-weighted edges among the members (and the facilities their claims went to).

    Nodes are joined by their graph keys (pseudonyms); ``captions`` gives the
    revealed names of personal nodes by ``Label:key``.
    """
    captions = captions or {}

    def caption(m: dict[str, Any]) -> str:
        label, key, name = m["label"], m["key"], m.get("name") or ""
        if f"{label}:{key}" in captions:
            shown = captions[f"{label}:{key}"]
            return f"卡 …{shown[-6:]}" if label == "Card" else shown[:12]
        if label == "Card":
            return f"卡 …{key[-6:]}"
        if label in ("Phone", "Patient", "Doctor"):
            return name or key[-8:] if label != "Phone" else key
        return (name or key)[:10]

    nodes = {
        f"{m['label']}:{m['key']}": PictureNode(f"{m['label']}:{m['key']}", m["label"], caption(m)) for m in members
    }
    edges: Counter[tuple[str, str]] = Counter()
    pid_of_card: dict[str, str] = {}
    address_of_text = {m.get("name"): f"Address:{m['key']}" for m in members if m["label"] == "Address"}
    for m in members:
        if m["label"] == "Patient":
            for phone in m.get("phones", []):
                edges[(f"Patient:{m['key']}", f"Phone:{phone}")] += 1
            for text in m.get("addresses", []):
                if text in address_of_text:
                    edges[(f"Patient:{m['key']}", address_of_text[text])] += 1
            for card in m.get("cards", []):
                pid_of_card[card] = m["key"]
                if f"Card:{card}" in nodes:
                    edges[tuple(sorted((f"Patient:{m['key']}", f"Card:{card}")))] += 1
    for c in claims:
        fac = f"Facility:{c['facility_code']}" if c.get("facility_code") else None
        if fac and fac not in nodes:
            nodes[fac] = PictureNode(fac, "Facility", (c.get("facility_name") or c["facility_code"])[:10], member=False)
        ends = [f"Patient:{c['pid']}" if c.get("pid") else None, f"Card:{c['card_id']}" if c.get("card_id") else None]
        ends += [f"Doctor:{c['doctor_code']}" if c.get("doctor_code") else None]
        for end in ends:
            if fac and end and end in nodes:
                edges[tuple(sorted((end, fac)))] += 1
        if ends[0] in nodes and ends[1] in nodes:
            edges[tuple(sorted((ends[0], ends[1])))] += 1
    for a, b in list(edges):
        for end in (a, b):
            if end not in nodes and end.startswith("Phone:"):
                shown = captions.get(end) or short_pseudonym("phone", end.split(":", 1)[1])
                nodes[end] = PictureNode(end, "Phone", shown, member=False)
    kept = [(a, b, w) for (a, b), w in edges.items() if a in nodes and b in nodes]
    linked = {end for a, b, _ in kept for end in (a, b)}
    # a phone or address nobody in the package is linked to says nothing on paper: leave it out
    drawn = [n for n in nodes.values() if n.id in linked or n.label not in ("Address", "Phone")]
    return drawn, kept


def _display_names(store: GraphStore, usernames: set[str]) -> dict[str, str]:
    """Login name -> the person's display name (李调查), for every name a reader sees in the package."""
    from ringsight.cases.accounts import get_user

    out: dict[str, str] = {}
    for name in sorted(n for n in usernames if n):
        user = get_user(store, name) if not name.startswith("cli:") else None
        out[name] = user.label if user else name
    return out


def _people(store: GraphStore, case: Case, notes: list[dict[str, Any]], by: str) -> dict[str, str]:
    names = {case.created_by, case.assignee or "", by}
    names |= {str(h.get("user") or "") for h in case.history}
    names |= {str(n.get("author") or "") for n in notes}
    return _display_names(store, names)


def collect_referral(store: GraphStore, case_id: str, *, by: str = "", document_no: str = "") -> dict[str, Any]:
    """Everything the referral needs, as plain data (the content of ``referral.json``), with pseudonyms.

    The claims are the evidence: those the clusters' signals cite plus those
    an investigator added to the case — never every claim at a facility.
    Persons, cards, phones and addresses appear by their pseudonyms (the
    graph holds nothing else); :func:`build_referral` resolves them through
    the identity vault in one audited batch reveal (:func:`reveal_identities`).
    Not audited and not permission-checked by itself: call :func:`build_referral`.
    """
    case = get_case(store, case_id)
    targets = case_targets(store, case_id)
    cluster_ids = [str(t["key"]) for t in targets if t["label"] == "Cluster"]
    clusters = _clusters(store, cluster_ids)
    members = _members(store, cluster_ids, targets)
    facilities = sorted(
        {m["key"] for m in members if m["label"] == "Facility"}
        | {f for c in clusters for f in (c.get("facilities") or [])}
    )
    claims, truncated, basis = _claims(store, case, clusters, members, facilities)
    totals = _totals(claims)
    repeats = repeat_offenders(store, [(m["label"], m["key"]) for m in members])
    repeat_keys = {(r.label, r.key): r.explanation_zh for r in repeats}
    for m in members:
        m["repeat_offender"] = repeat_keys.get((m["label"], m["key"]), "")
        m["label_zh"] = LABEL_ZH.get(m["label"], m["label"])
        m["gender_zh"] = value_zh("gender", m.get("gender"))
    for c in clusters:
        c["typologies_zh"] = [typology_zh(x) for x in c.get("typologies") or []]
        for sig in c["signals"]:
            sig["name_zh"] = signal_zh(sig.get("name"))
    now = int(time.time())
    entries = audit.list_entries(store, target=f"Case:{case_id}", limit=10_000)
    notes = _notes(store, case, cluster_ids, members)
    return {
        "format": "ringsight.referral/2",
        "generated": {"ts": now, "time": _iso(now), "by": by, "ringsight": __version__},
        "document_no": document_no,
        "people": _people(store, case, notes, by),
        "case": {**case.as_dict(now), "state_zh": STATE_NAMES_ZH.get(case.state, case.state)},
        "found": {
            "clusters": clusters,
            "runs": sorted({r["run_id"]: r for c in clusters for r in c["runs"]}.values(), key=lambda r: r["run_id"]),
        },
        "members": [{k: v for k, v in m.items() if k != "props"} | {"properties": m["props"]} for m in members],
        "claims": claims,
        "claims_basis": basis,
        "claims_truncated": truncated,
        "totals": totals,
        "legal": legal_assessment(totals["fund_loss"]),
        "notes": notes,
        "history": list(case.history),
        "audit": entries[::-1],
        "outcome": {
            "codes": list(case.outcome),
            "labels_zh": [OUTCOMES.get(o, o) for o in case.outcome],
            "amount_recovered": case.amount_recovered,
            "penalty": case.penalty,
            "basis": case.basis,
            "appeal_outcome": case.appeal_outcome,
            "referral": case.referral,
        },
        "repeat_offenders": [r.as_dict() for r in repeats],
        "evidence": _evidence_list(case, totals, len(members)),
    }


def _evidence_list(case: Case, totals: dict[str, Any], member_count: int) -> list[dict[str, Any]]:
    """The case's own evidence items followed by the materials in this package."""
    items = [
        {"title": e.get("title"), "kind": e.get("kind"), "ref": e.get("ref"), "source": "case"}
        for e in case.evidence
        if e.get("kind") != "claim"
    ]
    items += [
        {
            "title": f"涉案人员及机构清单（{member_count} 条）",
            "kind": "list",
            "ref": "members.csv",
            "source": "package",
        },
        {
            "title": f"涉案结算明细（{totals['claim_count']} 笔）",
            "kind": "list",
            "ref": "claims.csv",
            "source": "package",
        },
        {"title": "关系网络图", "kind": "picture", "ref": "network.png", "source": "package"},
        {"title": "筛查记录与疑点信号、办案过程记录", "kind": "record", "ref": "referral.json", "source": "package"},
    ]
    return items


# --- identities ------------------------------------------------------------------------
_PERSON_FIELDS = ("name", "resident_id", "person_no", "birth_date")
_KIND_OF = {"Card": "card", "Phone": "phone", "Address": "address"}


def reveal_identities(
    data: dict[str, Any], user: Principal, *, store: GraphStore, settings: Settings, case_id: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """The referral data with clear identities from the vault (one audited batch reveal), and node captions.

    Members get ``name``, ``id_raw``, ``person_no``, ``birth_date`` and their
    phones, cards and addresses in clear; claims their ``patient_name``,
    ``patient_id`` and ``card_id``; evidence sentences their references
    rendered. Graph keys (``key``, ``pid``) stay pseudonyms.
    """
    refs: list[tuple[str, str]] = []
    for m in data["members"]:
        if m["label"] == "Patient":
            refs += [(f"patient.{f}", m["key"]) for f in _PERSON_FIELDS]
        elif m["label"] in _KIND_OF:
            refs.append((_KIND_OF[m["label"]], m["key"]))
        refs += [("phone", v) for v in m.get("phones", [])] + [("card", v) for v in m.get("cards", [])]
        refs += [("address", v) for v in m.get("addresses", [])]
        refs += [(f"patient.{f}", pid) for pid in m.get("holders", []) for f in ("name", "resident_id")]
    for c in data["claims"]:
        if c.get("pid"):
            refs += [("patient.name", c["pid"]), ("patient.resident_id", c["pid"])]
        if c.get("card_id"):
            refs.append(("card", c["card_id"]))
    texts = _evidence_texts(data)
    refs += [r for t in texts for r in text_refs(t)]
    clear = reveal_many(
        user, refs, f"referral package of Case:{case_id}", store=store, settings=settings, target=f"Case:{case_id}"
    )
    return _with_clear(data, clear), _captions(data["members"], clear)


def _evidence_texts(data: dict[str, Any]) -> list[str]:
    texts = []
    for c in data["found"]["clusters"]:
        texts += [c.get("explanation_zh") or "", c.get("explanation_en") or ""]
        texts += [s.get(k) or "" for s in c.get("signals", []) for k in ("evidence_zh", "evidence_en")]
    return texts


def _with_clear(data: dict[str, Any], clear: dict[tuple[str, str], str]) -> dict[str, Any]:
    def person(pid: str) -> str:
        return " ".join(x for x in (clear.get(("patient.name", pid)), clear.get(("patient.resident_id", pid))) if x)

    out = copy.deepcopy(data)
    for m in out["members"]:
        key = m["key"]
        if m["label"] == "Patient":
            m.update(
                name=clear.get(("patient.name", key), ""),
                id_raw=clear.get(("patient.resident_id", key)),
                person_no=clear.get(("patient.person_no", key)),
                birth_date=clear.get(("patient.birth_date", key)),
            )
        elif m["label"] in _KIND_OF:
            m["name"] = clear.get((_KIND_OF[m["label"]], key), short_pseudonym(_KIND_OF[m["label"]], key))
        m["phones"] = [clear.get(("phone", v), v) for v in m.get("phones", [])]
        m["cards"] = [clear.get(("card", v), v) for v in m.get("cards", [])]
        m["addresses"] = [clear.get(("address", v), v) for v in m.get("addresses", [])]
        m["holders"] = sorted(person(pid) or pid for pid in m.get("holders", []))
    for c in out["claims"]:
        if c.get("pid"):
            c["patient_name"] = clear.get(("patient.name", c["pid"]))
            c["patient_id"] = clear.get(("patient.resident_id", c["pid"]))
        if c.get("card_id"):
            c["card_id"] = clear.get(("card", c["card_id"]), c["card_id"])
    for cl in out["found"]["clusters"]:
        for k in ("explanation_zh", "explanation_en"):
            if cl.get(k):
                cl[k] = render_text(cl[k], clear)
        for s in cl.get("signals", []):
            for k in ("evidence_zh", "evidence_en"):
                if s.get(k):
                    s[k] = render_text(s[k], clear)
    return out


def _captions(members: list[dict[str, Any]], clear: dict[tuple[str, str], str]) -> dict[str, str]:
    captions = {}
    for m in members:
        key = m["key"]
        kind = "patient.name" if m["label"] == "Patient" else _KIND_OF.get(m["label"])
        if kind and (kind, key) in clear:
            captions[f"{m['label']}:{key}"] = clear[(kind, key)]
        for phone in m.get("phones", []):
            if ("phone", phone) in clear:
                captions[f"Phone:{phone}"] = clear[("phone", phone)]
    return captions


# --- writing ---------------------------------------------------------------------------
def _csv(path: Path, rows: list[dict[str, Any]], fields: tuple[str, ...]) -> Path:
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = safecsv.dict_writer(fh, fieldnames=list(fields), extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: "; ".join(map(str, v)) if isinstance(v, list) else v for k, v in r.items()})
    return path


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class ReferralRefused(RingSightError):
    """The case is not at a step where it may be referred."""

    exit_code = 2


#: States a case must have reached before its package may leave the bureau (past 初审: the suspect was reviewed).
REFERRAL_STATES = ("复审", "申诉", "调查核实", "处理", CLOSED)


def _document_no(store: GraphStore, case_id: str, settings: Settings) -> str:
    """〔年份〕<bureau>移字第N号: the case's number from an earlier export this year, else the next one."""
    year = datetime.now(TZ).year
    since = int(datetime(year, 1, 1, tzinfo=TZ).timestamp())
    numbers: dict[str, int] = {}
    for e in audit.list_entries(store, action="export.referral", since_ts=since, limit=100_000):
        after = json.loads(e.get("after") or "{}")
        if after.get("document_seq"):
            numbers.setdefault(e["target"], int(after["document_seq"]))
    seq = numbers.get(f"Case:{case_id}") or max(numbers.values(), default=0) + 1
    return f"〔{year}〕{settings.cases.bureau_short}移字第{seq}号"


def build_referral(
    store: GraphStore, case_id: str, out_dir: Path, user: Principal, *, settings: Settings | None = None
) -> ReferralPackage:
    """Write the referral package of a case into ``out_dir`` and audit the export; return the paths.

    Needs ``export.referral`` (investigator, supervisor). Raises
    :class:`~ringsight.cases.fonts.FontMissing` when no CJK font is installed
    — before anything is written or audited.
    """
    from ringsight.cases.fonts import find_cjk_font
    from ringsight.cases.referral_pdf import render_pdf

    require(user, Permission.EXPORT_REFERRAL)
    settings = settings or get_settings()
    case = get_case(store, case_id)
    if case.state not in REFERRAL_STATES:
        raise ReferralRefused(
            f"Case {case_id} is still in {case.state}: a referral package leaves the bureau only after 初审.",
            f"Move it on first (`ringsight case move {case_id} 复审 --version {case.version} --as NAME`).",
        )
    font = find_cjk_font(settings)
    document_no = _document_no(store, case_id, settings)
    data = collect_referral(store, case_id, by=user.username, document_no=document_no)
    data["sender"] = settings.cases.bureau
    data["receiver"] = settings.cases.police
    data, captions = reveal_identities(data, user, store=store, settings=settings, case_id=case_id)
    restrict_umask()  # the package holds identities: its files 0600, new directories 0700
    out_dir = private_dir(out_dir)
    stem = f"referral-{case_id}"
    members_csv = _csv(out_dir / "members.csv", data["members"], MEMBER_FIELDS)
    claims_csv = _csv(out_dir / "claims.csv", data["claims"], CLAIM_FIELDS)
    nodes, edges = _network(data["members"], data["claims"], captions)
    png = draw_network(nodes, edges, out_dir / "network.png", font, title=f"案件 {case_id} 关系网络图")
    json_path = out_dir / "referral.json"
    json_path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    pdf = render_pdf(data, png, out_dir / f"{stem}.pdf", font)
    zip_path = out_dir / f"{stem}.zip"
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in (pdf, members_csv, claims_csv, png, json_path):
            zf.write(path, arcname=path.name)
    for path in (pdf, members_csv, claims_csv, png, json_path, zip_path):
        private_file(path)
    files = {p.name: _sha256(p) for p in (pdf, members_csv, claims_csv, png, json_path, zip_path)}
    audit_id = audit.record(
        store,
        user=user.username,
        action="export.referral",
        target=f"Case:{case_id}",
        after={
            "unmasked": True,
            "directory": str(out_dir.resolve()),
            "sha256": files,
            "members": len(data["members"]),
            "claims": data["totals"]["claim_count"],
            "fund_loss": data["totals"]["fund_loss"],
            "document_no": document_no,
            "document_seq": int(document_no.rsplit("第", 1)[1].rstrip("号")),
        },
    )
    return ReferralPackage(out_dir, pdf, zip_path, json_path, members_csv, claims_csv, png, audit_id)
