"""``qit4n qrng``: each command with --json, and bad input giving one line and exit status 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from qit4n.cli import app
from qit4n.errors import Qit4nError


def _json(cli_runner: CliRunner, args: list[str], exit_code: int = 0) -> dict:
    result = cli_runner.invoke(app, ["qrng", *args, "--json"])
    assert result.exit_code == exit_code, result.output
    return json.loads(result.stdout)


def test_simulate_assess_extract_monitor(cli_runner: CliRunner, tmp_path: Path) -> None:
    raw = tmp_path / "raw.bin"
    simulated = _json(cli_runner, ["simulate", "--out", str(raw), "--samples", "30000", "--set", "qcnr_db=15"])
    assert simulated["samples"] == 30000 and 5 < simulated["min_entropy_per_sample"] < 7
    assessed = _json(cli_runner, ["assess", str(raw), "--bits-per-symbol", "8"])
    assert 3 < assessed["non_iid"]["h_initial"] < 8 and "warning" in assessed
    extracted = _json(
        cli_runner,
        [
            "extract",
            str(raw),
            "--bits-per-symbol",
            "8",
            "--out",
            str(tmp_path / "x.bin"),
            "--min-entropy",
            "4",
            "--block-bits",
            "65536",
        ],
    )
    assert (
        extracted["blocks"] == 3 and (tmp_path / "x.bin").stat().st_size == 3 * extracted["output_bits_per_block"] // 8
    )
    watched = _json(  # an alarm: the report, then exit status 1
        cli_runner,
        ["monitor", "--model", "beam-splitter", "--samples", "100000", "--fault", "stuck-value@50000:1"],
        exit_code=1,
    )
    assert not watched["healthy"] and watched["alarm_list"][0]["sample_index"] >= 50000
    from_file = _json(cli_runner, ["monitor", str(raw), "--bits-per-symbol", "8", "--min-entropy", "5"])
    assert from_file["healthy"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["assess", "/nonexistent/raw.bin", "--bits-per-symbol", "8"], "FILE = '/nonexistent/raw.bin': cannot read"),
        (["assess", "{raw}", "--bits-per-symbol", "9"], "--bits-per-symbol = 9: must be in [1, 8]"),
        (["simulate", "--out", "{tmp}/x.bin", "--samples", "-5"], "--samples = -5.0: must be a finite number > 0"),
        (["simulate", "--out", "{tmp}/x.bin", "--fault", "melt@3"], "--fault = 'melt@3': must look like"),
        (["simulate", "--out", "{tmp}/x.bin", "--set", "adc_bits=12"], "--set adc_bits = 12: must be in [1, 8]"),
        (["simulate", "--out", "{tmp}/x.bin", "--set", "colour=3"], "--set colour: unknown parameter of homodyne"),
        (
            ["simulate", "--out", "/nonexistent/dir/x.bin", "--samples", "10"],
            "--out = '/nonexistent/dir/x.bin': cannot write",
        ),
        (
            ["extract", "{raw}", "--bits-per-symbol", "8", "--out", "{tmp}/y", "--min-entropy", "9"],
            "--min-entropy = 9.0",
        ),
        (
            [
                "extract",
                "{raw}",
                "--bits-per-symbol",
                "8",
                "--out",
                "{tmp}/y",
                "--min-entropy",
                "4",
                "--block-bits",
                "1e9",
            ],
            "fewer than --block-bits",
        ),
        (["monitor", "{raw}", "--bits-per-symbol", "8"], "--min-entropy: required with FILE"),
    ],
)
def test_bad_input_names_the_field_and_range(
    cli_runner: CliRunner, tmp_path: Path, args: list[str], message: str
) -> None:
    raw = tmp_path / "raw.bin"
    raw.write_bytes(bytes(range(256)) * 4)
    result = cli_runner.invoke(app, ["qrng", *[a.format(raw=raw, tmp=tmp_path) for a in args]])
    assert isinstance(result.exception, Qit4nError), result.output
    assert message in str(result.exception) and "\n" not in str(result.exception)


@pytest.mark.parametrize(
    "args",
    [
        ["assess", "/nonexistent/raw.bin", "--bits-per-symbol", "8"],
        ["simulate", "--out", "/nonexistent/dir/x.bin", "--samples", "10"],
        ["assess", "/dev/zero", "--bits-per-symbol", "8"],
    ],
)
def test_the_command_prints_one_line_and_exits_2(args: list[str]) -> None:
    done = subprocess.run([sys.executable, "-m", "qit4n", "qrng", *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in done.stderr


_REFERENCE_DATA = Path(__file__).parent / "data"


def test_assess_reads_stdin_as_a_pipe_like_the_file(cli_runner: CliRunner, tmp_path: Path) -> None:
    """``qrng assess /dev/stdin`` (issue 17, pipes as sources): the same samples piped give the same
    assessment as the file (every estimator equal), where numpy's file reader used to fail on a pipe."""
    sample = (_REFERENCE_DATA / "homodyne_8bit.bin").read_bytes()[:5000]
    (tmp_path / "raw.bin").write_bytes(sample)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    piped = subprocess.run(
        [sys.executable, "-m", "qit4n", "qrng", "assess", "/dev/stdin", "--bits-per-symbol", "8", "--json"],
        input=sample,
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert piped.returncode == 0, piped.stderr.decode()
    from_pipe = json.loads(piped.stdout)
    from_file = _json(cli_runner, ["assess", str(tmp_path / "raw.bin"), "--bits-per-symbol", "8"])
    assert from_pipe["samples"] == from_file["samples"] == 5000
    assert from_pipe["non_iid"] == from_file["non_iid"]


def test_monitor_follows_a_named_pipe_while_it_flows(cli_runner: CliRunner, tmp_path: Path) -> None:
    """``qrng monitor FIFO`` reads a named pipe chunk by chunk until its writer closes: a healthy
    stretch, then a stuck value, gives an alarm after the stuck value starts (alpha = 1e-12 per
    sample, so that a false alarm in the healthy 150,000 bytes has odds below 1e-6)."""
    fifo = tmp_path / "raw.fifo"
    os.mkfifo(fifo)
    healthy = np.random.default_rng(2).integers(0, 256, 150_000, dtype=np.uint8).tobytes()

    def write() -> None:
        with open(fifo, "wb") as handle:
            handle.write(healthy)
            handle.write(b"\x42" * 100)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    watched = _json(
        cli_runner,
        [
            "monitor",
            str(fifo),
            "--bits-per-symbol",
            "8",
            "--min-entropy",
            "8",
            "--chunk-samples",
            "4096",
            "--alpha",
            "1e-12",
        ],
        exit_code=1,
    )
    writer.join(timeout=10)
    assert watched["samples"] == 150_100 and not watched["healthy"]
    assert watched["alarm_list"][0]["test"] == "repetition count"
    assert watched["alarm_list"][0]["sample_index"] >= 150_000


def test_devices_need_a_sample_limit(cli_runner: CliRunner) -> None:
    """A device may never end: without --max-samples, one line and exit 2; with it, that many samples
    (/dev/zero: constant data, zero min-entropy)."""
    refused = cli_runner.invoke(app, ["qrng", "assess", "/dev/zero", "--bits-per-symbol", "8"])
    assert isinstance(refused.exception, Qit4nError)
    assert str(refused.exception) == "FILE = '/dev/zero': a device may never end; give a sample limit (--max-samples)"
    zero = _json(cli_runner, ["assess", "/dev/zero", "--bits-per-symbol", "8", "--max-samples", "5000"])
    assert zero["samples"] == 5000 and zero["non_iid"]["h_initial"] == 0.0
