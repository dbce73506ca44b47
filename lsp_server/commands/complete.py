"""`ghostwriter complete FILE:LINE:COL`: the inline completion the editor would show there.

The inline-completion feature's own steps: gating (as for an invoked request), the planner's
context and FIM prompt, the pipeline, post-processing.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from context.gating import completion_kind
from features.completion_jobs import Anchor, Job, JobBook
from features.completion_prompt import Planner, plan_completion, run_plan
from lsp_server.commands import locations
from lsp_server.commands.session import CommandError, ExitCode, Session, open_session
from lsp_server.commands.terminal import Terminal


async def run(args: argparse.Namespace, terminal: Terminal) -> int:
    async with open_session(args.settings, terminal) as session:
        await session.backend_ready()
        result = await complete(session, args.position)
        session.flush()
        last = session.services.ledger.last
        if args.json:
            print(json.dumps({**result, **_cost(last)}, indent=2))
        elif result["completion"]:
            sys.stdout.write(result["completion"] + ("\n" if sys.stdout.isatty() else ""))
    return ExitCode.OK


async def complete(session: Session, where: locations.Position) -> dict[str, Any]:
    document = session.open(where.path)
    try:
        offset = locations.offset_of(document.syntax.line_index, where, session.services.client.encoding)
    except ValueError as error:
        raise CommandError(ExitCode.USAGE, str(error)) from error
    view = document.local(offset)
    decision = completion_kind(view.syntax, view.syntax.text, view.to_local(offset), document.language_id)
    if session.services.settings.completion.gating and decision.refuses(automatic=False):
        return {"completion": "", "kind": "none", "skipped": decision.reason}
    planner = Planner(session.services)

    async def work(job: Job) -> str | None:
        plan = await plan_completion(planner, document, offset, decision.multiline, document.version,
                                     prose=decision.prose, closer=decision.closer)
        return None if plan is None else await run_plan(planner, plan, job, automatic=False)

    book = JobBook()
    job = book.start(Anchor.at(document.uri, document.text, offset), work)
    text = await book.wait(job)
    kind = "multi-line" if decision.multiline else "single-line"
    return {"completion": text or "", "kind": kind, "skipped": None}


def _cost(last: Any) -> dict[str, Any]:
    if last is None:
        return {"model": None, "tokens": None, "cacheHit": False, "cost": None}
    return {"model": last.model, "cacheHit": last.fromCache, "durationMs": last.durationMs,
            "tokens": {"prompt": last.promptTokens, "cachedPrompt": last.cachedPromptTokens,
                       "completion": last.completionTokens, "estimated": last.estimated},
            "cost": last.cost, "savedCost": last.savedCost, "currency": last.currency}
