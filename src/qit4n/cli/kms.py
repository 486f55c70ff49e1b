"""``qit4n kms``: certificates, a local network of KMEs, and ETSI GS QKD 014 calls as an SAE."""

from __future__ import annotations

import base64
import contextlib
import json
import signal
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table as RichTable

from qit4n.cli.kms_certs import certs_app
from qit4n.errors import ParameterError

if TYPE_CHECKING:
    from qit4n.kms.client import DeliveredKey
    from qit4n.kms.config import KMSSettings
    from qit4n.kms.launcher import Network, NetworkPlan, StateLock
    from qit4n.report import Section
    from qit4n.scenario import Scenario

__all__ = ["demo_section", "register", "start_kmes"]

kms_app = typer.Typer(
    help="Key management: KMEs with the ETSI GS QKD 014 API, key relay, hybrid keys.", no_args_is_help=True
)

StateOption = Annotated[
    Path, typer.Option("--state", help="folder with the network's certificates, configs and databases")
]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]
CaDirOption = Annotated[
    Path | None,
    typer.Option("--ca", help="offline CA folder (`kms certs init`) that issues missing certificates"),
]
#: The longest ``--cert-days`` (ten years, as ``kms certs issue --days``).
MAX_CERT_DAYS = 3650.0

CertDaysOption = Annotated[
    float | None, typer.Option("--cert-days", help="lifetime of certificates issued now, in days (default 30)")
]
KmsConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="KMS config file (YAML/JSON): per-SAE quotas, default_quota, max_request_bytes, key_lifetime_s, "
        "max_key_per_request, hosts (where each KME runs)",
    ),
]
BasePortOption = Annotated[
    int | None, typer.Option("--base-port", min=1024, max=65000, help="first port; default: free ports")
]

kms_app.add_typer(certs_app, name="certs")


@kms_app.command("openapi")
def openapi() -> None:
    """Print the OpenAPI document of the ETSI GS QKD 014 API the KMEs serve (JSON)."""
    from qit4n.kms.app import etsi_openapi

    typer.echo(json.dumps(etsi_openapi(), indent=1))


def _stop_requested(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@kms_app.command("up")
def up(
    scenario: Annotated[str, typer.Argument(help="scenario file or built-in name")],
    state: Annotated[
        Path | None, typer.Option("--state", help="keep certificates and databases here (a restart resumes)")
    ] = None,
    base_port: BasePortOption = None,
    duration_s: Annotated[
        float | None, typer.Option("--duration-s", min=0.0, help="stop after this many seconds (default: until Ctrl-C)")
    ] = None,
    supply: Annotated[
        str,
        typer.Option(
            "--supply",
            help="link key supply, a name in qit4n.kms.KEY_SUPPLIES: 'modelled' (the modelled rate), "
            "'emulated' (emulator + post-processing), or one a plugin registered",
        ),
    ] = "modelled",
    pulses_per_block: Annotated[
        int, typer.Option("--pulses-per-block", help="emulated supply: pulses per emulated block")
    ] = 30_000_000,
    randomness: Annotated[
        str | None,
        typer.Option(
            "--randomness",
            help="QRNG mixed into the keys each KME generates itself: qrng:MODEL[,FAULT...] or file:PATH "
            "(health in /kme/v1/health; default: the OS alone)",
        ),
    ] = None,
    kms_config: KmsConfigOption = None,
    ca: CaDirOption = None,
    cert_days: CertDaysOption = None,
) -> None:
    """Start one KME process per node of SCENARIO, fill their pools from the links, and supervise them
    (a KME that exits is restarted with back-off). The state folder is locked while this runs; without
    --state a private temporary folder is used and removed at the end. Certificates come from the state
    (`kms plan`, `kms certs`) or --ca; a fresh state gets a throwaway CA whose key is not kept."""
    from qit4n.kms.launcher import TEMPORARY_STATE_PREFIX, StateLock, remove_orphan_states
    from qit4n.qrng.source import open_source
    from qit4n.scenario import load_scenario

    if randomness is not None:
        open_source(randomness, option="--randomness")  # a bad specification fails here, not in every KME
    loaded = load_scenario(scenario)
    options = _plan_options(kms_config, base_port, ca, cert_days)
    options.update(supply=supply, pulses_per_block=pulses_per_block)
    if randomness is not None:
        options["overrides"]["randomness"] = randomness
    signal.signal(signal.SIGINT, _stop_requested)
    signal.signal(signal.SIGTERM, _stop_requested)
    with contextlib.ExitStack() as stack:
        if state is None:
            for orphan in remove_orphan_states(Path(tempfile.gettempdir())):
                Console(stderr=True).print(f"removed {orphan}, the temporary state of a killed `kms up`")
        state_dir = (
            state
            if state is not None
            else Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=TEMPORARY_STATE_PREFIX)))
        )
        lock = StateLock(state_dir)
        lock.acquire()
        stack.callback(lock.release)
        _run_network(loaded, state_dir, lock, duration_s, options)


