"""Simulation time is an integer number of picoseconds; convert through these constants."""

from __future__ import annotations

__all__ = ["PS_PER_HOUR", "PS_PER_MS", "PS_PER_NS", "PS_PER_S", "PS_PER_US", "ps_to_seconds", "seconds_to_ps"]

PS_PER_NS = 1_000
PS_PER_US = 1_000_000
PS_PER_MS = 1_000_000_000
PS_PER_S = 1_000_000_000_000
PS_PER_HOUR = 3600 * PS_PER_S


def seconds_to_ps(seconds: float) -> int:
    """Round a duration in seconds to whole picoseconds.

    >>> seconds_to_ps(1.5e-9)
    1500
    """
    return round(seconds * PS_PER_S)


def ps_to_seconds(time_ps: int) -> float:
    """A time in picoseconds as float seconds."""
    return time_ps / PS_PER_S
