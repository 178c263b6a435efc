"""Files with personal data are private to the user running RingSight: 0600 files in 0700 directories.

Staged claims tables, the store's snapshots and append-only files, the
application databases, referral packages and exports all hold personal data
(names, resident IDs, diagnoses). On a shared server another local account
must not be able to read them, whatever the system's default umask.

Two layers: :func:`restrict_umask` makes every file the process creates from
then on private (polars, sqlite and redis create files through the umask),
and :func:`private_dir` / :func:`private_file` set the mode explicitly on
what RingSight creates itself, so a file is private even when something else
changed the umask.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600


def restrict_umask() -> None:
    """From now on this process creates files 0600 and directories 0700 (at most)."""
    os.umask(os.umask(PRIVATE_UMASK) | PRIVATE_UMASK)


def private_dir(path: Path | str, *, tighten: bool = False) -> Path:
    """Create ``path`` (and missing parents) as 0700 directories.

    An existing directory is made 0700 only with ``tighten`` (RingSight's own
    directories: the data directory, the store's, the staging area) — never a
    folder of the user's that an export merely goes into.
    """
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=DIR_MODE)
        _chmod_if_owned(directory, DIR_MODE)
    if tighten:
        _chmod_if_owned(path, DIR_MODE)
    return path


def private_file(path: Path | str) -> Path:
    """Make an existing file 0600 (when we own it)."""
    path = Path(path)
    _chmod_if_owned(path, FILE_MODE)
    return path


def private_tree(root: Path | str) -> None:
    """Every directory under ``root`` 0700 and every file 0600 (those we own)."""
    root = Path(root)
    if not root.exists():
        return
    _chmod_if_owned(root, DIR_MODE if root.is_dir() else FILE_MODE)
    for base, dirs, files in os.walk(root):
        for name in dirs:
            _chmod_if_owned(Path(base) / name, DIR_MODE)
        for name in files:
            _chmod_if_owned(Path(base) / name, FILE_MODE)


def _chmod_if_owned(path: Path, mode: int) -> None:
    """chmod when the current user owns ``path`` (a shared parent like /tmp is left alone)."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if info.st_uid == os.getuid() and not path.is_symlink() and (info.st_mode & 0o777) != mode:
        os.chmod(path, mode)
