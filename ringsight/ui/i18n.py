"""Every word the workbench shows, in Chinese (first) and English, in one table.

Components that carry fixed text are built with :func:`tr` (or get their text
from :func:`t`), so switching the language is one callback that rewrites
every registered text (see ``callbacks/chrome.py``). Data (names, facility
names, evidence sentences) is not translated here: detection writes evidence
in both languages and the UI picks the one that matches.
"""

from __future__ import annotations

from itertools import count
from typing import Any

from dash import html

from ringsight.ui.i18n_cases import TEXT_CASES

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

# key: (中文, English)
TEXT: dict[str, tuple[str, str]] = {
    # -- chrome -------------------------------------------------------------------
    "app.title": ("RingSight 医保基金团伙研判工作台", "RingSight fraud-ring workbench"),
    "app.brand": ("RingSight", "RingSight"),
    "app.subtitle": ("医保基金团伙研判", "Medical-insurance fraud rings"),
    "app.run": ("最新筛查批次", "Latest run"),
    "app.run_none": ("尚无完成的筛查批次 — 请先运行 ringsight detect", "No finished run yet — run `ringsight detect`"),
    "app.finished": ("完成于", "finished"),
    "app.role": ("角色", "Role"),
    "app.masked": ("个人信息已脱敏", "personal data masked"),
    "app.unmasked": ("个人信息可见", "personal data visible"),
    "app.store": ("图数据库", "Graph store"),
    "role.investigator": ("稽核人员", "Investigator"),
    "role.analyst": ("数据分析", "Analyst"),
    "role.supervisor": ("科室负责人", "Supervisor"),
    "role.admin": ("系统管理员", "Administrator"),
    "tab.queue": ("线索队列", "Queue"),
    "tab.network": ("关系图谱", "Network"),
    "tab.console": ("查询控制台", "Query console"),
    "status.ready": ("就绪", "Ready"),
    "status.working": ("处理中…", "Working…"),
    # -- queue --------------------------------------------------------------------
    "queue.title": ("待研判团伙", "Suspect clusters"),
    "queue.count": ("共 {n} 个团伙", "{n} clusters"),
    "queue.hint": ("双击一行或点击“打开”查看关系图谱", "Double-click a row or press Open to see its network"),
    "queue.empty": ("当前批次没有发现团伙", "The latest run found no clusters"),
    "col.open": ("操作", "Action"),
    "col.rank": ("排名", "Rank"),
    "col.score": ("风险分", "Score"),
    "col.cluster": ("团伙编号", "Cluster"),
    "col.typologies": ("疑似类型", "Typologies"),
    "col.members": ("成员数", "Members"),
    "col.claims": ("结算笔数", "Claims"),
    "col.amount": ("涉及金额(元)", "Amount (¥)"),
    "col.fund": ("基金支付(元)", "Fund paid (¥)"),
    "col.facilities": ("涉及机构", "Facilities"),
    "col.district": ("区县", "District"),
    "col.member_district": ("参保人住址区县", "Members' home district"),
    "col.member_district_tip": (
        "团伙所涉结算中参保人住址最多的区县（不是涉及机构所在的区县）",
        "Where most of the persons behind the cluster's claims live (not the facility's district)",
    ),
    "col.change": ("变化", "Change"),
    "col.case": ("案件状态", "Case status"),
    "col.assignee": ("承办人", "Assignee"),
    "col.dates": ("时间范围", "Date range"),
    "col.explanation": ("研判提示", "Why flagged"),
    "btn.open": ("打开", "Open"),
    "case.none": ("未立案", "No case"),
    "change.new": ("新发现", "New"),
    "change.grown": ("规模扩大", "Grown"),
    "change.shrunk": ("规模缩小", "Shrunk"),
    "change.unchanged": ("无变化", "Unchanged"),
    "change.recurring": ("整改后复发", "Recurring"),
    # -- typologies ---------------------------------------------------------------
    "typ.card_collecting": ("聚敛盗刷社保卡", "Card collecting"),
    "typ.goods_as_drugs": ("串换药品/生活用品", "Goods billed as drugs"),
    "typ.impersonation": ("冒名就医", "Impersonation"),
    "typ.reselling": ("套现倒卖药品", "Drug reselling"),
    "typ.ghost_patients": ("虚构患者", "Ghost patients"),
    "typ.induced_admission": ("诱导住院", "Induced admission"),
    "typ.bed_holding": ("挂床住院", "Bed holding"),
    "typ.split_charges": ("分解/重复收费", "Split / duplicate charges"),
    "typ.doctor_pharmacy": ("医药勾结", "Doctor–pharmacy collusion"),
    "typ.trace_code_resale": ("回流药", "Trace-code resale"),
    "typ.repeated_admission": ("反复住院", "Repeated admissions"),
    "typ.recurrence": ("屡查屡犯", "Repeat offender"),
    # -- entity types -------------------------------------------------------------
    "type.Patient": ("参保人", "Insured person"),
    "type.Card": ("医保卡", "Card"),
    "type.Phone": ("电话", "Phone"),
    "type.Address": ("地址", "Address"),
    "type.Facility": ("定点机构", "Facility"),
    "type.Doctor": ("医保医师", "Doctor"),
    "type.Terminal": ("刷卡终端", "Terminal"),
    "type.Operator": ("操作员", "Operator"),
    "type.TraceCode": ("追溯码", "Trace code"),
    "type.Claim": ("结算单", "Claim"),
    "type.Cluster": ("团伙", "Cluster"),
    # -- links and expansions -----------------------------------------------------
    "rel.HAS_CARD": ("持卡", "holds card"),
    "rel.HAS_PHONE": ("本人电话", "own phone"),
    "rel.CONTACT_PHONE": ("联系电话", "contact phone"),
    "rel.LIVES_AT": ("居住地址", "lives at"),
    "rel.WORKS_AT": ("执业机构", "works at"),
    "rel.IN_FACILITY": ("所属机构", "belongs to"),
    "rel.TERMINAL_IN": ("所属机构（终端）", "terminal of"),
    "rel.OPERATOR_IN": ("所属机构（操作员）", "operator of"),
    "rel.VISITED": ("就诊结算", "claims at"),
    "rel.SWIPED_AT": ("刷卡结算", "card used at"),
    "rel.USED_CARD": ("用卡结算", "claims with card"),
    "rel.TREATED_BY": ("接诊医师", "treated by"),
    "rel.PRESCRIBED_AT": ("处方结算", "prescriptions settled at"),
    "rel.SWIPED_ON": ("刷卡终端", "swiped on"),
    "rel.SETTLED_BY": ("经办操作员", "settled by"),
    "rel.TRACE_AT": ("追溯码结算", "trace code settled at"),
    "legend.title": ("图例", "Legend"),
    "legend.member": ("团伙成员", "cluster member"),
    "legend.flagged": ("其他团伙成员", "member of another cluster"),
    "legend.edge": ("连线粗细 = 结算笔数/金额", "line width = claims or amount"),
    "legend.size": ("节点大小 = 可见结算金额", "node size = amount in view"),
    # -- canvas toolbar -----------------------------------------------------------
    "search.placeholder": (
        "搜索：身份证号 / 电话 / 卡号 / 机构编码或名称 / 医师编码 / 结算单号",
        "Search: resident ID / phone / card / facility code or name / doctor code / claim id",
    ),
    "search.button": ("搜索", "Search"),
    "search.none": ("没有找到匹配的实体", "Nothing matches"),
    "search.results": ("搜索结果", "Search results"),
    "search.add": ("加入图谱", "Add to canvas"),
    "search.by": ("匹配方式", "matched by"),
    "layout.label": ("布局", "Layout"),
    "layout.auto": ("自动（服务器力导向）", "Auto (force-directed on the server)"),
    "layout.fcose": ("力导向 (fCoSE)", "Force-directed (fCoSE)"),
    "layout.cose-bilkent": ("力导向 (CoSE-Bilkent)", "Force-directed (CoSE-Bilkent)"),
    "layout.concentric": ("同心圆（按连接数）", "Concentric (by degree)"),
    "layout.breadthfirst": ("层次（由中心展开）", "Hierarchy (breadth-first)"),
    "layout.circle": ("环形", "Circle"),
    "layout.grid": ("网格", "Grid"),
    "btn.relayout": ("重新布局", "Re-layout"),
    "btn.fit": ("适应窗口", "Fit"),
    "btn.undo": ("撤销展开", "Undo"),
    "btn.expand": ("展开", "Expand"),
    "btn.collapse": ("收起", "Collapse"),
    "btn.hide": ("隐藏", "Hide"),
    "btn.png": ("导出 PNG", "Export PNG"),
    "btn.svg": ("导出 SVG", "Export SVG"),
    "btn.apply": ("应用", "Apply"),
    "btn.clear": ("清除", "Clear"),
    "btn.more": ("显示更多", "Show more"),
    "weight.label": ("连线粗细", "Line width"),
    "weight.count": ("按笔数", "by claims"),
    "weight.amount": ("按金额", "by amount"),
    "time.label": ("时间范围", "Time range"),
    "time.start": ("开始日期", "Start date"),
    "time.end": ("结束日期", "End date"),
    "crumb.root": ("图谱", "Canvas"),
    "crumb.all": ("全部关联", "all links"),
    "crumb.open": ("打开团伙 {cluster}", "opened {cluster}"),
    "crumb.expand": ("展开 {node}·{kind} +{n}", "expanded {node}·{kind} +{n}"),
    "crumb.add": ("加入 {node}", "added {node}"),
    "crumb.query": ("查询结果 +{n}", "query result +{n}"),
    "crumb.hide": ("隐藏 {node}", "hid {node}"),
    "crumb.collapse": ("收起 {node} −{n}", "collapsed {node} −{n}"),
    "canvas.empty": (
        "从“线索队列”打开一个团伙，或在上方搜索实体，把它放到图谱上。",
        "Open a cluster from the queue, or search for an entity above, to put it on the canvas.",
    ),
    "canvas.hint": (
        "单击查看详情 · 双击展开 · 右键更多操作 · 滚轮缩放",
        "Click for details · double-click to expand · right-click for more · scroll to zoom",
    ),
    # -- cluster summary ----------------------------------------------------------
    "cluster.title": ("团伙概要", "Cluster summary"),
    "cluster.signals": ("风险信号", "Signals"),
    "cluster.weight": ("权重", "weight"),
    "cluster.none": ("未打开团伙", "No cluster open"),
    # -- details ------------------------------------------------------------------
    "details.title": ("实体详情", "Details"),
    "details.none": ("单击图中的节点或连线查看详情", "Click a node or a link on the canvas to see its details"),
    "details.properties": ("属性", "Properties"),
    "details.memberships": ("所属团伙", "Cluster memberships"),
    "details.no_memberships": ("不属于任何团伙", "Not in any cluster"),
    "details.signals": ("相关信号", "Signals"),
    "details.timeline": ("结算时间线", "Claim timeline"),
    "details.neighbours": ("关联关系（先计数后展开）", "Links (counted before expanding)"),
    "details.supernode": (
        "大节点：关联 {n} 个实体，双击不会自动展开，请按类型选择展开。",
        "Supernode: {n} linked entities. Double-click does not expand it; expand by type below.",
    ),
    "details.claims": ("结算明细", "Claims"),
    "details.claims_count": ("共 {n} 笔，金额 ¥{amount}，{start} 至 {end}", "{n} claims, ¥{amount}, {start} to {end}"),
    "details.claims_cap": ("（显示前 {n} 笔）", "(first {n} shown)"),
    "details.role": ("角色", "role"),
    "details.link": ("关联", "Link"),
    "details.member_badge": ("团伙成员", "member"),
    "timeline.amount": ("金额(元)", "Amount (¥)"),
    "timeline.day": ("日期", "Date"),
    "timeline.daily": ("日结算金额", "Daily amount"),
    # -- properties ---------------------------------------------------------------
    "prop.pid": ("人员标识", "Person key"),
    "prop.id_raw": ("身份证号", "Resident ID"),
    "prop.id_type": ("证件类型", "ID type"),
    "prop.person_no": ("个人编号", "Person no."),
    "prop.name": ("名称/姓名", "Name"),
    "prop.gender": ("性别", "Gender"),
    "prop.birth_date": ("出生日期", "Birth date"),
    "prop.birth_cohort": ("出生年段", "Birth cohort"),
    "prop.insurance_type": ("参保类型", "Insurance"),
    "prop.card_id": ("卡号", "Card no."),
    "prop.card_kind": ("卡类型", "Card kind"),
    "prop.number": ("号码", "Number"),
    "prop.text": ("地址", "Address"),
    "prop.key": ("标识", "Key"),
    "prop.district": ("区县", "District"),
    "prop.code": ("编码", "Code"),
    "prop.kind": ("类别", "Kind"),
    "prop.level": ("等级", "Level"),
    "prop.ownership": ("性质", "Ownership"),
    "prop.region": ("行政区划", "Region"),
    "prop.terminal_id": ("终端号", "Terminal id"),
    "prop.operator_id": ("操作员号", "Operator id"),
    "prop.facility_code": ("机构编码", "Facility code"),
    "prop.claim_id": ("结算单号", "Claim id"),
    "prop.time": ("结算时间", "Time"),
    "prop.visit_type": ("就诊类型", "Visit type"),
    "prop.total_amount": ("总金额", "Total"),
    "prop.fund_paid": ("基金支付", "Fund paid"),
    "prop.diagnosis_name": ("诊断", "Diagnosis"),
    "prop.department": ("科室", "Department"),
    "prop.facility": ("机构", "Facility"),
    "prop.patient": ("参保人", "Patient"),
    "prop.doctor": ("医师", "Doctor"),
    "prop.card": ("卡号", "Card"),
    "val.gender.M": ("男", "male"),
    "val.gender.F": ("女", "female"),
    "val.insurance_type.employee": ("职工医保", "employee insurance"),
    "val.insurance_type.resident": ("居民医保", "resident insurance"),
    "val.insurance_type.maternity": ("生育保险", "maternity insurance"),
    "val.id_type.resident": ("居民身份证", "resident ID card"),
    "val.id_type.resident_id": ("居民身份证", "resident ID card"),
    "val.id_type.passport": ("护照", "passport"),
    "val.id_type.other": ("其他证件", "other ID"),
    "val.kind.hospital": ("医院", "hospital"),
    "val.kind.clinic": ("门诊部/诊所", "clinic"),
    "val.kind.pharmacy": ("定点零售药店", "pharmacy"),
    "val.ownership.public": ("公立", "public"),
    "val.ownership.private": ("民营", "private"),
    "val.card_kind.ssc": ("社会保障卡", "social security card"),
    "val.card_kind.evoucher": ("医保电子凭证", "e-voucher"),
    "mrole.hub": ("核心", "hub"),
    "mrole.member": ("成员", "member"),
    "mrole.patient": ("参保人", "patient"),
    "mrole.card": ("医保卡", "card"),
    "mrole.doctor": ("医师", "doctor"),
    "mrole.pharmacy": ("药店", "pharmacy"),
    "mrole.hospital": ("医院", "hospital"),
    "mrole.facility": ("机构", "facility"),
    "mrole.terminal": ("刷卡终端", "terminal"),
    "mrole.shared_phone": ("共用电话", "shared phone"),
    "mrole.shared_address": ("共用地址", "shared address"),
    "mrole.absent_inpatient": ("挂床住院者", "absent inpatient"),
    "mrole.admitting_doctor": ("收治医师", "admitting doctor"),
    "mrole.basket_card": ("相同处方卡", "identical-basket card"),
    "mrole.bed_sharer": ("同床位住院者", "bed sharer"),
    "mrole.buyer": ("购药人", "buyer"),
    "mrole.buyer_card": ("购药卡", "buyer card"),
    "mrole.card_holder": ("持卡人", "card holder"),
    "mrole.card_user": ("用卡人", "card user"),
    "mrole.co_admitted": ("同批住院者", "co-admitted"),
    "mrole.first_seller": ("首次销售药店", "first seller"),
    "mrole.impostor_phone": ("冒用电话", "impostor phone"),
    "mrole.phone_user": ("电话使用人", "phone user"),
    "mrole.prescriber": ("开方医师", "prescriber"),
    "mrole.readmitted": ("反复住院者", "readmitted"),
    "mrole.reseller": ("倒卖者", "reseller"),
    "mrole.resident": ("居住人", "resident"),
    "mrole.rx_patient": ("处方患者", "prescription patient"),
    "mrole.shared_card": ("共用卡", "shared card"),
    "mrole.shop_pharmacy": ("经营药店", "shop pharmacy"),
    "mrole.split_patient": ("分解住院者", "split-stay patient"),
    "mrole.swiped_card": ("被刷卡", "swiped card"),
    "mrole.trace_buyer": ("回流药购买人", "trace-code buyer"),
    "mrole.trace_card": ("回流药用卡", "trace-code card"),
    "mrole.travelling_card": ("异地刷卡", "travelling card"),
    "mrole.terminal_id": ("刷卡终端", "terminal"),
    "mrole.doctor_code": ("医师", "doctor"),
    "visit.outpatient": ("门诊", "outpatient"),
    "visit.inpatient": ("住院", "inpatient"),
    "visit.pharmacy": ("药店购药", "pharmacy"),
    # -- console ------------------------------------------------------------------
    "console.named": ("命名查询", "Named query"),
    "console.pick": ("选择查询库中的查询", "Pick a query from the library"),
    "console.params": ("参数", "Parameters"),
    "console.run": ("运行", "Run"),
    "console.results": ("查询结果", "Results"),
    "console.rows": ("{n} 行，用时 {s} 秒", "{n} rows in {s} s"),
    "console.truncated": ("（已截断）", "(truncated)"),
    "console.show": ("在图谱中显示", "Show on canvas"),
    "console.adhoc": ("临时 Cypher（只读）", "Ad-hoc Cypher (read-only)"),
    "console.adhoc_placeholder": ("MATCH (f:Facility) RETURN f LIMIT 10", "MATCH (f:Facility) RETURN f LIMIT 10"),
    "console.run_adhoc": ("运行只读查询", "Run read-only"),
    "console.unavailable": (
        "查询库模块 ringsight.cypher 尚未就绪，暂时无法使用命名查询。",
        "The query library (ringsight.cypher) is not available yet.",
    ),
    "console.no_adhoc": ("当前角色不能运行临时查询", "Your role may not run ad-hoc queries"),
    "console.nothing": ("结果中没有可放到图谱上的实体", "The result holds no entity to put on the canvas"),
    # -- status messages ----------------------------------------------------------
    "msg.opened": (
        "已打开团伙 {cluster}：{nodes} 个节点、{edges} 条连线，用时 {s} 秒",
        "Opened {cluster}: {nodes} nodes, {edges} links in {s} s",
    ),
    "msg.opened_lonely": (
        "已打开团伙 {cluster}：{nodes} 个节点、{edges} 条连线，用时 {s} 秒。"
        "右侧 {lonely} 个成员与图中其他节点没有直接连线："
        "它们因同期住院、共用信息等线索被归入团伙（见疑点信号），展开可看到关联",
        "Opened {cluster}: {nodes} nodes, {edges} links in {s} s. "
        "The {lonely} members on the right have no link drawn: they belong through shared stays or details "
        "(see the signals); expand them to see how",
    ),
    "msg.expanded": ("展开 {node}：新增 {n} 个节点，用时 {s} 秒", "Expanded {node}: {n} new nodes in {s} s"),
    "msg.expanded_none": ("{node} 没有更多可展开的关联", "{node} has no more links to expand"),
    "msg.supernode": (
        "{node} 是大节点（{n} 个关联），请在详情中按类型展开",
        "{node} is a supernode ({n} links): expand by type in Details",
    ),
    "msg.undo": ("已撤销：{what}", "Undone: {what}"),
    "msg.undo_none": ("没有可撤销的操作", "Nothing to undo"),
    "msg.added": ("已加入 {n} 个节点", "Added {n} nodes"),
    "msg.already": ("{node} 已在图中，已选中并居中", "{node} is already on the canvas: selected and centred"),
    "msg.hidden": ("已隐藏 {node}", "Hid {node}"),
    "msg.collapsed": ("已收起 {node}：移除 {n} 个节点", "Collapsed {node}: removed {n} nodes"),
    "msg.filtered": ("时间范围 {start} 至 {end}：{edges} 条连线", "Time range {start} to {end}: {edges} links"),
    "msg.unfiltered": ("已清除时间范围：{edges} 条连线", "Time range cleared: {edges} links"),
    "msg.stale": (
        "图谱已过期（服务已重启），请重新打开团伙",
        "The canvas is stale (server restarted): reopen the cluster",
    ),
    "msg.cap": ("图谱已达 {n} 个节点上限，未再添加", "The canvas holds the maximum of {n} nodes; nothing added"),
    "msg.error": ("出错：{error}", "Error: {error}"),
    "msg.query_done": ("查询完成：{n} 行，用时 {s} 秒", "Query finished: {n} rows in {s} s"),
    # -- what detection could not check (run.coverage) ------------------------------------------
    "cov.idle": ("{n} 个检测器无输入", "{n} detectors had no input"),
    "cov.idle_one": ("1 个检测器无输入", "1 detector had no input"),
    "cov.partial": ("{n} 个缺辅助输入", "{n} partial"),
    "cov.ok": ("各检测器输入齐全", "every detector had its inputs"),
    "cov.needs": ("缺", "no"),
    "cov.without": ("未用", "without"),
    "cov.or": ("或", "or"),
}
#: The inputs detectors need (``algorithms/coverage.py``), in Chinese; English is the key itself.
INPUTS_ZH: dict[str, str] = {
    "cards": "医保卡",
    "phones": "电话",
    "addresses": "地址",
    "located home addresses": "定位到区县的住址",
    "terminal ids": "终端号",
    "operators": "操作员",
    "doctors": "医师",
    "diagnoses": "诊断",
    "beds": "床位号",
    "inpatient stays": "住院记录",
    "pharmacy claims": "药店结算",
    "prescriptions filled at pharmacies": "药店外配处方",
    "facility ownership": "机构经营性质",
    "facility places": "机构位置",
    "items": "费用明细",
    "trace codes": "药品追溯码",
}
TEXT.update(TEXT_CASES)  # login, cases, notes, reveal and audit texts (ringsight.ui.i18n_cases)

