"""The package layering of issue 11 holds: import-linter's contracts pass on the real tree and fail on a
planted violation, and no module names another package's module in a string (for importlib or a
lazy registry entry), which import-linter cannot see."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PACKAGE = ROOT / "src" / "qit4n"

#: ``qit4n.<package>[.<module>...][:attribute]``, the form importlib and Registry.register_lazy take.
_MODULE_STRING = re.compile(r"qit4n\.(?P<package>\w+)(?:\.\w+)*(?::\w+)?")


def _lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with ``project``'s pyproject.toml on the ``qit4n`` found in ``project/src``."""
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(project / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    command = [
        sys.executable,
        "-c",
        "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())",
    ]
    return subprocess.run(
        [*command, "--config", str(project / "pyproject.toml"), "--no-cache"],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_tree_keeps_every_contract() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "planted", "imported"),
    [
        (
            "physics/fibre.py",
            "\n\ndef _planted() -> None:\n    import qit4n.cli  # a lazy import upwards\n",
            "qit4n.cli",
        ),
        (
            "qkd/registry.py",
            "\n\ndef _planted() -> None:\n    from qit4n.qin import chain  # qkd naming qin\n",
            "qit4n.qin",
        ),
        ("net/graph.py", "\nimport typer  # a framework outside the CLI\n", "typer"),
    ],
)
def test_a_planted_violation_breaks_a_contract(tmp_path: Path, module: str, planted: str, imported: str) -> None:
    shutil.copytree(PACKAGE, tmp_path / "src" / "qit4n", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "src" / "qit4n" / module
    target.write_text(target.read_text(encoding="utf-8") + planted, encoding="utf-8")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout
    importer = "qit4n." + module.removesuffix(".py").replace("/", ".")
    assert f"{importer} -> {imported}" in result.stdout, result.stdout
    assert "BROKEN" in result.stdout, result.stdout


def _docstrings(tree: ast.Module) -> set[int]:
    """``id`` of every docstring node of ``tree``."""
    owners = [
        tree,
        *(node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)),
    ]
    found = set()
    for owner in owners:
        body = owner.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            found.add(id(body[0].value))
    return found


def _leading_text(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return str(node.values[0].value)
    return None


#: The top-level modules of qit4n (packages and foundation modules).
PACKAGES = frozenset(entry.name.removesuffix(".py") for entry in PACKAGE.iterdir() if not entry.name.startswith("_"))


def _foreign_module_strings(source: str, own: str) -> list[str]:
    """``line: text`` of each string in ``source`` (docstrings aside) naming a module of a package but ``own``."""
    tree = ast.parse(source)
    skipped = _docstrings(tree) | {
        id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped or not isinstance(node, ast.Constant | ast.JoinedStr):
            continue
        text = _leading_text(node)
        match = _MODULE_STRING.match(text or "")
        if match and match.group("package") in PACKAGES and match.group("package") != own:
            found.append(f"{node.lineno}: {text!r}")
    return found


def test_no_module_names_another_packages_module_in_a_string() -> None:
    """A lower package never reaches a higher one through importlib or ``register_lazy``; a higher one
    registers itself (entry points in pyproject.toml). Strings name only the registering package's modules."""
    offenders = [
        f"{path.relative_to(PACKAGE)}:{item}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for item in _foreign_module_strings(
            path.read_text(encoding="utf-8"), path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        )
    ]
    assert offenders == []


def test_the_string_check_catches_a_lazy_target_in_another_package() -> None:
    source = (PACKAGE / "qkd" / "registry.py").read_text(encoding="utf-8")
    planted = source + '\nPROTOCOLS.register_lazy("planted", "qit4n.qin.repeater_qkd:PROTOCOL")\n'
    assert _foreign_module_strings(source, "qkd") == []
    assert [item.split(": ", 1)[1] for item in _foreign_module_strings(planted, "qkd")] == [
        "'qit4n.qin.repeater_qkd:PROTOCOL'"
    ]
    assert _foreign_module_strings('importlib.import_module(f"qit4n.cli.{name}")', "physics") == ["1: 'qit4n.cli.'"]
