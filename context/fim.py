"""Fill-in-the-middle templates per model family, kept as data.

A template knows its FIM layout, the optional repo-level layout (other files as ``file_sep``
sections), the special tokens it uses and the tokens that end a generation. ``PROMPT_VERSION``
feeds cache keys: bump it whenever the rendered text for the same inputs changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

PROMPT_VERSION = 1


@dataclass(frozen=True)
class FimTemplate:
    name: str
    layout: str  # contains {prefix} and {suffix}
    special_tokens: tuple[str, ...]
    stop_tokens: tuple[str, ...]
    detect_tokens: tuple[str, ...]  # all present in a tokenizer's vocabulary → this family
    name_pattern: str  # regex searched in the lower-cased model name
    repo_header: str | None = None  # contains {repo}
    file_section: str | None = None  # contains {path} and {text}
    current_file_header: str | None = None  # contains {path}; precedes the FIM layout

    @property
    def has_repo_form(self) -> bool:
        return self.file_section is not None


@dataclass(frozen=True)
class PromptParts:
    prefix: str
    suffix: str
    path: str = ""
    repo_name: str = ""
    snippets: Sequence[tuple[str, str]] = field(default_factory=tuple)  # (path, text)
    language_id: str | None = None


@dataclass(frozen=True)
class RenderedPrompt:
    text: str
    prefix_start: int  # where parts.prefix begins inside text


QWEN = FimTemplate(
    name="qwen",
    layout="<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>",
    special_tokens=(
        "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|fim_pad|>", "<|repo_name|>",
        "<|file_sep|>", "<|endoftext|>", "<|im_start|>", "<|im_end|>",
    ),
    stop_tokens=("<|endoftext|>", "<|fim_pad|>", "<|file_sep|>", "<|repo_name|>", "<|im_end|>",
                 "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),
    detect_tokens=("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),
    name_pattern=r"qwen.*coder|codeqwen",
    repo_header="<|repo_name|>{repo}\n",
    file_section="<|file_sep|>{path}\n{text}\n",
    current_file_header="<|file_sep|>{path}\n",
)

STARCODER = FimTemplate(
    name="starcoder",
    layout="<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>",
    special_tokens=("<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<fim_pad>", "<repo_name>",
                    "<file_sep>", "<|endoftext|>"),
    stop_tokens=("<|endoftext|>", "<file_sep>", "<repo_name>", "<fim_pad>", "<fim_prefix>",
                 "<fim_suffix>", "<fim_middle>"),
    detect_tokens=("<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
    name_pattern=r"starcoder",
    repo_header="<repo_name>{repo}",
    file_section="<file_sep>{path}\n{text}\n",
    current_file_header="<file_sep>{path}\n",
)

DEEPSEEK = FimTemplate(
    name="deepseek",
    layout="<｜fim▁begin｜>{prefix}<｜fim▁hole｜>{suffix}<｜fim▁end｜>",
    special_tokens=("<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>", "<｜end▁of▁sentence｜>",
                    "<｜begin▁of▁sentence｜>", "<|EOT|>"),
    stop_tokens=("<｜end▁of▁sentence｜>", "<|EOT|>", "<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"),
    detect_tokens=("<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"),
    name_pattern=r"deepseek[-_ ]?coder",
)

CODELLAMA = FimTemplate(
    name="codellama",
    layout="<PRE> {prefix} <SUF>{suffix} <MID>",
    special_tokens=("<PRE>", "<SUF>", "<MID>", "<EOT>", "</s>", "<s>"),
    stop_tokens=("<EOT>", "</s>", "<PRE>", "<SUF>", "<MID>"),
    detect_tokens=("▁<PRE>", "▁<SUF>", "▁<MID>"),
    name_pattern=r"code[-_ ]?llama",
)

CODESTRAL = FimTemplate(
    name="codestral",
    layout="[SUFFIX]{suffix}[PREFIX]{prefix}",
    special_tokens=("[SUFFIX]", "[PREFIX]", "[MIDDLE]", "</s>", "<s>"),
    stop_tokens=("</s>", "[PREFIX]", "[SUFFIX]", "[MIDDLE]"),
    detect_tokens=("[SUFFIX]", "[PREFIX]"),
    name_pattern=r"codestral",
)

TEMPLATES: dict[str, FimTemplate] = {t.name: t for t in (QWEN, STARCODER, DEEPSEEK, CODELLAMA, CODESTRAL)}
DEFAULT_TEMPLATE = QWEN

# Languages whose line comment is not "//".
HASH_COMMENT_LANGUAGES = frozenset({"python", "ruby", "shellscript", "perl", "r", "yaml", "toml"})


def template_by_name(name: str) -> FimTemplate:
    try:
        return TEMPLATES[name.lower()]
    except KeyError:
        valid = ", ".join(sorted(TEMPLATES))
        raise ValueError(f"unknown FIM template {name!r}; valid names: {valid}") from None


def detect_template(model_name: str, special_tokens: Iterable[str] = ()) -> FimTemplate:
    """The tokenizer's own special tokens win over the model name; Qwen is the fallback."""
    vocabulary = set(special_tokens)
    if vocabulary:
        for template in TEMPLATES.values():
            if all(token in vocabulary for token in template.detect_tokens):
                return template
    lowered = model_name.lower()
    for template in TEMPLATES.values():
        if re.search(template.name_pattern, lowered):
            return template
    return DEFAULT_TEMPLATE


