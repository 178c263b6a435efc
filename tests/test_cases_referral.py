"""The referral package: a PDF that opens and carries the totals and members, and a complete zip; audited."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from conftest import require_tool
from test_cases_data import PATIENTS, PHARMACY, build_ring, make_users

from ringsight.cases import annotations, audit, sanctions, workflow
from ringsight.cases.fonts import FontMissing, find_cjk_font
from ringsight.cases.referral import build_referral, legal_assessment
from ringsight.cases.roles import AccessDenied
from ringsight.config import Settings
from ringsight.graph.store import GraphStore


def _money(v: float) -> str:
    return f"¥{v:,.2f}"


@pytest.fixture
def referred_case(store: GraphStore) -> dict:
    """The ring, a case walked to 处理 with a police referral, notes and a prior rectification."""
    facts = build_ring(store)
    users = make_users(store)
    inv, sup = users["inv"], users["sup"]
    case = workflow.create_case(
        store,
        inv,
        "康宁大药房聚敛盗刷社保卡",
        clusters=[facts["cluster_id"]],
        summary="该药店在夜间集中刷取多名老年参保人医保卡。",
    )
    annotations.annotate(store, inv, "Case", case.case_id, text="<b>已约谈</b>药店负责人，承认代刷")
    annotations.annotate(store, inv, "Facility", PHARMACY["code"], tag="疑似聚敛刷卡")
    sanctions.add_sanction(store, sup, "Facility", PHARMACY["code"], "warning", 1_700_000_000, note="2023 年约谈")
    case = workflow.move_case(store, inv, case.case_id, "复审", case.version)
    case = workflow.move_case(store, inv, case.case_id, "调查核实", case.version)
    case = workflow.add_evidence(store, inv, case.case_id, "询问笔录（药店负责人）", ref="XW-2026-015")
    case = workflow.move_case(
        store,
        sup,
        case.case_id,
        "处理",
        case.version,
        outcome=["recovered", "referred_police"],
        amount_recovered=facts["totals"]["fund_loss"],
        basis="《医疗保障基金使用监督管理条例》第四十条",
    )
    return {**facts, "users": users, "case": case}


def test_referral_package_contents(store: GraphStore, referred_case: dict, tmp_path: Path) -> None:
    pdftoppm = require_tool("pdftoppm", "poppler-utils")
    pdftotext = require_tool("pdftotext", "poppler-utils")
    case, totals = referred_case["case"], referred_case["totals"]
    pkg = build_referral(store, case.case_id, tmp_path / "out", referred_case["users"]["inv"])

    # The PDF opens: poppler renders its first page.
    subprocess.run(
        [pdftoppm, "-png", "-r", "50", "-f", "1", "-l", "1", str(pkg.pdf), str(tmp_path / "page")],
        check=True,
        timeout=120,
    )
    [page] = list(tmp_path.glob("page*.png"))
    assert page.stat().st_size > 10_000
    # It carries the totals and the members, in clear, in Chinese.
    text = subprocess.run([pdftotext, str(pkg.pdf), "-"], capture_output=True, text=True, check=True).stdout
    text = re.sub(r"\s+", "", text)  # lines wrap anywhere in Chinese text: compare without whitespace
    for needle in (
        "涉嫌犯罪案件移送书",
        "医保移字第1号",
        "审批人（签字）",
        "移送机关（盖章）",
        "附件1案件调查报告",
        "附件2涉案物品清单（证据清单）",
        "附件3检验报告或鉴定意见",
        "承办人：INV",  # the person's display name, not the login name
        "聚敛盗刷社保卡",
        case.case_id,
        _money(totals["total_amount"]),
        _money(totals["fund_loss"]),
        f"医保结算 {totals['claim_count']} 笔",
        "2026-03-01",
        "2026-03-08",
        "数额较大",
        "移送公安机关",
        "第四十条",
        "<b>已约谈</b>药店负责人",
        "询问笔录（药店负责人）",
        PHARMACY["name"],
    ):
        assert re.sub(r"\s+", "", needle) in text, needle
    for p in PATIENTS:
        assert p["name"] in text and p["id_raw"] in text, p["name"]

    # No English code reaches the Chinese text; money has thousands separators and no band reads "¥x–¥x".
    for code in ("card_collecting", "burst_swiping", "referred_police", "investigator"):
        assert code not in text, code
    assert "¥500,000.00–¥500,000.00" not in text and not re.search(r"¥\d{4,}", text)

    # No English code reaches the Chinese text; money has thousands separators and no band reads "¥x–¥x".
    for code in ("card_collecting", "burst_swiping", "referred_police", "investigator"):
        assert code not in text, code
    assert "¥500,000.00–¥500,000.00" not in text and not re.search(r"¥\d{4,}", text)

    # The font is embedded (a subset), so any viewer shows the Chinese.
    pdffonts = require_tool("pdffonts", "poppler-utils")
    fonts = subprocess.run([pdffonts, str(pkg.pdf)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(" yes " in line for line in cjk)

    with zipfile.ZipFile(pkg.zip) as zf:
        names = set(zf.namelist())
        assert names == {pkg.pdf.name, "members.csv", "claims.csv", "network.png", "referral.json"}
        assert zf.read("network.png").startswith(b"\x89PNG")
        members = list(csv.DictReader(io.StringIO(zf.read("members.csv").decode("utf-8-sig"))))
        claims = list(csv.DictReader(io.StringIO(zf.read("claims.csv").decode("utf-8-sig"))))
        data = json.loads(zf.read("referral.json"))
    assert {m["id_raw"] for m in members if m["label"] == "Patient"} == {p["id_raw"] for p in PATIENTS}
    assert len(claims) == totals["claim_count"]
    assert round(sum(float(c["total_amount"]) for c in claims), 2) == totals["total_amount"]
    assert all(c["facility_code"] == PHARMACY["code"] for c in claims)  # the hospital claims are not the ring's
    assert data["totals"]["fund_loss"] == totals["fund_loss"] and data["totals"]["fund_paid"] == totals["fund_paid"]
    assert data["found"]["clusters"][0]["signals"][0]["name"] == "burst_swiping"
    assert data["found"]["runs"][0]["run_id"] == "R20260315-020000"
    assert [h["action"] for h in data["history"]][:2] == ["create", "move"]
    assert data["outcome"]["codes"] == ["recovered", "referred_police"]
    assert {b["band"]: b["status"] for b in data["legal"]["fraud_bands"]}["large"] == "reached"
    assert any(e["title"] == "询问笔录（药店负责人）" for e in data["evidence"])
    assert {n["target"] for n in data["notes"]} == {f"Case:{case.case_id}", f"Facility:{PHARMACY['code']}"}

    [entry] = audit.list_entries(store, action="export.referral")
    after = json.loads(entry["after"])
    assert entry["user"] == "inv" and entry["target"] == f"Case:{case.case_id}" and after["unmasked"] is True
    assert after["sha256"][pkg.zip.name] and after["claims"] == totals["claim_count"]


def test_only_roles_cleared_for_identities_may_export(store: GraphStore, referred_case: dict, tmp_path: Path) -> None:
    for name in ("ana", "adm"):
        with pytest.raises(AccessDenied, match=r"export\.referral"):
            build_referral(store, referred_case["case"].case_id, tmp_path / name, referred_case["users"][name])
        assert not (tmp_path / name).exists()
    assert audit.list_entries(store, action="export.referral") == []


def test_a_missing_font_is_explained(settings: Settings, tmp_path: Path) -> None:
    bad = settings.model_copy(
        update={"cases": settings.cases.model_copy(update={"font_path": str(tmp_path / "nope.ttf")})}
    )
    with pytest.raises(FontMissing, match=r"fonts-noto-cjk"):
        find_cjk_font(bad)


def test_fraud_amount_against_thresholds() -> None:
    bands = {b["band"]: b["status"] for b in legal_assessment(5_000)["fraud_bands"]}
    assert bands == {"large": "depends_on_province", "huge": "not_reached", "especially_huge": "not_reached"}
    assessed = legal_assessment(600_000)
    assert {b["status"] for b in assessed["fraud_bands"]} == {"reached"}
    assert assessed["highest_band_reached_zh"] == "数额特别巨大"
    fraud = next(p for p in assessed["penalties"] if p["basis"] == "《条例》第四十条")
    assert (fraud["min"], fraud["max"]) == (1_200_000, 3_000_000)
