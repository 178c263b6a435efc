"""While the graph store is down or restarting, every request gets a clear 503, never a 500.

The embedded store restarts a dead server on the next request (see
:mod:`ringsight.graph.falkordb_store`); until it answers, requests raise
:class:`~ringsight.errors.StoreUnavailable` (``StoreRestarting`` during a
restart). Here Flask turns that into HTTP 503 with ``Retry-After``: JSON for
callbacks (the page's script shows the message as a banner), a short page
that reloads itself for everything else.
"""

from __future__ import annotations

from html import escape

from flask import Flask, Response, jsonify, request

from ringsight.errors import StoreRestarting, StoreUnavailable

RESTARTING = "图库正在重启 / store restarting"
RETRY_AFTER_S = 5


def install(server: Flask) -> None:
    """Answer StoreUnavailable with 503 on every route of ``server``."""
    server.register_error_handler(StoreUnavailable, store_down)


def store_down(exc: StoreUnavailable) -> Response:
    """The 503 reply: what happened, and that the page will try again."""
    title = RESTARTING if isinstance(exc, StoreRestarting) else "图库暂不可用 / store unavailable"
    detail = exc.message + (f" {exc.hint}" if exc.hint else "")
    if request.path.startswith("/_"):
        response = jsonify(error=title, detail=detail, store="restarting", retry_after=RETRY_AFTER_S)
    else:
        body = (
            f'<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="{RETRY_AFTER_S}">'
            f"<title>RingSight</title><h2>{escape(title)}</h2><p>{escape(detail)}</p>"
        )
        response = Response(body, mimetype="text/html")
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response
