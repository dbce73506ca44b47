"""Command line: `ghostwriter serve [--tcp HOST:PORT]`, `ghostwriter doctor`, `ghostwriter --version`, and the
headless commands `complete`, `explain`, `refactor`, `review`, `usage` (lsp_server/commands/), `help COMMAND`.

Bad arguments end in one line naming the argument and what would be accepted, never a traceback.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import socket
import sys
from typing import Any, NoReturn

from lsp_server.commands import COMMAND_NAMES

LOG_LEVELS = ("debug", "info", "warning", "error")
EXIT_CODES = ("Exit status: 0 done; 1 review found something at --fail-on; 2 bad arguments or unreadable file; "
              "3 the backend failed or its answer was unusable; 4 a budget stopped the work; 5 a privacy rule "
              "refused a file; 130 interrupted.")
DEFAULT_TCP_HOST = "127.0.0.1"


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line first, then the usage (its default is the reverse)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n{self.format_usage()}")


def version() -> str:
    from lsp_server.commands.session import package_version

    return f"ghostwriter {package_version()} (Python {sys.version.split()[0]})"


def log_level(text: str) -> str:
    level = text.strip().lower()
    if level not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a log level; use one of {', '.join(LOG_LEVELS)}")
    return level


def tcp_address(text: str) -> tuple[str, int]:
    """`HOST:PORT`, `:PORT` or `PORT` (host 127.0.0.1); `[::1]:PORT` for IPv6."""
    host, sep, port_text = text.strip().rpartition(":")
    if not sep:
        host, port_text = "", text.strip()
    host = host.strip("[]") or DEFAULT_TCP_HOST
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT with a port from 0 to 65535, "
                                         f"e.g. {DEFAULT_TCP_HOST}:2087")
    return host, int(port_text)


def feature_names() -> tuple[str, ...]:
    from lsp_server.wiring import FEATURE_NAMES

    return FEATURE_NAMES


def build_parser() -> Parser:
    parser = Parser(prog="ghostwriter", description="Ghostwriter AI language server",
                    epilog="With no command, `serve` runs. Editors start `ghostwriter serve` themselves.")
    parser.add_argument("--version", action="version", version=version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    serve = sub.add_parser("serve", help="speak LSP over stdio (default) or TCP")
    _serve_args(serve)
    doctor = sub.add_parser("doctor", help="print resolved settings and check the backend",
                            description="Print the resolved settings (secrets masked) and check the backend. "
                                        "Exit status: 0 ready to serve, 1 something to fix (marked ✗), "
                                        "2 bad arguments.")
    doctor.add_argument("--settings", help="JSON file or inline JSON with the ghostwriter section")
    _command_parsers(sub)
    helper = sub.add_parser("help", help="show the help of a command", description="Show the help of COMMAND.")
    helper.add_argument("topic", nargs="?", metavar="COMMAND", choices=sorted(sub.choices),
                        help=", ".join(sorted(sub.choices)))
    _serve_args(parser)
    return parser


def _command_parsers(sub: Any) -> None:
    """The headless commands (lsp_server/commands/): each with --settings, as doctor has."""
    from lsp_server.commands.arguments import SPECS

    for name, (summary, description, add_arguments) in SPECS.items():
        command = sub.add_parser(name, help=summary, description=description, epilog=EXIT_CODES)
        add_arguments(command)
        command.add_argument("--settings", help="JSON file or inline JSON with the ghostwriter section "
                                                "(over the settings file and the environment)")


def _serve_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stdio", action="store_true", help="use stdio (the default)")
    parser.add_argument("--tcp", metavar="HOST:PORT", type=tcp_address, help="listen on TCP instead of stdio")
    parser.add_argument("--log-level", type=log_level, default=None, help="debug, info, warning or error")
    parser.add_argument("--log-file", default=None, help="write JSON log lines here instead of stderr")
    parser.add_argument("--exclude", action="append", default=[], metavar="FEATURE",
                        help="feature to leave out (repeatable): " + ", ".join(feature_names()))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # named by the command they were given to, with its usage
        (_subparsers(parser).get(args.command) or parser).error(f"unrecognized arguments: {' '.join(extra)}")
    known = feature_names()
    unknown = [name for name in args.exclude if name not in known]
    if unknown:
        parser.prog = f"ghostwriter {args.command or 'serve'}"
        parser.error(f"argument --exclude: no feature named {', '.join(map(repr, unknown))}; "
                     f"features are {', '.join(known)}")
    if args.log_level is None:
        # A command's own output is its result; the log speaks up only for errors unless asked.
        env_level = os.environ.get("GHOSTWRITER_LOG_LEVEL", "error" if args.command in COMMAND_NAMES else "info")
        try:
            args.log_level = log_level(env_level)
        except argparse.ArgumentTypeError as error:
            parser.error(f"GHOSTWRITER_LOG_LEVEL: {error}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.command == "doctor":
        from lsp_server.doctor import run_doctor

        sys.exit(run_doctor(args.settings))
    if args.command == "help":
        parser = build_parser()
        chosen = _subparsers(parser).get(args.topic) if args.topic else parser
        chosen.print_help()  # type: ignore[union-attr]
        sys.exit(0)
    if args.command in COMMAND_NAMES:
        sys.exit(run_command(args))
    sys.exit(run_server(args))


def run_until_done(coro: Any) -> Any:
    """Run a command's coroutine; Ctrl-C interrupts at once, wherever it lands, then the command's
    cleanup runs (the engine stopped, usage saved) before KeyboardInterrupt goes on.

    Not asyncio.run: its SIGINT handler only cancels the task at the next await, so a blocking step
    (a file being replaced) would hold Ctrl-C back until it ended.
    """
    import asyncio
    import contextlib

    loop = asyncio.new_event_loop()
    task = loop.create_task(coro)
    try:
        return loop.run_until_complete(task)
    except KeyboardInterrupt:
        if not task.done():  # it landed in the loop itself: cancel the command and let its cleanup run
            task.cancel()
            with contextlib.suppress(BaseException):
                loop.run_until_complete(task)
        raise
    finally:
        with contextlib.suppress(BaseException):
            loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def run_command(args: argparse.Namespace) -> int:
    """Run a headless command: its result on stdout, problems in one line on stderr, never a traceback."""
    import inspect

    from lsp_server.commands import command
    from lsp_server.commands.session import CommandError, ExitCode
    from lsp_server.commands.terminal import Terminal
    from lsp_server.errors import BackendError, BudgetExceeded, PrivacyRefusal
    from lsp_server.log import setup_logging

    prog = f"ghostwriter {args.command}"
    try:
        setup_logging(args.log_level, args.log_file or os.environ.get("GHOSTWRITER_LOG_FILE", ""))
    except OSError as error:
        print(f"{prog}: error: cannot write the log file: {error}", file=sys.stderr)
        return ExitCode.FAILED
    terminal = Terminal()
    try:
        outcome = command(args.command).run(args, terminal)
        return int(run_until_done(outcome) if inspect.iscoroutine(outcome) else outcome)
    except CommandError as error:
        terminal.close()
        print(f"{prog}: {error.message}", file=sys.stderr)
        return error.code
    except BackendError as error:  # what the editor would show in a message, as one line
        terminal.close()
        print(f"{prog}: {error.user_message}", file=sys.stderr)
        if isinstance(error, PrivacyRefusal):
            return ExitCode.BLOCKED
        return ExitCode.BUDGET if isinstance(error, BudgetExceeded) else ExitCode.FAILED
    except KeyboardInterrupt:
        terminal.close()
        print(f"{prog}: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:  # `ghostwriter review | head`: the reader left; nothing more to say
        sys.stderr.close()
        return ExitCode.OK


def run_server(args: argparse.Namespace) -> int:
    from lsp_server.first_run import NULL_STDIN_TEXT, current_stdin_kind, interactive_banner
    from lsp_server.log import setup_logging

    stdin = "tcp" if args.tcp else current_stdin_kind()
    person = stdin in ("tty", "null", "closed", "tcp")  # nobody speaks LSP on stdin: a person ran this
    if args.tcp:
        problem = tcp_problem(*args.tcp)
        if problem:
            print(f"ghostwriter serve: error: {problem}", file=sys.stderr)
            return 1
    try:
        setup_logging(args.log_level, args.log_file or os.environ.get("GHOSTWRITER_LOG_FILE", ""))
    except OSError as error:
        print(f"ghostwriter serve: error: cannot write the log file: {error}", file=sys.stderr)
        return 1
    announce_backend(person)
    if stdin in ("null", "closed"):
        print(NULL_STDIN_TEXT, file=sys.stderr)
        return 1
    if person:
        where = f"{args.tcp[0]}:{args.tcp[1]}" if args.tcp else "stdio"
        print(interactive_banner(where), file=sys.stderr)
    from lsp_server.wiring import create_server

    server = create_server(exclude=tuple(args.exclude))
    profile = os.environ.get("GHOSTWRITER_PROFILE")  # a developer's aid: cProfile output path
    if profile:
        import cProfile

        cProfile.runctx("start(server, args)", globals(), {"start": _start, "server": server, "args": args},
                        profile)
    else:
        _start(server, args)
    return 0


def tcp_problem(host: str, port: int) -> str:
    """Why HOST:PORT cannot be listened on (in use, unknown host), or ''; checked before any server starts."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio's server does
            probe.bind(address)
    except OSError as error:
        reason = error.strerror or str(error)
        hint = "; pick another port or stop the process using it" if error.errno == errno.EADDRINUSE else ""
        return f"cannot listen on {host}:{port}: {reason}{hint}"
    return ""