@kms_app.command("plan")
def plan(
    scenario: Annotated[str, typer.Argument(help="scenario file or built-in name")],
    state: StateOption,
    ca: CaDirOption = None,
    kms_config: KmsConfigOption = None,
    base_port: BasePortOption = None,
    cert_days: CertDaysOption = None,
) -> None:
    """Write the state of SCENARIO's network without starting it: KME configs, link secrets, and
    certificates issued by the offline CA --ca. With `hosts` in --config, also one bundle per machine
    under STATE/hosts/ADDRESS/ (configs with relative paths, certificates, CRL) to copy there and run
    with `qit4n kms serve`."""
    from qit4n.cli.render import tracked
    from qit4n.kms.launcher import StateLock, write_kme_plan
    from qit4n.scenario import load_scenario

    loaded = load_scenario(scenario)
    options = _plan_options(kms_config, base_port, ca, cert_days)
    lock = StateLock(state)
    lock.acquire()
    try:
        with tracked(f"writing KME configs and certificates for {len(loaded.nodes)} nodes"):
            written = write_kme_plan(loaded, state, **options)
    finally:
        lock.release()
    table = RichTable(title=f"KMEs of {loaded.name} (state: {state})")
    for column in ("KME", "URL", "listens on", "config"):
        table.add_column(column)
    for kme_id, config in written.configs.items():
        address = config.public_host or config.host
        bundle = state / "hosts" / address / f"{kme_id}.json"
        shown = bundle if bundle.exists() else state / "kme" / f"{kme_id}.json"
        table.add_row(kme_id, config.url, config.host, str(shown))
    Console().print(table)


@kms_app.command("serve")
def serve(
    config: Annotated[
        Path, typer.Argument(help="a KME config: STATE/hosts/ADDRESS/KME-X.json (kms plan) or STATE/kme/KME-X.json")
    ],
) -> None:
    """Run one KME alone from its config file until Ctrl-C or SIGTERM (one machine of a network spread
    over several). Refuses a config, key, database folder or KEK that other users can read."""
    from qit4n.kms.launcher import run_kme

    run_kme(config)


def _plan_options(
    kms_config: Path | None, base_port: int | None, ca: Path | None, cert_days: float | None
) -> dict[str, Any]:
    """Keyword arguments of :func:`~qit4n.kms.launcher.write_kme_plan` from the common options."""
    from qit4n.kms.certs import DEFAULT_CERT_DAYS

    if cert_days is not None and not 0 < cert_days <= MAX_CERT_DAYS:
        raise ParameterError(f"--cert-days = {cert_days:g}: must be in (0, {MAX_CERT_DAYS:g}] days")
    settings = None if kms_config is None else _kms_settings(kms_config)
    return {
        "base_port": base_port,
        "overrides": {} if settings is None else settings.overrides(),
        "hosts": {} if settings is None else settings.hosts,
        "ca_dir": ca,
        "cert_days": DEFAULT_CERT_DAYS if cert_days is None else cert_days,
    }


def _kms_settings(path: Path) -> KMSSettings:
    """A KMS config file, validated; InputError names the file and each bad field."""
    import yaml

    from qit4n.errors import InputError
    from qit4n.kms.config import KMSSettings
    from qit4n.schema import validate_document

    if path.exists() and not path.is_file():  # a folder, a device such as /dev/zero, a FIFO
        raise InputError(f"--config {path}: not a regular file")
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise InputError(f"--config {path}: cannot read it ({type(error).__name__})") from None
    return validate_document(KMSSettings, data, f"--config {path}", "KMS settings")


