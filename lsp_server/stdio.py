"""Serving LSP over stdio with stdin read by the event loop itself.

pygls reads stdin through a worker thread: one thread round trip per header line and one per
body, so three per message, and every keystroke sends two messages (didChange, then the
inline-completion request). On a 2-core machine each round trip costs the loop tens to
hundreds of microseconds of waking and handing over. An asyncio pipe reader wakes the loop
directly. Where stdin is not a pipe (a regular file, a console), pygls' threaded reader stays.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from typing import TYPE_CHECKING, BinaryIO

from pygls.io_ import StdinAsyncReader, StdoutWriter, run_async

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer

log = logging.getLogger("ghostwriter.stdio")
READ_LIMIT = 2**20  # bytes a header line may have; bodies are read by length, so any size works


class PipeReader:
    """pygls' reader interface (readline, readexactly) over an asyncio stream."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.stream = stream

    async def readline(self) -> bytes:
        return await self.stream.readline()

    async def readexactly(self, n: int) -> bytes:
        try:
            return await self.stream.readexactly(n)
        except asyncio.IncompleteReadError as error:  # the client went away mid-message
            return error.partial


async def open_pipe_reader(stdin: BinaryIO) -> PipeReader | None:
    """A loop-driven reader for `stdin`, or None where the loop cannot watch it."""
    loop = asyncio.get_running_loop()
    stream = asyncio.StreamReader(limit=READ_LIMIT)
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), stdin)
    except (ValueError, OSError) as exc:
        log.debug("stdin is not a pipe (%s); reading it in a thread", exc)
        return None
    return PipeReader(stream)


def serve_stdio(server: LanguageServer, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
    """What pygls' own stdio start does, with the pipe reader in front."""
    stop = threading.Event()
    server._stop_event = stop
    server.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
    source = stdin or sys.stdin.buffer

    async def main() -> None:
        reader = await open_pipe_reader(source) or StdinAsyncReader(source, server.thread_pool)
        await run_async(stop_event=stop, reader=reader, protocol=server.protocol, logger=log,
                        error_handler=server.report_server_error)

    try:
        asyncio.run(main())
    except BrokenPipeError:
        log.error("the connection to the editor was lost; shutting down")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.shutdown()
