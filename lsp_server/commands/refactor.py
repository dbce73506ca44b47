"""`ghostwriter refactor FILE... --rule RULE [--diff | --in-place]`: the refactor code action, per file.

Each file is one refactor action over its whole text (the code action's prompt, answer parsing and
checks). The result is a unified diff by default; `--in-place` replaces the file atomically. Files
are done one after another, each with its own result; a budget stops the batch before the next
file, keeping what was done.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from dataclasses import dataclass
from pathlib import Path

from features.code_actions import ActionRunner, Proposal
from features.edit_parsing import EditParseError, danger_note
from features.inline_diff import InlineDiffs
from lsp_server.commands.atomic import write_atomically
from lsp_server.commands.session import CommandError, ExitCode, Session, open_session
from lsp_server.commands.terminal import Terminal
from lsp_server.errors import BackendError, BudgetExceeded, PrivacyRefusal


@dataclass
class FileResult:
    path: Path
    changed: bool = False
    problem: str = ""
    blocked: bool = False  # privacy.rules kept it from the model


async def run(args: argparse.Namespace, terminal: Terminal) -> int:
    for path in args.files:
        if not path.is_file():
            raise CommandError(ExitCode.USAGE, f"{path}: no such file")
    results: list[FileResult] = []
    async with open_session(args.settings, terminal) as session:
        await session.backend_ready()
        bar = terminal.task("refactoring", total=len(args.files)) if len(args.files) > 1 else None
        for number, path in enumerate(args.files):
            terminal.update(bar, description=f"refactoring {path}")
            try:
                results.append(await refactor_file(session, path, args.rule, args.in_place))
            except BudgetExceeded as error:
                session.flush()
                raise CommandError(ExitCode.BUDGET, f"budget reached, stopped before {path} "
                                   f"({number} of {len(args.files)} files done): {error.user_message}") from error
            session.flush()
            terminal.update(bar, advance=1)
        terminal.done(bar)
    failed = [result for result in results if result.problem]
    for result in failed:
        terminal.say(f"ghostwriter refactor: {result.path}: {result.problem}")
    if any(result.blocked for result in failed):
        return ExitCode.BLOCKED
    return ExitCode.FAILED if failed else ExitCode.OK


async def refactor_file(session: Session, path: Path, rule: str, in_place: bool) -> FileResult:
    document = session.open(path)
    index = document.syntax.line_index
    end = index.position_at(len(document.text), session.services.client.encoding)
    data = {"action": "refactor", "uri": document.uri, "version": document.version, "name": path.name,
            "range": [[0, 0], list(end)], "instruction": rule}
    runner = ActionRunner(session.services, InlineDiffs(session.services))
    try:
        proposal = await runner.propose(data)
    except BudgetExceeded:
        raise
    except (BackendError, EditParseError) as error:
        return FileResult(path, problem=getattr(error, "user_message", str(error)),
                          blocked=isinstance(error, PrivacyRefusal))
    if isinstance(proposal, str):
        return FileResult(path, problem=proposal)
    return _deliver(session, path, document.text, proposal, in_place)


def _deliver(session: Session, path: Path, old: str, proposal: Proposal, in_place: bool) -> FileResult:
    new = proposal.new_text
    if new == old:
        return FileResult(path)
    if in_place and proposal.dangers:
        return FileResult(path, problem=f"not written: the proposal {danger_note(proposal.dangers)}; "
                                        "run without --in-place to see the diff")
    if in_place:
        write_atomically(path, new)
        session.terminal.say(f"refactored {path}")
    else:
        name = session.relative(path)
        sys.stdout.writelines(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                                   f"a/{name}", f"b/{name}"))
        if not new.endswith("\n"):
            sys.stdout.write("\n\\ No newline at end of file\n")
        sys.stdout.flush()
        if proposal.dangers:
            session.terminal.say(f"ghostwriter refactor: {path}: {danger_note(proposal.dangers)}")
    return FileResult(path, changed=True)