_ids = count()


def t(key: str, lang: str | None = None, **kwargs: Any) -> str:
    """The text for ``key`` in ``lang`` (Chinese by default), formatted with ``kwargs``.

    An unknown key returns the key itself, so a missing translation is visible
    rather than an exception in a callback.
    """
    pair = TEXT.get(key)
    text = key if pair is None else pair[1] if lang == "en" else pair[0]
    return text.format_map(_Blank(kwargs)) if kwargs else text


class _Blank(dict):
    """Format arguments where a missing name shows as '?' instead of raising in a callback."""

    def __missing__(self, key: str) -> str:
        return "?"


def tr(key: str, lang: str = DEFAULT_LANGUAGE, tag: type = html.Span, **props: Any) -> Any:
    """A component whose text follows the language switch.

    The id ``{"type": "i18n", "key": key, "i": n}`` lets one pattern-matching
    callback rewrite every such text when the language changes.
    """
    text_id = {"type": "i18n", "key": key, "i": next(_ids)}
    if "id" in props:  # the caller needs its own id on the component: the translated text goes inside it
        return tag(html.Span(t(key, lang), id=text_id), **props)
    return tag(t(key, lang), id=text_id, **props)


def typology(code: str, lang: str | None = None) -> str:
    """The display name of a typology code (the code itself when unknown)."""
    return t(f"typ.{code}", lang) if f"typ.{code}" in TEXT else code


