"""Pure parsing of model answers for edits, and the checks generated code passes before it is offered.

Models are asked for JSON `{"replacement": ..., "explanation": ...}`, but answer in many shapes:
JSON in a fence, JSON followed by chatter, Qwen3-Coder's XML tool call, or just a code block. Each
shape is tried in turn; an answer none of them fits raises EditParseError, so a malformed answer
becomes a message to the user and never text in their file.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass

_THINK_BLOCK = re.compile(r"<think>.*?</think>\s*", re.DOTALL)
_FENCE = re.compile(r"```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(?:\n[ \t]*```|\Z)", re.DOTALL)
_TOOL_PARAM = re.compile(r"<parameter=(\w+)>\n?(.*?)\n?</parameter>", re.DOTALL)


class EditParseError(ValueError):
    """The answer holds no usable replacement; the message says so in user terms."""


@dataclass(frozen=True)
class EditProposal:
    replacement: str
    explanation: str = ""


def strip_think(text: str) -> str:
    """Remove reasoning blocks: `<think>…</think>`, a dangling `…</think>`, an unclosed `<think>…`."""
    text = _THINK_BLOCK.sub("", text)
    if "</think>" in text:  # templates that open the block in the prompt leave only its end
        text = text.split("</think>", 1)[1]
    if "<think>" in text:  # cut off mid-thought (max_tokens): nothing after it is an answer
        text = text.split("<think>", 1)[0]
    return text.strip()


def parse_edit(answer: str) -> EditProposal:
    """The replacement an answer proposes, from the most to the least structured form."""
    text = strip_think(answer)
    for parser in (_from_tool_call, _from_json, _from_code_block):
        proposal = parser(text)
        if proposal is not None:
            return proposal
    raise EditParseError("The model's answer did not contain a replacement; nothing was changed.")


@dataclass(frozen=True)
class Finding:
    line: int
    level: str  # "error" | "warning" | "note"
    rule: str
    message: str


LEVELS = ("error", "warning", "note")
_RULE_CHARS = re.compile(r"[^a-z0-9]+")


def parse_findings(answer: str) -> list[Finding]:
    """Review findings from an answer holding `{"findings": [...]}` (or a bare list); malformed entries
    are skipped, an answer with no such JSON at all raises EditParseError."""
    text = strip_think(answer)
    decoder = json.JSONDecoder()
    candidates = [body for lang, body in _FENCE.findall(text) if lang.lower() in ("json", "")] + [text]
    for candidate in candidates:
        for match in re.finditer(r"[\[{]", candidate):
            try:
                value, _ = decoder.raw_decode(candidate, match.start())
            except ValueError:
                continue
            entries = value.get("findings") if isinstance(value, dict) else value
            if isinstance(entries, list):
                return [f for f in map(_finding, entries) if f is not None]
    raise EditParseError("The model's review did not contain a findings list.")


def _finding(entry: object) -> Finding | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("message"), str):
        return None
    try:
        line = int(entry.get("line"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    level = str(entry.get("level", "warning")).lower()
    rule = _RULE_CHARS.sub("-", str(entry.get("rule") or "review").lower()).strip("-") or "review"
    return Finding(line, level if level in LEVELS else "warning", rule, entry["message"].strip())


def _from_tool_call(text: str) -> EditProposal | None:
    if "<function=" not in text or "<parameter=replacement>" not in text:
        return None
    params = {name: value for name, value in _TOOL_PARAM.findall(text)}
    if "replacement" not in params:
        return None
    return EditProposal(params["replacement"], params.get("explanation", "").strip())


def _from_json(text: str) -> EditProposal | None:
    candidates = [body for lang, body in _FENCE.findall(text) if lang.lower() in ("json", "")] + [text]
    decoder = json.JSONDecoder()
    for candidate in candidates:
        for start in (m.start() for m in re.finditer(r"\{", candidate)):
            try:
                value, _ = decoder.raw_decode(candidate, start)
            except ValueError:
                continue
            if isinstance(value, dict) and isinstance(value.get("replacement"), str):
                explanation = value.get("explanation")
                return EditProposal(value["replacement"], explanation if isinstance(explanation, str) else "")
    return None


def _from_code_block(text: str) -> EditProposal | None:
    """Last resort: the first fenced block that is not JSON is the replacement."""
    for match in _FENCE.finditer(text):
        lang, body = match.group(1).lower(), match.group(2)
        if lang == "json" or body.lstrip().startswith('{"replacement"'):
            continue
        outside = (text[: match.start()] + text[match.end() :]).strip()
        return EditProposal(body + "\n" if body and not body.endswith("\n") else body, outside)
    return None


# Constructs that turn a typo or hostile input into code execution, or silently drop TLS checks.
DANGERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<![\w.])eval\s*\("), "uses eval()"),
    (re.compile(r"(?<![\w.])exec\s*\("), "uses exec()"),
    (re.compile(r"new\s+Function\s*\("), "builds code with new Function()"),
    (re.compile(r"shell\s*=\s*True"), "uses shell=True"),
    (re.compile(r"\bos\.system\s*\("), "runs a shell via os.system()"),
    (re.compile(r"\b(?:c?[Pp]ickle|dill|marshal|shelve)\.(?:loads?|open|Unpickler)\s*\("),
     "unsafe deserialisation (pickle)"),
    (re.compile(r"\byaml\.(?:unsafe_load|load)\s*\((?![^)]*Loader\s*=\s*(?:yaml\.)?(?:Safe|CSafe)Loader)"),
     "yaml.load without SafeLoader"),
    (re.compile(r"\bverify\s*=\s*False"), "disables TLS verification (verify=False)"),
    (re.compile(r"_create_unverified_context|CERT_NONE|check_hostname\s*=\s*False"),
     "disables TLS verification"),
    (re.compile(r"rejectUnauthorized\s*:\s*false|InsecureSkipVerify\s*:\s*true|NODE_TLS_REJECT_UNAUTHORIZED"),
     "disables TLS verification"),
)


def dangers(code: str) -> Counter[str]:
    """How often each dangerous construct appears in `code` (label → count)."""
    found: Counter[str] = Counter()
    for pattern, label in DANGERS:
        hits = len(pattern.findall(code))
        if hits:
            found[label] += hits
    return found


def new_dangers(old: str, new: str) -> list[str]:
    """Labels of dangerous constructs the proposal adds (ones already in the code are not news)."""
    before = dangers(old)
    return [label for label, count in dangers(new).items() if count > before[label]]


def danger_note(labels: list[str]) -> str:
    """The short warning put in titles and preview labels, e.g. '⚠ uses shell=True'."""
    return "⚠ " + ", ".join(labels) if labels else ""


def fit_replacement(action: str, text: str, start: int, end: int, replacement: str) -> str:
    """Keep the selection's line structure (models add or drop a final newline); tests follow a blank line."""
    if action == "tests":
        lead = "" if not text else "\n" if text.endswith("\n") else "\n\n"
        return lead + replacement.rstrip("\n") + "\n"
    selected_ends_line = text[start:end].endswith("\n")
    if not replacement or replacement.endswith("\n") == selected_ends_line:
        return replacement
    if selected_ends_line:
        return replacement + "\n"
    return replacement[:-2] if replacement.endswith("\r\n") else replacement[:-1]
