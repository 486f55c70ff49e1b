"""The ``qit4n`` command: each module in :data:`COMMAND_MODULES` adds its commands to one typer app.

A command module defines ``register(app: typer.Typer) -> None``. Errors a user can cause
(:class:`~qit4n.errors.Qit4nError`) are printed without a traceback and exit with status 2.
"""

from __future__ import annotations

import errno
import importlib
import math
import os
import shlex
import shutil
import sys
from collections.abc import Callable
from pathlib import PurePath
from typing import Annotated, Any

import typer

from qit4n.errors import Qit4nError, escape_controls

__all__ = ["COMMAND_MODULES", "app", "command", "failure_message", "main"]

#: Modules whose ``register`` adds commands, in the order they appear in ``qit4n --help``.
COMMAND_MODULES = (
    "qit4n.cli.demo",
    "qit4n.cli.rate",
    "qit4n.cli.sweep",
    "qit4n.cli.net",
    "qit4n.cli.postprocess",
    "qit4n.cli.kms",
    "qit4n.cli.network",
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


def _version_text() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("qit4n")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"qit4n {_version_text()}")
        raise typer.Exit


@app.callback()
def _root(
    show_version: Annotated[
        bool, typer.Option("--version", help="print qit4n's version and exit", is_eager=True, callback=_print_version)
    ] = False,
) -> None:
    """Quantum information technology for networks: QKD links, networks, key management, quantum networks,
    quantum threat."""


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


#: Modules whose exceptions are network or cluster failures (exit 1), named so none of them is imported here.
_RUNTIME_MODULES = ("httpx", "httpcore", "distributed", "dask", "ssl", "socket", "asyncio", "tornado")


#: The largest integer an option takes (64-bit signed): larger ones overflow the libraries below.
MAX_OPTION_INT = 2**63 - 1


def _check_value(name: str, value: Any) -> None:
    """Refuse a NaN, infinite or subnormal number and an integer beyond 64 bits on any option, and a
    negative ``--seed``."""
    for item in value if isinstance(value, tuple | list) else [value]:
        if isinstance(item, float) and not math.isfinite(item):
            raise typer.BadParameter(f"{item}: must be a finite number")
        if isinstance(item, float) and 0 < abs(item) < sys.float_info.min:
            raise typer.BadParameter(f"{item}: too close to 0 (a subnormal number); use 0 or a normal number")
        if isinstance(item, int) and not isinstance(item, bool) and abs(item) > MAX_OPTION_INT:
            raise typer.BadParameter(f"{item}: too large; at most {MAX_OPTION_INT} (2^63 - 1)")
        if name == "seed" and isinstance(item, int) and not isinstance(item, bool) and item < 0:
            raise typer.BadParameter(f"{item}: a seed must be >= 0")


def _refusing_empty_paths(process_value: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """``process_value`` of a parameter, refusing an empty string where the value becomes a path (it would
    mean the current folder)."""

    def process(ctx: Any, value: Any) -> Any:
        result = process_value(ctx, value)
        raw = value if isinstance(value, tuple | list) else [value]
        converted = result if isinstance(result, tuple | list) else [result]
        if any(item == "" for item in raw) and any(isinstance(item, PurePath) for item in converted):
            raise typer.BadParameter("'': an empty path; name a file or folder")
        return result

    return process


def _checked(callback: Callable[..., Any] | None) -> Callable[..., Any]:
    def check(ctx: Any, param: Any, value: Any) -> Any:
        _check_value(str(param.name), value)
        return value if callback is None else callback(ctx, param, value)

    return check


#: Terminals narrower than this get click's plain help, which wraps, instead of rich's panels.
WIDE_HELP_COLUMNS = 100


def command() -> Any:
    """The click command of :data:`app` with every option checked by :func:`_check_value` (plain help
    in terminals narrower than :data:`WIDE_HELP_COLUMNS`)."""
    root = typer.main.get_command(app)
    narrow = shutil.get_terminal_size().columns < WIDE_HELP_COLUMNS
    pending = [root]
    while pending:
        node = pending.pop()
        pending.extend(getattr(node, "commands", {}).values())
        for param in node.params:
            param.callback = _checked(param.callback)
            setattr(param, "process_value", _refusing_empty_paths(param.process_value))  # noqa: B010
            if getattr(param, "is_flag", False):
                param.metavar = ""  # a flag takes no value: no <bool> tag in the help
        if narrow:  # rich's option table cuts long option names; click's plain help wraps them
            setattr(node, "rich_markup_mode", None)  # noqa: B010 (typer commands have it; click.Command does not)
    return root


def _describe(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:500]


def _request_url(error: BaseException) -> str:
    """``URL: `` of the HTTP request that failed, when the error carries one."""
    try:
        request = getattr(error, "request", None)
    except RuntimeError:  # an HTTP client error raised before its request was attached
        return ""
    url = getattr(request, "url", None)
    return f"{url}: " if url is not None else ""


def failure_message(error: BaseException) -> tuple[str, int] | None:
    """``(message, exit status)`` for an expected failure, or None for a bug."""
    module = type(error).__module__.split(".")[0]
    if isinstance(error, Qit4nError):
        return str(error), 2
    if isinstance(error, ModuleNotFoundError) and (error.name or "").split(".")[0] in OPTIONAL_PACKAGE_EXTRAS:
        top = (error.name or "").split(".")[0]
        return (
            f"this command needs the optional package {top!r}: pip install 'qit4n[{OPTIONAL_PACKAGE_EXTRAS[top]}]' "
            "(or 'qit4n[all]')",
            2,
        )
    if isinstance(error, UnicodeDecodeError):
        return f"input is not UTF-8 text: {_describe(error)}", 2
    if isinstance(error, MemoryError):
        return f"out of memory: {_describe(error)}; ask for less", 1
    if isinstance(error, RecursionError):
        return "input nested too deeply", 2
    if module in _RUNTIME_MODULES or isinstance(error, ConnectionError | TimeoutError):
        return f"network: {_request_url(error)}{_describe(error)}", 1
    if isinstance(error, OSError):
        where = error.filename if error.filename is not None else "input/output"
        why = error.strerror or _describe(error)
        return f"{where}: {why}", 2 if error.errno in _USAGE_ERRNOS else 1
    return None


#: ``errno`` values that come from a path the user gave (exit 2); other I/O failures exit 1.
_USAGE_ERRNOS = frozenset(
    {
        errno.ENOENT,
        errno.EISDIR,
        errno.ENOTDIR,
        errno.EACCES,
        errno.EPERM,
        errno.EEXIST,
        errno.EROFS,
        errno.ENAMETOOLONG,
        errno.ELOOP,
        errno.EINVAL,
    }
)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; expected failures print ``error: <what>: <why>`` and exit 2 (usage) or 1 (runtime)."""
    from qit4n.report.provenance import COMMAND_LINE

    COMMAND_LINE.set(shlex.join(["qit4n", *(sys.argv[1:] if argv is None else argv)]))
    try:
        command()(args=argv, prog_name="qit4n")
    except KeyboardInterrupt:
        typer.echo("error: interrupted", err=True)
        sys.exit(130)
    except Exception as error:  # every expected failure is mapped here; a bug is reported as one
        failure = failure_message(error)
        if failure is None:
            if os.environ.get("QIT4N_DEBUG"):
                raise
            failure = (
                f"internal error: {type(error).__name__}: {_describe(error)} "
                "(a bug: please report it; QIT4N_DEBUG=1 shows the traceback)",
                1,
            )
        message, status = failure
        typer.echo(f"error: {escape_controls(message, allowed=chr(10))}", err=True)
        sys.exit(status)
