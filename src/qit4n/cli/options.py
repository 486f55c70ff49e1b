"""Parsing helpers shared by the command modules: value lists, ranges, NAME=VALUE settings, durations."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from qit4n.errors import ParameterError

__all__ = [
    "FIGURE_SUFFIXES",
    "MAX_DISTANCE_KM",
    "MAX_VALUES",
    "check_figure_path",
    "check_scheduler_address",
    "parse_distances_km",
    "parse_duration_s",
    "parse_settings",
    "parse_value_spec",
]

#: The longest fibre distance an option may ask for (km): beyond it every rate is zero.
MAX_DISTANCE_KM = 100_000.0

#: File name endings the figure options write.
FIGURE_SUFFIXES = (".png", ".svg", ".pdf")

#: The most values a ``START:STOP:STEP`` range may ask for.
MAX_VALUES = 100_000


def parse_value_spec(option: str, spec: str) -> np.ndarray:
    """Parse ``0,50,100`` or ``START:STOP:STEP`` (STOP included when the steps land on it).

    >>> parse_value_spec("--distance-km", "0:20:5").tolist()
    [0.0, 5.0, 10.0, 15.0, 20.0]
    >>> parse_value_spec("--distance-km", "1,2.5").tolist()
    [1.0, 2.5]
    """
    too_many = 0.0
    usage = f"{option} = {spec!r}: must be a comma list (0,50,100) or a range START:STOP:STEP with STEP > 0"
    try:
        if ":" in spec:
            parts = [float(part) for part in spec.split(":")]
            if len(parts) != 3 or parts[2] <= 0 or parts[1] < parts[0]:
                raise ParameterError(usage)
            start, stop, step = parts
            if not all(np.isfinite(parts)):
                raise ParameterError(usage)
            points = (stop - start) / step + 1
            if points > MAX_VALUES:
                too_many = points
                raise OverflowError
            count = int(np.floor((stop - start) / step + 1e-9)) + 1
            values = start + step * np.arange(count)
        else:
            values = np.array([float(part) for part in spec.split(",") if part.strip() != ""])
    except OverflowError:
        raise ParameterError(f"{option} = {spec!r}: asks for {too_many:.3g} points; at most {MAX_VALUES:,}") from None
    except ValueError:
        raise ParameterError(usage) from None
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ParameterError(usage)
    return values


def parse_settings(option: str, settings: list[str]) -> dict[str, float | str]:
    """Parse repeated ``NAME=VALUE`` options; numbers become floats, other values stay strings.

    >>> parse_settings("--set", ["eta_detector=0.1", "mode=homodyne"])
    {'eta_detector': 0.1, 'mode': 'homodyne'}
    """
    values: dict[str, float | str] = {}
    for setting in settings:
        name, separator, text = setting.partition("=")
        if not separator or not name.strip():
            raise ParameterError(f"{option} {setting!r}: must look like NAME=VALUE")
        try:
            values[name.strip()] = float(text)
        except ValueError:
            values[name.strip()] = text.strip()
    return values


_DURATION_UNITS_S = {"ps": 1e-12, "ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration_s(option: str, text: str) -> float:
    """Parse a duration such as ``24h``, ``90min``, ``1.5s`` or ``250ms`` into seconds.

    >>> parse_duration_s("--duration", "24h")
    86400.0
    """
    stripped = text.strip()
    for unit in sorted(_DURATION_UNITS_S, key=len, reverse=True):
        if stripped.endswith(unit):
            number = stripped[: -len(unit)]
            try:
                value = float(number)
            except ValueError:
                break
            if value <= 0 or not np.isfinite(value):
                break
            return value * _DURATION_UNITS_S[unit]
    raise ParameterError(
        f"{option} = {text!r}: must be a positive number with a unit ({', '.join(_DURATION_UNITS_S)}), e.g. 24h"
    )


def parse_distances_km(option: str, spec: str) -> np.ndarray:
    """:func:`parse_value_spec` for fibre distances: each in ``[0, MAX_DISTANCE_KM]``.

    >>> parse_distances_km("--distance-km", "0,10").tolist()
    [0.0, 10.0]
    """
    values = parse_value_spec(option, spec)
    if np.any(values < 0) or np.any(values > MAX_DISTANCE_KM):
        raise ParameterError(f"{option} = {spec!r}: distances must be in [0, {MAX_DISTANCE_KM:g}] km")
    return values


def check_figure_path(option: str, path: Path) -> Path:
    """Refuse a figure path whose ending matplotlib would not write as a figure we ship."""
    if path.suffix.lower() not in FIGURE_SUFFIXES:
        raise ParameterError(f"{option} {path}: the file name must end in {', '.join(FIGURE_SUFFIXES)}")
    return path


_SCHEDULER = re.compile(r"^(?:(?:tcp|tls)://)?[A-Za-z0-9._\-\[\]:]+:\d{1,5}$")


def check_scheduler_address(option: str, address: str) -> str:
    """Refuse a Dask scheduler address that is not ``[tcp://|tls://]HOST:PORT``."""
    if not _SCHEDULER.match(address.strip()) or not 0 < int(address.rsplit(":", 1)[1]) < 65536:
        raise ParameterError(f"{option} = {address!r}: must look like tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786")
    return address.strip()
