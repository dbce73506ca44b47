"""Redact secrets, e-mail addresses and private addresses before code leaves the machine.

Applied by the pipeline to every request bound for a remote endpoint (not the bundled engine),
so no feature can forget it. Each redacted span becomes a stable placeholder (`<SECRET_1>`,
`<EMAIL_1>`, `<IP_1>`): the same value maps to the same placeholder, numbered by first
appearance, so consecutive prompts stay byte-identical (the endpoint's prefix cache and our disk
cache keep hitting). A completion that uses a placeholder is restored to the original text here,
on this machine; one that names a placeholder we never handed out is dropped, so the buffer never
receives a mangled secret.

The patterns are data (PATTERNS below), tested row by row. They favour precision: well-known
token shapes, connection-string passwords, and assignments whose name says "secret". A scanner
library was considered: the maintained ones are line scanners that report values rather than
spans, cover no e-mail or address ranges, and add entropy checks that flag hashes and ids.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace

from lsp_server.backends import GenerationRequest


@dataclass(frozen=True)
class SecretPattern:
    kind: str  # what it finds, for tests and logs ("github-token")
    label: str  # the placeholder's name: SECRET, EMAIL or IP
    regex: re.Pattern[str]
    group: int | str = 0  # the part replaced (a connection string keeps its user and host)


def _p(kind: str, pattern: str, label: str = "SECRET", group: int | str = 0, flags: int = 0) -> SecretPattern:
    return SecretPattern(kind, label, re.compile(pattern, flags), group)


_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_SECRET_WORDS = (r"(?:password|passwd|passphrase|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key"
                 r"|secret[_-]?key|authorization|credentials?)")

# Order is priority: where two matches overlap, the earlier row wins.
PATTERNS: tuple[SecretPattern, ...] = (
    _p("aws-access-key", r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
    _p("aws-secret-key", r"(?i)aws[\w.-]{0,20}?secret[\w.-]{0,20}?[\"']?\s*[:=]\s*[\"']?"
       r"(?P<v>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])", group="v"),
    _p("github-token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b"),
    _p("openai-key", r"\bsk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_-]{20,}"),  # DashScope keys too: sk- + hex
    _p("slack-token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    _p("google-api-key", r"\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])"),
    _p("stripe-key", r"\b[rs]k_(?:live|test)_[0-9A-Za-z]{16,}\b"),
    _p("jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    _p("url-password", r"(?<=://)[^\s:/@\"'<>]+:(?P<v>[^\s@/\"'<>]+)(?=@)", group="v"),
    # .env style: NAME=value at the start of a line, the name ending in a secret word.
    # Upper-case names only: a lower-case `token=token,` is a keyword argument, not a secret.
    _p("env-assignment", r"^\s*(?:export\s+)?[A-Z0-9_]*(?:SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|ACCESS_KEY"
       r"|PRIVATE_KEY|CREDENTIALS?)=(?P<q>[\"']?)(?P<v>[^\s\"'#]+)(?P=q)\s*(?:#.*)?$", group="v"),
    # In code: a quoted value assigned to a name that ends in a secret word (`db_password`, not
    # `tokenizer_path`), long enough to be one.
    _p("secret-assignment", r"\b[\w.-]*" + _SECRET_WORDS
       + r"(?![\w-])[\"']?\s*[:=]\s*(?P<q>[\"'])(?P<v>[^\"'\n]{8,})(?P=q)", group="v", flags=re.IGNORECASE),
    _p("email", r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b",
       label="EMAIL"),
    _p("private-ipv4", r"(?<![\w.])(?:10(?:\." + _OCTET + r"){3}|172\.(?:1[6-9]|2\d|3[01])(?:\." + _OCTET + r"){2}"
       r"|192\.168(?:\." + _OCTET + r"){2})(?![\w.]*\d)", label="IP"),
    _p("ula-ipv6", r"(?<![\w:])f[cd][0-9a-f]{2}:(?:[0-9a-f]{0,4}:){1,6}[0-9a-f]{1,4}(?![\w:])", label="IP",
       flags=re.IGNORECASE),
)
PRIVATE_KEY = _p("private-key",
                 r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)")
LABELS = ("SECRET", "EMAIL", "IP")
PLACEHOLDER = re.compile(r"<(SECRET|EMAIL|IP)_(\d+)>")
# The start of a placeholder cut off at the end of a stream: "<SE", "<EMAIL_1".
_PARTIAL_TAIL = re.compile(r"<(?:S(?:E(?:C(?:R(?:E(?:T(?:_\d*)?)?)?)?)?)?|E(?:M(?:A(?:I(?:L(?:_\d*)?)?)?)?)?"
                           r"|I(?:P(?:_\d*)?)?)$")
_PLACEHOLDER_WORDS = ("example", "changeme", "your_", "your-", "xxxx", "<", "{", "$", "***", "...")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str
    label: str


def _looks_like_placeholder(value: str) -> bool:
    lowered = value.lower()
    return any(word in lowered for word in _PLACEHOLDER_WORDS)


def find_spans(text: str) -> list[Span]:
    """Every redactable span of `text`, in order, without overlaps."""
    spans: list[Span] = []
    if "PRIVATE KEY-----" in text:  # the one pattern that spans lines
        spans = [Span(m.start(), m.end(), PRIVATE_KEY.kind, PRIVATE_KEY.label)
                 for m in PRIVATE_KEY.regex.finditer(text)]
    offset = 0
    for line in text.split("\n"):
        for span in _line_spans(line):
            shifted = Span(span.start + offset, span.end + offset, span.kind, span.label)
            if not any(s.start < shifted.end and shifted.start < s.end for s in spans):
                spans.append(shifted)
        offset += len(line) + 1
    return sorted(spans, key=lambda s: s.start)


@functools.lru_cache(maxsize=8192)
def _line_spans(line: str) -> tuple[Span, ...]:
    """Per line and memoised: consecutive prompts share almost all their lines."""
    chosen: list[Span] = []
    for pattern in PATTERNS:
        for match in pattern.regex.finditer(line):
            start, end = match.span(pattern.group)
            value = line[start:end]
            if start == end or (pattern.group != 0 and _looks_like_placeholder(value)) or PLACEHOLDER.fullmatch(value):
                continue
            if not any(s.start < end and start < s.end for s in chosen):
                chosen.append(Span(start, end, pattern.kind, pattern.label))
    return tuple(sorted(chosen, key=lambda s: s.start))


@dataclass
class Redactor:
    """Placeholders for one request: shared by its prompt and all its messages, then used to restore."""

    placeholders: dict[str, str] = field(default_factory=dict)  # original → placeholder
    originals: dict[str, str] = field(default_factory=dict)  # placeholder → original
    reserved: set[str] = field(default_factory=set)  # placeholder-shaped text the code itself contains
    count: int = 0  # spans replaced (every occurrence counts)
    _next: dict[str, int] = field(default_factory=dict)

    def redact(self, text: str) -> str:
        spans = find_spans(text)
        if not spans:
            self._reserve(text)
            return text
        self._reserve(text)
        out: list[str] = []
        at = 0
        for span in spans:
            out.append(text[at:span.start])
            out.append(self._placeholder(text[span.start:span.end], span.label))
            at = span.end
        out.append(text[at:])
        self.count += len(spans)
        return "".join(out)

    def _reserve(self, text: str) -> None:
        # Code that already contains "<SECRET_1>" keeps it, and our numbering steps around it.
        if "<" in text:
            for match in PLACEHOLDER.finditer(text):
                self.reserved.add(match.group(0))
                label, number = match.group(1), int(match.group(2))
                self._next[label] = max(self._next.get(label, 1), number + 1)

    def _placeholder(self, original: str, label: str) -> str:
        known = self.placeholders.get(original)
        if known is not None:
            return known
        number = self._next.get(label, 1)
        placeholder = f"<{label}_{number}>"
        while placeholder in self.reserved:  # reserved after this number was handed out: skip it
            number += 1
            placeholder = f"<{label}_{number}>"
        self._next[label] = number + 1
        self.placeholders[original] = placeholder
        self.originals[placeholder] = original
        return placeholder

    def restore(self, text: str) -> str | None:
        """The model's text with our placeholders put back; None if it names one we never gave out."""
        if not self.originals and not self.reserved:
            return text
        if self.originals:
            partial = _PARTIAL_TAIL.search(text[-8:]) if "<" in text[-8:] else None
            if partial is not None and len(partial.group(0)) >= 2:
                text = text[:len(text) - len(partial.group(0))]  # cut mid-placeholder by the stream's end
        unknown = False

        def put_back(match: re.Match[str]) -> str:
            nonlocal unknown
            token = match.group(0)
            if token in self.originals:
                return self.originals[token]
            if token not in self.reserved:
                unknown = True
            return token

        restored = PLACEHOLDER.sub(put_back, text) if "<" in text else text
        return None if unknown else restored


def redact(text: str) -> tuple[str, int]:
    """The text with its secrets replaced by placeholders, and how many spans were replaced."""
    redactor = Redactor()
    return redactor.redact(text), redactor.count


def redact_request(request: GenerationRequest) -> tuple[GenerationRequest, Redactor]:
    """The request as it may leave the machine, and the redactor that restores the answer."""
    redactor = Redactor()
    prompt = redactor.redact(request.prompt) if request.prompt is not None else None
    messages = tuple({**m, "content": redactor.redact(m["content"])} if isinstance(m.get("content"), str) else m
                     for m in request.messages)
    return replace(request, prompt=prompt, messages=messages), redactor
