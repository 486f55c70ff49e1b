"""The live dashboard (issue 13, item 5) in a real headless browser: Debian's chromium driven by
selenium, the page and its state served by a real uvicorn server on 127.0.0.1. The state is
changed under the page (a link is cut, an alarm raised, a route selected), the page must follow,
and it must say "connection lost" once the server is gone. The page must load nothing from
elsewhere."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from qit4n.errors import ParameterError
from qit4n.qkdn import dashboard_html
from qit4n.qkdn.state import Alarm, LinkState, LinkStatus, NetworkState, NodeState, RouteState
from qit4n.scenario import load_scenario

#: The flags this sandbox needs: no GPU, no /dev/shm, and nothing that calls home (no internet here).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,1000",
]
WAIT_S = 10.0
POLL_INTERVAL_S = 0.2
T0 = dt.datetime(2026, 12, 7, 2, 0, 0, tzinfo=dt.UTC)


def _uuid(name: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"qit4n-test:{name}")


def secoqc_state() -> NetworkState:
    """Every node and link of the built-in SECOQC scenario up, with a pool at 10 % of capacity."""
    scenario = load_scenario("secoqc-vienna-2008")
    nodes = [
        NodeState(
            id=node.id,
            qkdn_id=_uuid(node.id),
            kme_id=f"KME-{node.id}",
            role=node.role,
            latitude_deg=node.latitude_deg,
            longitude_deg=node.longitude_deg,
            state="up",
        )
        for node in scenario.nodes
    ]
    links = [
        LinkState(
            id=link.id,
            qkdl_id=_uuid(link.id),
            endpoints=link.endpoints,
            state="up",
            key_rate_bps=1234.5,
            qber=0.021,
            pool_bits=1.0e6,
            pool_capacity_bits=1.0e7,
        )
        for link in scenario.links
    ]
    route = RouteState(source_kme="KME-SIE", target_kme="KME-FOR", path=["KME-SIE", "KME-ERD", "KME-GUD", "KME-FOR"])
    return NetworkState(
        network=scenario.name, generated_at=T0, sequence=1, nodes=nodes, links=links, routes=[route], alarms=[]
    )


def cut(state: NetworkState, link_id: str, alarm: Alarm) -> NetworkState:
    """``state`` with ``link_id`` down (no rate, a quarter of its pool left), ``alarm`` raised, one sequence on."""
    links = [
        link.model_copy(update={"state": LinkStatus.DOWN, "key_rate_bps": 0.0, "pool_bits": 2.5e5})
        if link.id == link_id
        else link
        for link in state.links
    ]
    return state.model_copy(
        update={
            "links": links,
            "alarms": [*state.alarms, alarm],
            "sequence": state.sequence + 1,
            "generated_at": alarm.raised_at,
        }
    )


class StateServer:
    """A uvicorn server on 127.0.0.1 serving the dashboard and a state the test replaces at will."""

    def __init__(self, state: NetworkState, port: int = 0) -> None:
        import uvicorn
        from fastapi import FastAPI
        from fastapi.responses import HTMLResponse, Response

        self.state = state
        app = FastAPI()
        page = dashboard_html(poll_interval_s=POLL_INTERVAL_S)

        @app.get("/dashboard", response_class=HTMLResponse)
        def dashboard() -> str:
            return page

        @app.get("/qkdn/v1/state")
        def network_state() -> Response:
            return Response(self.state.model_dump_json(), media_type="application/json")

        self._socket = socket.socket()
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", port))
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + WAIT_S
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test's uvicorn server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(WAIT_S)
        self._socket.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or chromedriver is None:
        pytest.skip("Debian's chromium and chromium-driver are not installed (.ci/run installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: Any, condition: Any, what: str) -> Any:
    """Wait for ``condition``; a redraw between finding an element and reading it only means: look again."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, WAIT_S, poll_frequency=0.05, ignored_exceptions=[StaleElementReferenceException])
    return wait.until(condition, message=f"page never showed {what}")


