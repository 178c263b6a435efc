"""The frame around the work areas: language switch, translated texts, run information."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import ALL, Dash, Input, Output, ctx

from ringsight.ui.callbacks import Services
from ringsight.ui.data import SHANGHAI
from ringsight.ui.i18n import t
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
        ]
