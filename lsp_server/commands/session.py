"""One command's run of the server's own services, without an editor.

The same `Services` the language server builds (settings layers, backend router with the bundled
engine, disk cache, pipeline with redaction and budgets, usage ledger) are built here around the
headless client face; the usage a command spends is added to the same on-disk store the servers
use, so today's budget and `ghostwriter usage` count every process.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types

from context.languages import normalise_language_id
from lsp_server.commands.headless import HeadlessClient
from lsp_server.commands.terminal import Terminal
from lsp_server.deferred import AfterResponse
from lsp_server.documents import OpenDocument
from lsp_server.errors import BackendStarting
from lsp_server.jsonrpc import RequestNotes
from lsp_server.services import Services
from lsp_server.settings import Settings
from lsp_server.usage import UsageRecord
from lsp_server.usage_store import DailyStore

log = logging.getLogger("ghostwriter.commands")


class ExitCode(enum.IntEnum):
    OK = 0
    GATE = 1  # review: a finding at or above --fail-on
    USAGE = 2  # bad arguments, a file that cannot be read
    FAILED = 3  # the backend failed, or its answer was unusable
    BUDGET = 4  # a budget stopped the work (what was done before is kept)
    BLOCKED = 5  # a privacy rule forbids sending a file
    INTERRUPTED = 130  # Ctrl-C


class CommandError(Exception):
    """Ends a command with one line on stderr and `code`."""

    def __init__(self, code: ExitCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ghostwriter")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def load_settings(arg: str | None) -> tuple[Settings, list[str]]:
    """The server's layers (defaults < settings file < environment) plus `--settings` (file or inline JSON)."""
    from lsp_server.doctor import load_settings as load

    try:
        return load(arg)
    except (OSError, ValueError) as error:
        raise CommandError(ExitCode.USAGE, f"cannot read --settings: {error}") from error


def read_source(path: Path) -> str:
    """A file's text with its line ends as they are (so an in-place write keeps them)."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(ExitCode.USAGE, f"cannot read {path}: {getattr(error, 'strerror', None) or error}") \
            from error


@dataclass
class Session:
    services: Services
    terminal: Terminal
    root: Path
    store: DailyStore | None = None
    unsaved: list[UsageRecord] = field(default_factory=list)
    _version: int = 0

    def open(self, path: Path) -> OpenDocument:
        """Open a file as the editor would (didOpen): syntax tree, workspace index and all."""
        text = read_source(path)
        self._version += 1
        language = normalise_language_id(None, path.name) or "plaintext"
        item = types.TextDocumentItem(uri=path.resolve().as_uri(), language_id=language, version=self._version,
                                      text=text)
        return self.services.documents.open(item)

    def relative(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def flush(self) -> None:
        """Run the pipeline's deferred bookkeeping now and add the usage to the shared store."""
        self.services.after_response.run()
        records, self.unsaved = self.unsaved, []
        if self.store is None or not records:
            return
        ledger = self.services.ledger
        try:
            ledger.load_today(self.store.add(ledger.day, records))
        except Exception as error:  # the command's own result still stands without the disk
            log.warning("cannot save usage: %s", error)

    async def backend_ready(self) -> None:
        """Wait while the bundled engine starts (a bar on a terminal); other failures raise at once."""
        limit = self.services.settings.backend.vllm.startup_timeout_s
        deadline = time.monotonic() + limit
        while True:
            try:
                self.services.router.current()
                return
            except BackendStarting:
                if time.monotonic() > deadline:
                    raise CommandError(ExitCode.FAILED, f"the bundled engine did not start within {limit} s") from None
                await asyncio.sleep(0.1)


@asynccontextmanager
async def open_session(settings_arg: str | None, terminal: Terminal,
                       root: Path | None = None) -> AsyncIterator[Session]:
    settings, errors = load_settings(settings_arg)
    root = (root or Path.cwd()).resolve()
    client = HeadlessClient(terminal, root)
    services = Services(client, RequestNotes(), AfterResponse())
    services.reuse_engine = True
    session = Session(services, terminal, root)
    try:
        await services.apply(settings, errors)
        services.pipeline.listeners.append(session.unsaved.append)
        session.store = _open_store(services)
        yield session
    finally:
        session.flush()
        terminal.close()
        await services.close()
        if session.store is not None:
            session.store.close()


def _open_store(services: Services) -> DailyStore | None:
    try:
        store = DailyStore(services.settings.cache_dir)
        services.ledger.load_today(store.load(services.ledger.day))  # today's budget counts other processes
        return store
    except Exception as error:
        log.warning("cannot open the usage store: %s", error)
        return None
