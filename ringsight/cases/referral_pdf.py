"""Lay out the referral report as a PDF (fpdf2), Chinese text in an embedded CJK font.

The report follows the order a receiving body reads a transfer (案件调查报告 +
证据清单): the case, how it was found, the facts, the amount against the legal
thresholds, the people and institutions, the claims, the picture, the record
of the investigation, the handling result and its basis, the evidence list.
The data comes from :func:`ringsight.cases.referral.collect_referral`; this
module only places it on pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.fonts import FontFace

from ringsight.cases.fonts import CjkFont
from ringsight.cases.labels_zh import LABEL_ZH, SIGNAL_ZH, money_in_text
from ringsight.cases.workflow import APPEAL_OUTCOMES, OUTCOMES

TZ = ZoneInfo("Asia/Shanghai")
PDF_CLAIM_ROWS = 100
FAMILY = "cjk"
_NUMERALS = "一二三四五六七八九十"
_ACTIONS_ZH = {
    "create": "立案",
    "move": "流转",
    "assign": "指派",
    "update": "修改",
    "evidence": "补充证据",
    "cover": "关联",
}
_KINDS_ZH = {
    "list": "清单",
    "picture": "图片",
    "record": "记录",
    "document": "文书",
    "report": "检验报告",
    "appraisal": "鉴定意见",
    "item": "物品",
}
#: Evidence kinds that are inspection reports or expert opinions (检验报告或鉴定意见, 国务院令第310号 第五条).
REPORT_KINDS = ("report", "appraisal")


class _Report(FPDF):
    """A4 pages with a confidentiality header and page numbers."""

    case_id = ""

    def header(self) -> None:
        self.set_font(FAMILY, "", 8)
        self.set_text_color(120, 120, 120)
        self.cell(0, 5, f"医保基金案件移送材料  案件 {self.case_id}  内部资料 · 含个人信息 · 注意保密", align="R")
        self.ln(7)
        self.set_text_color(0, 0, 0)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(120, 120, 120)
        self.cell(0, 8, f"第 {self.page_no()} 页 / 共 {{nb}} 页", align="C")
        self.set_text_color(0, 0, 0)


def _money(v: Any) -> str:
    try:
        return f"¥{float(v):,.2f}"
    except (TypeError, ValueError):
        return "—"


def _when(iso: Any) -> str:
    """Any ISO time -> '2026-03-01 22:10' in Asia/Shanghai (a time with no offset is taken as Beijing time)."""
    if not iso:
        return "—"
    try:
        moment = datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)[:16].replace("T", " ")
    if moment.tzinfo is not None:
        moment = moment.astimezone(TZ)
    return moment.strftime("%Y-%m-%d %H:%M")


def _who(data: dict[str, Any], username: Any) -> str:
    """A login name as the person's display name (李调查)."""
    return data.get("people", {}).get(str(username or ""), str(username or "")) or "—"


def _band(low: float, high: float) -> str:
    return _money(low) if low == high else f"{_money(low)}–{_money(high)}"


def _text(v: Any) -> str:
    if v is None or v == "":
        return "—"
    if isinstance(v, list | tuple):
        return "；".join(map(str, v)) or "—"
    return str(v)


class _Writer:
    """Small helpers over FPDF for headings, paragraphs, key-value blocks and tables."""

    def __init__(self, pdf: _Report) -> None:
        self.pdf = pdf
        self.section_no = 0

    def section(self, title: str) -> None:
        self.section_no += 1
        if self.pdf.get_y() > 250:
            self.pdf.add_page()
        self.pdf.ln(3)
        self.pdf.set_font(FAMILY, "B", 13)
        self.pdf.cell(0, 8, f"{_NUMERALS[self.section_no - 1]}、{title}", new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_font(FAMILY, "", 10)

    def para(self, text: str, size: int = 10) -> None:
        self.pdf.set_font(FAMILY, "", size)
        self.pdf.multi_cell(0, 5.5, text, align="L", new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)

    def table(self, head: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float], size: int = 8) -> None:
        self.pdf.set_font(FAMILY, "", size)
        heading = FontFace(emphasis="BOLD", fill_color=(230, 230, 230))
        with self.pdf.table(
            col_widths=tuple(widths), line_height=4.2, text_align="LEFT", headings_style=heading, padding=1
        ) as table:
            row = table.row()
            for h in head:
                row.cell(h)
            for values in rows:
                row = table.row()
                for v in values:
                    row.cell(_text(v))
        self.pdf.ln(2)

    def pairs(self, items: Sequence[tuple[str, Any]]) -> None:
        self.table(("项目", "内容"), [(k, v) for k, v in items], (35, 145), size=9)


