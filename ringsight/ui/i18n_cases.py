"""Texts of the case work in the workbench (login, cases, notes, reveal, audit): Chinese first, then English.

Merged into :data:`ringsight.ui.i18n.TEXT`, so :func:`~ringsight.ui.i18n.t`
and :func:`~ringsight.ui.i18n.tr` find them like any other text.
"""

from __future__ import annotations

from ringsight.cases.workflow import APPEAL_OUTCOMES, CLOSED, OUTCOMES, STATE_NAMES_EN, STATES

_OUTCOMES_EN = {
    "dismissed": "Dismissed (no irregularity)",
    "recovered": "Funds recovered",
    "penalty": "Fine",
    "suspension": "Settlement / service suspended",
    "agreement_terminated": "Service agreement terminated",
    "blacklisted": "Blacklisted",
    "referred_police": "Referred to the police (行刑衔接)",
    "referred_discipline": "Referred to the discipline commission (行纪衔接)",
    "referred_health": "Referred to the health commission",
}
_APPEAL_EN = {
    "upheld": "Appeal upheld",
    "partly_upheld": "Appeal partly upheld",
    "rejected": "Appeal rejected",
    "withdrawn": "Appeal withdrawn",
}

TEXT_CASES: dict[str, tuple[str, str]] = {
    # -- login ------------------------------------------------------------------------------
    "login.title": ("登录 · RingSight", "Log in · RingSight"),
    "login.username": ("用户名", "User name"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Log in"),
    "login.note": (
        "仅限授权人员使用。登录、查看明文和导出均记入审计日志。",
        "Authorised staff only. Logins, unmasking and exports are recorded in the audit trail.",
    ),
    "login.refused": ("用户名或密码错误。", "Wrong user name or password."),
    "login.disabled": ("该账号已停用，请联系系统管理员。", "This account is disabled; ask an administrator."),
    "login.limited": (
        "登录失败次数过多，请 {minutes} 分钟后再试，或请管理员重置密码。",
        "Too many failed logins; try again in {minutes} minute(s) or ask an administrator to reset the password.",
    ),
    "app.logout": ("退出", "Log out"),
    # -- tabs and buttons ---------------------------------------------------------------------
    "tab.cases": ("案件办理", "Cases"),
    "tab.audit": ("审计日志", "Audit trail"),
    "btn.cancel": ("取消", "Cancel"),
    "col.repeat": ("屡查屡犯", "Repeat"),
    "repeat.badge": ("屡查屡犯", "Repeat offender"),
    "repeat.en": (
        "{label} {code}：整改或处罚后在团伙 {cluster} 中再次被发现",
        "{label} {code} flagged again in cluster {cluster} after a rectification or sanction",
    ),
    # -- opening a case ---------------------------------------------------------------------
    "case.open_for_selected": ("为选中团伙立案", "Open a case for the selected cluster"),
    "case.open_case": ("立案", "Open a case"),
    "store.embedded": ("内置图库", "built-in graph store"),
    "case.exists": (
        "该团伙已有未结案件 {case}：请在该案件中办理，不再重复立案。",
        "This cluster already has an open case {case}: work on it instead of opening another.",
    ),
    "case.new_title": ("新建案件", "New case"),
    "case.field_title": ("案件名称", "Title"),
    "case.field_summary": ("案情摘要", "Summary"),
    "case.create": ("立案", "Open the case"),
    "case.panel_title": ("案件", "Case"),
    "case.view": ("查看案件", "View case"),
    # -- the list ---------------------------------------------------------------------------
    "cases.title": ("案件列表", "Cases"),
    "cases.count": ("共 {n} 件，逾期 {overdue} 件", "{n} cases, {overdue} overdue"),
    "cases.open_only": ("仅未结案", "Open only"),
    "cases.pick": (
        "在左侧选择一个案件，或在线索队列中为团伙立案",
        "Pick a case on the left, or open one from the queue",
    ),
    "cases.col_id": ("案件编号", "Case"),
    "cases.col_title": ("案件名称", "Title"),
    "cases.col_deadline": ("本环节截止", "Step deadline"),
    "cases.col_days_left": ("剩余天数", "Days left"),
    "cases.col_outcome": ("处理结果", "Outcome"),
    "cases.col_updated": ("最近更新", "Updated"),
    # -- one case ---------------------------------------------------------------------------
    "case.overdue": ("逾期", "Overdue"),
    "case.days_left": ("剩余 {n} 天", "{n} days left"),
    "case.days_over": ("已逾期 {n} 天", "{n} days overdue"),
    "case.created": ("立案", "Opened"),
    "case.version": ("版本", "Version"),
    "case.outcome": ("处理结果", "Outcome"),
    "case.basis": ("处理依据", "Legal basis"),
    "case.basis_placeholder": ("如：《医疗保障基金使用监督管理条例》第四十条", "e.g. Regulation on fund use, art. 40"),
    "case.recovered": ("追回金额(元)", "Recovered (¥)"),
    "case.penalty": ("罚款金额(元)", "Fine (¥)"),
    "case.appeal_outcome": ("申诉结果", "Appeal outcome"),
    "case.appeal_pick": ("选择申诉结果（离开申诉环节时必填）", "Appeal outcome (needed to leave the appeal step)"),
    "case.actions": ("流转", "Move the case"),
    "case.note_placeholder": ("办理意见（退回或重开时必填）", "Note (needed to step back or reopen)"),
    "case.move_to": ("转至{state}", "Move to {state}"),
    "case.needs_supervisor": ("需要科室负责人", "Needs a supervisor"),
    "case.moved": ("案件 {case} 已转至{state}", "Case {case} moved to {state}"),
    "case.conflict": (
        "该案件已被 {who} 修改（现为第 {version} 版），您的操作未保存。已重新载入，请查看后再操作。",
        "{who} changed this case meanwhile (now version {version}); your change was not saved. "
        "The case has been reloaded — look at their change, then try again.",
    ),
    "case.need_note": ("退回或重开需要填写办理意见", "Stepping back or reopening needs a note"),
    "case.need_appeal": ("请先选择申诉结果", "Pick the appeal outcome first"),
    "case.need_outcome": ("进入处理环节需要选择处理结果", "Entering handling needs an outcome"),
    "case.need_basis": ("进入处理环节需要填写处理依据", "Entering handling needs the legal basis"),
    "case.need_recovered": ("“追回医保基金”需要填写追回金额", "'Funds recovered' needs the amount"),
    "case.need_penalty": ("“罚款”需要填写罚款金额", "'Fine' needs the amount"),
    "case.assign": ("分派承办人", "Assign"),
    "case.assign_btn": ("分派", "Assign"),
    "case.assigned": ("案件 {case} 已分派给 {user}", "Case {case} assigned to {user}"),
    "case.referral": ("移送材料", "Referral package"),
    "case.export": ("生成并下载移送材料 (ZIP)", "Build and download the package (ZIP)"),
    "case.export_pdf": ("下载报告 PDF", "Download the PDF"),
    "case.exported": ("已生成 {file}（含明文身份信息，已记入审计日志）", "Built {file} (identities in clear; audited)"),
    "case.audit_id": ("审计编号", "audit id"),
    "case.notes": ("案件备注", "Case notes"),
    "case.track": ("移送情况", "Referral"),
    "case.receipt": ("回执日期", "Receipt"),
    "case.decision": ("受理/立案决定", "Decision of the receiving body"),
    "case.receipt_placeholder": ("回执日期 YYYY-MM-DD", "Receipt date YYYY-MM-DD"),
    "case.decision_placeholder": ("受理/立案决定，如：已立案侦查", "Their decision, e.g. case opened"),
    "case.track_save": ("记录", "Record"),
    "case.tracked": ("已记录移送回执与决定", "Receipt and decision recorded"),
    "case.bad_date": ("日期格式应为 YYYY-MM-DD", "Dates are written YYYY-MM-DD"),
    "case.history": ("办理记录", "History"),
    "case.covers": ("涉及团伙与对象", "Covers"),
    "case.covers_none": ("无", "Nothing"),
    "case.open_network": ("打开图谱", "Open network"),
    "hist.create": ("立案", "opened"),
    "hist.move": ("流转", "moved"),
    "hist.assign": ("分派", "assigned"),
    "hist.update": ("修改", "edited"),
    "hist.evidence": ("补充证据", "evidence added"),
    "hist.cover": ("增加对象", "coverage added"),
    # -- notes ------------------------------------------------------------------------------
    "notes.title": ("备注与标签", "Notes and tags"),
    "notes.placeholder": ("写一条备注……", "Write a note…"),
    "notes.tag": ("标签（可选）", "Tag (optional)"),
    "notes.no_tag": ("不加标签", "No tag"),
    "notes.add": ("添加", "Add"),
    "notes.none": ("暂无备注", "No notes yet"),
    "notes.empty": ("请写备注或选择标签", "Write a note or pick a tag"),
    "notes.link": ("关系", "Link"),
    "legend.annotated": ("有备注/标签", "has notes or tags"),
    # -- reveal -----------------------------------------------------------------------------
    "reveal.title": ("个人信息", "Personal data"),
    "reveal.button": ("查看明文", "Show unmasked"),
    "reveal.hint": (
        "查看明文将记入审计日志（谁、何时、查看了哪条记录）。",
        "Unmasking is audited: who, when, which record.",
    ),
    "reveal.audited": ("已记入审计日志", "Recorded in the audit trail"),
    # -- audit ------------------------------------------------------------------------------
    "audit.title": ("审计日志", "Audit trail"),
    "audit.hint": ("只读：应用内无法修改或删除记录", "Read-only: nothing in the application can change an entry"),
    "audit.count": ("最近 {n} 条", "latest {n} entries"),
    "audit.broken": (
        "警告：审计日志校验失败（{n} 处问题），有记录在系统之外被修改、删除或调换。"
        "请运行 ringsight audit verify 查看。",
        "WARNING: the audit trail fails verification ({n} problem(s)): entries were edited, deleted or moved "
        "outside RingSight. Run `ringsight audit verify` for details.",
    ),
    "audit.reload": ("刷新", "Reload"),
    "audit.export": ("导出 CSV", "Export CSV"),
    "audit.exported": ("已导出 {n} 条（导出本身已记入审计日志）", "Exported {n} entries (the export is audited too)"),
    "audit.col_time": ("时间", "Time"),
    "audit.col_user": ("用户", "User"),
    "audit.col_action": ("操作", "Action"),
    "audit.col_target": ("对象", "Target"),
    "audit.col_before": ("修改前", "Before"),
    "audit.col_after": ("修改后", "After"),
    "audit.col_id": ("编号", "Id"),
}
TEXT_CASES.update({f"state.{s}": (s if s != CLOSED else "结案", STATE_NAMES_EN[s]) for s in STATES})
TEXT_CASES.update({f"outcome.{k}": (v, _OUTCOMES_EN[k]) for k, v in OUTCOMES.items()})
TEXT_CASES.update({f"appeal.{k}": (v, _APPEAL_EN[k]) for k, v in APPEAL_OUTCOMES.items()})
