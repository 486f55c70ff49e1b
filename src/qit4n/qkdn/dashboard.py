"""The live dashboard: one self-contained HTML page that polls the controller's state and draws it.

The page (``static/dashboard.html``) loads nothing but itself and the state: styles and script are
inline, fonts are the system's, so it works offline and behind the controller's mutual TLS. It
polls the state URL (same origin) about once per ``poll_interval_s``, redraws when the state's
``sequence`` changes, and says "connection lost" while the state cannot be fetched.
"""

from __future__ import annotations

import html
from functools import cache
from importlib import resources
from urllib.parse import urlsplit

from qit4n.errors import ParameterError

__all__ = ["STATE_PATH", "dashboard_html"]

#: Where the controller serves :class:`qit4n.qkdn.state.NetworkState` as JSON.
STATE_PATH = "/qkdn/v1/state"

_MS_PER_S = 1000.0


@cache
def _template() -> str:
    return resources.files("qit4n.qkdn").joinpath("static", "dashboard.html").read_text(encoding="utf-8")


def dashboard_html(state_url: str = STATE_PATH, poll_interval_s: float = 1.0) -> str:
    """The dashboard page, ready to serve as ``text/html``.

    Parameters
    ----------
    state_url
        Where the page fetches the state: a path on the page's own origin (no scheme, no host).
    poll_interval_s
        Time between the end of one fetch and the start of the next, in seconds (0.05 to 60).

    Raises
    ------
    ParameterError
        If ``state_url`` names another origin or ``poll_interval_s`` is out of range.

    Example
    -------
    >>> page = dashboard_html()
    >>> page.startswith("<!doctype html>") and 'content="/qkdn/v1/state"' in page
    True
    """
    parts = urlsplit(state_url)
    if parts.scheme or parts.netloc or not state_url or state_url.startswith("//"):
        raise ParameterError(f"state_url = {state_url!r}: must be a path on the page's own origin, e.g. {STATE_PATH}")
    if not 0.05 <= poll_interval_s <= 60.0:
        raise ParameterError(f"poll_interval_s = {poll_interval_s:g}: must be >= 0.05 and <= 60")
    page = _template()
    page = page.replace("{{STATE_URL}}", html.escape(state_url, quote=True))
    return page.replace("{{POLL_INTERVAL_MS}}", f"{poll_interval_s * _MS_PER_S:.0f}")
