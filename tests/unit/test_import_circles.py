"""The circle check behind scripts/check_imports.py, on small graphs, then on the project itself."""

from __future__ import annotations

import grimp
import pytest

from scripts.check_imports import PACKAGES, circles


def graph_of(edges: list[tuple[str, str]]) -> grimp.ImportGraph:
    graph = grimp.ImportGraph()
    for importer, imported in edges:
        graph.add_module(importer)
        graph.add_module(imported)
        graph.add_import(importer=importer, imported=imported)
    return graph


@pytest.mark.parametrize(("edges", "expected"), [
    ([("a", "b"), ("b", "c")], []),
    ([("a", "b"), ("b", "a")], [["a", "b"]]),
    ([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")], [["a", "b", "c"]]),
    ([("a", "b"), ("b", "a"), ("c", "d"), ("d", "c")], [["a", "b"], ["c", "d"]]),
    ([("a", "a2"), ("b", "b2")], []),
])
def test_circles_are_found_and_nothing_else(edges: list[tuple[str, str]], expected: list[list[str]]) -> None:
    assert sorted(circles(graph_of(edges))) == expected


def test_the_project_has_no_import_circle() -> None:
    assert circles(grimp.build_graph(*PACKAGES, include_external_packages=False)) == []
