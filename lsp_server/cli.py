"""Command line: `ghostwriter serve [--tcp HOST:PORT]` and `ghostwriter doctor`."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="ghostwriter", description="Ghostwriter AI language server")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="speak LSP over stdio (default) or TCP")
    _serve_args(serve)
    doctor = sub.add_parser("doctor", help="print resolved settings and check the backend")
    doctor.add_argument("--settings", help="JSON file or inline JSON with the ghostwriter section")
    _serve_args(parser)
    args = parser.parse_args(argv)
    if args.command == "doctor":
        from lsp_server.doctor import run_doctor

        sys.exit(run_doctor(args.settings))
    run_server(args)


def _serve_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stdio", action="store_true", help="use stdio (the default)")
    parser.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio")
    parser.add_argument("--log-level", default=None, help="debug, info, warning or error")
    parser.add_argument("--log-file", default=None, help="write JSON log lines here instead of stderr")
    parser.add_argument("--exclude", action="append", default=[], help="feature to leave out (repeatable)")


def run_server(args: argparse.Namespace) -> None:
    import os

    from lsp_server.log import setup_logging
    from lsp_server.wiring import create_server

    setup_logging(args.log_level or os.environ.get("GHOSTWRITER_LOG_LEVEL", "info"),
                  args.log_file or os.environ.get("GHOSTWRITER_LOG_FILE", ""))
    announce_backend()
    server = create_server(exclude=tuple(args.exclude))
    profile = os.environ.get("GHOSTWRITER_PROFILE")  # a developer's aid: cProfile output path
    if profile:
        import cProfile

        cProfile.runctx("start(server, args)", globals(), {"start": _start, "server": server, "args": args},
                        profile)
    else:
        _start(server, args)


def _start(server: object, args: argparse.Namespace) -> None:
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        server.start_tcp(host or "127.0.0.1", int(port))  # type: ignore[attr-defined]
    else:
        server.start_io()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()


def announce_backend() -> None:
    """Say on stderr what will serve, before any editor connects: a silent misconfiguration is the worst kind."""
    import logging

    from lsp_server.backends.router import NO_BACKEND_MESSAGE, effective_kind
    from lsp_server.settings import env_settings, read_config_file, resolve

    log = logging.getLogger("ghostwriter.cli")
    file_layer, errors = read_config_file()
    settings, more = resolve(file_layer, env_settings())
    for error in errors + more:
        log.warning("settings: %s", error)
    kind = effective_kind(settings)
    if kind == "none":
        log.warning("%s (Editors can also send these settings; see README.md.)", NO_BACKEND_MESSAGE)
    elif kind == "vllm":
        log.info("backend: bundled vLLM (%s); it starts when an editor connects",
                 settings.backend.vllm.model or "default model")
    else:
        log.info("backend: %s, model %s", settings.backend.base_url, settings.completion_model or "(not set)")
