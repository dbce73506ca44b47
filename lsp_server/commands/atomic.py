"""Replace a file atomically: readers and crashes see the old bytes or the new ones, never half of each.

The new text goes to a temporary file in the same directory (so the rename stays on one file
system), is flushed to disk, takes the original's permission bits, and is renamed over it.
Interrupted before the rename (Ctrl-C, an error), the temporary file is removed; killed outright,
only a hidden `.NAME.*.ghostwriter-tmp` file can remain and the original is untouched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path

TEMP_SUFFIX = ".ghostwriter-tmp"
# Test seam, inert unless set: seconds to sleep between the finished temporary file and the
# rename, so a test can interrupt or kill the process at the one moment that matters.
PAUSE_ENV = "GHOSTWRITER_TEST_PAUSE_BEFORE_RENAME_S"


def write_atomically(path: Path, text: str) -> None:
    target = Path(os.path.realpath(path))  # through a symlink: replace what it points to, keep the link
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        shutil.copymode(target, temp_name)
        pause = os.environ.get(PAUSE_ENV)
        if pause:
            time.sleep(float(pause))
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    _sync_directory(target.parent)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (where the platform lets a directory be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
