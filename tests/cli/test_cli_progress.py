"""Long commands show progress on stderr when it is a terminal, and nothing when it is not or under ``--json``.

Each command family runs twice in this process: once with ``sys.stderr`` on a pseudo-terminal (the
progress description must reach it) and once with stderr captured by pytest, not a terminal (stderr
must stay empty and stdout hold the result). ``--json`` runs on the pseudo-terminal too, where only
the JSON may appear. ``kms up`` runs as a subprocess, as a user starts it, and must say when each KME is ready.
"""

from __future__ import annotations

import json
import os
import pty
import select
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from qit4n.cli import main

EMULATE = ["emulate", "bb84-decoy", "--distance-km", "20", "--pulses", "1e6"]


@pytest.fixture(scope="module", autouse=True)
def _colorama_sees_real_streams() -> Iterator[None]:
    """numba starts colorama (to colour its messages) while a progress display runs, so colorama keeps
    rich's proxy of pytest's captured stdout, closed by exit time; point it back at the real streams."""
    yield
    initialise = sys.modules.get("colorama.initialise")
    if initialise is not None:
        initialise.orig_stdout, initialise.orig_stderr = sys.__stdout__, sys.__stderr__  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No variable that makes rich treat a pipe as a terminal (or a terminal as a pipe)."""
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "NO_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setenv("COLUMNS", "200")


@contextmanager
def _terminal_stderr(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bytes]]:
    """``sys.stderr`` on a pseudo-terminal for the block; the list fills with what the terminal received."""
    master, slave = pty.openpty()
    received: list[bytes] = []
    finished = threading.Event()

    def read() -> None:
        while True:
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                if finished.is_set():
                    return
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal closed
                return
            if not chunk:
                return
            received.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    with os.fdopen(slave, "w", encoding="utf-8", buffering=1) as terminal:
        monkeypatch.setattr(sys, "stderr", terminal)
        try:
            yield received
        finally:
            monkeypatch.setattr(sys, "stderr", sys.__stderr__)
    finished.set()
    reader.join(timeout=5)
    os.close(master)


def _run(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 0
    return 0


def _on_terminal(argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``qit4n argv`` with stderr on a pseudo-terminal; what the terminal received (the exit must be
    0, or 1 for a scan whose target is down)."""
    with _terminal_stderr(monkeypatch) as received:
        status = _run(argv)
    capsys.readouterr()
    assert status == _EXIT.get(argv[1], 0), argv
    return b"".join(received).decode("utf-8", "replace")


#: Per family: a small run, and a description its progress line must show.
FAMILIES = {
    "sweep": (["sweep", "bb84-decoy", "--distance-km", "0,10", "--workers", "1"], "sweep of bb84-decoy"),
    "plan": (["plan", "secoqc-vienna-2008"], "planning secoqc-vienna-2008"),
    "simulate": (["simulate", "secoqc-vienna-2008", "--duration", "1h"], "simulating 3600 s"),
    "postprocess": (["postprocess", "--qber", "0.02", "--bits", "100000"], "distilling 100,000 bits"),
    "emulate": (EMULATE, "emulating 1e+06 pulses of bb84-decoy"),
    "qin chain": (
        ["qin", "chain", "--segments", "2", "--length-km", "20", "--engine", "des", "--duration", "1s"],
        "repeater chain, des engine",
    ),
    "qin run": (["qin", "run", "qin-metro-2qc", "--duration", "10ms"], "simulating 0.01 s of qin-metro-2qc"),
    "rate": (["rate", "bb84-decoy", "--distance-km", "0:100:1"], "key rates of 1 protocol(s) at 101 distances"),
    "qrng simulate": (["qrng", "simulate", "--out", "{tmp}/raw.bin", "--samples", "2e5"], "emulating 200,000"),
    "qrng assess": (
        ["qrng", "assess", "{tmp}/raw.bin", "--bits-per-symbol", "8", "--max-samples", "2e4"],
        "non-IID estimators on 20,000 samples",
    ),
    "qrng extract": (
        [
            "qrng",
            "extract",
            "{tmp}/raw.bin",
            "--bits-per-symbol",
            "8",
            "--out",
            "{tmp}/x.bin",
            "--min-entropy",
            "4",
            "--block-bits",
            "65536",
        ],
        "Toeplitz extraction",
    ),
    "qrng monitor": (["qrng", "monitor", "--samples", "2e5"], "health tests on emulated homodyne"),
    "threat scan": (["threat", "scan", "127.0.0.1:{closed_port}", "--timeout", "1"], "scanning 1 tls target(s)"),
}

