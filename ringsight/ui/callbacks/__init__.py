"""Dash callbacks, one module per screen area; :func:`register_callbacks` wires them all.

Callbacks share one :class:`Services` object (the store reads, the canvas
operations and the query library), created once per app by
:func:`ringsight.ui.app.create_app`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dash import Dash

from ringsight.config import Settings
from ringsight.ui.canvas import Canvas, CanvasCache
from ringsight.ui.data import UiData


@dataclass
class Services:
    """What callbacks need: store reads, canvas operations, settings and the Cypher library (or None)."""

    data: UiData
    canvas: Canvas
    settings: Settings
    library: Any = None
    library_error: str | None = None
    cache: CanvasCache = field(default_factory=CanvasCache)


def register_callbacks(app: Dash, services: Services) -> None:
    """Attach every area's callbacks to ``app``."""
    from ringsight.ui.callbacks import audit, canvas, cases, chrome, console, details, notes, queue, search

    for area in (chrome, queue, canvas, details, search, console, cases, notes, audit):
        area.register(app, services)
