"""Where a report came from: qit4n's version and git commit, the command, its inputs, the date and the libraries.

Every page :func:`~qit4n.report.write_report` writes ends with this footer, so a reader can rerun the
command. The CLI records its command line in :data:`COMMAND_LINE` (a context variable, so two runs in
one process do not mix); callers add what only they know, such as a scenario's digest and the seed.

>>> provenance = Provenance.collect(seed="7")
>>> provenance.inputs["seed"], "numpy" in provenance.versions, provenance.command.startswith("qit4n")
('7', True, True)
"""

from __future__ import annotations

import platform
import subprocess
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

__all__ = ["COMMAND_LINE", "LIBRARIES", "Provenance"]

#: The command line of the CLI run in progress (``qit4n demo --scenario X``); ``None`` outside the CLI.
COMMAND_LINE: ContextVar[str | None] = ContextVar("qit4n_command_line", default=None)

#: Libraries whose versions change results or figures, in the order the footer lists them.
LIBRARIES = ("numpy", "scipy", "networkx", "pydantic", "matplotlib")


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def _git_commit() -> str | None:
    """The checkout's commit when qit4n runs from a git checkout (an installed wheel has none)."""
    root = Path(__file__).resolve().parents[3]
    if not (root / ".git").exists():
        return None
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and commit else None


@dataclass(frozen=True)
class Provenance:
    """What made a report: ``command``, ``inputs`` (scenario digest, seed, ...), versions and time."""

    command: str
    created_utc: str
    qit4n_version: str
    git_commit: str | None
    versions: Mapping[str, str]
    inputs: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def collect(cls, **inputs: str) -> Provenance:
        """Provenance of the running process, with ``inputs`` such as ``scenario=...`` and ``seed=...``."""
        return cls(
            command=COMMAND_LINE.get() or "qit4n (called from Python)",
            created_utc=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            qit4n_version=_version("qit4n"),
            git_commit=_git_commit(),
            versions={"python": platform.python_version(), **{name: _version(name) for name in LIBRARIES}},
            inputs=dict(inputs),
        )

    def lines(self) -> list[tuple[str, str]]:
        """``(label, text)`` pairs for the footer, in reading order."""
        made_by = f"qit4n {self.qit4n_version}" + (f" (git {self.git_commit})" if self.git_commit else "")
        return [
            ("made by", made_by),
            ("command", self.command),
            *((name, text) for name, text in self.inputs.items()),
            ("date", self.created_utc),
            ("versions", ", ".join(f"{name} {number}" for name, number in self.versions.items())),
        ]
