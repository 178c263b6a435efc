"""The run report: JSON for machines, one HTML page for people, a small picture per cluster.

Written to ``<data_dir>/reports/<run_id>/report.{json,html}``. The picture is
an inline SVG (no plotting dependency, opens anywhere, prints): the cluster's
hub entities (facilities, doctors, terminals, phones, addresses) in the middle,
its persons and cards around them, coloured by label.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import polars as pl

from ringsight.identity import render_text
from ringsight.money import cents

if TYPE_CHECKING:
    from ringsight.algorithms.summary import RunSummary

COLOURS = {
    "Patient": "#4e79a7",
    "Card": "#59a14f",
    "Phone": "#f28e2b",
    "Address": "#b07aa1",
    "Facility": "#e15759",
    "Doctor": "#76b7b2",
    "Terminal": "#edc948",
    "Operator": "#ff9da7",
}
OUTER = {"Patient", "Card"}


def write_report(
    directory: Path,
    summary: RunSummary,
    clusters: pl.DataFrame,
    members: pl.DataFrame,
    leads: pl.DataFrame,
    top: int = 50,
) -> tuple[Path, Path]:
    """Write report.json and report.html for a run; return their paths."""
    out = directory / summary.run_id
    out.mkdir(parents=True, exist_ok=True)
    best = clusters.head(top)
    by_cluster = {cid: part for (cid,), part in members.partition_by("cluster_id", as_dict=True).items()}
    entries = []
    for row in best.iter_rows(named=True):
        mem = by_cluster.get(row["cluster_id"], members.head(0))
        entries.append(
            {
                "rank": row["rank"],
                "cluster_id": row["cluster_id"],
                "score": row["score"],
                "change": row["change"],
                "typologies": row["typologies"],
                "member_count": row["member_count"],
                "claim_count": row["claim_count"],
                "amount": cents(row["amount"]),
                "fund_amount": cents(row["fund_amount"]),
                "facilities": row["facilities"],
                "district": row["district"],
                "date_from": row["date_from"],
                "date_to": row["date_to"],
                "repeat_offender": row["repeat_offender"],
                "explanation_zh": row["explanation_zh"],
                "explanation_en": row["explanation_en"],
                "signals": json.loads(row["signals"]),
                "members": mem.select("label", "key", "role", "weight").head(200).to_dicts(),
            }
        )
    data = {"run": _summary_dict(summary), "lead_counts": _lead_counts(leads), "clusters": entries}
    json_path = out / "report.json"
    json_path.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    html_path = out / "report.html"
    html_path.write_text(_html(data), encoding="utf-8")
    return html_path, json_path


def _summary_dict(summary: RunSummary) -> dict[str, Any]:
    skip = {"report_html", "report_json", "top", "cluster_frame", "member_frame"}
    return {f.name: getattr(summary, f.name) for f in fields(summary) if f.name not in skip}


def _lead_counts(leads: pl.DataFrame) -> dict[str, int]:
    if leads.is_empty():
        return {}
    return dict(leads.group_by("detector").len().sort("detector").iter_rows())


def cluster_svg(members: list[dict[str, Any]], size: int = 220) -> str:
    """A small SVG picture of one cluster: hubs in the middle, persons and cards around."""
    hubs = [m for m in members if m["label"] not in OUTER][:8]
    outer = [m for m in members if m["label"] in OUTER][:60]
    c = size / 2
    pos: list[tuple[float, float, dict[str, Any]]] = []
    for i, m in enumerate(hubs):
        r = 0 if len(hubs) == 1 else size * 0.14
        a = 2 * math.pi * i / max(1, len(hubs))
        pos.append((c + r * math.cos(a), c + r * math.sin(a), m))
    ring = []
    for i, m in enumerate(outer):
        a = 2 * math.pi * i / max(1, len(outer))
        ring.append((c + size * 0.42 * math.cos(a), c + size * 0.42 * math.sin(a), m))
    lines = [
        f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{hx:.1f}" y2="{hy:.1f}" stroke="#bbb" stroke-width="0.6"/>'
        for x, y, _ in ring
        for hx, hy, _ in pos
    ]
    dots = [
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{7 if m in hubs else 4}" fill="{COLOURS.get(m["label"], "#999")}">'
        f"<title>{html.escape(m['label'])} {html.escape(str(m['key'])[:24])} ({html.escape(str(m['role']))})</title>"
        "</circle>"
        for x, y, m in pos + ring
    ]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}">{"".join(lines)}{"".join(dots)}</svg>'
    )


def _html(data: dict[str, Any]) -> str:
    run = data["run"]
    rows = []
    for e in data["clusters"]:
        signals = "".join(
            f"<li>{html.escape(render_text(s['evidence_zh']))}<br>"
            f"<small>{html.escape(render_text(s['evidence_en']))}</small> "
            f"<b>+{s['contribution']:g}</b></li>"
            for s in e["signals"]
        )
        rows.append(
            f"<section><h2>#{e['rank']} {e['cluster_id']} — {e['score']:g} "
            f"<span class='chg {e['change']}'>{e['change']}</span></h2>"
            f"<div class='row'>{cluster_svg(e['members'])}<div>"
            f"<p>{html.escape(', '.join(e['typologies'] or []))} · {e['member_count']} members · "
            f"{e['claim_count']} claims · ¥{e['amount']:,.2f} (fund ¥{e['fund_amount']:,.2f}) · "
            f"{html.escape(str(e['date_from']))} – {html.escape(str(e['date_to']))}</p>"
            f"<ul>{signals}</ul></div></div></section>"
        )
    cov = _coverage_html(run.get("coverage") or []) + _engines_html(run.get("engines") or {})
    legend = " ".join(f"<span style='color:{c}'>●</span> {lb}" for lb, c in COLOURS.items())
    changes = ", ".join(f"{k}: {v}" for k, v in run["changes"].items()) or "none"
    return f"""<!doctype html><html lang="zh"><head><meta charset="utf-8">