def render_pdf(data: dict[str, Any], network_png: Path, out: Path, font: CjkFont) -> Path:
    """Write the report for ``data`` (from ``collect_referral``) to ``out``; return ``out``."""
    pdf = _Report(format="A4")
    pdf.case_id = data["case"]["case_id"]
    pdf.add_font(FAMILY, "", str(font.path), collection_font_number=font.index)
    bold = font.bold_path or font.path
    pdf.add_font(FAMILY, "B", str(bold), collection_font_number=font.bold_index if font.bold_path else font.index)
    pdf.set_auto_page_break(True, margin=15)
    pdf.set_title(f"涉嫌犯罪案件移送书 {data.get('document_no') or pdf.case_id}")
    pdf.set_author(data.get("sender") or "RingSight")
    pdf.set_creator(f"RingSight {data['generated'].get('ringsight', '')}")
    pdf.add_page()
    _letter(pdf, data)
    pdf.add_page()
    w = _Writer(pdf)
    _attachment_title(w, "附件1", "案件调查报告")
    _cover(w, data)
    _how_found(w, data)
    _facts(w, data)
    _legal(w, data)
    _members(w, data)
    _claims(w, data)
    w.section("关系网络图")
    pdf.image(str(network_png), w=180)
    _record(w, data)
    _outcome(w, data)
    pdf.add_page()
    w = _Writer(pdf)
    _attachment_title(w, "附件2", "涉案物品清单（证据清单）")
    _evidence(w, data)
    pdf.add_page()
    w = _Writer(pdf)
    _attachment_title(w, "附件3", "检验报告或鉴定意见")
    _reports(w, data)
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))
    return out


def _attachment_title(w: _Writer, number: str, title: str) -> None:
    w.pdf.set_font(FAMILY, "", 11)
    w.pdf.cell(0, 7, number, new_x="LMARGIN", new_y="NEXT")
    w.pdf.set_font(FAMILY, "B", 18)
    w.pdf.cell(0, 12, title, align="C", new_x="LMARGIN", new_y="NEXT")
    w.pdf.ln(2)


def _date_zh(iso: Any) -> str:
    moment = datetime.fromisoformat(str(iso)).astimezone(TZ)
    return f"{moment.year}年{moment.month}月{moment.day}日"


