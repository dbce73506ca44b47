"""Secrets, e-mail and private addresses become stable placeholders; answers are restored or dropped."""

from __future__ import annotations

import random

import pytest

from lsp_server.backends import GenerationRequest
from lsp_server.redact import PATTERNS, Redactor, find_spans, redact, redact_request

AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ7rT9vKEY"
GITHUB = "ghp_" + "a1B2" * 9
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N"

# (kind, source, the secret that must vanish, the placeholder it becomes)
SECRETS = [
    ("aws-access-key", 'AWS_KEY = "AKIAIOSFODNN7ABCDEFG"\n', "AKIAIOSFODNN7ABCDEFG", "<SECRET_1>"),
    ("aws-secret-key", f"aws_secret_access_key = {AWS_SECRET}", AWS_SECRET, "<SECRET_1>"),
    ("github-token", f'token = "{GITHUB}"', GITHUB, "<SECRET_1>"),
    ("github-token", "gho_" + "Z" * 36, "gho_" + "Z" * 36, "<SECRET_1>"),
    ("github-token", "auth: github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "github_pat_11ABCDEFG", "<SECRET_1>"),
    ("openai-key", "client = OpenAI(api_key='sk-proj-abcdefghijklmnopqrstuvwxyz123456')", "sk-proj-abcdef",
     "<SECRET_1>"),
    ("openai-key", "key = sk-" + "0123456789abcdef" * 2, "sk-0123456789abcdef", "<SECRET_1>"),  # DashScope shape
    ("slack-token", "SLACK = xoxb-1234567890-abcdefghij", "xoxb-1234567890", "<SECRET_1>"),
    ("google-api-key", "maps('AIza" + "B" * 35 + "')", "AIza" + "B" * 35, "<SECRET_1>"),
    ("stripe-key", "stripe.api_key = sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "4eC39HqLyjWDarjtT1zdp7dc", "<SECRET_1>"),
    ("jwt", f'headers = {{"Authorization": "Bearer {JWT}"}}', JWT, "<SECRET_1>"),
    ("url-password", "url = 'postgres://admin:s3cr3tpass@db.internal:5432/app'", "s3cr3tpass", "<SECRET_1>"),
    ("env-assignment", "DB_PASSWORD=hunter2\n", "hunter2", "<SECRET_1>"),
    ("env-assignment", "export API_TOKEN='abc123'\n", "abc123", "<SECRET_1>"),
    ("env-assignment", "SECRET=x9 # set by ops\n", "x9", "<SECRET_1>"),
    ("secret-assignment", 'db_password = "hunter2hunter2"', "hunter2hunter2", "<SECRET_1>"),
    ("secret-assignment", '{"client_secret": "c0ffee-c0ffee"}', "c0ffee-c0ffee", "<SECRET_1>"),
    ("secret-assignment", "SECRET_KEY = 'django-insecure-abc123'", "django-insecure-abc123", "<SECRET_1>"),
    ("email", "# maintainer: jane.doe+gw@corp.example.org", "jane.doe+gw@corp.example.org", "<EMAIL_1>"),
    ("private-ipv4", "HOST = '10.1.2.3'", "10.1.2.3", "<IP_1>"),
    ("private-ipv4", "connect('172.16.0.9', 80)", "172.16.0.9", "<IP_1>"),
    ("private-ipv4", "server 192.168.100.254;", "192.168.100.254", "<IP_1>"),
    ("ula-ipv6", "peer = 'fd12:3456:789a::1'", "fd12:3456:789a::1", "<IP_1>"),
    ("private-key", "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----\nx = 1",
     "MIIEow", "<SECRET_1>"),
]


@pytest.mark.parametrize(("kind", "source", "secret", "placeholder"), SECRETS, ids=[row[0] for row in SECRETS])
def test_each_kind_of_secret_becomes_a_placeholder(kind: str, source: str, secret: str, placeholder: str) -> None:
    redacted, count = redact(source)
    assert secret not in redacted
    assert placeholder in redacted and count == 1
    assert [span.kind for span in find_spans(source)] == [kind]


def test_every_pattern_has_a_row() -> None:
    assert {p.kind for p in PATTERNS} | {"private-key"} == {row[0] for row in SECRETS}


@pytest.mark.parametrize(
    "source",
    [
        "def tokenize(text):\n    return text.split()\n",
        'password = os.environ["DB_PASSWORD"]\n',
        'api_key = "your_api_key_here"\n',
        "secret_count = 3\n",
        "MAX_TOKENS=5\n",
        'tokenizer_path = "models/tokenizer.json"\n',  # the secret word must end the name
        'secret_count_label = "number of secrets"\n',
        "    token=token,\n",  # a keyword argument on its own line
        "DB_PASSWORD=${DB_PASSWORD}\n",
        "url = 'postgres://admin:$PGPASS@db/app'",
        "@property\ndef name(self): ...",
        "version = '10.1.2'",  # three parts: a version, not an address
        "PUBLIC = '8.8.8.8'; also 172.32.0.1 and 192.169.1.1",
        "placeholder = '<SECRET_1>'",
    ],
)
def test_ordinary_code_is_untouched(source: str) -> None:
    assert redact(source) == (source, 0)


def test_the_same_secret_gets_the_same_placeholder_and_numbering_is_by_first_appearance() -> None:
    text = ('a = "AKIAIOSFODNN7ABCDEFG"\nb = "me@corp.example.com"\n'
            'c = "AKIAIOSFODNN7ABCDEFG"\nd = "AKIAZZZZZZZZZZZZZZZZ"')
    redacted, count = redact(text)
    assert redacted == 'a = "<SECRET_1>"\nb = "<EMAIL_1>"\nc = "<SECRET_1>"\nd = "<SECRET_2>"'
    assert count == 4
    assert redact(text) == (redacted, count)  # deterministic: the next keystroke's prompt starts the same


def test_prompt_and_messages_share_one_numbering_and_restore() -> None:
    request = GenerationRequest(feature="hover", model="m", messages=(
        {"role": "system", "content": "key AKIAIOSFODNN7ABCDEFG"},
        {"role": "user", "content": 'k = "AKIAIOSFODNN7ABCDEFG"; who = "me@corp.example.com"'},
    ))
    redacted, redactor = redact_request(request)
    assert [m["content"] for m in redacted.messages] == ["key <SECRET_1>", 'k = "<SECRET_1>"; who = "<EMAIL_1>"']
    assert redactor.count == 3
    assert redactor.restore("uses <SECRET_1> for <EMAIL_1>") == "uses AKIAIOSFODNN7ABCDEFG for me@corp.example.com"


@pytest.mark.parametrize(
    ("answer", "restored"),
    [
        ("print('<SECRET_1>')", "print('AKIAIOSFODNN7ABCDEFG')"),
        ("no placeholder here", "no placeholder here"),
        ("uses <SECRET_2>", None),  # never handed out: dropped, not inserted
        ("uses <EMAIL_1>", None),
        ("keep <IP_7> as written", "keep <IP_7> as written"),  # the code itself contains it
        ("key = '<SECR", "key = '"),  # the stream ended inside a placeholder: the stub is cut
        ("if a <", "if a <"),  # one "<" is code
    ],
)
def test_answers_are_restored_or_dropped(answer: str, restored: str | None) -> None:
    redactor = Redactor()
    assert redactor.redact('k = "AKIAIOSFODNN7ABCDEFG"  # see <IP_7>') == 'k = "<SECRET_1>"  # see <IP_7>'
    assert redactor.restore(answer) == restored


def test_numbering_steps_around_placeholders_the_code_already_has() -> None:
    redactor = Redactor()
    assert redactor.redact("# <SECRET_1> is a marker\nk = 'AKIAIOSFODNN7ABCDEFG'") == (
        "# <SECRET_1> is a marker\nk = '<SECRET_2>'")
    assert redactor.restore("<SECRET_2> <SECRET_1>") == "AKIAIOSFODNN7ABCDEFG <SECRET_1>"


def test_without_redactions_an_answer_passes_unchanged() -> None:
    assert Redactor().restore("a <SE") == "a <SE"


def test_consecutive_texts_are_redacted_as_if_each_were_new() -> None:
    """The per-line memo must never change an answer: each text compares against a fresh scan."""
    rng = random.Random(5)
    pieces = ["x = 1", 'api_key = "AKIAABCDEFGHIJKLMNOP"', "def f():", '    token = "s3cr3t-value-123"',
              "# comment", "url = 'https://user:hunter22@example.com'", "ops@corp.example.com", ""]
    lines = [rng.choice(pieces) for _ in range(60)]
    for _ in range(200):
        at = rng.randrange(len(lines))
        if rng.random() < 0.5:
            lines[at] += rng.choice(["a", " ", "k", '"'])
        else:
            lines.insert(at, rng.choice(pieces))
        text = "\n".join(lines)
        from lsp_server import redact as module

        module._line_spans.cache_clear()
        fresh = redact(text)
        assert redact(text) == fresh
        assert "hunter22" not in fresh[0] and "AKIAABCDEFGHIJKLMNOP" not in fresh[0]
