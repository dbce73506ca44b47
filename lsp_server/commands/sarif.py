"""Pure pieces of `ghostwriter review`: a unified diff's added lines, and findings as SARIF 2.1.0.

The SARIF written validates against the official OASIS schema (tests/data/sarif holds a copy):
one run, the rules seen as `tool.driver.rules`, each result located on an added line of the
patch, relative to the repository root (`%SRCROOT%`), as code-scanning uploads expect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

from features.edit_parsing import Finding

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVEL_RANK = {"note": 0, "warning": 1, "error": 2}


@dataclass(frozen=True)
class FilePatch:
    path: str
    patch: str
    added: dict[int, str]
    """New-file line number → the added line's text."""


def added_lines(patch_text: str) -> list[FilePatch]:
    """Each file the patch adds lines to (deleted and binary files have none); ValueError if unparsable."""
    try:
        patch = PatchSet(patch_text)
    except UnidiffParseError as error:
        raise ValueError(f"not a unified diff: {error}") from error
    files = []
    for patched in patch:
        if patched.is_removed_file or patched.is_binary_file:
            continue
        added = {line.target_line_no: line.value.rstrip("\r\n")
                 for hunk in patched for line in hunk if line.is_added and line.target_line_no is not None}
        if added:
            files.append(FilePatch(patched.path, str(patched), added))
    return files


def numbered(added: dict[int, str]) -> str:
    return "\n".join(f"{number}: {text}" for number, text in sorted(added.items()))


def on_patch(findings: list[Finding], file: FilePatch) -> tuple[list[Finding], int]:
    """The findings on the file's added lines, and how many fell elsewhere (left out)."""
    kept = [finding for finding in findings if finding.line in file.added]
    return kept, len(findings) - len(kept)


def at_or_above(findings: list[tuple[str, Finding]], level: str) -> bool:
    return any(LEVEL_RANK[finding.level] >= LEVEL_RANK[level] for _, finding in findings)


def to_sarif(findings: list[tuple[str, Finding]], version: str, *, complete: bool = True,
             notes: tuple[str, ...] = ()) -> dict[str, Any]:
    rule_ids = sorted({finding.rule for _, finding in findings})
    rules = [{"id": rule, "shortDescription": {"text": rule.replace("-", " ")}} for rule in rule_ids]
    results = [{
        "ruleId": finding.rule,
        "ruleIndex": rule_ids.index(finding.rule),
        "level": finding.level,
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": finding.line},
        }}],
    } for path, finding in findings]
    invocation: dict[str, Any] = {"executionSuccessful": complete}
    if notes:
        invocation["toolExecutionNotifications"] = [{"message": {"text": note}, "level": "warning"}
                                                    for note in notes]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "Ghostwriter", "version": version, "rules": rules}},
            "invocations": [invocation],
            "results": results,
        }],
    }


def summary(findings: list[tuple[str, Finding]]) -> str:
    """Lines for a person: `path:line: level [rule] message`, then a count."""
    lines = [f"{path}:{f.line}: {f.level} [{f.rule}] {f.message}" for path, f in findings]
    counts = {level: sum(f.level == level for _, f in findings) for level in ("error", "warning", "note")}
    lines.append(", ".join(f"{n} {level}{'s' if n != 1 else ''}" for level, n in counts.items()))
    return "\n".join(lines)