def start_kmes(plan: NetworkPlan, lock: StateLock, running: contextlib.ExitStack) -> Network:
    """Start the KMEs of ``plan`` under ``running``: a progress bar, and a line on stderr as each KME
    listens (whether or not stderr is a terminal)."""
    from qit4n.cli.render import progress
    from qit4n.kms.launcher import Network

    started = time.monotonic()
    with progress() as bar:
        task = bar.add_task(f"starting {len(plan.configs)} KMEs", total=len(plan.configs))

        def ready(kme_id: str) -> None:
            bar.update(task, advance=1, description=f"{kme_id} listening")
            seconds = time.monotonic() - started
            bar.console.print(f"{kme_id} ready at {plan.configs[kme_id].url} ({seconds:.1f} s)", highlight=False)

        return running.enter_context(Network(plan, lock=lock, on_ready=ready))


def _run_network(
    scenario: Scenario, state_dir: Path, lock: StateLock, duration_s: float | None, options: dict[str, Any]
) -> None:
    from qit4n.cli.render import progress
    from qit4n.kms.launcher import write_kme_plan

    console = Console()
    with contextlib.ExitStack() as running:
        with progress() as bar:
            bar.add_task("planning: configs and certificates", total=None)
            plan = write_kme_plan(scenario, state_dir, **options)
        network = start_kmes(plan, lock, running)
        table = RichTable(title=f"KMEs of {scenario.name} (state: {state_dir})")
        for column in ("KME", "URL", "SAEs", "links"):
            table.add_column(column)
        for kme_id, config in plan.configs.items():
            links = (f"{link.link_id} ({'modelled' if link.key_file is None else 'emulated'})" for link in config.links)
            table.add_row(kme_id, config.url, ", ".join(config.sae_ids), ", ".join(links))
        console.print(table)
        if options["supply"] == "emulated":
            console.print(
                f"link key: emulated and distilled ({len(plan.producers)} producers, keys in {state_dir / 'keys'})"
            )
        console.print("running; Ctrl-C stops" if duration_s is None else f"running for {duration_s:g} s")
        try:
            deadline = None if duration_s is None else time.monotonic() + duration_s
            while deadline is None or time.monotonic() < deadline:
                time.sleep(0.2)
                for kme_id in network.supervise():
                    console.print(f"{kme_id} exited; restarted (restart {network.restarts[kme_id].count})")
        except KeyboardInterrupt:
            console.print("stopping")


@kms_app.command("status")
def status(state: StateOption, as_json: JsonOption = False) -> None:
    """Pool levels of every KME and the ETSI status of every SAE pair, through the KMEs' APIs."""
    from qit4n.kms.launcher import load_plan
    from qit4n.kms.ops import network_status

    report = network_status(load_plan(state))
    if as_json:
        typer.echo(json.dumps(report, indent=1))
        return
    console = Console()
    pools = RichTable(title="key pools")
    for column in ("KME", "link", "peer", "pool bits", "allocatable bits", "capacity bits", "issued", "delivered"):
        pools.add_column(column)
    for kme_id, health in report["kmes"].items():
        if "error" in health:
            pools.add_row(kme_id, health["error"], "", "", "", "", "", "")
            continue
        for link_id, link in health["links"].items():
            pools.add_row(
                kme_id,
                link_id,
                link["peer"],
                str(link["pool_bits"]),
                str(link["owned_bits"]),
                f"{link['capacity_bits']:.3g}",
                str(health["issued"]),
                str(health["delivered"]),
            )
    console.print(pools)
    pairs = RichTable(title="ETSI status (Get status) per SAE pair")
    for column in ("master", "slave", "target KME", "stored keys", "key size"):
        pairs.add_column(column)
    for pair in report["pairs"]:
        pairs.add_row(
            pair["master_SAE_ID"],
            pair["slave_SAE_ID"],
            pair.get("target_KME_ID", pair.get("error", "")),
            str(pair.get("stored_key_count", "")),
            str(pair.get("key_size", "")),
        )
    console.print(pairs)


def _print_keys(keys: list[DeliveredKey], as_json: bool) -> None:
    rows = [{"key_ID": key.key_id, "key": base64.b64encode(key.key).decode("ascii")} for key in keys]
    if as_json:
        typer.echo(json.dumps({"keys": rows}, indent=1))
        return
    table = RichTable()
    table.add_column("key_ID")
    table.add_column("key (base64)")
    for row in rows:
        table.add_row(row["key_ID"], row["key"])
    Console().print(table)


