from __future__ import annotations

import pytest

from context.fim import (
    PROMPT_VERSION,
    TEMPLATES,
    PromptParts,
    detect_template,
    render,
    render_with_offsets,
    strip_template_tokens,
    template_by_name,
)


def test_prompt_version_is_an_int() -> None:
    assert isinstance(PROMPT_VERSION, int) and PROMPT_VERSION >= 1


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("Qwen/Qwen2.5-Coder-7B", "qwen"),
        ("qwen3-coder-30b-a3b", "qwen"),
        ("bigcode/starcoder2-3b", "starcoder"),
        ("deepseek-ai/deepseek-coder-6.7b-base", "deepseek"),
        ("codellama/CodeLlama-7b-hf", "codellama"),
        ("mistralai/Codestral-22B-v0.1", "codestral"),
        ("some-unknown-model", "qwen"),
        ("", "qwen"),
    ],
)
def test_detect_by_model_name(model: str, expected: str) -> None:
    assert detect_template(model).name == expected


@pytest.mark.parametrize(
    ("tokens", "expected"),
    [
        (["<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>"], "starcoder"),
        (["<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"], "deepseek"),
        (["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"], "qwen"),
        (["▁<PRE>", "▁<SUF>", "▁<MID>"], "codellama"),
        (["[SUFFIX]", "[PREFIX]"], "codestral"),
    ],
)
def test_tokenizer_tokens_beat_the_model_name(tokens: list[str], expected: str) -> None:
    assert detect_template("Qwen/Qwen2.5-Coder-1.5B-served-under-an-alias", tokens).name == expected


def test_unrelated_tokens_fall_back_to_the_name() -> None:
    assert detect_template("bigcode/starcoder2-7b", ["<s>", "</s>"]).name == "starcoder"


def test_template_by_name_lists_valid_names() -> None:
    assert template_by_name("DeepSeek").name == "deepseek"
    with pytest.raises(ValueError, match="codellama, codestral, deepseek, qwen, starcoder"):
        template_by_name("gpt")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("qwen", "<|fim_prefix|>def f():<|fim_suffix|>\n    pass<|fim_middle|>"),
        ("starcoder", "<fim_prefix>def f():<fim_suffix>\n    pass<fim_middle>"),
        ("deepseek", "<｜fim▁begin｜>def f():<｜fim▁hole｜>\n    pass<｜fim▁end｜>"),
        ("codellama", "<PRE> def f(): <SUF>\n    pass <MID>"),
        ("codestral", "[SUFFIX]\n    pass[PREFIX]def f():"),
    ],
)
def test_plain_fim_layouts(name: str, expected: str) -> None:
    assert render(template_by_name(name), PromptParts("def f():", "\n    pass")) == expected


def test_qwen_repo_form_puts_other_files_first() -> None:
    parts = PromptParts("x = ", "\n", "app/main.py", "acme/shop", [("app/util.py", "def helper(): ...")])
    assert render(template_by_name("qwen"), parts) == (
        "<|repo_name|>acme/shop\n<|file_sep|>app/util.py\ndef helper(): ...\n"
        "<|file_sep|>app/main.py\n<|fim_prefix|>x = <|fim_suffix|>\n<|fim_middle|>"
    )


def test_starcoder_repo_form() -> None:
    parts = PromptParts("a", "b", "m.py", "r", [("u.py", "u = 1")])
    assert render(template_by_name("starcoder"), parts) == (
        "<repo_name>r<file_sep>u.py\nu = 1\n<file_sep>m.py\n<fim_prefix>a<fim_suffix>b<fim_middle>"
    )


@pytest.mark.parametrize(("language", "marker"), [("python", "#"), ("go", "//"), (None, "//")])
def test_templates_without_repo_form_comment_the_context(language: str | None, marker: str) -> None:
    parts = PromptParts("x", "", "m", "repo", [("lib/a", "one\ntwo")], language)
    text = render(template_by_name("deepseek"), parts)
    assert text.startswith(f"<｜fim▁begin｜>{marker} Path: lib/a\n{marker} one\n{marker} two\nx")


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_prefix_start_points_at_the_prefix(name: str) -> None:
    parts = PromptParts("PREFIX_TEXT", "SUFFIX_TEXT", "p.py", "r", [("q.py", "ctx")], "python")
    rendered = render_with_offsets(template_by_name(name), parts)
    assert rendered.text[rendered.prefix_start :].startswith("PREFIX_TEXT")


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("qwen", "return 1<|endoftext|>junk", "return 1"),
        ("qwen", "a\n<|file_sep|>other.py\nb", "a\n"),
        ("qwen", "x<|fim_middle|>y", "x"),
        ("starcoder", "x<fim_pad><fim_pad>", "x"),
        ("deepseek", "x<｜end▁of▁sentence｜>", "x"),
        ("codellama", "x <EOT> y", "x "),
        ("codestral", "x</s>", "x"),
        ("qwen", "plain", "plain"),
    ],
)
def test_strip_template_tokens(name: str, raw: str, expected: str) -> None:
    assert strip_template_tokens(raw, template_by_name(name)) == expected


def test_non_stop_special_tokens_are_deleted() -> None:
    assert strip_template_tokens("a<s>b", template_by_name("codellama")) == "ab"


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_stop_token_is_a_special_token(name: str) -> None:
    template = template_by_name(name)
    assert set(template.stop_tokens) <= set(template.special_tokens)
