"""The frame around the work areas: language switch, translated texts, run information."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import ALL, Dash, Input, Output, ctx

from ringsight.ui.callbacks import Services
from ringsight.ui.data import SHANGHAI
from ringsight.ui.i18n import input_label, t
from ringsight.ui.layout import context_menu
from ringsight.ui.styles import LAYOUT_NAMES


def register(app: Dash, services: Services) -> None:
    """Language switching and the run banner."""

    @app.callback(Output("lang", "data"), Input("lang-switch", "value"), prevent_initial_call=True)
    def switch_language(value: str) -> str:
        return "en" if value == "en" else "zh"

    @app.callback(
        Output({"type": "i18n", "key": ALL, "i": ALL}, "children"),
        Output("search-input", "placeholder"),
        Output("tab-queue", "label"),
        Output("tab-network", "label"),
        Output("tab-console", "label"),
        Output("layout-select", "options"),
        Output("weight-mode", "options"),
        Output("time-range", "start_date_placeholder_text"),
        Output("time-range", "end_date_placeholder_text"),
        Output("query-select", "placeholder"),
        Output("adhoc-text", "placeholder"),
        Output("cy", "contextMenu"),
        Input("lang", "data"),
        prevent_initial_call=True,
    )
    def translate(lang: str) -> tuple[Any, ...]:
        texts = [t(o["id"]["key"], lang) for o in ctx.outputs_list[0]]
        return (
            texts,
            t("search.placeholder", lang),
            t("tab.queue", lang),
            t("tab.network", lang),
            t("tab.console", lang),
            [{"label": t(f"layout.{n}", lang), "value": n} for n in LAYOUT_NAMES],
            [
                {"label": t("weight.count", lang), "value": "count"},
                {"label": t("weight.amount", lang), "value": "amount"},
            ],
            t("time.start", lang),
            t("time.end", lang),
            t("console.pick", lang),
            t("console.adhoc_placeholder", lang),
            context_menu(lang),
        )

    @app.callback(Output("run-info", "children"), Input("lang", "data"))
    def run_info(lang: str) -> Any:
        run = services.data.run()
        if run is None:
            return t("app.run_none", lang)
        finished = run.get("finished_ts")
        when = datetime.fromtimestamp(finished, SHANGHAI).strftime("%Y-%m-%d %H:%M") if finished else ""
        from dash import html

        return [
            html.Span(t("app.run", lang) + " "),
            html.B(run.get("run_id", "")),
            html.Span(f" · {t('app.finished', lang)} {when}" if when else ""),
            *coverage_note(run.get("coverage") or [], lang),
        ]


def coverage_note(coverage: list[dict[str, Any]], lang: str) -> list[Any]:
    """' · 2 detectors had no input' with the detectors and their absent inputs in a list that unfolds.

    Why in the run banner: "0 leads" from a detector that had nothing to work on must not read as
    "nothing suspicious" (see ``algorithms/coverage.py``). Runs made before coverage was kept show nothing.
    """
    from dash import html

    if not coverage:
        return []
    idle = [c for c in coverage if c.get("status") == "no input"]
    partial = [c for c in coverage if c.get("status") == "partial"]
    if not idle and not partial:
        return [html.Span(f" · {t('cov.ok', lang)}", id="run-coverage", className="run-cov-ok")]
    parts = []
    if idle:
        parts.append(t("cov.idle_one", lang) if len(idle) == 1 else t("cov.idle", lang, n=len(idle)))
    if partial:
        parts.append(t("cov.partial", lang, n=len(partial)))
    summary = "，".join(parts) if lang != "en" else ", ".join(parts)

    def line(c: dict[str, Any]) -> str:
        absent = [f"{t('cov.needs', lang)} {input_label(m, lang)}" for m in c.get("missing") or []]
        absent += [f"{t('cov.without', lang)} {input_label(w, lang)}" for w in c.get("without") or []]
        return f"{c['detector']} — {'; '.join(absent)}"

    lines = [line(c) for c in idle + partial]
    return [
        html.Span(" · "),
        html.Details(
            [
                html.Summary(summary, className="run-cov-summary" + (" run-cov-idle" if idle else "")),
                html.Ul([html.Li(text) for text in lines], className="run-cov-list"),
            ],
            id="run-coverage",
            className="run-cov",
            title="\n".join(lines),
        ),
    ]
