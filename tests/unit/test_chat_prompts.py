"""features/chat_prompts.py: thinking switches per endpoint, and stable, well-formed prompts."""

from __future__ import annotations

import pytest

from features.chat_prompts import (
    DEFAULT_REFACTOR,
    NO_THINK,
    RULES,
    edit_messages,
    explain_messages,
    resolve_instruction,
    thinking_options,
)

VLLM = "http://127.0.0.1:8000/v1"
DASHSCOPE = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"

THINKING_CASES = [
    ("vllm qwen3 off", 0, VLLM, "Qwen/Qwen3-8B", {"chat_template_kwargs": {"enable_thinking": False}}, NO_THINK, 0),
    ("vllm qwen3 budget", 256, VLLM, "Qwen/Qwen3-8B",
     {"chat_template_kwargs": {"enable_thinking": True}, "thinking_budget": 256}, "", 256),
    ("dashscope off", 0, DASHSCOPE, "qwen-plus", {"enable_thinking": False}, NO_THINK, 0),
    ("dashscope budget", 100, DASHSCOPE, "qwen3-coder-plus",
     {"enable_thinking": True, "thinking_budget": 100}, "", 100),
    ("non-thinking model", 0, VLLM, "Qwen/Qwen2.5-Coder-7B-Instruct", {}, "", 0),
    ("openai model", 500, "https://api.openai.com/v1", "gpt-4o-mini", {}, "", 0),
]


@pytest.mark.parametrize(("name", "budget", "url", "model", "body", "suffix", "extra"), THINKING_CASES,
                         ids=[c[0] for c in THINKING_CASES])
def test_thinking_options(name: str, budget: int, url: str, model: str, body: dict[str, object], suffix: str,
                          extra: int) -> None:
    options = thinking_options(budget, url, model)
    assert dict(options.extra_body) == body
    assert options.suffix == suffix
    assert options.extra_tokens == extra


def test_explain_messages_shape() -> None:
    messages = explain_messages("python", "total = add(1, 2)", focus="add", definitions=("def add(a, b):",),
                                suffix=NO_THINK)
    assert [m["role"] for m in messages] == ["system", "user"]
    user = messages[1]["content"]
    assert "def add(a, b):" in user and "Explain `add`" in user and "Markdown" in user
    assert user.endswith("\n" + NO_THINK)


def test_explain_messages_plain_text_and_stable() -> None:
    first = explain_messages("go", "x := 1", markdown=False)
    assert first == explain_messages("go", "x := 1", markdown=False)
    assert "plain text" in first[1]["content"] and "Explain this code." in first[1]["content"]


def test_code_with_fences_is_fenced_longer() -> None:
    user = explain_messages("markdown", "```py\nx\n```")[1]["content"]
    assert "````markdown\n```py" in user


EDIT_CASES = [
    ("docstring", {}, "Add a docstring"),
    ("fix", {"diagnostic": "undefined name 'y'"}, "undefined name 'y'"),
    ("refactor", {"instruction": "pep8"}, RULES["pep8"]),
    ("refactor", {"instruction": "use a list comprehension"}, "use a list comprehension"),
    ("refactor", {}, DEFAULT_REFACTOR),
    ("tests", {"name": "add"}, "`add`"),
]


@pytest.mark.parametrize(("action", "kwargs", "needle"), EDIT_CASES)
def test_edit_messages(action: str, kwargs: dict[str, str], needle: str) -> None:
    messages = edit_messages(action, "python", before="a = 1\n", selection="b=2\n", after="c = 3\n", **kwargs)
    system, user = messages[0]["content"], messages[1]["content"]
    assert '"replacement"' in system
    assert needle in user
    assert "a = 1\n<selection>b=2\n</selection>c = 3" in user


@pytest.mark.parametrize(("given", "expected"), [("PEP8", RULES["pep8"]), ("  ", DEFAULT_REFACTOR), ("x", "x")])
def test_resolve_instruction(given: str, expected: str) -> None:
    assert resolve_instruction(given) == expected
