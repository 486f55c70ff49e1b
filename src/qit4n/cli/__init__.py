"""The ``qit4n`` command: each module in :data:`COMMAND_MODULES` adds its commands to one typer app.

A command module defines ``register(app: typer.Typer) -> None``. Errors a user can cause
(:class:`~qit4n.errors.Qit4nError`) are printed without a traceback and exit with status 2.
"""

from __future__ import annotations

import importlib
import sys

import typer

from qit4n.errors import Qit4nError

__all__ = ["COMMAND_MODULES", "app", "main"]

#: Modules whose ``register`` adds commands, in the order they appear in ``qit4n --help``.
COMMAND_MODULES = (
    "qit4n.cli.demo",
    "qit4n.cli.rate",
    "qit4n.cli.sweep",
    "qit4n.cli.net",
    "qit4n.cli.postprocess",
    "qit4n.cli.kms",
    "qit4n.cli.qin",
    "qit4n.cli.threat",
    "qit4n.cli.qrng",
    "qit4n.cli.validate",
)

app = typer.Typer(
    name="qit4n",
    help="Quantum information technology for networks: QKD links, networks, key management, quantum networks, "
    "quantum threat.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

for _module_name in COMMAND_MODULES:
    importlib.import_module(_module_name).register(app)


#: Optional packages and the pip extra that installs each (see pyproject.toml).
OPTIONAL_PACKAGE_EXTRAS = {
    "numba": "postprocess",
    "gmpy2": "postprocess",
    "fastapi": "kms",
    "uvicorn": "kms",
    "httpx": "kms",
    "stim": "qin",
    "OpenSSL": "threat",
    "cyclonedx": "threat",
    "dask": "dask",
    "distributed": "dask",
}


def main() -> None:
    """Run the CLI; user errors exit with status 2 and a one-paragraph message."""
    try:
        app()
    except Qit4nError as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(2)
    except ModuleNotFoundError as error:
        top = (error.name or "").split(".")[0]
        if top not in OPTIONAL_PACKAGE_EXTRAS:
            raise
        extra = OPTIONAL_PACKAGE_EXTRAS[top]
        typer.echo(
            f"error: this command needs the optional package {top!r}: pip install 'qit4n[{extra}]' (or 'qit4n[all]')",
            err=True,
        )
        sys.exit(2)
