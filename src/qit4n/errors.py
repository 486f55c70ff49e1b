"""The one exception tree of qit4n.

Every error a user can cause is a :class:`Qit4nError`; the CLI prints its message without a
traceback and exits with status 2. Messages name the input, the value and the allowed range::

    Qit4nError
    ├── InputError                  bad input from a user or a file
    │   ├── ScenarioError           a scenario file that does not validate (lists every problem)
    │   ├── ParameterError          a model parameter out of its allowed range
    │   └── PresetError             an unknown preset, or one that does not fit the protocol
    ├── InfeasibleError             the input is valid but no answer exists
    │   ├── NoKeyRouteError         no path with key between two nodes
    │   └── InsufficientKeyError    a key pool cannot serve a request
    └── ServiceError                a service (KME, sweep cluster) failed or refused a request
        └── RandomnessError         a randomness source failed a health test or ran out
"""

from __future__ import annotations

import unicodedata

__all__ = [
    "InfeasibleError",
    "InputError",
    "InsufficientKeyError",
    "NoKeyRouteError",
    "ParameterError",
    "PresetError",
    "Qit4nError",
    "RandomnessError",
    "ScenarioError",
    "ServiceError",
    "escape_controls",
    "has_controls",
]


class Qit4nError(Exception):
    """Base of every error qit4n raises on purpose."""


class InputError(Qit4nError):
    """Bad input from a user, a command line or a file."""


class ScenarioError(InputError):
    """A scenario that does not validate; ``problems`` lists one line per problem."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"{source}: {len(self.problems)} problem(s)\n{lines}")


class ParameterError(InputError, ValueError):
    """A parameter outside its allowed range, e.g. ``eta_detector = 2: must be <= 1``."""


class PresetError(InputError):
    """An unknown preset, or a preset that does not apply to the requested protocol."""


class InfeasibleError(Qit4nError):
    """The input is valid but the requested result does not exist."""


class NoKeyRouteError(InfeasibleError):
    """No route with key exists between two nodes."""


class InsufficientKeyError(InfeasibleError):
    """A key pool holds fewer bits than a request needs."""


class ServiceError(Qit4nError):
    """A service failed or refused a request."""


class RandomnessError(ServiceError):
    """A randomness source that stopped: ``source`` names it, ``test`` the failed health test (or
    ``"exhausted"``); its consumer draws nothing more from it."""

    def __init__(self, source: str, test: str, detail: str) -> None:
        self.source = source
        self.test = test
        super().__init__(f"randomness source {source}: {test} {detail}; no further output is drawn from it")


#: Bidirectional-text controls: they reorder what a terminal shows (CVE-2021-42574, "Trojan Source").
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _is_control(character: str) -> bool:
    return character in _BIDI_CONTROLS or unicodedata.category(character) == "Cc"


def has_controls(text: str, *, allowed: str = "") -> bool:
    r"""Whether ``text`` holds a control character (C0, C1, DEL or a bidi control) not in ``allowed``.

    >>> has_controls("link-\x1b[31mA"), has_controls("two\nlines", allowed="\n\t"), has_controls("Zürich")
    (True, False, False)
    """
    return any(_is_control(character) and character not in allowed for character in text)


def escape_controls(text: str, *, allowed: str = "") -> str:
    r"""``text`` with each control character not in ``allowed`` written as its escape, so that no input
    reaches a terminal raw.

    >>> print(escape_controls("link-\x1b[31mA\u202e"))
    link-\x1b[31mA\u202e
    """
    if not has_controls(text, allowed=allowed):
        return text
    return "".join(
        repr(character)[1:-1] if _is_control(character) and character not in allowed else character
        for character in text
    )
