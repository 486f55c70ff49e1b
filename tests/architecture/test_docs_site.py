"""The documentation site (mkdocs.yml) builds offline with warnings as errors, and covers every guide and package.

The build renders every page: the guides of ``docs/``, the API reference that mkdocstrings generates
from the docstrings (one page per package under ``docs/reference/``, members from ``__all__``), the
scenario format and the validation page; ``--strict`` turns a broken link or an unresolved
cross-reference into a failure.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import qit4n

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def _modules() -> list[str]:
    """``qit4n``'s packages and top-level modules, except the ``python -m qit4n`` entry point."""
    return sorted(info.name for info in pkgutil.iter_modules(qit4n.__path__) if info.name != "__main__")


def _nav_pages(entries: list[object]) -> set[str]:
    pages: set[str] = set()
    for entry in entries:
        values = entry.values() if isinstance(entry, dict) else [entry]
        for value in values:
            pages |= _nav_pages(value) if isinstance(value, list) else {str(value)}
    return pages


def _config() -> dict[str, object]:
    # mkdocs.yml has no Python tags, so the safe loader reads it.
    return yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))


def test_every_guide_and_package_reference_page_is_in_the_navigation() -> None:
    nav = _nav_pages(_config()["nav"])  # type: ignore[arg-type]
    guides = {path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md")}
    assert guides == nav, (
        f"pages without a nav entry: {sorted(guides - nav)}; nav entries without a page: {sorted(nav - guides)}"
    )
    for name in _modules():
        page = DOCS / "reference" / f"{name}.md"
        assert page.read_text(encoding="utf-8") == f"# `qit4n.{name}`\n\n::: qit4n.{name}\n", page


def test_the_site_builds_strict_with_every_public_name(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs", reason="the docs extra (mkdocs) is not installed")
    pytest.importorskip("mkdocstrings", reason="the docs extra (mkdocstrings) is not installed")
    pytest.importorskip("material", reason="the docs extra (mkdocs-material) is not installed")
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for name in _modules():
        html = (site / "reference" / f"{name}.html").read_text(encoding="utf-8")
        for member in importlib.import_module(f"qit4n.{name}").__all__:
            assert f'id="qit4n.{name}.{member}"' in html, f"qit4n.{name}.{member} is not on the reference page"
    # mkdocs_hooks.py: a bare doctest block is rendered as code (prompt and output), not as block quotes and links.
    guide = (site / "qkd.html").read_text(encoding="utf-8")
    assert "<span class=\"go\">['2.53e-03', '2.20e-04', '1.70e-05']</span>" in guide
    assert "<blockquote>" not in guide