def comment_prefix(language_id: str | None) -> str:
    return "#" if language_id in HASH_COMMENT_LANGUAGES else "//"


def quoted_snippet(path: str, text: str, template: FimTemplate) -> tuple[str, str]:
    """A snippet from another file made inert: no template token (which would end its section and open
    another, e.g. a forged `<|fim_middle|>`), and a path on one line."""
    for token in template.special_tokens:
        if token in text:
            text = text.replace(token, "")
        if token in path:
            path = path.replace(token, "")
    return " ".join(path.split()), text


def snippets_as_comments(snippets: Sequence[tuple[str, str]], language_id: str | None) -> str:
    """Context for templates without a repo form: commented blocks headed by their path, each line a comment."""
    marker = comment_prefix(language_id)
    blocks = []
    for path, text in snippets:
        lines = [f"{marker} Path: {path}"] + [f"{marker} {line}".rstrip() for line in text.splitlines()]
        blocks.append("\n".join(lines) + "\n")
    return "".join(blocks)


def _repo_context(template: FimTemplate, parts: PromptParts) -> str:
    assert template.file_section is not None and template.current_file_header is not None
    header = template.repo_header.format(repo=parts.repo_name) if template.repo_header and parts.repo_name else ""
    quoted = (quoted_snippet(path, text, template) for path, text in parts.snippets)
    sections = "".join(template.file_section.format(path=path, text=text) for path, text in quoted)
    return header + sections + template.current_file_header.format(path=parts.path)


def uses_repo_form(template: FimTemplate, parts: PromptParts) -> bool:
    return template.has_repo_form and bool(parts.snippets or parts.repo_name)


def render_with_offsets(template: FimTemplate, parts: PromptParts) -> RenderedPrompt:
    """Render the prompt and report where the prefix begins (the start of the volatile zone)."""
    if uses_repo_form(template, parts):
        lead, prefix = _repo_context(template, parts), parts.prefix
    else:
        quoted = [quoted_snippet(path, text, template) for path, text in parts.snippets]
        lead, prefix = "", snippets_as_comments(quoted, parts.language_id) + parts.prefix
    head, tail = template.layout.split("{prefix}")
    if "{suffix}" in head:  # suffix-first layouts (codestral)
        head = head.replace("{suffix}", parts.suffix)
    else:
        tail = tail.replace("{suffix}", parts.suffix)
    text = lead + head + prefix + tail
    return RenderedPrompt(text=text, prefix_start=len(text) - len(tail) - len(parts.prefix))


def render(template: FimTemplate, parts: PromptParts) -> str:
    return render_with_offsets(template, parts).text


def strip_template_tokens(text: str, template: FimTemplate) -> str:
    """Cut at the first stop token; delete any other template token that leaked into the output."""
    cut = len(text)
    for token in template.stop_tokens:
        index = text.find(token)
        if index != -1:
            cut = min(cut, index)
    text = text[:cut]
    for token in template.special_tokens:
        text = text.replace(token, "")
    return text
