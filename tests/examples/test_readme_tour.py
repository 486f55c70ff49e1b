"""Every command of the README's CLI tour runs as written from a folder outside the checkout.

The tour is the ```bash block under "## A tour of the CLI". Each line runs through ``bash`` in a
scratch folder with ``qit4n`` on ``PATH`` (this interpreter's package). The services the README
says to start first are started here the way a user would: ``kms up`` and ``network up`` in the
background until they print ``running``, and a Dask scheduler with one worker for ``--scheduler``.
Only the fixed ports are rewritten to free ones (the KMEs' ``--base-port`` and the scheduler's).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import qit4n

README = Path(__file__).resolve().parents[2] / "README.md"

#: Seconds after which a tour command counts as hung (the whole tour runs in about 50 s on the 2-core
#: machine, the demo about 20 s of it; speed itself is measured in benchmarks/, not here).
COMMAND_LIMIT_S = 120.0
#: Seconds a started service may take to print ``running``.
SERVICE_START_LIMIT_S = 40.0


def tour_commands() -> list[str]:
    """The command lines of the README's tour, trailing comments removed."""
    text = README.read_text(encoding="utf-8")
    tour = text.split("## A tour of the CLI", 1)[1]
    block = tour.split("```bash\n", 1)[1].split("\n```", 1)[0]
    lines = [re.sub(r"\s+#\s.*$", "", line).strip() for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def _free_port_run(count: int) -> int:
    """The first of ``count`` consecutive free loopback ports."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        if first + count > 65000:
            continue
        sockets: list[socket.socket] = []
        try:
            for port in range(first, first + count):
                sockets.append(socket.socket())
                sockets[-1].bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for opened in sockets:
                opened.close()
    raise RuntimeError("no run of free ports")


@pytest.fixture
def shell_env(tmp_path: Path) -> dict[str, str]:
    """An environment whose ``qit4n`` is this interpreter running the package under test."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "qit4n"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m qit4n "$@"\n', encoding="utf-8")
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    env = dict(os.environ)
    env["PATH"] = f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(Path(qit4n.__file__).resolve().parents[1])
    env["COLUMNS"] = "120"
    return env


class _Services:
    """Background processes started for the tour, stopped with Ctrl-C (SIGINT) at the end."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder, self.env = folder, env
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, command: list[str] | str, ready_line: str | None) -> subprocess.Popen[bytes]:
        log = self.folder / f"service-{len(self.processes)}.log"
        with log.open("w", encoding="utf-8") as output:
            process = subprocess.Popen(
                command,
                shell=isinstance(command, str),
                cwd=self.folder,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(process)
        if ready_line is not None:
            self._wait_for(process, log, ready_line)
        return process

    @staticmethod
    def _wait_for(process: subprocess.Popen[bytes], log: Path, ready_line: str) -> None:
        deadline = time.monotonic() + SERVICE_START_LIMIT_S
        while time.monotonic() < deadline and process.poll() is None:
            if ready_line in log.read_text(encoding="utf-8", errors="replace"):
                return
            time.sleep(0.1)
        raise AssertionError(f"service did not print {ready_line!r}:\n{log.read_text(encoding='utf-8')[-2000:]}")

    def interrupt(self, process: subprocess.Popen[bytes]) -> None:
        """Ctrl-C, without waiting: a service whose users have run stops while the tour goes on."""
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)

    def stop(self) -> None:
        for process in reversed(self.processes):
            self.interrupt(process)
        for process in reversed(self.processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def services(tmp_path: Path, shell_env: dict[str, str]) -> Iterator[_Services]:
    started = _Services(tmp_path, shell_env)
    try:
        yield started
    finally:
        started.stop()


def _dask_scheduler(services: _Services) -> tuple[str, list[subprocess.Popen[bytes]]]:
    """Start ``dask scheduler`` and one ``dask worker``; return the scheduler's address and both."""
    from distributed import Client

    port = _free_port_run(1)
    address = f"tcp://127.0.0.1:{port}"
    dask = str(Path(sys.executable).parent / "dask")
    processes = [
        services.start([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], None),
        services.start([dask, "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard"], None),
    ]
    deadline = time.monotonic() + SERVICE_START_LIMIT_S
    while True:
        try:
            with Client(address, timeout=2) as client:
                client.wait_for_workers(1, timeout=SERVICE_START_LIMIT_S)
            return address, processes
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_the_tour_is_found() -> None:
    commands = tour_commands()
    assert len(commands) >= 25
    assert all(command.startswith("qit4n ") for command in commands)
    assert any("kms up" in command for command in commands) and any("--scheduler" in command for command in commands)


def test_readme_tour_runs_as_written(tmp_path: Path, shell_env: dict[str, str], services: _Services) -> None:
    if shutil.which("bash") is None or not (Path(sys.executable).parent / "dask").exists():
        pytest.skip("needs bash and the dask command")
    kme_base_port = _free_port_run(8)
    commands = tour_commands()
    started: list[tuple[str, subprocess.Popen[bytes]]] = []
    for index, command in enumerate(commands):
        line = command
        if "--scheduler" in line:
            address, processes = _dask_scheduler(services)
            line = line.replace("tcp://127.0.0.1:8786", address)
            started += [("--scheduler", process) for process in processes]
        line = line.replace("8443", str(kme_base_port))
        if re.match(r"qit4n (kms|network) up ", line):
            state_option = re.search(r"--state (\S+)", command)
            assert state_option is not None, command
            started.append((state_option.group(1), services.start(line, "running; Ctrl-C stops")))
            continue
        result = subprocess.run(
            ["bash", "-c", line],
            cwd=tmp_path,
            env=shell_env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=COMMAND_LIMIT_S,
            check=False,
        )
        assert result.returncode == 0, f"{command}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        assert "Traceback" not in result.stderr, f"{command}\n{result.stderr[-2000:]}"
        later = " ".join(commands[index + 1 :])
        for needle, process in started:
            if needle not in later and not (needle.startswith("kms") and "8443" in later):
                services.interrupt(process)
    assert (tmp_path / "cmp.png").is_file() and (tmp_path / "cbom.json").is_file()
    assert (tmp_path / "qit4n-report" / "index.html").is_file()