def _start(server: object, args: argparse.Namespace) -> None:
    if args.tcp:
        server.start_tcp(*args.tcp)  # type: ignore[attr-defined]
    else:
        server.start_io()  # type: ignore[attr-defined]


def announce_backend(person: bool) -> None:
    """Say what will serve before any editor connects: plain words for a person, one log line for an editor.

    An editor usually sends its own settings in `initialize`, so from an editor an empty environment is
    no error yet; the server reports a missing backend again when a request actually needs one.
    """
    from lsp_server.backends.router import effective_kind
    from lsp_server.first_run import config_file, missing_config_text, no_backend_text
    from lsp_server.settings import env_settings, read_config_file, resolve

    log = logging.getLogger("ghostwriter.cli")
    config = config_file()
    file_layer, errors = read_config_file(config.path)
    settings, more = resolve(file_layer, env_settings())
    problems = errors + more + ([missing_config_text(config)] if config.missing_but_named else [])
    for problem in problems:
        log.warning("settings: %s", problem)
    kind = effective_kind(settings)
    if kind == "none" and person:
        print(no_backend_text(config), file=sys.stderr)
    elif kind == "none":
        log.info("no backend in the environment or the settings file %s yet; using the editor's settings",
                 config.describe())
    elif kind == "vllm":
        log.info("backend: bundled vLLM (%s); it starts when an editor connects",
                 settings.backend.vllm.model or "default model")
    else:
        log.info("backend: %s, model %s", settings.backend.base_url, settings.completion_model or "(not set)")


if __name__ == "__main__":
    main()
