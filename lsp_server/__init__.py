"""Ghostwriter: an AI coding-assistant language server."""

__version__ = "0.1.0"
