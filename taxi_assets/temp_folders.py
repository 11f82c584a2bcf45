"""Temporary folders (downloads, rows staged for a warehouse load), named for the process that
made them.

Each user removes its folder when it ends, even by an exception; a process killed outright
(SIGKILL, the out-of-memory killer) cannot, so the next user removes the folders whose process
is gone instead of letting a month's file per kill pile up in the temp folder.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import psutil

PREFIX = "taxi-source-"
_OWNED = re.compile(rf"^{re.escape(PREFIX)}(\d+)-")


def folder_prefix() -> str:
    """The prefix of this process's temporary folders: ``taxi-source-<pid>-``."""
    return f"{PREFIX}{os.getpid()}-"


def _owner_gone(pid: int, made_at: float) -> bool:
    """Whether the process that made a folder at ``made_at`` has exited; a live process with the
    same pid that started after the folder was made is another process (pid reuse).
    """
    if pid == os.getpid():
        return False
    try:
        process = psutil.Process(pid)
        return process.status() == psutil.STATUS_ZOMBIE or process.create_time() > made_at + 1
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:
        return False  # not ours to judge (another user's process): leave the folder alone


def remove_stale_folders(root: Path | None = None) -> list[Path]:
    """Removes the temporary folders under ``root`` (the temp folder) whose process is gone."""
    root = Path(root or tempfile.gettempdir())
    removed = []
    for path in root.glob(f"{PREFIX}*"):
        match = _OWNED.match(path.name)
        if not match or not path.is_dir():
            continue
        try:
            made_at = path.stat().st_mtime
        except FileNotFoundError:
            continue
        if _owner_gone(int(match.group(1)), made_at):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed
