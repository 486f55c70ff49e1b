"""``qit4n network``: run a QKD network with its QKDN controller, inject faults, read its state."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table as RichTable

if TYPE_CHECKING:
    from qit4n.kms.launcher import Network
    from qit4n.qkdn.plan import ControllerPlan

__all__ = ["register"]

network_app = typer.Typer(help="Run a QKD network (KMEs + QKDN controller), inject faults, read its state.")

StateOption = Annotated[Path, typer.Option("--state", help="the network's state folder")]
_READY_TIMEOUT_S = 30.0


def _stop_requested(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _wait_controller(plan: ControllerPlan, network: Network) -> None:
    from qit4n.errors import ServiceError

    deadline = time.monotonic() + _READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if network.services["qkdn-controller"][2].poll() is not None:
            log = (plan.state_dir / "qkdn-controller.log").read_text(errors="replace")[-2000:]
            raise ServiceError(f"the QKDN controller exited while starting:\n{log}")
        try:
            with socket.create_connection((plan.host, plan.port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise ServiceError(f"the QKDN controller did not listen on {plan.url} within {_READY_TIMEOUT_S:g} s")


def _apply_kills(network: Network, killed: set[str], console: Console) -> set[str]:
    """Stop the KMEs of nodes killed in the fault file, start those restored; returns the killed set."""
    from qit4n.kms.config import kme_id_of
    from qit4n.qkdn.faults import read_faults

    wanted = set(read_faults(network.plan.state_dir).killed)
    for node in sorted(wanted - killed):
        network.stop([kme_id_of(node)])
        console.print(f"fault: {kme_id_of(node)} stopped (kill {node})")
    for node in sorted(killed - wanted):
        network.start([kme_id_of(node)])
        console.print(f"fault: {kme_id_of(node)} started again (restore {node})")
    return wanted


@network_app.command("up")
def up(
    scenario: Annotated[str, typer.Argument(help="scenario file or built-in name")],
    state: StateOption,
    supply: Annotated[
        str, typer.Option("--supply", help="link key supply: 'modelled' (the modelled rate) or 'emulated'")
    ] = "modelled",
    duration_s: Annotated[
        float | None, typer.Option("--duration-s", min=0.0, help="stop after this many seconds (default: Ctrl-C)")
    ] = None,
    interconnect: Annotated[
        Path | None,
        typer.Option("--interconnect", help="join another domain through a gateway under this agreement (YAML)"),
    ] = None,
    domain: Annotated[
        str | None,
        typer.Option("--domain", help="--interconnect: this domain's name in the agreement (default: scenario name)"),
    ] = None,
) -> None:
    """Start a KME per node of SCENARIO and the QKDN controller; Ctrl-C stops everything. A restart on
    the same --state resumes it (pools, alarms, events, faults). With --interconnect the network joins
    another domain, started on its own, through its gateway node (docs/network.md, "Inter-domain operation")."""
    from qit4n.cli.kms import start_kmes
    from qit4n.cli.render import progress
    from qit4n.kms.launcher import StateLock, write_kme_plan
    from qit4n.qkdn.interdomain import apply_agreement, forget_agreement, load_agreement
    from qit4n.qkdn.plan import start_controller, write_controller_plan
    from qit4n.scenario import load_scenario

    loaded = load_scenario(scenario)
    agreement = None if interconnect is None else load_agreement(interconnect)
    signal.signal(signal.SIGINT, _stop_requested)
    signal.signal(signal.SIGTERM, _stop_requested)
    console = Console()
    started = time.monotonic()
    lock = StateLock(state)
    lock.acquire()
    try:
        with contextlib.ExitStack() as running:
            with progress() as bar:
                bar.add_task("planning: configs and certificates", total=None)
                kmes = write_kme_plan(loaded, state, supply=supply)
                if agreement is None:
                    forget_agreement(state)
                else:
                    kmes = apply_agreement(loaded, kmes, agreement, domain or loaded.name)
                plan = write_controller_plan(loaded, kmes)
            network = start_kmes(kmes, lock, running)
            with progress() as bar:
                bar.add_task("starting the QKDN controller", total=None)
                start_controller(network, state)
                _wait_controller(plan, network)
            killed = _apply_kills(network, set(), console)
            console.print(
                f"{loaded.name}: {len(kmes.configs)} KMEs and the QKDN controller ready in "
                f"{time.monotonic() - started:.1f} s (state: {state})"
            )
            console.print(f"controller: {plan.url}/qkdn/v1/state (mutual TLS, operator certificate)")
            console.print(f"dashboard:  {plan.url}/dashboard")
            if agreement is not None:
                config = next(c for c in kmes.configs.values() if c.interdomain and c.interdomain.gateway)
                assert config.interdomain is not None and config.interdomain.gateway is not None
                gateway = config.interdomain.gateway
                console.print(
                    f"gateway:    {config.kme_id}, inter-domain link {gateway.link_id} to "
                    f"{config.interdomain.peer_domain} ({gateway.peer_url}), agreement {agreement.agreement}"
                )
            console.print("running; Ctrl-C stops" if duration_s is None else f"running for {duration_s:g} s")
            deadline = None if duration_s is None else time.monotonic() + duration_s
            try:
                while deadline is None or time.monotonic() < deadline:
                    time.sleep(0.1)
                    killed = _apply_kills(network, killed, console)
                    for name in network.supervise():
                        console.print(f"{name} exited; restarted")
            except KeyboardInterrupt:
                console.print("stopping")
    finally:
        lock.release()


@network_app.command("fault")
def fault(
    action: Annotated[str, typer.Argument(help="cut LINK | restore LINK|NODE | noise LINK | kill NODE")],
    target: Annotated[str, typer.Argument(help="a link ID or a node ID")],
    state: StateOption,
    classical: Annotated[
        str | None,
        typer.Option("--classical", help="noise: classical channel WAVELENGTH_NM:POWERdBm, e.g. 1550.12:0dBm"),
    ] = None,
) -> None:
    """Break or repair the running network: cut or restore a link, add classical-channel Raman noise to
    it, kill or restore a node's KME. The controller sees the effect through the KMEs."""
    from qit4n.qkdn.faults import apply_fault
    from qit4n.qkdn.plan import load_controller_plan

    plan = load_controller_plan(state)
    recorded = apply_fault(plan, action, target, classical=classical)
    typer.echo(f"{action} {target}: {json.dumps(recorded)}")
    if not _running(state):
        typer.echo(
            f"note: no network is running on --state {state}; the fault is recorded in "
            f"{state / 'qkdn' / 'faults.json'} and applies when `qit4n network up ... --state {state}` starts",
            err=True,
        )


