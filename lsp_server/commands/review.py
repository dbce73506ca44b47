"""`ghostwriter review [PATCH | -]`: review a unified diff and write SARIF 2.1.0.

Default input: `git diff` of the working tree. Each file of the patch is one model call through
the pipeline (cache, budget, redaction, usage), asking for findings on its added lines; findings
anywhere else are left out (and counted). `--fail-on` turns findings into an exit code for CI.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from features.chat_prompts import review_messages, thinking_options
from features.edit_parsing import EditParseError, Finding, parse_findings
from lsp_server.backends import GenerationRequest
from lsp_server.commands import sarif
from lsp_server.commands.session import CommandError, ExitCode, Session, open_session, package_version, read_source
from lsp_server.commands.terminal import Terminal
from lsp_server.errors import BackendError, BudgetExceeded, PrivacyRefusal


def read_patch(source: str | None) -> str:
    if source == "-":
        return sys.stdin.read()
    if source:
        return read_source(Path(source))
    try:
        done = subprocess.run(["git", "diff"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise CommandError(ExitCode.FAILED, f"cannot run git diff: {error}") from error
    if done.returncode != 0:
        raise CommandError(ExitCode.FAILED, f"git diff failed: {done.stderr.strip() or done.returncode}")
    return done.stdout


async def run(args: argparse.Namespace, terminal: Terminal) -> int:
    try:
        files = sarif.added_lines(read_patch(args.patch))
    except ValueError as error:
        raise CommandError(ExitCode.USAGE, str(error)) from error
    findings: list[tuple[str, Finding]] = []
    notes: list[str] = []
    code = ExitCode.OK
    async with open_session(args.settings, terminal) as session:
        if files:
            await session.backend_ready()
        code = await review_files(session, files, findings, notes)
    report = sarif.to_sarif(findings, package_version(), complete=code == ExitCode.OK, notes=tuple(notes))
    _write(args, report, findings, terminal)
    for note in notes:
        terminal.say(f"ghostwriter review: {note}")
    if code == ExitCode.OK and args.fail_on and sarif.at_or_above(findings, args.fail_on):
        return ExitCode.GATE
    return code


async def review_files(session: Session, files: list[sarif.FilePatch], findings: list[tuple[str, Finding]],
                       notes: list[str]) -> ExitCode:
    bar = session.terminal.task("reviewing", total=len(files)) if len(files) > 1 else None
    try:
        for number, file in enumerate(files):
            session.terminal.update(bar, description=f"reviewing {file.path}")
            try:
                found = await review_file(session, file)
            except BudgetExceeded as error:
                notes.append(f"budget reached, stopped before {file.path} ({number} of {len(files)} files "
                             f"reviewed): {error.user_message}")
                return ExitCode.BUDGET
            except PrivacyRefusal as error:  # the rest of the patch is still reviewed
                notes.append(f"{file.path}: not sent, not reviewed: {error.user_message}")
                continue
            except (BackendError, EditParseError) as error:
                notes.append(f"{file.path}: not reviewed: {getattr(error, 'user_message', error)}")
                return ExitCode.FAILED
            finally:
                session.flush()
            kept, dropped = sarif.on_patch(found, file)
            findings.extend((file.path, finding) for finding in kept)
            if dropped:
                notes.append(f"{file.path}: {dropped} finding(s) outside the patch's added lines left out")
            session.terminal.update(bar, advance=1)
    finally:
        session.terminal.done(bar)
    return ExitCode.OK


async def review_file(session: Session, file: sarif.FilePatch) -> list[Finding]:
    from context.languages import normalise_language_id

    services = session.services
    model = services.router.model_for("codeAction")
    thinking = thinking_options(services.settings.thinking.budget, services.settings.backend.base_url, model)
    language = normalise_language_id(None, file.path) or ""
    messages = review_messages(file.path, language, sarif.numbered(file.added), file.patch, suffix=thinking.suffix)
    request = GenerationRequest(feature="review", model=model, messages=messages, extra_body=thinking.extra_body,
                                max_tokens=services.settings.code_actions.max_tokens + thinking.extra_tokens,
                                retry=True, source=(session.root / file.path).as_uri())  # privacy.rules see it
    generation = await services.pipeline.generate(request)
    return parse_findings(generation.text)


def _write(args: argparse.Namespace, report: dict[str, object], findings: list[tuple[str, Finding]],
           terminal: Terminal) -> None:
    text = json.dumps(report, indent=2) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        if terminal.interactive:
            terminal.say(sarif.summary(findings))
        return
    fmt = args.format or ("text" if sys.stdout.isatty() else "sarif")
    sys.stdout.write(sarif.summary(findings) + "\n" if fmt == "text" else text)