<title>RingSight 检测报告 {run["run_id"]}</title>
<style>body{{font-family:"Noto Sans CJK SC",sans-serif;margin:2em;max-width:1100px}}
section{{border-top:1px solid #ddd;padding:.5em 0}}.row{{display:flex;gap:1.5em}}
.chg{{font-size:.7em;padding:.1em .4em;border-radius:.3em;background:#eee}}.new{{background:#fde0dd}}
.grown{{background:#fee8c8}}
.cov td,.cov th{{padding:.1em .6em;text-align:left}}.recurring{{background:#f4cccc}}
small{{color:#666}}</style></head><body>
<h1>RingSight 检测报告 / detection report {run["run_id"]}</h1>
<p>{run["claims"]:,} claims ({run["source"]}), {run["leads"]:,} leads, {run["clusters"]:,} clusters — {changes}.
Window {_day(run["since_ts"])} – {_day(run["until_ts"])} (Asia/Shanghai).</p>{cov}<p>{legend}</p>
{"".join(rows)}
</body></html>"""


def _coverage_html(coverage: list[dict[str, Any]]) -> str:
    """The detectors that had nothing to work on, or worked without an input that sharpens them."""
    idle = [c for c in coverage if c["status"] == "no input"]
    partial = [c for c in coverage if c["status"] == "partial"]
    if not idle and not partial:
        return "<p>检测覆盖 / coverage: every detector had its inputs.</p>"
    rows = "".join(
        f"<tr><td>{html.escape(c['detector'])}</td><td>{html.escape(c['status'])}</td>"
        f"<td>{html.escape(', '.join(c['missing']) or '—')}</td><td>{html.escape(', '.join(c['without']) or '—')}</td>"
        f"<td>{c['leads']}</td></tr>"
        for c in idle + partial
    )
    return (
        "<h3>检测覆盖 / what could not be checked</h3><table class='cov'><tr><th>detector</th><th>status</th>"
        f"<th>needs (absent)</th><th>ran without</th><th>leads</th></tr>{rows}</table>"
    )


def engines_line(engines: dict[str, str]) -> str:
    """Which detectors scanned the window on which engine, when any ran off this machine ('' otherwise)."""
    if not engines or set(engines.values()) == {"polars"}:
        return ""
    by: dict[str, list[str]] = {}
    for name, engine in engines.items():
        by.setdefault(engine, []).append(name)
    parts = [f"{engine}: {', '.join(names)}" for engine, names in sorted(by.items(), key=lambda kv: kv[0] == "polars")]
    note = " (polars: not yet ported to Spark, run on this machine over the same tables)" if "polars" in by else ""
    return "; ".join(parts) + note


def _engines_html(engines: dict[str, str]) -> str:
    line = engines_line(engines)
    return f"<p>引擎 / engines — {html.escape(line)}</p>" if line else ""


def _day(ts: int) -> str:
    """Epoch seconds as a local (Asia/Shanghai) date-time for display."""
    return datetime.fromtimestamp(ts, ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
