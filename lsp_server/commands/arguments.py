"""The commands' arguments, kept apart from their work so building the parser imports nothing heavy.

Each command: HELP (one line for the list), DESCRIPTION (its --help) and its arguments.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from features.chat_prompts import RULES
from lsp_server.commands import locations

COMPLETE_HELP = "print the completion at FILE:LINE:COL"
COMPLETE_DESCRIPTION = ("Print the inline completion at a position (1-based line and column), as the editor would show "
               "it. --json adds the model, tokens, disk-cache hit and cost.")


def complete_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("position", type=locations.position, metavar="FILE:LINE:COL")
    parser.add_argument("--json", action="store_true", help="print a JSON object with the completion and its cost")


EXPLAIN_HELP = "explain a file or some of its lines (Markdown)"
EXPLAIN_DESCRIPTION = "Explain a whole file, one line (FILE:12) or a range of lines (FILE:12-30), in Markdown."


def explain_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", type=locations.lines, metavar="FILE[:LINE[-LINE]]")


REFACTOR_HELP = "refactor files by a rule: a diff, or in place"
REFACTOR_DESCRIPTION = (f"Refactor each FILE by a named rule ({', '.join(RULES)}) or a free instruction. "
                        "Prints a unified diff (--diff, the default) or replaces the files atomically (--in-place).")


def refactor_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--rule", default="simplify", metavar="RULE",
                        help=f"{', '.join(RULES)}, or a free instruction in quotes (default: simplify)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--diff", action="store_true", help="print a unified diff (the default)")
    mode.add_argument("--in-place", action="store_true", help="write the result into each file (atomically)")


REVIEW_HELP = "review a diff (default: git diff) and write SARIF"
REVIEW_DESCRIPTION = ("Review a unified diff (a file, - for stdin, or by default `git diff` of the working tree) and "
               "write SARIF 2.1.0; on a terminal, a text summary instead.")


def review_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("patch", nargs="?", metavar="PATCH", help="a unified diff file, or - for stdin")
    parser.add_argument("--fail-on", choices=("error", "warning"), help="exit 1 when a finding is at this level "
                                                                         "or above")
    parser.add_argument("--output", "-o", type=Path, help="write the SARIF here (stdout otherwise)")
    parser.add_argument("--format", choices=("sarif", "text"), help="default: text on a terminal, else SARIF")


USAGE_HELP = "show tokens, cache savings and money: today, this month, by model and feature"
USAGE_DESCRIPTION = ("Show the usage ledger shared by the servers and these commands: today and this month, by model "
               "and by feature. --json prints it as one object.")


def usage_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")


SPECS = {
    "complete": (COMPLETE_HELP, COMPLETE_DESCRIPTION, complete_arguments),
    "explain": (EXPLAIN_HELP, EXPLAIN_DESCRIPTION, explain_arguments),
    "refactor": (REFACTOR_HELP, REFACTOR_DESCRIPTION, refactor_arguments),
    "review": (REVIEW_HELP, REVIEW_DESCRIPTION, review_arguments),
    "usage": (USAGE_HELP, USAGE_DESCRIPTION, usage_arguments),
}
