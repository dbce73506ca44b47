"""Running bundled engines, announced so that a command can reuse a server's engine.

A language server whose engine becomes ready writes one small record (its own pid, the engine's
address, model and arguments) under the cache folder and removes it when the engine stops; a
headless command looking for the same model and arguments uses that engine instead of starting a
second one, which would take minutes and a second copy of the weights in GPU memory. A record
whose server is gone is stale and removed by whoever finds it. Nothing here leaves the machine:
the engine only ever listens on loopback.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("ghostwriter.engine")


@dataclass(frozen=True)
class EngineRecord:
    owner_pid: int  # the language server that supervises the engine
    base_url: str
    model: str
    args: tuple[str, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EngineRecord:
        return cls(int(data["owner_pid"]), str(data["base_url"]), str(data["model"]),
                   tuple(str(arg) for arg in data["args"]))


def registry_dir(cache_dir: Path) -> Path:
    return cache_dir / "engines"


def announce(directory: Path, record: EngineRecord) -> Path | None:
    """Write the record atomically (a reader never sees half of it); None where the disk refuses."""
    path = directory / f"{record.owner_pid}.json"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        partial.write_text(json.dumps(asdict(record)))
        os.replace(partial, path)
    except OSError as error:
        log.warning("cannot announce the bundled engine: %s", error)
        return None
    return path


def withdraw(path: Path | None) -> None:
    if path is not None:
        with contextlib.suppress(OSError):
            path.unlink()


def find(directory: Path, model: str, args: tuple[str, ...]) -> EngineRecord | None:
    """A live server's engine for this model and these arguments, if one is announced.

    Every record is read, even after a match, so that stale ones never pile up whatever the
    order of the pids' names.
    """
    found: EngineRecord | None = None
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else ():
        record = _read(path)
        if record is None or not _alive(record.owner_pid):
            withdraw(path)  # stale: its server is gone (or the file is not ours to understand)
        elif found is None and record.model == model and record.args == args:
            found = record
    return found


def _read(path: Path) -> EngineRecord | None:
    try:
        return EngineRecord.from_json(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive, but not a server we may share
        return False
    return True
