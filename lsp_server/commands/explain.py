"""`ghostwriter explain FILE[:LINE[-LINE]]`: the code action's explanation, as Markdown on stdout."""

from __future__ import annotations

import argparse
import sys

from features.code_actions import ActionRunner
from features.inline_diff import InlineDiffs
from lsp_server.commands import locations
from lsp_server.commands.session import CommandError, ExitCode, Session, open_session
from lsp_server.commands.terminal import Terminal


async def run(args: argparse.Namespace, terminal: Terminal) -> int:
    async with open_session(args.settings, terminal) as session:
        await session.backend_ready()
        text = await explain(session, args.target)
    if not text:
        raise CommandError(ExitCode.FAILED, "the model gave no explanation")
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
    else:
        print(text)
    return ExitCode.OK


async def explain(session: Session, target: locations.Lines) -> str | None:
    document = session.open(target.path)
    try:
        start, end = locations.span_of(document.syntax.line_index, document.text, target,
                                       session.services.client.encoding)
    except ValueError as error:
        raise CommandError(ExitCode.USAGE, str(error)) from error
    runner = ActionRunner(session.services, InlineDiffs(session.services))
    return await runner.explain_text({"uri": document.uri, "range": [list(start), list(end)]})