@kms_app.command("get-key")
def get_key(
    state: StateOption,
    sae: Annotated[str, typer.Option("--sae", help="the calling (master) SAE")],
    slave: Annotated[str, typer.Option("--slave", help="the slave SAE")],
    number: Annotated[int | None, typer.Option("--number", help="number of keys (default 1)")] = None,
    size: Annotated[int | None, typer.Option("--size", help="key size in bits (default: the KME's key_size)")] = None,
    additional: Annotated[
        list[str] | None, typer.Option("--additional-slave", help="additional slave SAE (multicast); repeatable")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Get key (ETSI GS QKD 014 enc_keys) as master SAE SAE for slave SLAVE."""
    from qit4n.kms.launcher import load_plan
    from qit4n.kms.ops import sae_client

    with sae_client(load_plan(state), sae) as client:
        _print_keys(client.get_key(slave, number=number, size_bits=size, additional_slave_sae_ids=additional), as_json)


@kms_app.command("dec-key")
def dec_key(
    state: StateOption,
    sae: Annotated[str, typer.Option("--sae", help="the calling (slave) SAE")],
    master: Annotated[str, typer.Option("--master", help="the master SAE that got the keys")],
    key_id: Annotated[list[str], typer.Option("--key-id", help="key_ID to fetch; repeatable")],
    as_json: JsonOption = False,
) -> None:
    """Get key with key IDs (ETSI GS QKD 014 dec_keys) as slave SAE SAE."""
    from qit4n.kms.launcher import load_plan
    from qit4n.kms.ops import sae_client

    with sae_client(load_plan(state), sae) as client:
        _print_keys(client.get_key_with_ids(master, key_id), as_json)


@kms_app.command("stream")
def stream(
    state: StateOption,
    source: Annotated[str, typer.Option("--source", help="the source SAE")],
    destination: Annotated[str, typer.Option("--destination", help="the destination SAE")],
    count: Annotated[int, typer.Option("--count", min=1, max=1000, help="key chunks (indexes 0..count-1)")] = 4,
    chunk_bytes: Annotated[int, typer.Option("--chunk-bytes", min=1, max=1024, help="QoS key_chunk_size")] = 32,
    as_json: JsonOption = False,
) -> None:
    """An ETSI GS QKD 004 key stream from SOURCE to DESTINATION (both ends, with their certificates)."""
    from qit4n.kms.client004 import stream_between
    from qit4n.kms.launcher import load_plan

    qos = {"key_chunk_size": chunk_bytes, "timeout": 5000}
    ksid, chunks = stream_between(load_plan(state), source, destination, count=count, qos=qos)
    keys = [base64.b64encode(chunk).decode("ascii") for chunk in chunks]
    if as_json:
        rows = [{"index": index, "key": key} for index, key in enumerate(keys)]
        typer.echo(json.dumps({"KSID": ksid, "keys": rows}, indent=1))
        return
    table = RichTable(title=f"KSID {ksid}: the same key at both ends")
    table.add_column("index")
    table.add_column("key (base64)")
    for index, key in enumerate(keys):
        table.add_row(str(index), key)
    Console().print(table)


audit_app = typer.Typer(help="The KMEs' hash-chained audit logs.", no_args_is_help=True)
kms_app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(
    logs: Annotated[
        list[Path] | None, typer.Argument(help="audit log files (default: every log under --state)")
    ] = None,
    state: Annotated[Path | None, typer.Option("--state", help="verify every KME's log of this state")] = None,
) -> None:
    """Check the hash chain of audit logs; exit 1 naming the first broken line if one was tampered with."""
    from qit4n.errors import InputError
    from qit4n.kms.audit import verify_log

    paths = list(logs or []) + (sorted((state / "audit").glob("*.jsonl")) if state is not None else [])
    if not paths:
        raise InputError("audit verify: give audit log files or --state with an audit/ folder")
    broken = 0
    for path in paths:
        if not path.is_file():
            raise InputError(f"{path}: no such audit log")
        verdict = verify_log(path)
        if verdict.intact:
            typer.echo(f"{path}: intact, {verdict.entries} entries, head {verdict.head}")
        else:
            broken += 1
            typer.echo(f"{path}: TAMPERED at line {verdict.broken_line}: {verdict.reason}")
    if broken:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the ``kms`` command group."""
    app.add_typer(kms_app, name="kms")


def demo_section(scenario: Scenario, out_dir: Path) -> Section:
    """Run the scenario's KMEs for a few seconds; an SAE pair across a trusted relay agrees hybrid keys."""
    from qit4n.kms.demo import run_demo

    return run_demo(scenario, out_dir)
