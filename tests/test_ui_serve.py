"""``ringsight ui`` serves through a production WSGI server (waitress), never Flask's development server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from ringsight.config import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_ui_is_served_by_waitress(embedded_server, settings: Settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    port = _free_port()
    env = {
        **os.environ,
        "RINGSIGHT_DATA_DIR": str(settings.data_dir),
        "RINGSIGHT_GRAPH_NAME": settings.graph_name,
        "PYTHONUNBUFFERED": "1",
    }
    log = tmp_path / "ui.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ringsight", "ui", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        deadline, answer = time.monotonic() + 60, None
        while time.monotonic() < deadline and answer is None:
            try:
                answer = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5)
            except OSError:
                assert proc.poll() is None, log.read_text()
                time.sleep(0.3)
        assert answer is not None and answer.status == 200, log.read_text()
        assert answer.headers["Server"] == "RingSight"  # waitress's ident; Werkzeug would say "Werkzeug/…"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    output = log.read_text()
    assert "development server" not in output and "Werkzeug" not in output, output
