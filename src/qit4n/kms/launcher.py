"""Plan and run the KMEs of a scenario, one process per KME.

:func:`write_kme_plan` writes everything a network of KMEs needs into a state folder: the CA
certificate, a CRL and the entities' certificates (``certs/``, :mod:`qit4n.kms.pki`; never a CA
key), one config per KME (``kme/KME-X.json``), the link secrets of the modelled key supply
(``links.json``, kept so a restart resumes with the same pools), ``network.json`` (URLs and the SAE
directory) for clients, and with a ``hosts`` map one bundle per machine (:mod:`qit4n.kms.hosts`)
to run with ``qit4n kms serve`` (:func:`run_kme`). :class:`Network` starts and stops the KME
processes; each keeps its SQLite database in ``db/``.

The key supply of the links is a member of :data:`~qit4n.kms.supply.KEY_SUPPLIES`. With
``supply="emulated"`` the plan also holds one producer per link (``producers/link-I.json``) that
fills ``keys/link-I/`` with key distilled by the emulator and post-processing stack
(:mod:`qit4n.kms.emulated_supply`); :class:`Network` runs the producers beside the KMEs.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qit4n.errors import InputError, ParameterError, ServiceError
from qit4n.kms.atrest import check_private, private_dir, write_private
from qit4n.kms.certs import DEFAULT_CERT_DAYS, DEFAULT_CRL_DAYS
from qit4n.kms.config import KMEConfig, KMEHost, LinkConfig, https_url, kme_id_of, read_kme_config, sae_id_of
from qit4n.kms.hosts import free_port, placements, write_bundles
from qit4n.kms.pki import ensure_certs, entities_of, is_throwaway
from qit4n.kms.routes import kme_network
from qit4n.kms.supply import KEY_SUPPLIES, LinkSupplyPlan, new_link_secret

if TYPE_CHECKING:
    from collections.abc import Callable

    from qit4n.scenario import Scenario

__all__ = [
    "TEMPORARY_STATE_PREFIX",
    "Network",
    "NetworkPlan",
    "StateLock",
    "free_port",
    "load_plan",
    "remove_orphan_states",
    "run_kme",
    "scenario_entities",
    "write_kme_plan",
]

_READY_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class NetworkPlan:
    """The KMEs of a scenario: configs by KME ID, and the folder holding them."""

    state_dir: Path
    configs: dict[str, KMEConfig]
    producers: tuple[Path, ...] = ()

    @property
    def directory(self) -> dict[str, str]:
        """SAE ID -> KME ID."""
        return next(iter(self.configs.values())).directory

    def url(self, kme_id: str) -> str:
        """Base URL of a KME."""
        return self.configs[kme_id].url

    def sae_cert(self, sae_id: str) -> tuple[Path, Path, Path]:
        """(certificate, key, CA) files of an SAE."""
        certs = self.state_dir / "certs"
        return certs / f"{sae_id}.pem", certs / f"{sae_id}.key", certs / "ca.pem"


def scenario_entities(scenario: Scenario) -> tuple[list[str], list[str]]:
    """(KME IDs, SAE IDs) of a scenario under the naming rule of :mod:`qit4n.kms.config`."""
    kme_ids = [kme_id_of(node.id) for node in scenario.nodes]
    sae_ids = [sae_id_of(node.id) for node in scenario.nodes if node.role.value == "user"]
    return kme_ids, sae_ids


def _planned_supply(state_dir: Path, supply: str) -> None:
    network_path = state_dir / "network.json"
    planned = json.loads(network_path.read_text()).get("supply", "modelled") if network_path.exists() else supply
    if planned != supply:
        raise ServiceError(
            f"supply = {supply!r}: {state_dir} was planned with supply {planned!r} (its pools hold that key); "
            "use another --state"
        )


def _link_secrets(scenario: Scenario, state_dir: Path) -> dict[str, str]:
    secrets_path = state_dir / "links.json"
    secrets: dict[str, str] = json.loads(secrets_path.read_text()) if secrets_path.exists() else {}
    for index in range(len(scenario.links)):
        secrets.setdefault(scenario.link_id(index), new_link_secret())
    write_private(secrets_path, json.dumps(secrets, indent=1))
    return secrets


def write_kme_plan(
    scenario: Scenario,
    state_dir: Path,
    *,
    base_port: int | None = None,
    overrides: dict[str, Any] | None = None,
    supply: str = "modelled",
    pulses_per_block: int = 30_000_000,
    hosts: dict[str, KMEHost] | None = None,
    ca_dir: Path | None = None,
    cert_days: float = DEFAULT_CERT_DAYS,
    crl_days: float = DEFAULT_CRL_DAYS,
) -> NetworkPlan:
    """Write certificates and KME configs for ``scenario`` into ``state_dir`` (see module docstring).

    The links' key rates and every KME's relay routes come from one evaluation of the scenario's
    links (:func:`qit4n.kms.routes.kme_network`).

    Parameters
    ----------
    supply : str
        A name in :data:`~qit4n.kms.supply.KEY_SUPPLIES`: ``modelled`` (pools filled at the modelled
        key rate) or ``emulated`` (key distilled by the emulator and post-processing stack). Links
        the chosen supply cannot serve (for ``emulated``: not fibre with ``length_km``, or a
        protocol it does not play) keep the modelled supply; ``network.json`` lists them with the
        reason under ``modelled_links``.
    pulses_per_block : int
        Emulated supply: pulses per emulated block (the finite-key block size).
    base_port : int or None
        KME ``i`` (in node order) listens on ``base_port + i``; None picks free ports.
    overrides : dict or None
        Extra :class:`KMEConfig` fields for every KME (e.g. ``{"max_key_per_request": 100}``).
    hosts : dict or None
        KME ID -> :class:`KMEHost` (address, bind address, port) for KMEs spread over machines;
        the others listen on 127.0.0.1. Each address also gets a bundle ``hosts/<address>/`` with
        its KMEs' configs (paths relative to the bundle), certificates and the SAE certificates of
        its KMEs, to copy to that machine and run with ``qit4n kms serve``.
    ca_dir : Path or None
        An offline CA (:mod:`qit4n.kms.pki`) that issues the missing certificates; None uses the
        certificates already in ``certs/`` or, on a fresh state, a throwaway CA whose key is not kept.
    cert_days, crl_days : float
        Lifetime of the certificates issued, and of the CRL (offline CA only), in days.
    """
    kind = KEY_SUPPLIES.get(supply)
    kind.check_options(pulses_per_block=pulses_per_block)
    if hosts and supply != "modelled":
        raise InputError(f"hosts: the {supply} supply runs its producers on this machine; use the modelled supply")
    check_private(state_dir)
    _planned_supply(state_dir, supply)
    private_dir(state_dir)
    nodes = [node.id for node in scenario.nodes]
    user_nodes = [node.id for node in scenario.nodes if node.role.value == "user"]
    kme_ids = [kme_id_of(node) for node in nodes]
    places = placements(kme_ids, hosts or {}, base_port)
    certs = state_dir / "certs"
    secrets = _link_secrets(scenario, state_dir)
    network = kme_network(scenario)
    link_plans: dict[int, tuple[str, LinkSupplyPlan]] = {}
    modelled: dict[str, str] = {}
    for index in range(len(scenario.links)):
        link_id = scenario.link_id(index)
        try:
            link_plan = kind.plan_link(
                scenario, index, state_dir=state_dir, secret_hex=secrets[link_id], pulses_per_block=pulses_per_block
            )
            link_plans[index] = (supply, link_plan)
        except ParameterError as error:
            modelled[link_id] = str(error)
            link_plans[index] = ("modelled", LinkSupplyPlan())
    urls = {kme_id: https_url(place.address, place.port) for kme_id, place in places.items()}
    directory = {sae_id_of(node): kme_id_of(node) for node in user_nodes}
    configs = {}
    for node, kme_id in zip(nodes, kme_ids):
        links = []
        for index, link in enumerate(scenario.links):
            if node not in link.endpoints:
                continue
            end = 0 if node == link.endpoints[0] else 1
            link_id = scenario.link_id(index)
            link_supply, link_plan = link_plans[index]
            links.append(
                LinkConfig(
                    link_id=link_id,
                    peer_kme_id=kme_id_of(link.endpoints[1 - end]),
                    key_rate_bps=network.rates_bps[index],
                    pool_capacity_bits=link.pool_capacity_bits,
                    secret_hex=secrets[link_id],
                    parity=end,
                    supply=link_supply,
                    key_file=None if link_plan.key_files is None else link_plan.key_files[end],
                    committed_file=link_plan.committed_file,
                )
            )
        routes = {kme_id_of(target): [kme_id_of(hop) for hop in hops] for target, hops in network.routes[node].items()}
        place = places[kme_id]
        configs[kme_id] = KMEConfig(
            kme_id=kme_id,
            host=place.bind,
            port=place.port,
            database=state_dir / "db" / f"{kme_id}.sqlite",
            kek_file=state_dir / "kek" / f"{kme_id}.key",
            audit_file=state_dir / "audit" / f"{kme_id}.jsonl",
            cert=certs / f"{kme_id}.pem",
            key=certs / f"{kme_id}.key",
            ca=certs / "ca.pem",
            sae_ids=[sae_id_of(node)] if node in user_nodes else [],
            directory=directory,
            peers={other: url for other, url in urls.items() if other != kme_id},
            links=links,
            routes=routes,
            public_host=place.address if place.address != place.bind else None,
            **(overrides or {}),
        )
    ensure_certs(certs, entities_of(configs.values()), ca_dir=ca_dir, days=cert_days, crl_days=crl_days)
    if not is_throwaway(certs) and (certs / "crl.pem").exists() and "crl" not in (overrides or {}):
        configs = {kme_id: config.model_copy(update={"crl": certs / "crl.pem"}) for kme_id, config in configs.items()}
    private_dir(state_dir / "kme")
    for kme_id, config in configs.items():
        write_private(state_dir / "kme" / f"{kme_id}.json", config.model_dump_json(indent=1))
    summary = {"kmes": urls, "saes": directory, "scenario": scenario.name, "supply": supply, "modelled_links": modelled}
    write_private(state_dir / "network.json", json.dumps(summary, indent=1))
    if hosts:
        write_bundles(state_dir, configs, places)
    producers = tuple(plan.producer for _, plan in link_plans.values() if plan.producer is not None)
    return NetworkPlan(state_dir, configs, producers)


def load_plan(state_dir: Path) -> NetworkPlan:
    """Read the plan that :func:`write_kme_plan` wrote into ``state_dir``."""
    check_private(state_dir)
    folder = state_dir / "kme"
    files = sorted(folder.glob("KME-*.json")) if folder.is_dir() else []
    if not files:
        raise ServiceError(
            f"--state {state_dir}: no KME configs found (run `qit4n kms plan` or "
            f"`qit4n kms up SCENARIO --state {state_dir}` first)"
        )
    configs = {}
    for path in files:
        config = KMEConfig.model_validate_json(path.read_text())
        configs[config.kme_id] = config
    return NetworkPlan(state_dir, configs, tuple(sorted((state_dir / "producers").glob("link-*.json"))))


def run_kme(config_path: Path) -> None:
    """Run the KME of one config file until SIGINT/SIGTERM (``qit4n kms serve CONFIG``).

    Relative paths in the file are taken from its folder (the per-host bundles of
    :func:`write_kme_plan`). Like ``python -m qit4n.kms.server``, files it creates are private
    (umask 077), and a config, private key, database folder or KEK that other users can read is
    refused (:class:`~qit4n.kms.atrest.StateModeError`) before anything is opened.
    """
    import contextlib

    from qit4n.kms.server import make_server

    os.umask(0o077)
    if not config_path.is_file():
        raise InputError(f"CONFIG {config_path}: no such KME config file")
    check_private(config_path)
    try:
        config = read_kme_config(config_path)
    except ValueError as error:
        raise InputError(f"CONFIG {config_path}: not a KME config ({str(error).splitlines()[0]})") from None
    check_private(config.key, config.database.parent, *([config.kek_file] if config.kek_file else []))
    with contextlib.suppress(KeyboardInterrupt):
        make_server(config).run()


#: Prefix of the temporary state folder of ``kms up`` without ``--state``.
TEMPORARY_STATE_PREFIX = "qit4n-kms-"
_ORPHAN_AGE_S = 30.0


def remove_orphan_states(folder: Path) -> list[Path]:
    """Remove the temporary states that killed ``kms up`` runs left in ``folder``; returns them.

    A supervisor killed by SIGKILL cannot remove its temporary state (its KMEs die with it). A folder
    ``qit4n-kms-*`` owned by this user is an orphan when its ``kms.lock`` is older than 30 s and no
    process holds it; the check takes the lock, so a running ``kms up`` is never touched.
    """
    import shutil

    removed = []
    for candidate in sorted(folder.glob(f"{TEMPORARY_STATE_PREFIX}*")):
        lock_path = candidate / "kms.lock"
        if candidate.is_symlink() or not lock_path.is_file() or candidate.stat().st_uid != os.getuid():
            continue
        if time.time() - lock_path.stat().st_mtime < _ORPHAN_AGE_S:
            continue
        with os.fdopen(os.open(lock_path, os.O_RDWR), "r+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            shutil.rmtree(candidate)
        removed.append(candidate)
    return removed


class StateLock:
    """An exclusive lock on a state folder (``kms.lock``), so one supervisor runs its KMEs at a time."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "kms.lock"
        self._handle: Any = None

    def acquire(self) -> None:
        """Take the lock; ServiceError if another process holds it."""
        if self._handle is not None:
            return
        check_private(self.path.parent)
        private_dir(self.path.parent)
        handle = os.fdopen(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), "r+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise ServiceError(
                f"--state {self.path.parent}: already in use by `qit4n kms up` (pid {holder}); "
                "stop it first or use another --state"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        """Give the lock up (also released by the kernel when this process dies)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGTERM when the supervisor dies, even by SIGKILL (PR_SET_PDEATHSIG)."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() == 1:  # the supervisor died before the call above
        os.kill(os.getpid(), signal.SIGKILL)


def _load_prctl() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    return ctypes.CDLL(None, use_errno=True).prctl


_PR_SET_PDEATHSIG = 1
_PRCTL = _load_prctl()


@dataclass
class _Restarts:
    """Restart book-keeping of one supervised process."""

    count: int = 0
    due_s: float | None = None


class Network:
    """The KME processes of a plan. Use as a context manager, or call :meth:`start`/:meth:`stop`.

    Holds the state's :class:`StateLock` while running. Every child runs in its own process group
    (a Ctrl-C on the terminal reaches the supervisor only) and receives SIGTERM when the
    supervisor dies, however it dies. :meth:`supervise` restarts children that exited, with
    exponential back-off, and gives up after ``max_restarts``. ``on_ready(kme_id)`` is called as
    each KME starts accepting connections (progress display). :meth:`start_service` adds another
    supervised child (the QKDN controller of :mod:`qit4n.qkdn`), restarted and stopped with the KMEs.
    """

    def __init__(
        self,
        plan: NetworkPlan,
        *,
        lock: StateLock | None = None,
        max_restarts: int = 5,
        backoff_s: float = 0.5,
        on_ready: Callable[[str], None] | None = None,
    ) -> None:
        self.plan = plan
        self.on_ready = on_ready
        self.lock = lock if lock is not None else StateLock(plan.state_dir)
        self.max_restarts = max_restarts
        self.backoff_s = backoff_s
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.producers: dict[Path, subprocess.Popen[bytes]] = {}
        self.services: dict[str, tuple[str, Path, subprocess.Popen[bytes]]] = {}
        self.restarts: dict[str, _Restarts] = {}

    def __enter__(self) -> Network:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _spawn(self, module: str, config: Path, log_name: str) -> subprocess.Popen[bytes]:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        descriptor = os.open(self.plan.state_dir / log_name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", module, str(config)],
                stdout=log,
                stderr=log,
                env=env,
                umask=0o077,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    def start(self, kme_ids: list[str] | None = None) -> None:
        """Start KME processes (all by default), and the link producers not running, and wait until
        each KME accepts TLS connections."""
        self.lock.acquire()
        for path in self.plan.producers:
            if path not in self.producers or self.producers[path].poll() is not None:
                self.producers[path] = self._spawn("qit4n.kms.emulated_supply", path, f"producer-{path.stem}.log")
        for kme_id in kme_ids or list(self.plan.configs):
            self.processes[kme_id] = self._spawn(
                "qit4n.kms.server", self.plan.state_dir / "kme" / f"{kme_id}.json", f"{kme_id}.log"
            )
        for kme_id in kme_ids or list(self.plan.configs):
            self._wait_ready(kme_id)
            if self.on_ready is not None:
                self.on_ready(kme_id)

    def start_service(self, name: str, module: str, argument: Path) -> subprocess.Popen[bytes]:
        """Run ``python -m MODULE ARGUMENT`` as a child like the KMEs (log ``NAME.log`` in the state);
        :meth:`supervise` restarts it when it exits, :meth:`stop` stops it."""
        self.lock.acquire()
        process = self._spawn(module, argument, f"{name}.log")
        self.services[name] = (module, argument, process)
        return process

    def _wait_ready(self, kme_id: str) -> None:
        config = self.plan.configs[kme_id]
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while time.monotonic() < deadline:
            process = self.processes[kme_id]
            if process.poll() is not None:
                log = (self.plan.state_dir / f"{kme_id}.log").read_text(errors="replace")[-2000:]
                raise ServiceError(f"{kme_id} exited with status {process.returncode} while starting:\n{log}")
            try:
                with socket.create_connection((config.host, config.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise ServiceError(f"{kme_id} did not listen on {config.url} within {_READY_TIMEOUT_S:g} s")

    def supervise(self) -> list[str]:
        """Restart the children that exited (call periodically); returns the KMEs restarted now.

        A KME that exits is restarted after ``backoff_s * 2**n`` seconds (n: its restarts so far);
        after ``max_restarts`` restarts ServiceError says which KME gave up and where its log is.
        """
        now = time.monotonic()
        restarted = []
        for path, producer in list(self.producers.items()):
            if producer.poll() is not None:
                self.producers[path] = self._spawn("qit4n.kms.emulated_supply", path, f"producer-{path.stem}.log")
        for name, (module, argument, service) in list(self.services.items()):
            if service.poll() is not None:
                self.services[name] = (module, argument, self._spawn(module, argument, f"{name}.log"))
                restarted.append(name)
        for kme_id, process in list(self.processes.items()):
            if process.poll() is None:
                continue
            book = self.restarts.setdefault(kme_id, _Restarts())
            if book.due_s is None:
                if book.count >= self.max_restarts:
                    log = self.plan.state_dir / f"{kme_id}.log"
                    raise ServiceError(
                        f"{kme_id} exited with status {process.returncode} after {book.count} restarts; "
                        f"giving up (log: {log})"
                    )
                book.due_s = now + self.backoff_s * 2**book.count
            if now >= book.due_s:
                book.count += 1
                book.due_s = None
                self.processes[kme_id] = self._spawn(
                    "qit4n.kms.server", self.plan.state_dir / "kme" / f"{kme_id}.json", f"{kme_id}.log"
                )
                restarted.append(kme_id)
        return restarted

    def kill(self, kme_id: str) -> None:
        """SIGKILL one KME (crash test) and reap it."""
        process = self.processes.pop(kme_id)
        process.kill()
        process.wait()

    def stop(self, kme_ids: list[str] | None = None) -> None:
        """Stop KMEs with SIGTERM (clean shutdown), SIGKILL after 10 s; all of them also stops the producers
        and services."""
        if kme_ids is None:
            producers, self.producers = self.producers, {}
            for process in producers.values():
                process.kill()
                process.wait()
            services, self.services = self.services, {}
            for _, _, service in services.values():
                service.terminate()
            for _, _, service in services.values():
                try:
                    service.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    service.kill()
                    service.wait()
        chosen = [kme_id for kme_id in (kme_ids or list(self.processes)) if kme_id in self.processes]
        for kme_id in chosen:
            if self.processes[kme_id].poll() is None:
                self.processes[kme_id].send_signal(signal.SIGTERM)
        for kme_id in chosen:
            process = self.processes.pop(kme_id)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if not self.processes and not self.services:
            self.lock.release()
