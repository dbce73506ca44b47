"""Suggestion quality on holes cut from real, tested Python projects (see `python -m bench.quality --help`)."""
