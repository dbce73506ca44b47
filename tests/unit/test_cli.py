"""The command line's pure parts: argument types, stdin classification, doctor's model hints."""

from __future__ import annotations

import argparse
import io
import stat
from pathlib import Path

import pytest

from lsp_server import cli, doctor, first_run
from lsp_server.settings import resolve


@pytest.mark.parametrize(("text", "expected"), [
    ("debug", "debug"), ("INFO", "info"), (" Warning ", "warning"), ("error", "error"),
])
def test_log_level_accepts_the_four_levels(text: str, expected: str) -> None:
    assert cli.log_level(text) == expected


@pytest.mark.parametrize("text", ["loud", "", "critical", "10"])
def test_log_level_rejects_anything_else_naming_the_choices(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="debug, info, warning, error"):
        cli.log_level(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("127.0.0.1:2087", ("127.0.0.1", 2087)),
    ("0.0.0.0:0", ("0.0.0.0", 0)),
    (":2087", ("127.0.0.1", 2087)),
    ("2087", ("127.0.0.1", 2087)),
    ("localhost:65535", ("localhost", 65535)),
    ("[::1]:2087", ("::1", 2087)),
])
def test_tcp_address_forms(text: str, expected: tuple[str, int]) -> None:
    assert cli.tcp_address(text) == expected


@pytest.mark.parametrize("text", ["nonsense", "host:", "host:port", "127.0.0.1:65536", "127.0.0.1:-1", ""])
def test_tcp_address_rejects_bad_forms_with_an_example(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="127.0.0.1:2087"):
        cli.tcp_address(text)


@pytest.mark.parametrize(("argv", "fragment"), [
    (["serve", "--log-level", "loud"], "argument --log-level: 'loud' is not a log level"),
    (["serve", "--tcp", "nonsense"], "argument --tcp: 'nonsense' is not HOST:PORT"),
    (["serve", "--exclude", "bogus"], "no feature named 'bogus'; features are inline_completion,"),
    (["--exclude", "hover"], "no feature named 'hover'"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
])
def test_bad_arguments_are_one_line_then_the_usage(argv: list[str], fragment: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.parse_args(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    first, *rest = err.splitlines()
    assert fragment in first and first.startswith("ghostwriter")  # the error in one line, then the usage
    assert rest and rest[0].startswith("usage: ghostwriter")


def test_bad_log_level_in_the_environment_is_named(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GHOSTWRITER_LOG_LEVEL", "chatty")
    with pytest.raises(SystemExit):
        cli.parse_args(["serve"])
    assert "GHOSTWRITER_LOG_LEVEL: 'chatty' is not a log level" in capsys.readouterr().err


def test_good_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GHOSTWRITER_LOG_LEVEL", raising=False)
    args = cli.parse_args(["serve", "--tcp", ":2087", "--exclude", "explain_hover", "--exclude", "code_actions"])
    assert (args.command, args.tcp, args.exclude, args.log_level) == (
        "serve", ("127.0.0.1", 2087), ["explain_hover", "code_actions"], "info")


def test_version_names_the_package(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.parse_args(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("ghostwriter 0.")


def test_tcp_problem_names_a_port_in_use() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        problem = cli.tcp_problem("127.0.0.1", port)
    assert problem.startswith(f"cannot listen on 127.0.0.1:{port}: ") and "pick another port" in problem
    assert cli.tcp_problem("127.0.0.1", 0) == ""


@pytest.mark.parametrize(("mode", "isatty", "expected"), [
    (stat.S_IFIFO | 0o600, False, "pipe"),
    (stat.S_IFSOCK | 0o600, False, "socket"),
    (stat.S_IFCHR | 0o620, True, "tty"),
    (stat.S_IFCHR | 0o666, False, "null"),
    (stat.S_IFREG | 0o644, False, "file"),
    (None, False, "closed"),
])
def test_stdin_kind(mode: int | None, isatty: bool, expected: str) -> None:
    assert first_run.stdin_kind(mode, isatty) == expected


@pytest.mark.parametrize(("environ", "explicit", "missing"), [
    ({"GHOSTWRITER_CONFIG": "/nowhere/settings.json"}, True, True),
    ({"GHOSTWRITER_CONFIG": __file__}, True, False),
])
def test_config_file_reports_an_explicit_path_that_is_missing(environ: dict[str, str], explicit: bool,
                                                              missing: bool) -> None:
    config = first_run.config_file(environ)
    assert (config.explicit, config.missing_but_named) == (explicit, missing)
    assert str(config.path) in config.describe()
    assert ("does not exist" in config.describe()) == missing


def test_no_backend_text_names_keys_variables_file_and_doctor(tmp_path: Path) -> None:
    config = first_run.ConfigFile(path=tmp_path / "settings.json", explicit=False, exists=False)
    text = first_run.no_backend_text(config)
    for needed in ("GHOSTWRITER_BASE_URL", "GHOSTWRITER_MODEL", "GHOSTWRITER_API_KEY_ENV",
                   "ghostwriter.backend.baseUrl",
                   "ghostwriter.backend.model", str(tmp_path / "settings.json"), "ghostwriter doctor"):
        assert needed in text


@pytest.mark.parametrize(("name", "models", "expected"), [
    ("qwen2.5-coder", ["llama3", "qwen2.5-coder:1.5b"], "; did you mean 'qwen2.5-coder:1.5b'?"),
    ("Qwen2.5-Coder-1.5B", ["qwen2.5-coder-1.5b"], "; did you mean 'qwen2.5-coder-1.5b'?"),
    ("gpt-4o-mini", ["gpt-4o", "gpt-4o-mini-2024"], "; did you mean 'gpt-4o' or 'gpt-4o-mini-2024'?"),
    ("zzz", ["llama3", "mistral"], ""),
])
def test_suggest_near_misses(name: str, models: list[str], expected: str) -> None:
    assert doctor.suggest(name, models) == expected


@pytest.mark.parametrize(("models", "expected"), [
    ([], ""),
    (["a", "b"], "; the backend lists: a, b"),
    ([f"m{i}" for i in range(14)], "; the backend lists: " + ", ".join(f"m{i}" for i in range(12)) + " and 2 more"),
])
def test_offer_lists_models(models: list[str], expected: str) -> None:
    assert doctor.offer(models) == expected


@pytest.mark.parametrize(("backend", "models", "problems", "fragment"), [
    ({"model": "coder"}, ["coder"], 0, "✓ completion model: coder"),
    ({"model": "coder:7b"}, ["coder"], 2, "✗ completion model 'coder:7b' is not listed by the backend; did you mean"),
    ({}, ["coder", "chat"], 2, "✗ completion model: not set (ghostwriter.backend.completionModel); the backend lists"),
    ({"model": "chat", "completionModel": "coder"}, ["coder", "chat"], 0, "✓ chat model: chat"),
])
def test_report_models(backend: dict[str, str], models: list[str], problems: int, fragment: str) -> None:
    settings, _ = resolve({"backend": backend})
    out = io.StringIO()
    report = doctor.Report(out)
    doctor.report_models(settings, models, report)
    assert report.problems == problems
    assert fragment in out.getvalue()
