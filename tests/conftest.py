"""Shared fixtures: a CLI runner and a scratch folder."""

from __future__ import annotations

import os

import matplotlib
import pytest
from typer.testing import CliRunner

matplotlib.use("Agg")
os.environ.setdefault("COLUMNS", "160")


@pytest.fixture
def cli_runner() -> CliRunner:
    """A typer CLI runner."""
    return CliRunner()
