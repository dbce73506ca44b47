"""Next-edit prompts, as data per model family, and reading the model's rewrite back.

The prompt is a chat: a system message saying the job, then one user message, most stable
first so consecutive requests share a long cached prefix: the recent edits as a unified diff
(oldest first), the definitions those edits touched, the file's lines above the region, the
editable region between markers (with the cursor marked), the lines below it, and the task.
The model answers with the rewritten region between the same markers.

`plain` is the same request without any history: the "rewrite this region" baseline the
benchmark compares against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from context.next_edit import Hunk, unified_diff

PROMPT_VERSION = 1


@dataclass(frozen=True)
class NextEditTemplate:
    system: str
    task: str
    plain_task: str
    region_start: str = "<|editable_region_start|>"
    region_end: str = "<|editable_region_end|>"
    cursor: str = "<|user_cursor|>"


_SYSTEM = (
    "You are a code editor's next-edit engine. From the programmer's recent edits you predict the "
    "edit they will make next inside the editable region, and reply with only that region rewritten."
)
_TASK = (
    "Rewrite the code between {start} and {end}, making the edit that the recent edits call for next "
    "(for example: the same rename, a changed call or signature carried to its other uses, a new "
    "field or parameter handled). Change nothing else. If no further edit follows from the recent "
    "edits, reproduce the region exactly. Reply with {start}, the region's code, {end}, and nothing else."
)
_PLAIN_TASK = (
    "Rewrite the code between {start} and {end} as the programmer would edit it next. If it needs "
    "no change, reproduce it exactly. Reply with {start}, the region's code, {end}, and nothing else."
)

TEMPLATES: dict[str, NextEditTemplate] = {
    # Qwen2.5-Coder (and other instruct models through their chat template).
    "qwen": NextEditTemplate(system=_SYSTEM, task=_TASK, plain_task=_PLAIN_TASK),
    # Models that read XML-ish tags more reliably than special-looking tokens.
    "generic": NextEditTemplate(system=_SYSTEM, task=_TASK, plain_task=_PLAIN_TASK,
                                region_start="<editable_region>", region_end="</editable_region>",
                                cursor="<cursor/>"),
}


def template_for(family: str, model: str) -> NextEditTemplate:
    """The named family, or the one the model's name suggests ("auto")."""
    if family in TEMPLATES:
        return TEMPLATES[family]
    return TEMPLATES["qwen"] if "qwen" in model.lower() else TEMPLATES["generic"]


@dataclass(frozen=True)
class RegionView:
    """What the prompt shows of the file: lines above, the region (cursor at an offset in it), lines below."""

    path: str
    language: str
    before: str
    region: str
    after: str
    cursor: int | None = None  # offset in `region`, or None to mark no cursor


def next_edit_messages(template: NextEditTemplate, view: RegionView, history: Sequence[Hunk] = (),
                       definitions: Sequence[str] = (), *, plain: bool = False,
                       suffix: str = "") -> tuple[dict[str, str], ...]:
    parts: list[str] = []
    if not plain:
        diff = unified_diff(history)
        parts.append("Recent edits, oldest first:\n" + (_fenced("diff", diff) if diff else "(none)"))
        if definitions:
            parts.append("Definitions the edits touched:\n" +
                         "\n\n".join(_fenced(view.language, d) for d in definitions))
    region = view.region
    if view.cursor is not None and 0 <= view.cursor <= len(region):
        region = region[:view.cursor] + template.cursor + region[view.cursor:]
    code = f"{view.before}{template.region_start}\n{region}{_newline(region)}{template.region_end}\n{view.after}"
    parts.append(f"File {view.path}:\n{_fenced(view.language, code)}")
    task = (template.plain_task if plain else template.task).format(start=template.region_start,
                                                                    end=template.region_end)
    parts.append(task + (f"\n{suffix}" if suffix else ""))
    return ({"role": "system", "content": template.system}, {"role": "user", "content": "\n\n".join(parts)})