def _letter(pdf: _Report, data: dict[str, Any]) -> None:
    """The transfer letter (涉嫌犯罪案件移送书, 国务院令第310号): to whom, number, facts, attachments, seal."""
    case, t, legal = data["case"], data["totals"], data["legal"]
    sender, receiver = data.get("sender") or "医疗保障局", data.get("receiver") or "公安局"
    reports = [e for e in data["evidence"] if e.get("kind") in REPORT_KINDS]
    pdf.ln(8)
    pdf.set_font(FAMILY, "B", 22)
    pdf.cell(0, 14, "涉嫌犯罪案件移送书", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 12)
    pdf.cell(0, 9, data.get("document_no") or "", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(FAMILY, "", 12)
    pdf.cell(0, 8, f"{receiver}：", new_x="LMARGIN", new_y="NEXT")
    kinds = (
        "、".join(c for cl in data["found"]["clusters"] for c in cl.get("typologies_zh") or []) or "骗取医疗保障基金"
    )
    band = legal.get("highest_band_reached_zh")
    body = (
        f"    我局在医疗保障基金监管中发现，{case['title']}（案件编号 {case['case_id']}）"
        f"{t['date_from'] or '—'} 至 {t['date_to'] or '—'} 期间，涉及 {t['patients']} 名参保人的医保结算 "
        f"{t['claim_count']} 笔，涉案医保基金 {_money(t['fund_loss'])}，存在{kinds}等行为"
        + (f"，涉案金额已达诈骗罪“{band}”标准" if band else "")
        + "，涉嫌诈骗犯罪（骗取医疗保障基金）。"
        "根据《行政执法机关移送涉嫌犯罪案件的规定》（国务院令第310号）和"
        "《医疗保障行政部门与公安机关移送涉嫌犯罪案件工作规定》（医保发〔2021〕49号），现将该案移送你局，请依法审查。"
    )
    pdf.multi_cell(0, 8, body, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(
        0, 8, "    请在收到本移送书及附件后出具回执，并将是否立案的决定书面告知我局。", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(3)
    pdf.cell(0, 8, "附件：", new_x="LMARGIN", new_y="NEXT")
    attachments = [
        "1. 案件调查报告",
        "2. 涉案物品清单（证据清单）",
        f"3. 检验报告或鉴定意见（{len(reports)} 份）" if reports else "3. 检验报告或鉴定意见（本案无）",
        "4. 电子材料：涉案人员及机构清单、涉案结算明细、关系网络图、办案记录",
    ]
    for line in attachments:
        pdf.cell(8)
        pdf.cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    rows = (
        ("承办人：", _who(data, case.get("assignee") or case.get("created_by"))),
        ("审批人（签字）：", "______________"),
        ("移送机关（盖章）：", sender),
        ("日期：", _date_zh(data["generated"]["time"])),
    )
    for label, value in rows:
        pdf.cell(95)
        pdf.cell(38, 9, label)
        pdf.cell(0, 9, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_draw_color(150, 150, 150)
    pdf.rect(140, pdf.get_y(), 42, 42)  # where the seal goes
    pdf.set_font(FAMILY, "", 8)
    pdf.set_xy(140, pdf.get_y() + 18)
    pdf.cell(42, 6, "（印章）", align="C")


def _cover(w: _Writer, data: dict[str, Any]) -> None:
    case = data["case"]
    w.section("案件基本情况")
    w.pairs(
        [
            ("移送书编号", data.get("document_no") or "—"),
            ("案件编号", case["case_id"]),
            ("案件名称", case["title"]),
            ("当前状态", case.get("state_zh")),
            ("承办人", _who(data, case.get("assignee"))),
            ("立案时间", _when(case.get("created"))),
            ("立案人", _who(data, case.get("created_by"))),
            ("本步骤期限", _when(case.get("deadline"))),
            ("处理结果", data["outcome"]["labels_zh"]),
            ("材料生成", f"{_when(data['generated']['time'])}，导出人 {_who(data, data['generated']['by'])}"),
        ]
    )


def _how_found(w: _Writer, data: dict[str, Any]) -> None:
    w.section("线索来源（如何发现）")
    clusters = data["found"]["clusters"]
    if not clusters:
        w.para("本案未关联筛查团伙，由承办人直接立案。")
    for c in clusters:
        runs = "；".join(
            f"{r['run_id']}（{_when(r.get('started'))}，评分 {r.get('score')}）" for r in c.get("runs", [])
        )
        w.para(
            f"团伙 {c['cluster_id']}：风险评分 {c.get('score')}，类型 {_text(c.get('typologies_zh'))}，"
            f"成员 {c.get('member_count')} 个，引用结算 {c.get('claim_count')} 笔、金额 {_money(c.get('amount'))}，"
            f"期间 {c.get('date_from')} 至 {c.get('date_to')}。"
            f"发现于常态化数据筛查批次：{runs or '—'}。"
        )
        if c.get("explanation_zh"):
            w.para(f"筛查说明：{_readable(c['explanation_zh'])}")
        signals = c.get("signals") or []
        if signals:
            rows = [
                (
                    s.get("name_zh") or s.get("name"),
                    s.get("value"),
                    s.get("weight"),
                    s.get("contribution"),
                    _readable(s.get("evidence_zh")),
                )
                for s in signals
            ]
            w.table(("疑点信号", "取值", "权重", "贡献", "说明"), rows, (30, 14, 14, 14, 108))


def _readable(text: Any) -> str:
    """Detection's sentences with codes and bare amounts made readable (¥68970.0 → ¥68,970.00)."""
    out = money_in_text(str(text or ""))
    for code, zh in SIGNAL_ZH.items():
        out = out.replace(f"（{code}）", f"（{zh}）")
    return out


def _facts(w: _Writer, data: dict[str, Any]) -> None:
    t = data["totals"]
    case = data["case"]
    w.section("违法事实")
    if case.get("summary"):
        w.para(_readable(case["summary"]))
    facs = len(t["facilities"])
    w.para(
        f"经数据筛查与核实，{t['date_from'] or '—'} 至 {t['date_to'] or '—'} 期间，涉案 {t['patients']} 名参保人、"
        f"{t['cards']} 张医保卡在 {facs} 家定点医药机构发生医保结算 {t['claim_count']} 笔，"
        f"医疗费用总额 {_money(t['total_amount'])}，其中统筹基金支付 {_money(t['fund_paid'])}，"
        f"个人账户支付 {_money(t['account_paid'])}，个人现金支付 {_money(t['self_paid'])}。"
        f"涉案医保基金金额按{t['fund_loss_basis']}计为 {_money(t['fund_loss'])}。"
        + (
            "以上结算为筛查疑点信号所引用的结算及承办人补充的结算。"
            if data.get("claims_basis") == "cited"
            else "以上结算为本案所涉人员在相关机构、期间内的结算。"
        )
    )
    for r in data.get("repeat_offenders", []):
        w.para(f"{LABEL_ZH.get(r['label'], r['label'])} {r['key']}：{r['explanation_zh']}")


def _legal(w: _Writer, data: dict[str, Any]) -> None:
    legal = data["legal"]
    w.section("涉案金额与法律标准")
    w.para(f"涉案医保基金金额：{_money(legal['amount'])}。诈骗罪数额标准（各省在区间内确定具体标准）：")
    rows = [(b["name_zh"], _band(b["low"], b["high"]), b["status_zh"]) for b in legal["fraud_bands"]]
    w.table(("数额档次", "标准", "本案"), rows, (30, 60, 90))
    rows = [
        (p["who"], p["basis"], p["rule"], _band(p["min"], p["max"]) if "min" in p else "—") for p in legal["penalties"]
    ]
    w.table(("对象", "依据", "处理规定", "按本案金额"), rows, (34, 40, 66, 40))
    w.para(legal["report_deadline_zh"], size=9)


def _members(w: _Writer, data: dict[str, Any]) -> None:
    w.section("涉案人员及机构")
    rows = []
    for m in data["members"]:
        ident = m.get("id_raw") or m["key"] if m["label"] in ("Patient", "Facility", "Doctor") else m["key"]
        contact = "；".join([*m.get("phones", []), *m.get("addresses", [])]) or "；".join(m.get("holders", []))
        rows.append(
            (
                m.get("label_zh"),
                m.get("name") or "—",
                ident,
                f"{m.get('gender_zh') or ''} {m.get('birth_date') or ''}".strip(),
                contact,
                "；".join(m.get("cards", [])),
                "屡查屡犯" if m.get("repeat_offender") else "",
            )
        )
    w.table(
        ("类别", "姓名/名称", "证件号/代码", "性别 出生", "电话/地址/持有人", "医保卡", "备注"),
        rows,
        (16, 22, 38, 22, 42, 26, 14),
    )


def _claims(w: _Writer, data: dict[str, Any]) -> None:
    t = data["totals"]
    w.section("涉案结算明细")
    w.para(
        f"合计 {t['claim_count']} 笔；医疗费用总额 {_money(t['total_amount'])}；基金支付 {_money(t['fund_paid'])}；"
        f"个人账户 {_money(t['account_paid'])}；期间 {t['date_from'] or '—'} 至 {t['date_to'] or '—'}。"
        + ("（结算笔数超过导出上限，已截断）" if data.get("claims_truncated") else "")
    )
    rows = [(f["facility"], f["claims"], _money(f["total_amount"])) for f in t["facilities"]]
    if rows:
        w.table(("定点医药机构", "笔数", "费用总额"), rows, (110, 25, 45))
    claims = data["claims"][:PDF_CLAIM_ROWS]
    rows = [
        (
            _when(c.get("time")),
            c.get("facility_name") or c.get("facility_code"),
            c.get("patient_name"),
            c.get("patient_id"),
            c.get("diagnosis_name"),
            _money(c.get("total_amount")),
            _money(c.get("fund_paid")),
        )
        for c in claims
    ]
    if rows:
        w.table(
            ("结算时间", "机构", "参保人", "证件号", "诊断", "总额", "基金支付"),
            rows,
            (26, 32, 16, 36, 26, 22, 22),
            size=7,
        )
    if len(data["claims"]) > PDF_CLAIM_ROWS:
        w.para(f"以上列出前 {PDF_CLAIM_ROWS} 笔，全部 {len(data['claims'])} 笔见附件 claims.csv。", size=9)


def _record(w: _Writer, data: dict[str, Any]) -> None:
    w.section("调查记录（批注与办案过程）")
    notes = data["notes"]
    if notes:
        rows = [
            (
                _when(n["time"]),
                _who(data, n["author"]),
                _target_zh(n["target"]),
                n.get("tag") or "",
                n.get("text") or "",
            )
            for n in notes
        ]
        w.table(("时间", "作者", "对象", "标签", "批注"), rows, (30, 18, 36, 22, 74))
    else:
        w.para("无批注。")
    rows = []
    for h in data["history"]:
        detail = [h.get("note"), "、".join(OUTCOMES.get(o, o) for o in h.get("outcome") or [])]
        if h.get("appeal_outcome"):
            detail.append(APPEAL_OUTCOMES.get(h["appeal_outcome"], h["appeal_outcome"]))
        if h.get("basis"):
            detail.append(f"依据：{h['basis']}")
        step = (
            f"{_state(h.get('from'))} → {_state(h.get('to'))}"
            if h.get("action") in ("move", "create", "assign")
            else ""
        )
        action = _ACTIONS_ZH.get(h.get("action") or "", h.get("action"))
        rows.append((_when(h.get("time")), _who(data, h.get("user")), action, step, "；".join(d for d in detail if d)))
    w.table(("时间", "操作人", "操作", "变化", "说明"), rows, (30, 18, 16, 36, 80))


def _outcome(w: _Writer, data: dict[str, Any]) -> None:
    o = data["outcome"]
    ref = o.get("referral") or {}
    w.section("处理结果及依据")
    w.pairs(
        [
            ("处理结果", o["labels_zh"]),
            ("追回金额", _money(o["amount_recovered"]) if o.get("amount_recovered") else "—"),
            ("罚款金额", _money(o["penalty"]) if o.get("penalty") else "—"),
            ("法律依据", o.get("basis")),
            ("申诉结果", APPEAL_OUTCOMES.get(o.get("appeal_outcome") or "", o.get("appeal_outcome"))),
            ("移送对象", [OUTCOMES.get(x, x) for x in ref.get("to", [])]),
            ("移送决定时间", _ts(ref.get("decided_ts"))),
            ("回执接收时间", _ts(ref.get("receipt_ts"))),
            ("受理/立案决定", ref.get("decision")),
        ]
    )


def _ts(ts: Any) -> str:
    if not ts:
        return "—"
    return datetime.fromtimestamp(int(ts), tz=UTC).astimezone(TZ).strftime("%Y-%m-%d %H:%M")


def _state(state: Any) -> str:
    return "结案" if state == "closed" else str(state or "")


def _target_zh(target: str) -> str:
    label, _, key = str(target).partition(":")
    return f"{LABEL_ZH.get(label, label)} {key}"


def _evidence(w: _Writer, data: dict[str, Any]) -> None:
    rows = [
        (i + 1, e.get("title"), _KINDS_ZH.get(e.get("kind") or "", e.get("kind")), e.get("ref"))
        for i, e in enumerate(data["evidence"])
    ]
    w.table(("序号", "证据/物品名称", "类型", "文件/出处"), rows, (14, 100, 26, 40), size=9)
    w.para(
        f"本材料由 RingSight {data['generated'].get('ringsight', '')} 于 {_when(data['generated']['time'])} 生成，"
        f"导出人 {_who(data, data['generated']['by'])}；导出行为已记入审计日志。"
        "电子附件：members.csv、claims.csv、network.png、referral.json。",
        size=9,
    )


def _reports(w: _Writer, data: dict[str, Any]) -> None:
    reports = [e for e in data["evidence"] if e.get("kind") in REPORT_KINDS]
    if not reports:
        w.para("本案无检验报告或鉴定意见。")
        return
    rows = [(i + 1, e.get("title"), e.get("ref")) for i, e in enumerate(reports)]
    w.table(("序号", "名称", "文号/出处"), rows, (14, 120, 46), size=9)
