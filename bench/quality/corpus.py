"""The projects holes are cut from: pinned sdists from PyPI that ship their tests, fetched and verified once.

Each sdist is downloaded with pip (the only network the benchmark needs), checked against its
pinned sha256 and unpacked into a cache folder; a GPU machine without network gets that folder
copied over (`--corpus-dir`).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import platformdirs


@dataclass(frozen=True)
class Project:
    name: str
    version: str
    archive: str
    sha256: str
    package: str
    """Folder (inside the unpacked sdist) that holds the library's own source."""


PROJECTS = (
    Project("boltons", "25.0.0", "boltons-25.0.0.tar.gz",
            "e110fbdc30b7b9868cb604e3f71d4722dd8f4dcb4a5ddd06028ba8f1ab0b5ace", "boltons"),
    Project("cachetools", "6.2.0", "cachetools-6.2.0.tar.gz",
            "38b328c0889450f05f5e120f56ab68c8abaf424e1275522b138ffc93253f7e32", "src/cachetools"),
    Project("more-itertools", "10.8.0", "more_itertools-10.8.0.tar.gz",
            "f638ddf8a1a0d134181275fb5d58b086ead7c6a72429ad725c67503f13ba30bd", "more_itertools"),
    Project("toolz", "1.0.0", "toolz-1.0.0.tar.gz",
            "2c86e3d9a04798ac556793bced838816296a2f085017664e4995cb40a1047a02", "toolz"),
)


def default_dir() -> Path:
    return Path(os.environ.get("GW_QUALITY_CORPUS") or platformdirs.user_cache_dir("ghostwriter-bench")) / "corpus"


def project_root(corpus: Path, project: Project) -> Path:
    return corpus / project.archive.removesuffix(".tar.gz")


def fetch(corpus: Path) -> list[Path]:
    """Download, verify and unpack every project not already unpacked under `corpus`."""
    corpus.mkdir(parents=True, exist_ok=True)
    roots = []
    for project in PROJECTS:
        root = project_root(corpus, project)
        if not root.is_dir():
            _unpack(_download(corpus, project), corpus)
        roots.append(root)
    return roots


def _download(corpus: Path, project: Project) -> Path:
    archive = corpus / project.archive
    if not archive.exists():
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                        f"{project.name}=={project.version}", "-d", str(corpus)], check=True)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    if digest != project.sha256:
        archive.unlink()
        raise RuntimeError(f"{project.archive}: sha256 {digest} is not the pinned {project.sha256}")
    return archive


def _unpack(archive: Path, corpus: Path) -> None:
    with tarfile.open(archive) as tar:
        tar.extractall(corpus, filter="data")


def source_files(corpus: Path, project: Project) -> list[Path]:
    """The library's own modules (not its tests, docs or build scripts), in a stable order."""
    package = project_root(corpus, project) / project.package
    return sorted(path for path in package.rglob("*.py")
                  if "test" not in path.name and "tests" not in path.parts and path.stat().st_size > 500)