def change_label(change: str | None, lang: str | None = None) -> str:
    """The display word for a cluster's change since the previous run."""
    return t(f"change.{change}", lang) if change and f"change.{change}" in TEXT else (change or "")


def type_label(label: str, lang: str | None = None) -> str:
    """The display name of an entity label."""
    return t(f"type.{label}", lang)


def value_label(prop: str, value: object, lang: str | None = None) -> object:
    """A coded property value in words (M → 男), or the value itself."""
    key = f"val.{prop}.{value}"
    return t(key, lang) if isinstance(value, str) and key in TEXT else value


def member_role(code: str | None, lang: str | None = None) -> str:
    """A cluster member's role (from detection) in words, or the code itself when unknown."""
    if not code:
        return ""
    return t(f"mrole.{code}", lang) if f"mrole.{code}" in TEXT else code


def prop_label(name: str, lang: str | None = None) -> str:
    """The display name of a property (the property name when not in the table)."""
    return t(f"prop.{name}", lang) if f"prop.{name}" in TEXT else name


def input_label(name: str, lang: str | None = None) -> str:
    """An input a detector needs (``phones or addresses`` too) in ``lang``."""
    if lang == "en":
        return name
    return t("cov.or", lang).join(INPUTS_ZH.get(part, part) for part in name.split(" or "))
