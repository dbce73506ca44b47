"""Secrets are redacted before a remote call; ordinary code is left alone."""

from __future__ import annotations

import pytest

from lsp_server.backends import GenerationRequest
from lsp_server.redact import redact, redact_request


@pytest.mark.parametrize(
    ("source", "secret"),
    [
        ('AWS_KEY = "AKIAIOSFODNN7EXAMPLE"\n', "AKIAIOSFODNN7EXAMPLE"),
        ('token = "ghp_' + "a" * 36 + '"', "ghp_" + "a" * 36),
        ("client = OpenAI(api_key='sk-proj-abcdefghijklmnopqrstuvwxyz123456')", "sk-proj-abcdefghijklmnop"),
        ('db_password = "hunter2hunter2"', "hunter2hunter2"),
        ("url = 'postgres://admin:s3cr3tpass@db.internal:5432/app'", "s3cr3tpass"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----", "MIIEow"),
        (
            'headers = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."'
            'dozjgNryP4J3jVmNHl0w5N"}',
            "eyJhbGciOiJIUzI1NiJ9",
        ),
    ],
)
def test_secrets_are_redacted(source: str, secret: str) -> None:
    redacted, count = redact(source)
    assert secret not in redacted
    assert count >= 1 and "<redacted:" in redacted


@pytest.mark.parametrize(
    "source",
    [
        "def tokenize(text):\n    return text.split()\n",
        'password = os.environ["DB_PASSWORD"]\n',
        'api_key = "your_api_key_here"\n',
        "secret_count = 3\n",
    ],
)
def test_ordinary_code_is_untouched(source: str) -> None:
    assert redact(source) == (source, 0)


def test_request_prompt_and_messages_are_redacted() -> None:
    request = GenerationRequest(
        feature="hover", model="m", prompt=None, messages=({"role": "user", "content": 'key = "AKIAIOSFODNN7EXAMPLE"'},)
    )
    assert "AKIA" not in request_text(redact_request(request))


def request_text(request: GenerationRequest) -> str:
    return (request.prompt or "") + "".join(str(m["content"]) for m in request.messages)


def test_consecutive_texts_are_redacted_as_if_each_were_new() -> None:
    import random

    from lsp_server import redact as module

    rng = random.Random(5)
    pieces = ["x = 1", 'api_key = "AKIAABCDEFGHIJKLMNOP"', "def f():", '    token = "s3cr3t-value-123"',
              "# comment", "url = 'https://user:hunter22@example.com'", ""]
    lines = [rng.choice(pieces) for _ in range(60)]
    for _ in range(200):
        at = rng.randrange(len(lines))
        if rng.random() < 0.5:
            lines[at] += rng.choice(["a", " ", "k", '"'])
        else:
            lines.insert(at, rng.choice(pieces))
        text = "\n".join(lines)
        expected = [module._redact_line(line) for line in text.split("\n")]
        assert module.redact(text) == ("\n".join(t for t, _ in expected), sum(n for _, n in expected))
