"""privacy.rules: which files may reach a model, table-tested."""

from __future__ import annotations

import pytest

from lsp_server.path_policy import PathPolicy, matches
from lsp_server.settings import resolve

# (user rules, file, expected policy)
CASES = [
    ({}, "/w/app.py", "allow"),
    ({}, "/w/.env", "block"),
    ({}, "/w/.env.local", "block"),
    ({}, "/w/prod.env", "block"),
    ({}, "/w/certs/server.pem", "block"),
    ({}, "/w/tls/server.key", "block"),
    ({}, "/home/me/.ssh/id_ed25519", "block"),
    ({}, "/home/me/.ssh/id_rsa.pub", "block"),
    ({}, "/home/me/.aws/credentials", "block"),
    ({}, "/home/me/.netrc", "block"),
    ({}, "/home/me/.pgpass", "block"),
    ({}, "/w/gcp-credentials-prod.json", "block"),
    ({}, "file:///w/.env", "block"),  # URIs and paths alike
    ({}, "file:///w/my%20dir/.env", "block"),
    ({}, "/w/id_generator.py", "allow"),  # ssh keys by name, not every file starting with id_
    ({}, "/w/credentials.py", "allow"),
    ({}, "/w/aws/credentials.md", "allow"),
    ({".env.example": "allow"}, "/w/.env.example", "allow"),  # the user's rules come first
    ({".env.example": "allow"}, "/w/.env", "block"),
    ({"*.py": "localOnly"}, "/w/app.py", "localOnly"),
    ({"*.py": "localOnly", "public/*.py": "allow"}, "/w/public/app.py", "allow"),  # a later rule wins
    ({"public/*.py": "allow", "*.py": "localOnly"}, "/w/public/app.py", "localOnly"),
    ({"internal/**": "block"}, "/w/internal/deep/x.go", "block"),
    ({"/etc/*": "block"}, "/etc/hosts", "block"),
    ({"/etc/*": "block"}, "/w/etc/hosts", "allow"),
    ({"": "block"}, "/w/app.py", "allow"),
]


@pytest.mark.parametrize(("rules", "path", "expected"), CASES)
def test_policy_for_a_file(rules: dict, path: str, expected: str) -> None:
    assert PathPolicy.from_settings(rules).decide(path).policy == expected


def test_a_decision_names_the_rule_that_made_it() -> None:
    decision = PathPolicy().decide("/w/.env")
    assert (decision.rule, decision.name) == (".env*", ".env")
    assert ".env*" in decision.describe()


@pytest.mark.parametrize(("policy", "local", "shared"), [
    ("allow", False, True), ("allow", True, True), ("localOnly", False, False), ("localOnly", True, True),
    ("block", False, False), ("block", True, False),
])
def test_what_may_be_context_for_another_file(policy: str, local: bool, shared: bool) -> None:
    assert PathPolicy.from_settings({"lib.py": policy}).may_share("/w/lib.py", local) is shared  # type: ignore[dict-item]


@pytest.mark.parametrize(("glob", "path", "matched"), [
    ("*.pem", "/a/b/c.pem", True),
    (".aws/credentials", "/home/u/.aws/credentials", True),
    (".aws/credentials", "/home/u/x.aws/credentials", False),
    ("**/secrets/*", "/w/a/secrets/k.txt", True),
])
def test_glob_matching(glob: str, path: str, matched: bool) -> None:
    assert matches(glob, path) is matched


def test_rules_come_from_the_wire_and_a_bad_policy_names_its_key() -> None:
    settings, errors = resolve({"privacy": {"rules": {"*.sql": "localOnly", "*.txt": "nope"}}})
    assert settings.privacy.rules == {"*.sql": "localOnly"}
    assert len(errors) == 1 and "privacy.rules.*.txt" in errors[0]


def test_log_content_is_a_setting() -> None:
    assert resolve({"log": {"content": "omit"}})[0].log.content == "omit"
    settings, errors = resolve({"log": {"content": "some"}})
    assert settings.log.content == "full" and "log.content" in errors[0]
