"""How the canvas looks: one shape, colour and icon per entity type, link styles, layouts, legend.

Encodings an investigator reads at a glance:

- **type** — shape + colour + a white icon (legend in the corner);
- **node size** — claim amount in view (sum of the node's claim links);
- **link width** — claim count or amount (switchable), claim links solid,
  contact links (phone, address, card) dashed, affiliations dotted;
- **cluster members** — red ring, the ring's hub a thick dark-red ring;
  members of *other* clusters an amber dashed ring;
- **time filter** — nodes with no claim in the chosen range fade out.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from dash import html

from ringsight.ui.i18n import tr

FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'

# label -> (cytoscape shape, colour, legend polygon)
TYPES: dict[str, tuple[str, str]] = {
    "Patient": ("ellipse", "#2563eb"),
    "Card": ("round-rectangle", "#0891b2"),
    "Phone": ("round-diamond", "#7c3aed"),
    "Address": ("round-pentagon", "#d97706"),
    "Facility": ("round-octagon", "#15803d"),
    "Doctor": ("round-hexagon", "#db2777"),
    "Terminal": ("barrel", "#64748b"),
    "Operator": ("round-tag", "#475569"),
    "TraceCode": ("star", "#a16207"),
}

MEMBER = "#dc2626"
HUB = "#7f1d1d"
FLAGGED = "#f59e0b"
ANNOTATED = "#facc15"
CLAIM_LINK = "#64748b"
CONTACT_LINK = "#8b5cf6"
AFFILIATION_LINK = "#94a3b8"
CONTACT_RELS = ("HAS_CARD", "HAS_PHONE", "CONTACT_PHONE", "LIVES_AT")

# Simple white glyphs (24×24 viewBox) drawn inside nodes.
_ICONS: dict[str, str] = {
    "Patient": '<circle cx="12" cy="7.5" r="4"/><path d="M4 21c0-4.4 3.6-7.5 8-7.5s8 3.1 8 7.5z"/>',
    "Card": '<rect x="2.5" y="5" width="19" height="14" rx="2"/><rect x="2.5" y="8.5" width="19" height="2.6" '
    'fill="#0891b2"/><rect x="5" y="14" width="6" height="2" fill="#0891b2"/>',
    "Phone": '<rect x="7" y="2.5" width="10" height="19" rx="2"/><rect x="8.6" y="5" width="6.8" height="12" '
    'fill="#7c3aed"/><circle cx="12" cy="19.2" r="1" fill="#7c3aed"/>',
    "Address": '<path d="M12 3 2.5 11h2.8v9.5h5v-6h3.4v6h5V11h2.8z"/>',
    "Facility": '<rect x="4" y="4" width="16" height="16" rx="2"/><path d="M10.3 7h3.4v3.3H17v3.4h-3.3V17h-3.4v-3.3'
    'H7v-3.4h3.3z" fill="#15803d"/>',
    "Doctor": '<circle cx="12" cy="6.5" r="3.5"/><path d="M5 21c0-4 3-7 7-7s7 3 7 7z"/><path d="M11 15.5h2v2h2v2h-2v2'
    'h-2v-2H9v-2h2z" fill="#db2777"/>',
    "Terminal": '<rect x="5" y="2.5" width="14" height="19" rx="2"/><rect x="7.5" y="5" width="9" height="5" '
    'fill="#64748b"/><g fill="#64748b"><rect x="7.5" y="12" width="2.5" height="2"/><rect x="10.75" y="12" '
    'width="2.5" height="2"/><rect x="14" y="12" width="2.5" height="2"/><rect x="7.5" y="15.5" width="2.5" '
    'height="2"/><rect x="10.75" y="15.5" width="2.5" height="2"/><rect x="14" y="15.5" width="2.5" height="2"/></g>',
    "Operator": '<circle cx="12" cy="7" r="4"/><path d="M4 21c0-4.4 3.6-7.5 8-7.5s8 3.1 8 7.5z"/><rect x="10" '
    'y="15" width="4" height="4" fill="#475569"/>',
    "TraceCode": '<g><rect x="3" y="5" width="1.6" height="14"/><rect x="6" y="5" width="0.9" height="14"/><rect '
    'x="8.2" y="5" width="2.2" height="14"/><rect x="11.6" y="5" width="0.9" height="14"/><rect x="13.8" y="5" '
    'width="1.6" height="14"/><rect x="16.7" y="5" width="0.9" height="14"/><rect x="19" y="5" width="2" '
    'height="14"/></g>',
}


def icon_uri(label: str) -> str:
    """The white glyph of an entity type as an SVG data URI."""
    body = _ICONS.get(label, "")
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="#ffffff">{body}</svg>'
    return "data:image/svg+xml;utf8," + quote(svg)


def stylesheet(weight_by: str = "count", *, large: bool = False) -> list[dict[str, Any]]:
    """The Cytoscape stylesheet; ``large`` trades curves and link labels for speed on big canvases."""
    width = "data(w_amount)" if weight_by == "amount" else "data(w_count)"
    sheet: list[dict[str, Any]] = [
        {
            "selector": "node",
            "style": {
                "label": "data(label)",
                "width": "data(size)",
                "height": "data(size)",
                "font-family": FONT,
                "font-size": 11,
                "color": "#1f2937",
                "text-valign": "bottom",
                "text-margin-y": 4,
                "text-background-color": "#ffffff",
                "text-background-opacity": 0.85,
                "text-background-padding": 2,
                "text-background-shape": "roundrectangle",
                "min-zoomed-font-size": 7,
                "border-width": 2,
                "border-color": "#ffffff",
                "background-width": "60%",
                "background-height": "60%",
            },
        }
    ]
    for label, (shape, colour) in TYPES.items():
        sheet.append(
            {
                "selector": f'node[type = "{label}"]',
                "style": {"shape": shape, "background-color": colour, "background-image": icon_uri(label)},
            }
        )
    sheet += [
        {"selector": 'node[type = "Card"]', "style": {"width": "mapData(size, 26, 80, 34, 104)"}},
        {
            "selector": "node[flagged = 1][member = 0]",
            "style": {"border-color": FLAGGED, "border-width": 3, "border-style": "dashed"},
        },
        {
            "selector": "node[member = 1]",
            "style": {
                "border-color": MEMBER,
                "border-width": 4,
                "outline-color": "#fecaca",
                "outline-width": 3,
                "outline-offset": 1,
            },
        },
        {"selector": 'node[role = "hub"]', "style": {"border-color": HUB, "border-width": 6, "font-weight": "bold"}},
        {"selector": "node[dim = 1]", "style": {"opacity": 0.22}},
        {  # notes or tags on the node (ringsight.ui.callbacks.notes): a yellow halo
            "selector": "node[annotated > 0]",
            "style": {"underlay-color": ANNOTATED, "underlay-opacity": 0.7, "underlay-padding": 7},
        },
        {
            "selector": "node:selected",
            "style": {"overlay-color": "#1d4ed8", "overlay-opacity": 0.18, "overlay-padding": 6},
        },
        {
            "selector": "edge",
            "style": {
                "width": width,
                "line-color": CLAIM_LINK,
                "opacity": 0.8,
                "curve-style": "haystack" if large else "bezier",
                "font-family": FONT,
                "font-size": 9,
                "color": "#334155",
                "text-rotation": "autorotate",
                "text-background-color": "#f8fafc",
                "text-background-opacity": 0.9,
                "text-background-padding": 1,
                "min-zoomed-font-size": 14,
            },
        },
        {"selector": "edge[folded = 1]", "style": {} if large else {"label": "data(label)"}},
        {
            "selector": "edge[folded = 0]",
            "style": {"line-style": "dotted", "line-color": AFFILIATION_LINK, "width": 1.5},
        },
    ]
    for rel in CONTACT_RELS:
        sheet.append(
            {
                "selector": f'edge[rel = "{rel}"]',
                "style": {"line-style": "dashed", "line-color": CONTACT_LINK, "width": 1.8},
            }
        )
    sheet += [
        {"selector": "edge:selected", "style": {"line-color": "#1d4ed8", "opacity": 1, "z-index": 10}},
        {"selector": "edge[dim = 1]", "style": {"opacity": 0.15}},
    ]
    return sheet


def layout_options(name: str, *, roots: list[str] | None = None, nonce: int = 0, elements: int = 0) -> dict[str, Any]:
    """Options for one of the canvas layouts; ``nonce`` makes Dash see a new value so the layout reruns.

    fCoSE drops to its fast spectral ("draft") quality above 600 elements,
    where its refinement phase would take seconds in the browser.
    """
    common = {"fit": True, "padding": 40, "animate": False, "nonce": nonce}
    if name == "fcose":
        return {
            "name": "fcose",
            "quality": "draft" if elements > 600 else "default",
            "randomize": True,
            "nodeRepulsion": 14000,
            "idealEdgeLength": 150,
            "nodeSeparation": 110,
            "packComponents": True,
            "nodeDimensionsIncludeLabels": True,
            **common,
        }
    if name == "cose-bilkent":
        return {"name": "cose-bilkent", "nodeRepulsion": 14000, "idealEdgeLength": 150, "randomize": True, **common}
    if name == "concentric":
        return {"name": "concentric", "minNodeSpacing": 28, **common}
    if name == "breadthfirst":
        selector = ", ".join(f'[id = "{r}"]' for r in (roots or []))
        return {
            "name": "breadthfirst",
            "directed": False,
            "spacingFactor": 1.15,
            **common,
            **({"roots": selector} if selector else {}),
        }
    if name in ("preset", *SERVER_LAYOUTS):
        return {"name": "preset", "fit": True, "padding": 40, "animate": False, "nonce": nonce}
    return {"name": name, **common}


LAYOUT_NAMES = ("auto", "fcose", "cose-bilkent", "concentric", "breadthfirst", "circle", "grid")
#: Layouts computed on the server (ringsight.ui.layouts); the others run in the browser.
SERVER_LAYOUTS = ("auto",)

_POLYGONS = {
    "Patient": '<circle cx="9" cy="9" r="7"/>',
    "Card": '<rect x="1.5" y="4" width="15" height="10" rx="2.5"/>',
    "Phone": '<path d="M9 1.5 16.5 9 9 16.5 1.5 9z"/>',
    "Address": '<path d="M9 1.5 16.5 7 13.7 16H4.3L1.5 7z"/>',
    "Facility": '<path d="M6 1.5h6l4.5 4.5v6L12 16.5H6L1.5 12V6z"/>',
    "Doctor": '<path d="M5 2h8l4 7-4 7H5L1 9z"/>',
    "Terminal": '<rect x="2" y="3" width="14" height="12" rx="3"/>',
    "Operator": '<path d="M2 3h10l4.5 6-4.5 6H2z"/>',
    "TraceCode": '<path d="M9 1.2l2.3 5.1 5.5.5-4.2 3.6 1.3 5.4L9 13l-4.9 2.8 1.3-5.4-4.2-3.6 5.5-.5z"/>',
}


def _swatch(label: str) -> html.Img:
    colour = TYPES[label][1]
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="18" height="18" fill="{colour}">{_POLYGONS[label]}</svg>'
    return html.Img(src="data:image/svg+xml;utf8," + quote(svg), className="legend-swatch")


def _line(colour: str, dash: str, width: int = 3) -> html.Img:
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="26" height="10"><line x1="1" y1="5" x2="25" y2="5" '
        f'stroke="{colour}" stroke-width="{width}" stroke-dasharray="{dash}"/></svg>'
    )
    return html.Img(src="data:image/svg+xml;utf8," + quote(svg), className="legend-swatch")


def _ring(colour: str, dash: str = "") -> html.Img:
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="18" height="18"><circle cx="9" cy="9" r="6.5" fill="#e2e8f0" '
        f'stroke="{colour}" stroke-width="3" stroke-dasharray="{dash}"/></svg>'
    )
    return html.Img(src="data:image/svg+xml;utf8," + quote(svg), className="legend-swatch")


def legend(lang: str) -> html.Div:
    """The canvas legend: entity types, cluster marks and link styles (texts follow the language switch)."""
    items = [html.Div([_swatch(label), tr(f"type.{label}", lang)], className="legend-item") for label in TYPES]
    marks = [
        html.Div([_ring(MEMBER), tr("legend.member", lang)], className="legend-item"),
        html.Div([_ring(FLAGGED, "3 2"), tr("legend.flagged", lang)], className="legend-item"),
        html.Div([_ring(ANNOTATED), tr("legend.annotated", lang)], className="legend-item"),
        html.Div([_line(CLAIM_LINK, "", 4), tr("rel.VISITED", lang)], className="legend-item"),
        html.Div([_line(CONTACT_LINK, "5 3"), tr("rel.HAS_PHONE", lang)], className="legend-item"),
        html.Div([_line(AFFILIATION_LINK, "2 2"), tr("rel.WORKS_AT", lang)], className="legend-item"),
    ]
    return html.Div(
        [
            html.Span(tr("legend.title", lang), className="legend-title"),
            *items,
            html.Span(className="legend-sep"),
            *marks,
            html.Span(className="legend-sep"),
            html.Span(tr("legend.size", lang), className="legend-note"),
            html.Span(tr("legend.edge", lang), className="legend-note"),
        ],
        className="legend",
        id="legend",
    )


#: The AG Grid theme of every table in the workbench (queue, details, cases).
GRID_THEME = {
    "function": "themeBalham.withParams({ fontFamily: 'Noto Sans CJK SC, Microsoft YaHei, sans-serif', "
    "fontSize: 13, headerFontSize: 13, rowHeight: 34, headerHeight: 36, accentColor: '#1d4ed8', "
    "headerBackgroundColor: '#f1f5f9', borderColor: '#e2e8f0' })"
}