def _find(driver: Any, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def _stroke(driver: Any, link_id: str) -> str:
    return driver.execute_script(
        "return getComputedStyle(arguments[0]).stroke",
        _find(driver, f'g.link[data-link-id="{link_id}"] line.stroke'),
    )


def _label_lines(driver: Any, link_id: str) -> list[str]:
    """The lines of a link's label on the map (one ``tspan`` each)."""
    return driver.execute_script(
        "return [...arguments[0].querySelectorAll('text > tspan')].map(line => line.textContent)",
        _find(driver, f'g.link-label[data-link-id="{link_id}"]'),
    )


def _node_xy(driver: Any, node_id: str) -> tuple[float, float]:
    node = _find(driver, f'g.node[data-node-id="{node_id}"]')
    return float(node.get_attribute("data-x")), float(node.get_attribute("data-y"))


def test_the_page_follows_the_state_and_says_when_the_connection_is_lost(browser: Any) -> None:
    state = secoqc_state()
    server = StateServer(state)
    try:
        browser.get(server.url + "/dashboard")
        _wait(browser, lambda d: _find(d, "#sequence").text == "1", "sequence 1")
        assert _find(browser, "#network").text == "secoqc-vienna-2008"
        assert _find(browser, "#connection").text == "live"
        link = 'g.link[data-link-id="BREI-STP"]'
        assert _find(browser, link).get_attribute("data-state") == "up"
        assert _label_lines(browser, "BREI-STP") == [
            "BREI-STP up",
            "1.23 kbit/s · pool 1.00 Mbit (10 %)",
        ]
        assert _find(browser, '#links tr[data-link-id="BREI-STP"]').text.startswith(
            "BREI-STP BREI – STP up 1.23 kbit/s"
        )
        # Drawn at the scenario's coordinates: St. Poelten (15.63 E) west of Vienna, Siemens HQ (48.27 N) north of BREI.
        assert _node_xy(browser, "STP")[0] < _node_xy(browser, "BREI")[0] < _node_xy(browser, "SIE")[0]
        assert _node_xy(browser, "SIE")[1] < _node_xy(browser, "BREI")[1]
        up_stroke = _stroke(browser, "BREI-STP")
        assert _find(browser, "#alarms tbody").text == "no alarms"

        # Selecting the route highlights its three links, and only those.
        _find(browser, '#routes li[data-route="KME-SIE→KME-FOR"] button').click()
        on_route = {g.get_attribute("data-link-id") for g in browser.find_elements("css selector", "g.link.on-route")}
        assert on_route == {"SIE-ERD", "ERD-GUD", "FOR-GUD"}

        alarm = Alarm(
            id=_uuid("alarm-1"),
            severity="critical",
            source="link:BREI-STP",
            text="link BREI-STP down (cut)",
            raised_at=T0 + dt.timedelta(seconds=5),
        )
        server.state = cut(state, "BREI-STP", alarm)
        _wait(browser, lambda d: _find(d, link).get_attribute("data-state") == "down", "BREI-STP down")
        assert "state-down" in _find(browser, link).get_attribute("class").split()
        assert _stroke(browser, "BREI-STP") != up_stroke
        assert _label_lines(browser, "BREI-STP") == [
            "BREI-STP down",
            "0 bit/s · pool 250 kbit (2.5 %)",
        ]
        row = _find(browser, f'#alarms tr[data-alarm-id="{alarm.id}"]')
        assert [cell.text for cell in row.find_elements("css selector", "td")] == [
            "critical",
            "link:BREI-STP",
            "link BREI-STP down (cut)",
            "2026-12-07 02:00:05 UTC",
            "active",
        ]
        assert _find(browser, "#alarms-title").text == "Alarms (1 active, 1 in all)"
        assert _find(browser, "#sequence").text == "2"
        # The selected route survives the redraw.
        on_route = {g.get_attribute("data-link-id") for g in browser.find_elements("css selector", "g.link.on-route")}
        assert on_route == {"SIE-ERD", "ERD-GUD", "FOR-GUD"}

        # Nothing but the page and its state was fetched, all from the page's own origin.
        fetched = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert fetched and all(name.startswith(server.url + "/") for name in fetched), fetched
    finally:
        server.stop()
    _wait(browser, lambda d: "connection lost" in _find(d, "#connection").text, '"connection lost"')
    assert _find(browser, "body").get_attribute("data-connection") == "lost"
    assert _find(browser, link).get_attribute("data-state") == "down"  # the last state stays drawn

    # The controller is back (same address): the page goes live again and draws the new state.
    restarted = StateServer(state.model_copy(update={"sequence": 3}), port=server.port)
    try:
        _wait(browser, lambda d: _find(d, "#sequence").text == "3", "sequence 3 after the restart")
        assert _find(browser, "#connection").text == "live"
        assert _find(browser, link).get_attribute("data-state") == "up"
    finally:
        restarted.stop()


def test_nodes_without_coordinates_are_laid_out_on_a_circle(browser: Any) -> None:
    state = secoqc_state()
    nodes = [node.model_copy(update={"latitude_deg": None, "longitude_deg": None}) for node in state.nodes]
    server = StateServer(state.model_copy(update={"nodes": nodes}))
    try:
        browser.get(server.url + "/dashboard")
        _wait(browser, lambda d: _find(d, "#sequence").text == "1", "sequence 1")
        points = [_node_xy(browser, node.id) for node in nodes]
    finally:
        server.stop()
    # viewBox 1000 x 600, padding 60: centre (500, 300), radius 240, first node at the top.
    radii = [((x - 500) ** 2 + (y - 300) ** 2) ** 0.5 for x, y in points]
    assert radii == pytest.approx([240.0] * len(nodes), abs=0.1)
    assert points[0] == pytest.approx((500.0, 60.0), abs=0.1)


def test_the_page_references_nothing_outside_itself() -> None:
    page = dashboard_html()
    assert not re.search(r"[a-z][a-z0-9+.-]*://", page, re.IGNORECASE), "a URL with a scheme"
    assert not re.search(r"""(?:src|href|action)\s*=\s*["']?//""", page, re.IGNORECASE), "a protocol-relative URL"
    for pattern in (r"<link\b", r"<script[^>]*\bsrc\s*=", r"<img\b", r"<iframe\b", r"@import", r"url\(", r"@font-face"):
        assert not re.search(pattern, page, re.IGNORECASE), pattern
    # The one address the page uses is its own state path.
    assert re.findall(r'"(/[^"\s]*)"', page) == ["/qkdn/v1/state"]


def test_the_state_url_must_stay_on_the_same_origin() -> None:
    assert 'content="/api/state?x=1&amp;y=&lt;2&gt;"' in dashboard_html(state_url="/api/state?x=1&y=<2>")
    for url in ("https://elsewhere.example/state", "//elsewhere.example/state", ""):
        with pytest.raises(ParameterError, match="state_url"):
            dashboard_html(state_url=url)
    with pytest.raises(ParameterError, match=re.escape("poll_interval_s = 0: must be >= 0.05")):
        dashboard_html(poll_interval_s=0.0)


def test_the_contract_example_validates() -> None:
    """The example of /work/notes/qkdn-contract.md, read through the models and written back unchanged."""
    text = """{"network": "secoqc-vienna-2008", "generated_at": "2026-12-07T02:00:00Z", "sequence": 17,
      "nodes": [{"id": "BREI", "qkdn_id": "6f1c2d3e-0000-4000-8000-000000000001", "kme_id": "KME-BREI",
                 "role": "trusted-relay", "latitude_deg": 48.2, "longitude_deg": 16.3, "state": "up"}],
      "links": [{"id": "BREI-STP", "qkdl_id": "6f1c2d3e-0000-4000-8000-000000000002", "endpoints": ["BREI", "STP"],
                 "state": "degraded", "key_rate_bps": 1234.5, "qber": 0.021, "pool_bits": 1.0e6,
                 "pool_capacity_bits": 1.0e7}],
      "routes": [{"source_kme": "KME-A", "target_kme": "KME-C", "path": ["KME-A", "KME-B", "KME-C"]}],
      "alarms": [{"id": "6f1c2d3e-0000-4000-8000-000000000003", "severity": "major", "source": "link:BREI-STP",
                  "text": "link BREI-STP degraded", "raised_at": "2026-12-07T01:59:00Z", "cleared_at": null}]}"""
    state = NetworkState.model_validate_json(text)
    assert state.links[0].state == "degraded" and state.alarms[0].cleared_at is None
    assert NetworkState.model_validate_json(state.model_dump_json()) == state
    assert '"generated_at":"2026-12-07T02:00:00Z"' in state.model_dump_json()
