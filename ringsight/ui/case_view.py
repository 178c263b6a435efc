"""How a case reads on screen: grid rows, the header, the 初审 → … → 处理 path, history, notes.

Pure functions from :class:`~ringsight.cases.workflow.Case` (and annotations)
to Dash components; the callbacks in :mod:`ringsight.ui.callbacks.cases`
decide *which* case and *who* is looking. Free text (titles, notes, history
notes) is always passed to Dash as a string child, which React renders as
text — markup typed into a note is shown, never executed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from ringsight.cases.annotations import Annotation
from ringsight.cases.roles import Permission, can
from ringsight.cases.workflow import CLOSED, STATES, TRANSITIONS, Case
from ringsight.ui.data import SHANGHAI
from ringsight.ui.i18n import TEXT, t

#: The path drawn at the top of a case (closing is the last step).
PATH: tuple[str, ...] = STATES
#: Moves that decide the case (need ``case.decide``), as in workflow.move_case.
DECIDING = ("处理", CLOSED)
BACK_STEPS = {("复审", "初审"), (CLOSED, "调查核实")}


def state_label(state: str | None, lang: str) -> str:
    """A case state in words (``None``: no case)."""
    return t(f"state.{state}", lang) if state else t("case.none", lang)


def when(ts: int | float | None, *, with_time: bool = True) -> str:
    """Epoch seconds as Beijing time."""
    if not ts:
        return ""
    return datetime.fromtimestamp(ts, SHANGHAI).strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def deadline_text(case: Case, lang: str, now: float | None = None) -> str:
    """ "截止 2026-01-10（剩余 3.5 天）" or "…（已逾期 2.0 天）"."""
    days = case.days_left(now)
    if days is None:
        return ""
    key = "case.days_left" if days >= 0 else "case.days_over"
    return f"{when(case.deadline_ts, with_time=False)}（{t(key, lang, n=f'{abs(days):.1f}')}）"


# -- grid -----------------------------------------------------------------------------------
def who(names: dict[str, str] | None, username: str | None) -> str:
    """A login name as the person's display name (李调查), the login name when unknown."""
    return (names or {}).get(username or "", username or "")