#: Exit status of a run that is not 0: a scan whose only target refuses the connection exits 1.
_EXIT = {"scan": 1}

#: Commands without ``--json``: only the terminal and the pipe are checked.
WITHOUT_JSON = {
    "scenario generate": (["scenario", "generate", "--nodes", "30"], "generating 30 nodes"),
    "scenario show": (["scenario", "show", "secoqc-vienna-2008"], "link key rates of secoqc-vienna-2008"),
}


@pytest.fixture(scope="module")
def samples_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with ``raw.bin``: 200,000 emulated homodyne samples (what ``qrng simulate`` writes)."""
    from qit4n.qrng import HomodyneSource, emulate, write_samples

    folder = tmp_path_factory.mktemp("qrng")
    write_samples(folder / "raw.bin", emulate(HomodyneSource(), 200_000, np.random.default_rng(1)))
    return folder


def _closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _filled(argv: list[str], folder: Path) -> list[str]:
    return [item.format(tmp=folder, closed_port=_closed_port()) for item in argv]


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_progress_on_a_terminal_nothing_under_json_or_a_pipe(
    family: str, samples_folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    template, description = FAMILIES[family]
    argv = _filled(template, samples_folder)
    assert description in _on_terminal(argv, monkeypatch, capsys)
    assert _run(argv) == _EXIT.get(argv[1], 0)
    piped = capsys.readouterr()
    assert _without_notes(piped.err) == "" and (piped.out.strip() or argv[1] == "scan")
    with _terminal_stderr(monkeypatch) as received:
        assert _run([*argv, "--json"]) == _EXIT.get(argv[1], 0)
    json.loads(capsys.readouterr().out)
    assert description not in b"".join(received).decode("utf-8", "replace")


@pytest.mark.parametrize("family", sorted(WITHOUT_JSON))
def test_progress_on_a_terminal_nothing_on_a_pipe(
    family: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, description = WITHOUT_JSON[family]
    assert description in _on_terminal(argv, monkeypatch, capsys)
    assert _run(argv) == 0
    piped = capsys.readouterr()
    assert piped.err == "" and piped.out.strip()


def _without_notes(stderr: str) -> str:
    """stderr less what a command prints there whatever the terminal: ``threat scan``'s catalog line and its
    per-target errors (the only result of a scan whose target is down)."""
    lines = stderr.splitlines()
    return "\n".join(line for line in lines if not line.startswith("threat catalog ") and "cannot connect" not in line)


def _stderr_on_a_terminal(argv: list[str]) -> str:
    """Run ``qit4n argv`` as a subprocess with stderr on a pseudo-terminal; what the terminal received."""
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src"), "TERM": "xterm", "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    with subprocess.Popen(
        [sys.executable, "-m", "qit4n", *argv], stdout=subprocess.DEVNULL, stderr=slave, env=env
    ) as process:
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal closed: the command is done
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=120)
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


def test_kms_up_shows_planning_and_each_kme_starting_on_a_terminal(tmp_path: Path) -> None:
    scenario = tmp_path / "pair.yaml"
    scenario.write_text(
        "name: pair\nnodes: [{id: A}, {id: B}]\n"
        "links: [{endpoints: [A, B], key_rate_bps: 1.0e5, pool_capacity_bits: 1.0e6}]\n"
    )
    shown = _stderr_on_a_terminal(["kms", "up", str(scenario), "--state", str(tmp_path / "st"), "--duration-s", "0"])
    assert "planning: configs and certificates" in shown
    assert "KME-B listening" in shown and "2/2" in shown
    assert "KME-A ready at https://127.0.0.1:" in shown and "KME-B ready at https://127.0.0.1:" in shown