def _running(state: Path) -> bool:
    """Whether a supervisor (``network up``) holds the state's lock now."""
    import fcntl

    try:
        handle = os.open(state / "kms.lock", os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(handle)
    return False


def fetch(state_dir: Path, path: str) -> Any:
    """GET ``path`` from the controller of ``state_dir`` with the operator's certificate."""
    import httpx

    from qit4n.errors import ServiceError
    from qit4n.kms.tls_client import tls_transport
    from qit4n.qkdn.plan import load_controller_plan

    plan = load_controller_plan(state_dir)
    try:
        with httpx.Client(transport=tls_transport(plan.operator_tls()), timeout=5.0) as http:
            response = http.get(plan.url + path)
    except httpx.HTTPError as error:
        raise ServiceError(
            f"the QKDN controller at {plan.url} does not answer ({type(error).__name__}); is "
            f"`qit4n network up ... --state {state_dir}` running?"
        ) from None
    if response.status_code != 200:
        raise ServiceError(f"the QKDN controller answered {response.status_code}: {response.text[:200]}")
    return response.json()


@network_app.command("status")
def status(
    state: StateOption,
    as_json: Annotated[bool, typer.Option("--json", help="print the controller's state as JSON")] = False,
) -> None:
    """The network as the controller sees it: nodes, links (state, key rate, QBER, pool), routes, alarms."""
    report = fetch(state, "/qkdn/v1/state")
    if as_json:
        typer.echo(json.dumps(report, indent=1))
        return
    console = Console()
    console.print(f"{report['network']} (sequence {report['sequence']}, {report['generated_at']})")
    nodes = RichTable(title="nodes")
    for column in ("node", "KME", "role", "state"):
        nodes.add_column(column)
    for node in report["nodes"]:
        nodes.add_row(node["id"], node["kme_id"], node["role"], node["state"])
    console.print(nodes)
    links = RichTable(title="links")
    for column in ("link", "state", "key rate (bit/s)", "QBER", "pool (bits)", "capacity (bits)"):
        links.add_column(column, justify="right" if column not in ("link", "state") else "left")
    for link in report["links"]:
        qber = "" if link["qber"] is None else f"{link['qber']:.4f}"
        links.add_row(
            link["id"],
            link["state"],
            f"{link['key_rate_bps']:.4g}",
            qber,
            f"{link['pool_bits']:.4g}",
            f"{link['pool_capacity_bits']:.4g}",
        )
    console.print(links)
    alarms = RichTable(title="alarms")
    for column in ("severity", "source", "text", "raised", "cleared"):
        alarms.add_column(column)
    for alarm in report["alarms"]:
        alarms.add_row(alarm["severity"], alarm["source"], alarm["text"], alarm["raised_at"], alarm["cleared_at"] or "")
    console.print(alarms)
    if report.get("interdomain"):
        _print_interdomain(console, report["interdomain"])


def _print_interdomain(console: Console, view: dict[str, Any]) -> None:
    """The interconnection table of ``network status`` (issue 13 item 7)."""
    table = RichTable(title=f"inter-domain: {view['domain']} <-> {view['peer_domain']} (agreement {view['agreement']})")
    for column in ("gateway", "link", "state", "key rate (bit/s)", "pool (bits)", "remote SAEs", "decisions"):
        table.add_column(column)
    decisions = ", ".join(f"{name}: {count}" for name, count in view["counters"].items())
    table.add_row(
        view["gateway_kme_id"],
        view["link_id"],
        view["state"] + (f" ({view['reason']})" if view["reason"] else ""),
        f"{view['key_rate_bps']:.4g}",
        f"{view['pool_bits']:.4g}",
        ", ".join(view["remote_sae_ids"]),
        decisions,
    )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add the ``network`` command group."""
    app.add_typer(network_app, name="network")
