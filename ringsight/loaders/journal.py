"""The load journal: what an interrupted load had finished, so a rerun resumes instead of restarting.

A load works in a pending directory beside the staged tables
(``<staging>/.pending/<load_id>/``). Each chunk read from an input file is
written there as Parquet *before* the journal records it; each graph batch is
recorded after the store acknowledged it. Killed at any point, the next run of
the same command (same files, same sizes and modification times, same
profile) finds the journal, skips what it records, redoes at most the chunk
or batch in flight — every batch is idempotent (MERGE, or a bulk build of a
graph that is deleted and rebuilt) — and ends with the same graph as an
uninterrupted load. The journal file is replaced atomically (write, fsync,
rename), so it is never half-written.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PENDING = ".pending"


class Journal:
    """Progress of one load, persisted after every completed step."""

    def __init__(self, directory: Path, data: dict[str, Any]) -> None:
        self.directory = directory
        self.data = data

    @property
    def path(self) -> Path:
        return self.directory / "journal.json"

    @property
    def load_id(self) -> str:
        return str(self.data["load_id"])

    @property
    def resumed(self) -> bool:
        return bool(self.data.get("resumed"))

    # -- opening --------------------------------------------------------------
    @classmethod
    def open(cls, staging: Path, fingerprint: str) -> tuple[Journal, list[str]]:
        """Resume the pending load with this fingerprint, or start a new one.

        Returns the journal and the ids of unfinished loads of *other* inputs
        that were abandoned (their pending files are removed).
        """
        root = staging / PENDING
        root.mkdir(parents=True, exist_ok=True)
        abandoned: list[str] = []
        found: Journal | None = None
        for path in sorted(root.glob("*/journal.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                data = {}
            if found is None and data.get("fingerprint") == fingerprint:
                data["resumed"] = True
                found = cls(path.parent, data)
            else:
                abandoned.append(path.parent.name)
                shutil.rmtree(path.parent, ignore_errors=True)
        for stray in root.iterdir():  # a directory whose journal was never written
            if stray.is_dir() and not (stray / "journal.json").exists():
                shutil.rmtree(stray, ignore_errors=True)
        if found is not None:
            found.save()
            return found, abandoned
        load_id = time.strftime("L%Y%m%d-%H%M%S") + f"-{uuid.uuid4().hex[:6]}"
        directory = root / load_id
        directory.mkdir(parents=True)
        journal = cls(directory, {"load_id": load_id, "fingerprint": fingerprint, "chunks": {}, "batches": {}})
        journal.save()
        return journal, abandoned

    # -- recording --------------------------------------------------------------
    def save(self) -> None:
        """Atomically replace the journal file."""
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(self.data, handle, ensure_ascii=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.save()

    def chunk(self, key: str) -> dict[str, Any] | None:
        """The recorded outcome of a staged chunk, or None when it is not done."""
        return self.data["chunks"].get(key)

    def chunk_done(self, key: str, outcome: dict[str, Any]) -> None:
        self.data["chunks"][key] = outcome
        self.save()

    def batches_done(self, step: str) -> int:
        return int(self.data["batches"].get(step, 0))

    def batch_done(self, step: str, count: int) -> None:
        self.data["batches"][step] = count
        self.save()

    def subdir(self, name: str) -> Path:
        path = self.directory / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def discard(self) -> None:
        """Remove the pending directory once its files have moved into place."""
        shutil.rmtree(self.directory, ignore_errors=True)


@contextlib.contextmanager
def load_lock(staging: Path) -> Iterator[None]:
    """One load at a time per graph (a second one waits)."""
    staging.mkdir(parents=True, exist_ok=True)
    with open(staging / "load.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_parquet_atomic(frame: Any, path: Path) -> None:
    """Write a Parquet file under a temporary name and rename it, so a crash leaves no half file."""
    tmp = path.with_name(path.name + ".tmp")
    frame.write_parquet(tmp, compression="lz4", statistics=False)
    os.replace(tmp, path)
