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

    async def readexactly(self, n: int) -> str:  # pygls hands the body to json.loads, which takes str too
        try:
            body = await self.stream.readexactly(n)
        except asyncio.IncompleteReadError as error:  # the client went away mid-message
            body = error.partial
        return decode_body(body)


def decode_body(body: bytes) -> str:
    """A message body as text. LSP bodies are UTF-8; invalid bytes become U+FFFD rather than losing the
    whole message, which for a request would leave the editor waiting for an answer that never comes.
    (json.loads would decode it the same way, surrogatepass included, so valid bodies cost nothing more.)"""
    try:
        return body.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        log.warning("a message from the client is not valid UTF-8; invalid bytes replaced")
        return body.decode("utf-8", "replace")


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
        await run_async(stop_event=stop, reader=reader,  # type: ignore[arg-type]  # (str bodies, see above)
                        protocol=server.protocol, logger=log,
                        error_handler=server.report_server_error)

    try:
        asyncio.run(main())
    except BrokenPipeError:
        log.error("the connection to the editor was lost; shutting down")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.shutdown()