def case_rows(
    cases: Iterable[Case], lang: str, now: float | None = None, names: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Rows for the cases grid (people by display name)."""
    now = time.time() if now is None else now
    rows = []
    for c in cases:
        rows.append(
            {
                "case_id": c.case_id,
                "title": c.title,
                "state": c.state,
                "state_label": state_label(c.state, lang),
                "overdue": c.is_overdue(now),
                "overdue_label": t("case.overdue", lang) if c.is_overdue(now) else "",
                "assignee": who(names, c.assignee),
                "deadline": when(c.deadline_ts, with_time=False),
                "days_left": c.days_left(now),
                "updated": when(c.updated_ts),
                "outcome": "、".join(t(f"outcome.{o}", lang) for o in c.outcome),
            }
        )
    return rows


def case_columns(lang: str) -> list[dict[str, Any]]:
    def col(field: str, key: str, **extra: Any) -> dict[str, Any]:
        return {"field": field, "headerName": t(key, lang), **extra}

    return [
        col("case_id", "cases.col_id", minWidth=150),
        col("title", "cases.col_title", minWidth=220, tooltipField="title"),
        col("state_label", "col.case", cellRenderer="CaseBadge", minWidth=130),
        col("assignee", "col.assignee", minWidth=100),
        col("deadline", "cases.col_deadline", minWidth=110, sort="asc"),
        col("days_left", "cases.col_days_left", filter="agNumberColumnFilter", minWidth=90),
        col("outcome", "cases.col_outcome", minWidth=140, tooltipField="outcome"),
        col("updated", "cases.col_updated", minWidth=140),
    ]


# -- the case view ---------------------------------------------------------------------------
def head(
    case: Case, lang: str, repeat: list[Any], now: float | None = None, names: dict[str, str] | None = None
) -> list[Any]:
    """Title line, facts and the repeat-offender warning."""
    overdue = case.is_overdue(now)
    facts = [
        (t("col.assignee", lang), who(names, case.assignee)),
        (t("case.created", lang), f"{when(case.created_ts)} · {who(names, case.created_by)}"),
        (t("cases.col_deadline", lang), deadline_text(case, lang, now)),
        (t("case.version", lang), str(case.version)),
    ]
    if case.outcome:
        facts.append((t("case.outcome", lang), "、".join(t(f"outcome.{o}", lang) for o in case.outcome)))
    if case.appeal_outcome:
        facts.append((t("case.appeal_outcome", lang), t(f"appeal.{case.appeal_outcome}", lang)))
    if case.basis:
        facts.append((t("case.basis", lang), case.basis))
    if case.amount_recovered:
        facts.append((t("case.recovered", lang), f"{case.amount_recovered:,.2f}"))
    if case.penalty:
        facts.append((t("case.penalty", lang), f"{case.penalty:,.2f}"))
    if case.referral.get("to"):
        sent = "、".join(t(f"outcome.{o}", lang) for o in case.referral["to"])
        facts.append((t("case.track", lang), f"{sent} · {when(case.referral.get('decided_ts'), with_time=False)}"))
    if case.referral.get("receipt_ts"):
        facts.append((t("case.receipt", lang), when(case.referral["receipt_ts"], with_time=False)))
    if case.referral.get("decision"):
        facts.append((t("case.decision", lang), str(case.referral["decision"])))
    out: list[Any] = [
        html.Div(
            [
                html.Span(case.case_id, className="case-id", id="case-id"),
                html.Span(case.title, className="case-title"),
                html.Span(state_label(case.state, lang), className=f"case-state state-{_state_class(case.state)}"),
                html.Span(t("case.overdue", lang), className="case-overdue") if overdue else None,
                html.Span(t("repeat.badge", lang), className="repeat-badge") if repeat else None,
            ],
            className="case-title-line",
        ),
        html.Div(case.summary, className="case-summary") if case.summary else None,
        html.Table(html.Tbody([html.Tr([html.Td(k), html.Td(v)]) for k, v in facts]), className="kv case-facts"),
    ]
    if repeat:
        out.append(
            dbc.Alert(
                [html.B(t("repeat.badge", lang) + "："), *[html.Div(repeat_text(s, lang)) for s in repeat]],
                color="danger",
                class_name="repeat-alert",
                id="case-repeat",
            )
        )
    return out


def repeat_text(status: Any, lang: str) -> str:
    """One repeat offender in a sentence (the back end writes Chinese; English gets a short form)."""
    if lang == "zh":
        return status.explanation_zh
    first = status.reflagged[0] if status.reflagged else {}
    return t("repeat.en", lang, label=status.label, code=status.key, cluster=first.get("cluster_id", "?"))


def _state_class(state: str) -> str:
    return str(STATES.index(state)) if state in STATES else "x"


def path(case: Case, lang: str) -> html.Div:
    """The state path with the steps passed, the current one and those ahead."""
    visited = {case.state}
    for ev in case.history:
        for key in ("from", "to"):
            if ev.get(key):
                visited.add(ev[key])
    current = PATH.index(case.state) if case.state in PATH else -1
    steps: list[Any] = []
    for i, state in enumerate(PATH):
        cls = "step-current" if state == case.state else "step-done" if state in visited and i < current else "step"
        if steps:
            steps.append(html.Span("→", className="step-arrow"))
        steps.append(html.Span(state_label(state, lang), className=f"case-step {cls}", title=state))
    return html.Div(steps, className="case-steps", id="case-steps")


def move_buttons(case: Case, user: Any, lang: str) -> list[Any]:
    """One button per allowed next state; deciding moves disabled for roles that may not decide."""
    buttons = []
    for to in TRANSITIONS.get(case.state, ()):
        deciding = to in DECIDING or case.state == CLOSED
        allowed = can(user, Permission.CASE_DECIDE if deciding else Permission.CASE_EDIT)
        back = (case.state, to) in BACK_STEPS
        buttons.append(
            dbc.Button(
                t("case.move_to", lang, state=state_label(to, lang)),
                id={"type": "case-move", "step": STATES.index(to)},  # ASCII ids: Dash matches them as JSON
                size="sm",
                color="secondary" if back or to == CLOSED else "primary",
                outline=back or to == CLOSED,
                disabled=not allowed,
                title="" if allowed else t("case.needs_supervisor", lang),
                class_name="case-move-btn",
            )
        )
    return buttons


def history(case: Case, lang: str, names: dict[str, str] | None = None) -> list[Any]:
    """Every step with who (display name, login name on hover) and when, newest first."""
    rows = []
    for ev in reversed(case.history):
        action = ev.get("action", "")
        parts: list[Any] = [
            html.Span((ev.get("time") or "")[:16].replace("T", " "), className="hist-time"),
            html.Span(who(names, ev.get("user")), className="hist-user", title=ev.get("user", "")),
            html.Span(t(f"hist.{action}", lang) if f"hist.{action}" in TEXT else action, className="hist-action"),
        ]
        if ev.get("to") and action in ("create", "move"):
            arrow = f"{state_label(ev['from'], lang)} → " if ev.get("from") else ""
            parts.append(html.Span(arrow + state_label(ev["to"], lang), className="hist-move"))
        if action == "assign":
            moved = f"{who(names, ev.get('from')) or '—'} → {who(names, ev.get('to'))}"
            parts.append(html.Span(moved, className="hist-move"))
        detail: list[str] = []
        if ev.get("outcome"):
            detail.append("、".join(t(f"outcome.{o}", lang) for o in ev["outcome"]))
        if ev.get("appeal_outcome"):
            detail.append(t(f"appeal.{ev['appeal_outcome']}", lang))
        if ev.get("basis"):
            detail.append(f"{t('case.basis', lang)}：{ev['basis']}")
        if ev.get("title") and action == "evidence":
            detail.append(str(ev["title"]))
        if ev.get("target"):
            detail.append(str(ev["target"]))
        if action == "update":
            detail += _changes(ev.get("changes") or {}, lang)
        rows.append(
            html.Div(
                [
                    html.Div(parts, className="hist-line"),
                    html.Div(" · ".join(detail), className="hist-detail") if detail else None,
                    html.Div(ev["note"], className="hist-note note-text") if ev.get("note") else None,
                ],
                className="hist-row",
            )
        )
    return rows


def _changes(changes: dict[str, Any], lang: str) -> list[str]:
    """An edit's fields in words; a referral update as its receipt date and decision."""
    out = []
    for field, value in changes.items():
        if field == "referral" and isinstance(value, dict):
            if value.get("receipt_ts"):
                out.append(f"{t('case.receipt', lang)}：{when(value['receipt_ts'], with_time=False)}")
            if value.get("decision"):
                out.append(f"{t('case.decision', lang)}：{value['decision']}")
            continue
        key = f"case.field_{field}" if f"case.field_{field}" in TEXT else f"case.{field}"
        out.append(f"{t(key, lang) if key in TEXT else field}：{value}")
    return out


def annotation_rows(items: Iterable[Annotation], lang: str) -> list[Any]:
    """Notes and tags with author and time; the text goes in as a string (shown literally)."""
    rows = []
    for a in items:
        rows.append(
            html.Div(
                [
                    html.Div(
                        [
                            html.Span(a.author, className="note-author"),
                            html.Span(when(a.created_ts), className="note-time"),
                            html.Span(a.tag, className="note-tag") if a.tag else None,
                        ],
                        className="note-meta",
                    ),
                    html.Div(a.text, className="note-text") if a.text else None,
                ],
                className="note",
            )
        )
    return rows or [html.Div(t("notes.none", lang), className="muted")]
