"""What `ghostwriter serve` says before an editor connects, in plain words.

A person who types `ghostwriter serve` in a terminal should learn what to set; an editor that
starts the server reads stderr as a log, where a warning about settings the editor has not sent
yet would be a false alarm. So the same facts are told two ways, chosen by what stdin is.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

CONFIG_ENV = "GHOSTWRITER_CONFIG"


def stdin_kind(mode: int | None, isatty: bool) -> str:
    """'pipe' or 'socket' (an editor), 'tty' (a person), 'null' (/dev/null and other devices), 'file', 'closed'."""
    if mode is None:
        return "closed"
    if stat.S_ISFIFO(mode):
        return "pipe"
    if stat.S_ISSOCK(mode):
        return "socket"
    if isatty:
        return "tty"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "null"
    return "file"


def current_stdin_kind(fd: int = 0) -> str:
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return stdin_kind(None, False)
    return stdin_kind(mode, os.isatty(fd))


@dataclass(frozen=True)
class ConfigFile:
    """Which settings file is read, and whether it is there."""

    path: Path
    explicit: bool  # named by $GHOSTWRITER_CONFIG
    exists: bool

    def describe(self) -> str:
        origin = f" (from ${CONFIG_ENV})" if self.explicit else ""
        if self.exists:
            return f"{self.path}{origin}"
        if self.explicit:
            return f"{self.path}{origin}, which does not exist"
        return f"{self.path} (not created yet)"

    @property
    def missing_but_named(self) -> bool:
        return self.explicit and not self.exists


def config_file(environ: dict[str, str] | None = None) -> ConfigFile:
    from lsp_server.settings import config_file_path

    environ = dict(os.environ) if environ is None else environ
    explicit = bool(environ.get(CONFIG_ENV))
    path = Path(environ[CONFIG_ENV]) if explicit else config_file_path()
    return ConfigFile(path=path, explicit=explicit, exists=path.exists())


def no_backend_text(config: ConfigFile) -> str:
    """The several lines a person needs to get from 'nothing configured' to a first suggestion."""
    return "\n".join([
        "Ghostwriter has no model backend yet, so it cannot suggest code. Set one of these:",
        "  • any OpenAI-compatible endpoint, local or hosted:",
        "      export GHOSTWRITER_BASE_URL=http://127.0.0.1:11434/v1   # settings key ghostwriter.backend.baseUrl",
        "      export GHOSTWRITER_MODEL=qwen2.5-coder:1.5b              # settings key ghostwriter.backend.model",
        "    for a hosted API also the NAME of the variable that holds the key:",
        "      export GHOSTWRITER_API_KEY_ENV=DASHSCOPE_API_KEY         # settings key ghostwriter.backend.apiKeyEnv",
        f"  • or the same keys in the settings file {config.describe()},",
        '    e.g. {"backend": {"baseUrl": "http://127.0.0.1:11434/v1", "model": "qwen2.5-coder:1.5b"}},',
        "    or in your editor's Ghostwriter settings;",
        "  • or, on a machine with a CUDA GPU: pip install 'ghostwriter[vllm]' for the bundled engine.",
        "Then run `ghostwriter doctor` to check the endpoint and the model names.",
    ])


def missing_config_text(config: ConfigFile) -> str:
    return (f"${CONFIG_ENV} names {config.path}, which does not exist; no settings file is read. "
            f"Create it or unset {CONFIG_ENV}.")


def interactive_banner(transport: str) -> str:
    """For a person at a terminal: what this process is waiting for."""
    if transport == "stdio":
        return ("Ghostwriter is waiting for an editor to speak LSP on stdin. Editors start `ghostwriter serve` "
                "themselves; see README.md to set one up. Press Ctrl-C to quit.")
    return f"Ghostwriter is listening for an editor on {transport}. Press Ctrl-C to quit."


NULL_STDIN_TEXT = (
    "stdin is not connected to anything (/dev/null), so no editor can talk to this server. "
    "Editors start `ghostwriter serve` with pipes themselves; to serve a client that connects later, "
    "use `ghostwriter serve --tcp 127.0.0.1:2087`."
)