def parse_rewrite(answer: str, template: NextEditTemplate, old_region: str, *,
                  stopped_at_end: bool = False) -> str | None:
    """The rewritten region from the model's answer; None when the answer holds none.

    The end marker may be missing when it was the request's stop string (`stopped_at_end`).
    """
    text = _strip_think(answer)
    template = _markers_used(text, template)
    start = text.find(template.region_start)
    if start >= 0:
        text = text[start + len(template.region_start):]
    end = text.find(template.region_end)
    if end >= 0:
        text = text[:end]
    elif not stopped_at_end:
        return None  # cut off before the region's end: half a region is not a rewrite
    text = _unfenced(text).replace(template.cursor, "")
    if text.startswith("\r\n"):
        text = text[2:]
    elif text.startswith("\n"):
        text = text[1:]
    if "```" in text or any(m in text for t in TEMPLATES.values() for m in (t.region_start, t.region_end)):
        return None  # a second region, or markers of two families: not one rewrite
    if not old_region.endswith("\n"):
        return text[:-1] if text.endswith("\n") else text  # the newline the prompt put before the end marker
    return text if text.endswith("\n") or not text else text + ("\r\n" if old_region.endswith("\r\n") else "\n")


def _markers_used(answer: str, asked: NextEditTemplate) -> NextEditTemplate:
    """The family whose markers the answer uses: models trained on one family's markers sometimes
    answer in them whatever the prompt showed, and those must not end up in the buffer."""
    if asked.region_start in answer or asked.region_end in answer:
        return asked
    for other in TEMPLATES.values():
        if other.region_start in answer or other.region_end in answer:
            return other
    return asked


def _unfenced(text: str) -> str:
    """Drop a code fence the model put around its answer (or inside the markers)."""
    stripped = text.strip("\n")
    lines = stripped.split("\n")
    if lines and lines[0].lstrip().startswith("```"):
        lines = lines[1:]
        if lines and lines[-1].strip().startswith("```"):
            lines = lines[:-1]
        return "\n" + "\n".join(lines) + "\n"
    return text


def _strip_think(text: str) -> str:
    if "</think>" in text:
        return text.split("</think>", 1)[1]
    return text


def _newline(text: str) -> str:
    return "" if not text or text.endswith("\n") else "\n"


def _fenced(language: str, code: str) -> str:
    fence = "````" if "```" in code else "```"
    return f"{fence}{language}\n{code.rstrip()}\n{fence}"


REJOIN_LINES = 3


def rejoined_rewrite(partial: str, template: NextEditTemplate, old_region: str,
                     lines: int = REJOIN_LINES) -> str | None:
    """The whole rewrite, once a streamed answer has changed something and then copied `lines` old
    lines unchanged: the rest is taken from the old region, so the model need not copy it out.

    A next edit is one change; the region's tail after it is nearly always a copy, and stopping
    there saves its decoding (a second change further down is left for the next request).
    None while the answer has not changed anything or not rejoined the old text yet.
    """
    template = _markers_used(partial, template)
    start = partial.find(template.region_start)
    body = partial[start + len(template.region_start):] if start >= 0 else partial
    if template.region_end in body or "```" in body:
        return None  # complete (or fenced) answers are read whole by parse_rewrite
    body = body.replace(template.cursor, "")
    body = body[1:] if body.startswith("\n") else body
    written = body.splitlines(keepends=True)
    if written and not written[-1].endswith("\n"):
        written.pop()  # the line being written may still change
    old = old_region.splitlines(keepends=True)
    pairs = enumerate(zip(written, old, strict=False))
    first = next((i for i, (a, b) in pairs if a != b), min(len(written), len(old)))
    if len(written) - first <= lines or first >= len(old):
        return None  # nothing changed yet, or too little written after the change
    tail = written[-lines:]
    if sum(1 for line in tail if len(line.strip()) > 3) < 2:
        return None  # blank lines and lone brackets match anywhere
    for end in range(first + lines, len(old) + 1):
        if old[end - lines:end] == tail:
            return "".join(written) + "".join(old[end:])
    return None


def read_rewrite(answer: str, template: NextEditTemplate, old_region: str, finish_reason: str | None) -> str | None:
    """The rewrite from a whole answer, or from one stopped early once it rejoined the old text."""
    whole = parse_rewrite(answer, template, old_region, stopped_at_end=finish_reason == "stop")
    return whole if whole is not None else rejoined_rewrite(answer, template, old_region)
