"""A tiny real filesystem (tmpfs) for tests of a full disk: needs root and permission to
mount; skipped otherwise (failed instead in CI with REQUIRE_TMPFS set)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.database import in_ci


@contextmanager
def tiny_tmpfs(size: str, *, covered_by: str, lazy_unmount: bool = False) -> Iterator[Path]:
    """A tmpfs of `size` (`1m`), mounted for the block. `covered_by` names the tests that
    cover the rest where mounting is not possible; `lazy_unmount` for a file something may
    still hold open at the end (a database connection of the test's own loop)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip(f"mounting a tiny tmpfs needs root (the {covered_by} tests cover the rest)")
    mount_point = Path(tempfile.mkdtemp(prefix="egomruk-tiny-"))
    command = ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(mount_point)]
    mounted = subprocess.run(command, capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        mount_point.rmdir()
        reason = f"mount is not permitted here: {mounted.stderr.strip()}"
        if in_ci() and os.environ.get("REQUIRE_TMPFS"):
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", *(["-l"] if lazy_unmount else []), str(mount_point)], check=False)
        mount_point.rmdir()
