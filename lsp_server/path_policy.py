"""Which files may reach a model: `privacy.rules`, glob → block | localOnly | allow. Pure.

`block`: nothing from the file is sent anywhere, not even as another file's context.
`localOnly`: the file may be sent to the bundled engine on this machine, never to a remote endpoint.
`allow`: the ordinary path (with secret redaction before a remote call).

A glob without "/" matches the file name (`.env*`, `*.pem`); one with "/" matches the end of the
path (`.aws/credentials`). The user's rules come before the defaults, and among them a later
rule overrides an earlier one, as in .gitignore; so `{".env.example": "allow"}` opens that one
file while `.env` stays blocked.
"""

from __future__ import annotations

import fnmatch
import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from context.workspace_index import uri_to_key

Policy = Literal["block", "localOnly", "allow"]

# Files whose whole content is a secret: dotenv files, keys and certificates, ssh keys, credential stores.
DEFAULT_RULES: tuple[tuple[str, Policy], ...] = (
    (".env*", "block"),
    ("*.env", "block"),
    ("*.pem", "block"),
    ("*.key", "block"),
    ("*.p12", "block"),
    ("*.pfx", "block"),
    ("id_rsa*", "block"),
    ("id_dsa*", "block"),
    ("id_ecdsa*", "block"),
    ("id_ed25519*", "block"),
    (".aws/credentials", "block"),
    (".netrc", "block"),
    ("_netrc", "block"),
    (".pgpass", "block"),
    (".git-credentials", "block"),
    ("*credentials*.json", "block"),
)


@dataclass(frozen=True)
class Decision:
    policy: Policy
    rule: str  # the glob that decided, "" where none matched
    name: str  # the file name, for messages

    def describe(self) -> str:
        return f"privacy.rules: {self.rule!r} → {self.policy}" if self.rule else f"privacy: {self.policy}"


@dataclass(frozen=True)
class PathPolicy:
    user_rules: tuple[tuple[str, Policy], ...] = ()

    @classmethod
    def from_settings(cls, rules: Mapping[str, Policy]) -> PathPolicy:
        return cls(tuple(rules.items()))

    def decide(self, source: str) -> Decision:
        """The policy for a file URI or path; an empty source (no file) is allowed."""
        return _decide(source, self.user_rules) if source else Decision("allow", "", "")

    def may_share(self, source: str, local: bool) -> bool:
        """Whether `source`'s content may be context for a request served locally (or not)."""
        policy = self.decide(source).policy
        return policy == "allow" or (policy == "localOnly" and local)


@functools.lru_cache(maxsize=4096)
def _decide(source: str, user_rules: tuple[tuple[str, Policy], ...]) -> Decision:
    path = uri_to_key(source).replace(os.sep, "/")
    name = path.rsplit("/", 1)[-1]
    for glob, policy in (*reversed(user_rules), *DEFAULT_RULES):
        if matches(glob, path):
            return Decision(policy, glob, name)
    return Decision("allow", "", name)


def matches(glob: str, path: str) -> bool:
    """`glob` against a '/'-separated path: the file name, or the path's end where the glob has a '/'."""
    glob = glob.strip()
    if not glob:
        return False
    if "/" not in glob:
        return fnmatch.fnmatchcase(path.rsplit("/", 1)[-1], glob)
    if glob.startswith("/"):
        return fnmatch.fnmatchcase(path, glob)
    return fnmatch.fnmatchcase(path, glob) or fnmatch.fnmatchcase(path, "*/" + glob.removeprefix("**/"))
