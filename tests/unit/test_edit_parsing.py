"""features/edit_parsing.py: every answer shape models produce, and the danger checks."""

from __future__ import annotations

import pytest

from features.edit_parsing import (
    EditParseError,
    EditProposal,
    danger_note,
    fit_replacement,
    new_dangers,
    parse_edit,
    strip_think,
)

PARSE_CASES = [
    ("bare json", '{"replacement": "x = 1\\n", "explanation": "set x"}', EditProposal("x = 1\n", "set x")),
    ("fenced json", 'Here:\n```json\n{"replacement": "y", "explanation": "e"}\n```\nDone.', EditProposal("y", "e")),
    ("json then chatter", '{"replacement": "z"} I hope this helps! {not json}', EditProposal("z", "")),
    ("chatter then json", 'Sure. {"replacement": "a\\tb", "explanation": 3}', EditProposal("a\tb", "")),
    ("think then json", '<think>maybe {"replacement": "no"}</think>{"replacement": "yes"}', EditProposal("yes", "")),
    ("qwen3-coder tool call",
     "<tool_call>\n<function=replace_range>\n<parameter=replacement>\ndef f():\n    return 1\n</parameter>\n"
     "<parameter=explanation>\nsimpler\n</parameter>\n</function>\n</tool_call>",
     EditProposal("def f():\n    return 1", "simpler")),
    ("code block fallback", "Use this:\n```python\nprint(1)\n```", EditProposal("print(1)\n", "Use this:")),
    ("unterminated fence", "```python\nprint(2)", EditProposal("print(2)\n", "")),
    ("empty replacement is valid", '{"replacement": ""}', EditProposal("", "")),
]


@pytest.mark.parametrize(("name", "answer", "expected"), PARSE_CASES, ids=[c[0] for c in PARSE_CASES])
def test_parse_edit(name: str, answer: str, expected: EditProposal) -> None:
    assert parse_edit(answer) == expected


@pytest.mark.parametrize("answer", [
    "", "I cannot do that.", '{"explanation": "no replacement key"}', '{"replacement": 42}',
    "<think>still thinking", '```json\n{"replacement": \n```',
])
def test_malformed_answers_raise(answer: str) -> None:
    with pytest.raises(EditParseError):
        parse_edit(answer)


@pytest.mark.parametrize(("raw", "clean"), [
    ("<think>a</think>answer", "answer"),
    ("reasoning only ends here</think>\nanswer", "answer"),
    ("answer<think>cut off", "answer"),
    ("<think>x</think> <think>y</think> done", "done"),
    ("no thinking", "no thinking"),
])
def test_strip_think(raw: str, clean: str) -> None:
    assert strip_think(raw) == clean


DANGER_CASES = [
    ("subprocess.run(cmd, shell=True)", ["uses shell=True"]),
    ("value = eval(input())", ["uses eval()"]),
    ("exec(code)", ["uses exec()"]),
    ("obj = pickle.loads(blob)", ["unsafe deserialisation (pickle)"]),
    ("cfg = yaml.load(f)", ["yaml.load without SafeLoader"]),
    ("cfg = yaml.load(f, Loader=yaml.SafeLoader)", []),
    ("cfg = yaml.safe_load(f)", []),
    ("requests.get(url, verify=False)", ["disables TLS verification (verify=False)"]),
    ("ctx = ssl._create_unverified_context()", ["disables TLS verification"]),
    ("model.evaluate(x); literal_eval(s)", []),
    ("subprocess.run(['ls'])", []),
]


@pytest.mark.parametrize(("code", "labels"), DANGER_CASES, ids=[c[0] for c in DANGER_CASES])
def test_new_dangers_in_fresh_code(code: str, labels: list[str]) -> None:
    assert new_dangers("", code) == labels


def test_existing_dangers_are_not_news() -> None:
    old = "run(cmd, shell=True)\n"
    assert new_dangers(old, old + "print(1)\n") == []
    assert new_dangers(old, old + "run(other, shell=True)\n") == ["uses shell=True"]


def test_danger_note() -> None:
    assert danger_note([]) == ""
    assert danger_note(["uses shell=True", "uses eval()"]) == "⚠ uses shell=True, uses eval()"


FIT_CASES = [
    ("adds the dropped newline", "refactor", "a\nb\nc\n", 2, 4, "B", "B\n"),
    ("drops an extra newline", "docstring", "def f():\n    pass\n", 0, 17, 'def f():\n    """D."""\n    pass\n',
     'def f():\n    """D."""\n    pass'),
    ("drops an extra crlf", "refactor", "x = 1\r\n", 0, 5, "x = 2\r\n", "x = 2"),
    ("leaves a matching answer", "fix", "x\n", 0, 2, "y\n", "y\n"),
    ("leaves an empty answer", "refactor", "x\n", 0, 2, "", ""),
    ("tests after a blank line", "tests", "def f():\n    pass\n", 17, 17, "def test_f():\n    f()\n\n",
     "\ndef test_f():\n    f()\n"),
    ("tests after text without newline", "tests", "x = 1", 5, 5, "def test_x(): ...", "\n\ndef test_x(): ...\n"),
]


@pytest.mark.parametrize(("name", "action", "text", "start", "end", "replacement", "expected"), FIT_CASES,
                         ids=[c[0] for c in FIT_CASES])
def test_fit_replacement(name: str, action: str, text: str, start: int, end: int, replacement: str,
                         expected: str) -> None:
    assert fit_replacement(action, text, start, end, replacement) == expected
