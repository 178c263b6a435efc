"""Cases: open one for a cluster, list them, walk one through 初审 → 复审 → 申诉 → 调查核实 → 处理, assign it,
and export its referral package.

Every callback that reads or changes a case asks :func:`ringsight.ui.auth.require_user`
for the logged-in user with the permission it needs (the workflow checks
again), and every change names the version the user was shown: a stale edit
comes back as :class:`~ringsight.cases.workflow.CaseConflict`, shown as a
message, and the view reloads with the other person's change.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import datetime
from pathlib import Path
from threading import Lock
from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update

from ringsight.cases import accounts, annotations, sanctions, workflow
from ringsight.cases.roles import Permission, can
from ringsight.cases.workflow import CLOSED, Case, CaseConflict
from ringsight.errors import RingSightError
from ringsight.graph.store import GraphStore
from ringsight.ui import case_view
from ringsight.ui.auth import current_session, guarded, require_user
from ringsight.ui.callbacks import Services
from ringsight.ui.casework import HIDDEN, appeal_options, outcome_options
from ringsight.ui.data import SHANGHAI
from ringsight.ui.i18n import t, type_label, typology
from ringsight.ui.present import display_label, evidence_text


# -- queue columns ----------------------------------------------------------------------------
def queue_case_info(store: GraphStore, cluster_ids: list[str], now: float | None = None) -> dict[str, dict[str, Any]]:
    """For the queue: each cluster's case (an open one first, else the latest), overdue, and repeat offenders.

    One query for the cases and one pass of
    :func:`ringsight.cases.sanctions.repeat_offender_clusters` for the whole queue.
    """
    now = time.time() if now is None else now
    best: dict[str, Case] = {}
    rows = store.read(
        "MATCH (k:Case)-[:COVERS]->(c:Cluster) WHERE c.cluster_id IN $ids RETURN c.cluster_id AS cluster, k",
        {"ids": list(cluster_ids)},
    ).records()
    for row in rows:
        case = Case.from_props(row["k"].properties)
        held = best.get(row["cluster"])
        if held is None or (held.state == CLOSED, -held.updated_ts) > (case.state == CLOSED, -case.updated_ts):
            best[row["cluster"]] = case
    repeat = sanctions.repeat_offender_clusters(store, cluster_ids) if cluster_ids else {}
    out: dict[str, dict[str, Any]] = {}
    for cid in cluster_ids:
        case = best.get(cid)
        out[cid] = {
            "case_id": case.case_id if case else None,
            "case_state": case.state if case else None,
            "assignee": case.assignee if case else None,
            "overdue": bool(case and case.is_overdue(now)),
            "repeat": [s.explanation_zh for s in repeat.get(cid, [])],
        }
    return out


# -- helpers ---------------------------------------------------------------------------------------
def people(store: GraphStore) -> dict[str, str]:
    """Login name -> display name of every account (a reader sees 李调查, not investigator)."""
    return {u.username: u.label for u in accounts.list_users(store)}


def clicked() -> dict[str, Any] | None:
    """The id of the pattern-matched button that was really clicked (None for re-renders).

    Looked up in the callback's inputs by id: newly rendered buttons fire the
    callback with no clicks, and ``ctx.triggered`` may not carry the value.
    """
    trig = ctx.triggered_id
    if not isinstance(trig, dict):
        return None
    for group in ctx.inputs_list or []:
        # a pattern-matched input (ALL) is a list of specs; a plain input is one spec (a dict)
        for spec in group if isinstance(group, list) else [group]:
            if isinstance(spec, dict) and spec.get("id") == trig and spec.get("value"):
                return dict(trig)
    return None


def _error(exc: RingSightError, lang: str) -> Any:
    text = exc.message + (f" {exc.hint}" if exc.hint else "")
    return dbc.Alert(t("msg.error", lang, error=text), color="danger", class_name="case-alert", dismissable=True)


def _ok(text: str) -> Any:
    return dbc.Alert(text, color="success", class_name="case-alert", dismissable=True, duration=8000)


def _conflict(exc: CaseConflict, lang: str) -> Any:
    return dbc.Alert(
        t("case.conflict", lang, who=exc.changed_by or "?", version=exc.current_version),
        color="warning",
        class_name="case-alert case-conflict",
        id="case-conflict",
        dismissable=True,
    )


def _default_title(services: Services, cluster_id: str, lang: str) -> tuple[str, str]:
    """A title and summary for a new case from the cluster: id, typologies and facilities."""
    cluster = services.data.cluster(cluster_id) or {}
    kinds = "、".join(typology(c, "zh") for c in cluster.get("typologies") or [])
    codes = list(cluster.get("facilities") or [])[:2]
    names = []
    for code in codes:
        rec = services.data.store.read("MATCH (f:Facility {code: $c}) RETURN f.name", {"c": code}).scalar()
        names.append(str(rec or code))
    title = " ".join(x for x in (cluster_id, kinds, "、".join(names)) if x)
    summary = evidence_text(cluster.get("explanation_zh")) or ""
    return title[:200], summary


class _Packages:
    """The last referral package each session built per case (so "PDF" downloads what "export" made)."""

    def __init__(self, capacity: int = 200) -> None:
        self._items: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._capacity = capacity
        self._lock = Lock()

    def put(self, key: tuple[str, str], package: Any) -> None:
        with self._lock:
            self._items[key] = package
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)

    def get(self, key: tuple[str, str]) -> Any:
        with self._lock:
            return self._items.get(key)


def register(app: Dash, services: Services) -> None:
    """Case callbacks: creating, listing, viewing, moving, assigning, notes and the referral export."""
    store = services.data.store
    packages = _Packages()

    @app.callback(
        Output("tab-cases", "label"),
        Output("cases-open-only", "label"),
        Output("case-outcome", "options"),
        Output("case-appeal", "options"),
        Output("case-basis", "placeholder"),
        Output("case-note", "placeholder"),
        Output("case-note-text", "placeholder"),
        Output("notes-text", "placeholder"),
        Output("case-appeal", "placeholder"),
        Output("notes-tag", "placeholder"),
        Input("lang", "data"),
        prevent_initial_call=True,
    )
    def translate(lang: str) -> tuple[Any, ...]:
        """Texts the language switch's generic callback cannot reach (labels, options, placeholders)."""
        return (
            t("tab.cases", lang),
            t("cases.open_only", lang),
            outcome_options(lang),
            appeal_options(lang),
            t("case.basis_placeholder", lang),
            t("case.note_placeholder", lang),
            t("notes.placeholder", lang),
            t("notes.placeholder", lang),
            t("case.appeal_pick", lang),
            t("notes.tag", lang),
        )

    # -- opening a case -------------------------------------------------------------------
    @app.callback(Output("queue-case-btn", "disabled"), Input("queue-grid", "selectedRows"))
    def queue_button(rows: list[dict] | None) -> bool:
        return not rows

    @app.callback(
        Output("case-modal", "is_open"),
        Output("case-modal-cluster", "data"),
        Output("case-title", "value"),
        Output("case-summary", "value"),
        Output("case-modal-target", "children"),
        Output("case-modal-msg", "children"),
        Input("queue-case-btn", "n_clicks"),
        Input({"type": "cluster-case-new", "cluster": ALL}, "n_clicks"),
        Input("case-create-cancel", "n_clicks"),
        State("queue-grid", "selectedRows"),
        State("lang", "data"),
        prevent_initial_call=True,
    )
    def open_dialog(queue_clicks, _c, _cancel, rows, lang):  # type: ignore[no-untyped-def]
        trig = ctx.triggered_id
        if trig == "case-create-cancel":
            return False, None, no_update, no_update, no_update, None
        if trig == "queue-case-btn":
            cluster_id = (rows or [{}])[0].get("cluster_id") if queue_clicks else None
        else:
            # the side panel's button: only a real click opens the dialog, never the panel re-rendering
            # (opening another cluster removes or adds the button and fires this callback with no click)
            button = clicked()
            cluster_id = button["cluster"] if button else None
        if not cluster_id:
            return (no_update,) * 6
        try:
            require_user(Permission.CASE_EDIT)
        except RingSightError as exc:
            return True, None, "", "", cluster_id, _error(exc, lang)
        title, summary = _default_title(services, cluster_id, lang)
        target = f"{t('type.Cluster', lang)} {cluster_id}"
        existing = [c for c in workflow.cases_covering(store, "Cluster", cluster_id) if c.state != CLOSED]
        warning = (
            dbc.Alert(
                t("case.exists", lang, case="、".join(c.case_id for c in existing)),
                color="warning",
                class_name="case-alert",
                id="case-exists",
            )
            if existing
            else None
        )
        return True, cluster_id, title, summary, target, warning

    @app.callback(
        Output("case-modal", "is_open", allow_duplicate=True),
        Output("case-modal-msg", "children", allow_duplicate=True),
        Output("case-open", "data", allow_duplicate=True),
        Output("tabs", "active_tab", allow_duplicate=True),
        Output("case-refresh", "data", allow_duplicate=True),
        Input("case-create-confirm", "n_clicks"),
        State("case-modal-cluster", "data"),
        State("case-title", "value"),
        State("case-summary", "value"),
        State("lang", "data"),
        prevent_initial_call=True,
    )
    def create(n, cluster_id, title, summary, lang):  # type: ignore[no-untyped-def]
        if not n or not cluster_id:
            return (no_update,) * 5
        try:
            user = require_user(Permission.CASE_EDIT)
            case = workflow.create_case(
                store,
                user,
                title or cluster_id,
                clusters=[cluster_id],
                summary=(summary or None),
                settings=services.settings,
            )
        except workflow.CaseExists:
            existing = "、".join(
                c.case_id for c in workflow.cases_covering(store, "Cluster", cluster_id) if c.state != CLOSED
            )
            warning = dbc.Alert(t("case.exists", lang, case=existing), color="danger", class_name="case-alert")
            return no_update, warning, no_update, no_update, no_update
        except RingSightError as exc:
            return no_update, _error(exc, lang), no_update, no_update, no_update
        return False, None, case.case_id, "cases", time.time()

    # -- the list ------------------------------------------------------------------------------
    @app.callback(
        Output("cases-grid", "rowData"),
        Output("cases-grid", "columnDefs"),
        Output("cases-count", "children"),
        Input("lang", "data"),
        Input("case-refresh", "data"),
        Input("cases-open-only", "value"),
        Input("tabs", "active_tab"),
    )
    @guarded(Permission.VIEW)
    def cases_list(lang, _nonce, open_only, tab):  # type: ignore[no-untyped-def]
        if tab != "cases" and ctx.triggered_id == "tabs":
            return no_update, no_update, no_update
        cases = workflow.list_cases(store, open_only=bool(open_only))
        overdue = sum(1 for c in cases if c.is_overdue())
        count = t("cases.count", lang, n=len(cases), overdue=overdue)
        return case_view.case_rows(cases, lang, names=people(store)), case_view.case_columns(lang), count

    @app.callback(
        Output("case-open", "data", allow_duplicate=True),
        Input("cases-grid", "selectedRows"),
        prevent_initial_call=True,
    )
    def pick(rows: list[dict] | None) -> Any:
        return rows[0]["case_id"] if rows else no_update

    @app.callback(
        Output("case-open", "data", allow_duplicate=True),
        Output("tabs", "active_tab", allow_duplicate=True),
        Input({"type": "case-goto", "case": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def goto(_clicks: list[int | None]) -> tuple[Any, Any]:
        button = clicked()
        return (button["case"], "cases") if button else (no_update, no_update)

    @app.callback(
        Output("canvas-op", "data", allow_duplicate=True),
        Output("tabs", "active_tab", allow_duplicate=True),
        Input({"type": "case-open-cluster", "cluster": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def open_cluster(_clicks: list[int | None]) -> tuple[Any, Any]:
        button = clicked()
        if button is None:
            return no_update, no_update
        return {"op": "open", "cluster": button["cluster"], "nonce": time.time()}, "network"

    # -- one case ----------------------------------------------------------------------------------
    @app.callback(
        Output("case-empty", "style"),
        Output("case-body", "style"),
        Output("case-head", "children"),
        Output("case-path", "children"),
        Output("case-moves", "children"),
        Output("case-appeal-wrap", "style"),
        Output("case-decide-wrap", "style"),
        Output("case-basis", "value"),
        Output("case-assign-wrap", "style"),
        Output("case-assignee", "options"),
        Output("case-assignee", "value"),
        Output("case-export-wrap", "style"),
        Output("case-track-wrap", "style"),
        Output("case-history", "children"),
        Output("case-notes", "children"),
        Output("case-covers", "children"),
        Output("case-version", "data"),
        Input("case-open", "data"),
        Input("case-refresh", "data"),
        Input("lang", "data"),
    )
    def show(case_id, _nonce, lang):  # type: ignore[no-untyped-def]
        if not case_id:
            return ({},) + (HIDDEN,) + (no_update,) * 15
        try:
            user = require_user(Permission.VIEW)
            case = workflow.get_case(store, case_id)
        except RingSightError as exc:
            return (HIDDEN, {}, _error(exc, lang)) + (no_update,) * 14
        repeat = sanctions.case_repeat_offenders(store, case_id)
        nexts = workflow.TRANSITIONS.get(case.state, ())
        may_decide = can(user, Permission.CASE_DECIDE)
        may_assign = can(user, Permission.CASE_ASSIGN)
        users = accounts.list_users(store) if may_assign else []
        assignees = [
            {"label": f"{u.label} ({u.username} · {t(f'role.{u.role}', lang)})", "value": u.username}
            for u in users
            if can(u, Permission.CASE_EDIT)
        ]
        notes = annotations.list_annotations(store, "Case", case.case_id)
        return (
            HIDDEN,
            {},
            case_view.head(case, lang, repeat, names=people(store)),
            case_view.path(case, lang),
            case_view.move_buttons(case, user, lang) if can(user, Permission.CASE_EDIT) else [],
            {} if case.state == "申诉" else HIDDEN,
            {} if "处理" in nexts and may_decide else HIDDEN,
            case.basis or "",
            {} if may_assign else HIDDEN,
            assignees,
            case.assignee,
            {} if can(user, Permission.EXPORT_REFERRAL) else HIDDEN,
            {} if case.referral.get("to") and can(user, Permission.CASE_EDIT) else HIDDEN,
            case_view.history(case, lang, names=people(store)),
            case_view.annotation_rows(notes, lang),
            _covers(store, case, lang),
            {"case_id": case.case_id, "version": case.version},
        )

    @app.callback(
        Output("case-message", "children", allow_duplicate=True),
        Output("case-refresh", "data", allow_duplicate=True),
        Output("case-note", "value"),
        Input({"type": "case-move", "step": ALL}, "n_clicks"),
        State("case-version", "data"),
        State("case-note", "value"),
        State("case-appeal", "value"),
        State("case-outcome", "value"),
        State("case-basis", "value"),
        State("case-recovered", "value"),
        State("case-penalty", "value"),
        State("lang", "data"),
        prevent_initial_call=True,
    )
    def move(_clicks, version, note, appeal, outcome, basis, recovered, penalty, lang):  # type: ignore[no-untyped-def]
        button = clicked()
        if button is None or not version:
            return no_update, no_update, no_update
        to = workflow.STATES[int(button["step"])]
        try:
            user = require_user(Permission.CASE_EDIT)
            current = workflow.get_case(store, version["case_id"])
            problem = _check_move(current.state, to, note, appeal, outcome, basis, recovered, penalty, lang)
            if problem:
                return (
                    dbc.Alert(problem, color="warning", class_name="case-alert", dismissable=True),
                    no_update,
                    no_update,
                )
            deciding = to == "处理"
            case = workflow.move_case(
                store,
                user,
                version["case_id"],
                to,
                int(version["version"]),
                outcome=list(outcome or []) if deciding else None,
                note=(note or None),
                appeal_outcome=appeal if current.state == "申诉" else None,
                amount_recovered=_number(recovered) if deciding else None,
                penalty=_number(penalty) if deciding else None,
                basis=(basis or None) if deciding else None,
                settings=services.settings,
            )
        except CaseConflict as exc:
            return _conflict(exc, lang), time.time(), no_update
        except RingSightError as exc:
            return _error(exc, lang), no_update, no_update
        return (
            _ok(t("case.moved", lang, case=case.case_id, state=case_view.state_label(case.state, lang))),
            time.time(),
            "",
        )

    @app.callback(
        Output("case-message", "children", allow_duplicate=True),
        Output("case-refresh", "data", allow_duplicate=True),
        Input("case-assign-btn", "n_clicks"),
        State("case-version", "data"),
        State("case-assignee", "value"),
        State("case-note", "value"),
        State("lang", "data"),
        prevent_initial_call=True,
    )
    def assign(n, version, assignee, note, lang):  # type: ignore[no-untyped-def]
        if not n or not version or not assignee:
            return no_update, no_update
        try:
            user = require_user(Permission.CASE_ASSIGN)
            case = workflow.assign_case(
                store, user, version["case_id"], assignee, int(version["version"]), note=note or None
            )
        except CaseConflict as exc:
            return _conflict(exc, lang), time.time()
        except RingSightError as exc:
            return _error(exc, lang), no_update
        assigned = case_view.who(people(store), case.assignee)
        return _ok(t("case.assigned", lang, case=case.case_id, user=assigned)), time.time()

    @app.callback(
        Output("case-message", "children", allow_duplicate=True),
        Output("case-refresh", "data", allow_duplicate=True),
        Output("case-note-text", "value"),
        Input("case-note-add", "n_clicks"),
        State("case-version", "data"),
        State("case-note-text", "value"),
        State("lang", "data"),
        prevent_initial_call=True,
    )
    def add_note(n, version, text, lang):  # type: ignore[no-untyped-def]
        if not n or not version:
            return no_update, no_update, no_update
        if not (text or "").strip():
            return dbc.Alert(t("notes.empty", lang), color="warning", class_name="case-alert"), no_update, no_update
        try:
            user = require_user(Permission.ANNOTATE)
            annotations.annotate(store, user, "Case", version["case_id"], text=text, settings=services.settings)
        except RingSightError as exc:
            return _error(exc, lang), no_update, no_update
        return None, time.time(), ""

    @app.callback(
        Output("case-message", "children", allow_duplicate=True),
        Output("case-refresh", "data", allow_duplicate=True),
        Input("case-track-save", "n_clicks"),
        State("case-version", "data"),
        State("case-receipt", "value"),
        State("case-decision", "value"),
        State("lang", "data"),
        prevent_initial_call=True,
    )
    def track(n, version, receipt, decision, lang):  # type: ignore[no-untyped-def]
        """Record the receiving body's receipt (回执) and decision on a referred case."""
        if not n or not version or not ((receipt or "").strip() or (decision or "").strip()):
            return no_update, no_update
        try:
            receipt_ts = _date_ts(receipt)
        except ValueError:
            return dbc.Alert(t("case.bad_date", lang), color="warning", class_name="case-alert"), no_update
        try:
            user = require_user(Permission.CASE_EDIT)
            workflow.update_case(
                store,
                user,
                version["case_id"],
                int(version["version"]),
                referral_receipt_ts=receipt_ts,
                referral_decision=(decision or "").strip() or None,
            )
        except CaseConflict as exc:
            return _conflict(exc, lang), time.time()
        except RingSightError as exc:
            return _error(exc, lang), no_update
        return _ok(t("case.tracked", lang)), time.time()

    # -- the referral package ----------------------------------------------------------------------
    @app.callback(
        Output("case-download-zip", "data"),
        Output("case-export-info", "children"),
        Output("case-export-pdf", "disabled"),
        Input("case-export-btn", "n_clicks"),
        State("case-version", "data"),
        State("lang", "data"),
        prevent_initial_call=True,
    )
    def export(n, version, lang):  # type: ignore[no-untyped-def]
        from ringsight.cases.referral import build_referral

        if not n or not version:
            return no_update, no_update, no_update
        case_id = version["case_id"]
        try:
            user = require_user(Permission.EXPORT_REFERRAL)
            stamp = time.strftime("%Y%m%d-%H%M%S")
            out_dir = Path(services.settings.data_dir) / "referrals" / case_id / f"{stamp}-{user.username}"
            package = build_referral(store, case_id, out_dir, user, settings=services.settings)
        except RingSightError as exc:
            return no_update, _error(exc, lang), no_update
        packages.put((current_session().sid, case_id), package)
        info = html.Div(
            [
                html.Span(t("case.exported", lang, file=package.zip.name), id="case-export-done"),
                html.Span(f" · {t('case.audit_id', lang)} {package.audit_id}", className="muted"),
            ]
        )
        return dcc.send_file(str(package.zip)), info, False

    @app.callback(
        Output("case-download-pdf", "data"),
        Input("case-export-pdf", "n_clicks"),
        State("case-version", "data"),
        prevent_initial_call=True,
    )
    @guarded(Permission.EXPORT_REFERRAL)
    def export_pdf(n, version):  # type: ignore[no-untyped-def]
        if not n or not version:
            return no_update
        package = packages.get((current_session().sid, version["case_id"]))
        return dcc.send_file(str(package.pdf)) if package else no_update

    # -- the open cluster's case, in the network side panel -------------------------------------
    @app.callback(
        Output("cluster-case", "children"),
        Input("canvas-cluster", "data"),
        Input("case-refresh", "data"),
        Input("lang", "data"),
    )
    @guarded(Permission.VIEW)
    def cluster_case(cluster_id, _nonce, lang):  # type: ignore[no-untyped-def]
        if not cluster_id:
            return None
        user = require_user(Permission.VIEW)
        cases = workflow.cases_covering(store, "Cluster", cluster_id)
        repeat = sanctions.repeat_offender_clusters(store, [cluster_id]).get(cluster_id, [])
        rows: list[Any] = []
        for case in sorted(cases, key=lambda c: (c.state == CLOSED, -c.updated_ts)):
            rows.append(
                html.Div(
                    [
                        html.Span(case.case_id, className="case-id"),
                        html.Span(case_view.state_label(case.state, lang), className="case-state"),
                        html.Span(t("case.overdue", lang), className="case-overdue") if case.is_overdue() else None,
                        html.Span(case_view.who(people(store), case.assignee), className="muted"),
                        dbc.Button(
                            t("case.view", lang),
                            id={"type": "case-goto", "case": case.case_id},
                            size="sm",
                            color="primary",
                            outline=True,
                            class_name="ms-auto",
                        ),
                    ],
                    className="cluster-case-row",
                )
            )
        if not cases:
            rows.append(
                html.Div(
                    [
                        html.Span(t("case.none", lang), className="muted"),
                        dbc.Button(
                            t("case.open_case", lang),
                            id={"type": "cluster-case-new", "cluster": cluster_id},
                            size="sm",
                            color="danger",
                            class_name="ms-auto",
                            disabled=not can(user, Permission.CASE_EDIT),
                        ),
                    ],
                    className="cluster-case-row",
                )
            )
        if repeat:
            rows.append(
                dbc.Alert(
                    [
                        html.B(t("repeat.badge", lang) + "："),
                        *[html.Div(case_view.repeat_text(s, lang)) for s in repeat],
                    ],
                    color="danger",
                    class_name="repeat-alert",
                )
            )
        return html.Div(
            [html.Div(t("case.panel_title", lang), className="panel-title"), *rows],
            className="panel",
            id="cluster-case-panel",
        )


def _covers(store: GraphStore, case: Case, lang: str) -> list[Any]:
    """What the case covers: clusters (with a button to open the network) and entities (masked)."""
    rows: list[Any] = []
    for target in workflow.case_targets(store, case.case_id):
        label = target["label"]
        if label == "Cluster":
            rows.append(
                html.Div(
                    [
                        html.Span(type_label("Cluster", lang), className="type-badge cover-badge"),
                        html.Span(str(target["key"])),
                        dbc.Button(
                            t("case.open_network", lang),
                            id={"type": "case-open-cluster", "cluster": str(target["key"])},
                            size="sm",
                            color="primary",
                            outline=True,
                            class_name="ms-auto",
                        ),
                    ],
                    className="cluster-case-row",
                )
            )
        else:
            rows.append(
                html.Div(
                    [
                        html.Span(type_label(label, lang), className="type-badge cover-badge"),
                        html.Span(display_label(label, target["properties"])),
                    ],
                    className="cluster-case-row",
                )
            )
    return rows or [html.Div(t("case.covers_none", lang), className="muted")]


def _date_ts(value: str | None) -> int | None:
    """'2026-01-05' (Beijing time) as epoch seconds; None when empty; ValueError when not a date."""
    text = (value or "").strip()
    if not text:
        return None
    return int(datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=SHANGHAI).timestamp())


def _number(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _check_move(
    state: str,
    to: str,
    note: str | None,
    appeal: str | None,
    outcome: list[str] | None,
    basis: str | None,
    recovered: Any,
    penalty: Any,
    lang: str,
) -> str | None:
    """The common reasons a move would be refused, in the user's language, before asking the workflow."""
    if (state, to) in case_view.BACK_STEPS and not (note or "").strip():
        return t("case.need_note", lang)
    if state == "申诉" and not appeal:
        return t("case.need_appeal", lang)
    if to == "处理":
        if not outcome:
            return t("case.need_outcome", lang)
        if not (basis or "").strip():
            return t("case.need_basis", lang)
        if "recovered" in outcome and not _number(recovered):
            return t("case.need_recovered", lang)
        if "penalty" in outcome and not _number(penalty):
            return t("case.need_penalty", lang)
    return None
