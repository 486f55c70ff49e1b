"""No user input ends in a traceback: ``qit4n.cli.main`` maps every expected failure to ``error: what: why``.

A property-based test draws commands and options from pools of awkward values (NaN, infinities,
negative seeds, huge sizes, empty strings, and paths of every kind: a folder, a file under a regular
file, a read-only folder, ``/proc`` files, a binary file) and asserts: no traceback, no ``internal
error``, exit status in {0, 1, 2}, and a bounded time. The named cases below are the ones issue 14
found, each with the exit status and message it must give.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qit4n.cli import failure_message, main

#: Seconds one example may run.
TIME_LIMIT_S = 20


class _TooSlow(BaseException):
    """The alarm's signal that a command ran past :data:`TIME_LIMIT_S` (a ``BaseException``: main must not map it)."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise _TooSlow


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, float]:
    """Run ``qit4n argv`` in this process; its exit status, its stdout and stderr together, and seconds taken."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIME_LIMIT_S)
    start = time.perf_counter()
    status: int | str | None = 0
    try:
        main(argv)
    except SystemExit as done:
        status = done.code
    except _TooSlow:
        status = "timeout"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    captured = capsys.readouterr()
    code = status if isinstance(status, int) else (0 if status is None else -1)
    return code, captured.out + captured.err, time.perf_counter() - start


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Awkward paths: a folder, a file under a regular file, a read-only folder, /proc files, a binary file."""
    root = tmp_path_factory.mktemp("paths")
    regular = root / "regular.txt"
    regular.write_text("not a scenario\n")
    binary = root / "binary.yaml"
    binary.write_bytes(bytes(range(256)) * 8)
    read_only = root / "read-only"
    read_only.mkdir()
    read_only.chmod(stat.S_IRUSR | stat.S_IXUSR)
    scratch = root / "scratch"
    scratch.mkdir()
    yield {
        "folder": str(root),
        "under-a-file": str(regular / "x.png"),
        "read-only": str(read_only / "x.png"),
        "read-only-folder": str(read_only),
        "proc": "/proc/self/status",
        "proc-folder": "/proc/self",
        "binary": str(binary),
        "regular": str(regular),
        "missing": str(root / "missing" / "deeper.json"),
        "empty": "",
        "scratch": str(scratch),
    }
    read_only.chmod(stat.S_IRWXU)


def _values(paths: dict[str, str]) -> st.SearchStrategy[str]:
    return st.sampled_from(_NUMBERS + [path for key, path in paths.items() if key != "scratch"])


_NUMBERS = [
    "nan",
    "inf",
    "-inf",
    "-1",
    "0",
    "1",
    "0.5",
    "1e300",
    "-5",
    "x",
    "",
    "1e12",
    "3",
    "1000000000",
    "1e9s",
    "64",
]


#: Each command with a base command line that runs quickly, and the options the test varies.
COMMANDS: dict[str, tuple[list[str], list[str]]] = {
    "rate": (["rate", "bb84-decoy", "--distance-km", "0,50"], ["--distance-km", "--pulses", "--preset", "--plot"]),
    "rate-compare": (["rate", "--compare", "bb84-decoy,plob", "--distance-km", "10"], ["--set", "--plot"]),
    "sweep": (["sweep", "plob", "--distance-km", "10"], ["--distance-km", "--vary", "--preset", "--workers"]),
    "plan": (["plan", "secoqc-vienna-2008"], ["--cost-per-km", "--cost-per-link", "--out", "--failure-set"]),
    "simulate": (["simulate", "secoqc-vienna-2008", "--duration", "1h"], ["--seed", "--period", "--duration", "--out"]),
    "scenario-show": (["scenario", "show"], ["SCENARIO", "--plot"]),
    "plan-file": (["plan"], ["SCENARIO"]),
    "postprocess": (["postprocess", "--qber", "0.02", "--bits", "20000"], ["--qber", "--bits", "--seed"]),
    "scenario-show-plot": (["scenario", "show", "secoqc-vienna-2008"], ["--plot"]),
    "emulate": (["emulate", "bb84-decoy", "--pulses", "1e5"], ["--distance-km", "--pulses", "--seed"]),
    "qin-chain": (["qin", "chain", "--link-success-probability", "0.5", "--samples", "100"], ["--segments", "--seed"]),
    "qin-chain-physical": (["qin", "chain", "--length-km", "100", "--samples", "100"], ["--segments", "--samples"]),
    "qin-chain-des": (["qin", "chain", "--engine", "des", "--length-km", "100", "--duration", "1s"], ["--duration"]),
    "qin-run": (["qin", "run", "qin-metro-2qc", "--duration", "10ms"], ["--duration", "--seed"]),
    "threat-timeline": (["threat", "timeline"], ["--from", "--to", "--plot"]),
    "threat-catalog": (["threat", "catalog"], ["--export", "--diff"]),
    "qrng-simulate": (["qrng", "simulate", "--samples", "1000"], ["--out", "--seed", "--samples", "--rate-sps"]),
    "qrng-assess": (["qrng", "assess"], ["FILE", "--bits-per-symbol"]),
    "validate": (["validate", "--json"], ["--out"]),
}


def _argv(base: list[str], options: list[tuple[str, str]]) -> list[str]:
    argv = list(base)
    for option, value in options:
        argv += [value] if option.isupper() else [option, value]
    return argv


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_input_ends_in_a_traceback(
    data: st.DataObject, paths: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(paths["scratch"])  # outputs named like "nan" or "-1" land in a scratch folder
    name = data.draw(st.sampled_from(sorted(COMMANDS)), label="command")
    base, varied = COMMANDS[name]
    chosen = data.draw(st.lists(st.sampled_from(varied), min_size=1, max_size=2, unique=True), label="options")
    options = [(option, data.draw(_values(paths), label=option)) for option in chosen]
    argv = _argv(base, options)
    code, output, seconds = run_cli(argv, capsys)
    assert "Traceback" not in output, (argv, output)
    assert "internal error" not in output, (argv, output)
    assert code in (0, 1, 2), (argv, code, output)
    assert seconds < TIME_LIMIT_S, (argv, seconds)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["rate", "bb84-decoy", "--distance-km", "0:1e12:1"], "asks for 1e+12 points; at most 100,000"),
        (["rate", "bb84-decoy", "--distance-km", "1e308"], "distances must be in [0, 100000] km"),
        (["rate", "bb84-decoy", "--pulses", "nan"], "nan: must be a finite number"),
        (["rate", "bb84-decoy", "--preset", ""], "--preset ''"),
        (["rate", "bb84-decoy", "--plot", "figure.unknown"], "must end in .png"),
        (["qrng", "simulate", "--out", "x.bin", "--seed", "-3"], "a seed must be >= 0"),
        (["qrng", "simulate", "--out", "x.bin", "--samples", "1e300"], "must be at most 1e+10 samples"),
        (["qrng", "monitor", "--samples", "1e12"], "must be at most 1e+10 samples"),
        (["plan", "secoqc-vienna-2008", "--cost-per-km", "inf"], "inf: must be a finite number"),
        (["threat", "timeline", "--to", "99999999"], "--to = 99999999: must be a year in"),
        (["threat", "timeline", "--from", "-5"], "--from = -5: must be a year in"),
        (["threat", "assess", "inventory.yaml", "--year", "nan"], "nan: must be a finite number"),
        (["simulate", "secoqc-vienna-2008", "--period", "1ps"], "requests per demand"),
        (["simulate", "secoqc-vienna-2008", "--duration", "1ps"], "no request is made"),
        (["simulate", "secoqc-vienna-2008", "--duration", "1h", "--fail", "link:BREI-STP@48h"], "not before the end"),
        (["qin", "run", "qin-metro-2qc", "--set", "eta_detector.x=1"], "eta_detector is a single value"),
        (["sweep", "nosuch"], "PROTOCOL = 'nosuch'"),
        (["sweep", "plob", "--vary", "nosuch=1,2"], "nosuch"),
        (["sweep", "plob", "--preset", "nosuch"], "preset = 'nosuch'"),
        (["sweep", "plob", "--distance-km", "-5"], "distances must be in"),
        (["sweep", "plob", "--scheduler", "garbage"], "must look like tcp://HOST:PORT"),
        (["scenario", "show", "/bin/sh"], "not UTF-8 text"),
        (["qin", "chain", "--segments", "100000", "--length-km", "1000"], "samples x segments = 100000 x 100000"),
        (["qin", "chain", "--segments", "1000", "--length-km", "1000", "--samples", "100000"], "at most 3e+07"),
        (["qin", "chain", "--segments", "1000000", "--length-km", "1000"], "segments = 1e+06: must be <= 100000"),
        (["postprocess", "--qber", "0.02", "--bits", "100000000000000"], "must be in [1000, 1e+08]"),
        (["simulate", "secoqc-vienna-2008", "--duration", "1e9s"], "duration_s = 1e+09: must be <= 1e+08"),
        (["simulate", "secoqc-vienna-2008", "--duration", "1e8s", "--period", "20s"], "at most 5e+06 events"),
        (["qin", "run", "qin-metro-2qc", "--duration", "1e9s"], "at most 5e+06 events, so at most about"),
        (["qin", "chain", "--engine", "des", "--length-km", "100", "--duration", "1e9s"], "at most 5e+06 events"),
        (["qin", "chain", "--engine", "des", "--segments", "1024", "--length-km", "1000"], "at most 5e+06 events"),
        (["sweep", "plob", "--workers", "0"], "workers = 0: must be >= 1"),
        (["rate", "bb84-decoy", "--compare", ""], "--compare '': name protocols"),
        (["plan", "secoqc-vienna-2008", "--cost-per-km", "-1"], "--cost-per-km = -1: must be >= 0"),
        (["plan", "secoqc-vienna-2008", "--cost-per-link", "-1"], "--cost-per-link = -1: must be >= 0"),
        (["plan", "secoqc-vienna-2008", "--no-survivability", "--failure-set", "link:@"], "--no-survivability skips"),
        (["plan", "secoqc-vienna-2008", "--no-survivability", "--scheduler", "tcp://1.2.3.4:1"], "skips"),
        (["plan", "secoqc-vienna-2008", "--out", ""], "an empty path"),
        (["simulate", "secoqc-vienna-2008", "--out", ""], "an empty path"),
        (["qrng", "simulate", "--out", ""], "an empty path"),
    ],
)
def test_issue_cases_are_usage_errors_with_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output, _ = run_cli(argv, capsys)
    assert code == 2, output
    assert output.startswith("error: ") or "Invalid value" in output, output
    assert message in output and "Traceback" not in output


def test_output_paths_that_cannot_be_written_are_usage_errors(
    paths: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    keys = ["under-a-file", "proc-folder"] + ([] if os.geteuid() == 0 else ["read-only"])  # root writes anywhere
    for key in keys:
        code, output, _ = run_cli(["rate", "plob", "--distance-km", "10", "--plot", paths[key] + ".png"], capsys)
        assert code == 2 and output.startswith("error: ") and "Traceback" not in output, (key, output)


def test_an_unreachable_dask_scheduler_is_a_runtime_error(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("distributed")
    code, output, _ = run_cli(["sweep", "plob", "--distance-km", "10", "--scheduler", "tcp://127.0.0.1:9"], capsys)
    assert code in (1, 2) and output.strip().startswith("error: ") and "Traceback" not in output, output


def test_a_server_that_is_not_a_dask_scheduler_is_refused_in_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    """Dask's client waits without limit on a server that accepts and stays silent (an HTTP server, say)."""
    pytest.importorskip("distributed")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        code, output, seconds = run_cli(["sweep", "plob", "--distance-km", "10", "--scheduler", address], capsys)
    assert code == 2 and "no answer as a Dask scheduler within 5 s" in output and "Traceback" not in output, output
    assert seconds < 15


def test_deep_nesting_duplicate_keys_and_huge_numbers_in_a_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = {
        "deep.json": "[" * 100_000 + "]" * 100_000,
        "deep.yaml": "a: " + "[" * 5000 + "]" * 5000,
        "twice.yaml": "name: x\nnodes: []\nlinks: []\nlinks: []\ndemands: []\n",
        "twice.json": '{"name": "x", "links": [], "links": []}',
        "huge.yaml": "name: x\nnodes: []\nlinks: []\ndemands: []\nextra: 1" + "0" * 400 + "\n",
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        code, output, _ = run_cli(["plan", str(tmp_path / name)], capsys)
        assert code == 2 and output.startswith("error: ") and "Traceback" not in output, (name, output)


def _raised(action: Callable[[], object]) -> BaseException:
    try:
        action()
    except Exception as error:  # noqa: BLE001 (any exception is the result)
        return error
    raise AssertionError("expected an exception")


def test_runtime_failures_map_to_exit_1_and_path_failures_to_exit_2(tmp_path: Path) -> None:
    httpx = pytest.importorskip("httpx")
    refused = _raised(lambda: httpx.get("http://127.0.0.1:9/api", timeout=2))  # nothing listens on port 9
    message, code = failure_message(refused) or ("", 0)
    assert code == 1 and message.startswith("network: http://127.0.0.1:9/api: ")
    assert failure_message(MemoryError()) == ("out of memory: MemoryError; ask for less", 1)
    folder = _raised(lambda: tmp_path.read_text())
    assert failure_message(folder) == (f"{tmp_path}: Is a directory", 2)
    binary = _raised(lambda: bytes([0xFF, 0xFE, 0xFA]).decode("utf-8"))
    assert (failure_message(binary) or ("", 0))[1] == 2
    assert failure_message(RuntimeError("a bug")) is None


def test_workers_beyond_the_cores_are_capped_with_a_note(capsys: pytest.CaptureFixture[str]) -> None:
    from qit4n.sweep.runner import local_workers, usable_cores

    code, output, _ = run_cli(["sweep", "plob", "--distance-km", "10,20", "--workers", "64"], capsys)
    assert code == 0 and f"note: --workers 64 is more than the {usable_cores()} usable cores" in output, output
    assert local_workers(64, 1000) == usable_cores() and local_workers(64, 1) == 1 and local_workers(None, 3) >= 1


def test_control_characters_in_scenario_text_are_refused_and_never_printed_raw(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Escape codes (ESC, CSI, BEL), bidi overrides and line breaks in ids, names and keys: a problem each, escaped."""
    scenario = tmp_path / "escape.yaml"
    scenario.write_text(
        'name: "x\\e[2J"\n'
        'description: "two\\nlines are fine\\u009b31m"\n'
        "nodes: [{id: A}, {id: B}]\n"
        "links:\n"
        '  - {id: "L\\e[31mred\\u202e", endpoints: [A, B], length_km: 10}\n'
        '  - {endpoints: [A, B], length_km: 10, device: {"k\\a": 1}}\n'
        '  - {id: "two\\nlines", endpoints: [A, B], length_km: 10}\n'
        'demands: [{endpoints: [A, B], key_rate_bps: 1, name: "tab\\there"}]\n'
    )
    for command in (["plan"], ["simulate"], ["scenario", "show"]):
        code, output, _ = run_cli([*command, str(scenario)], capsys)
        assert code == 2 and output.startswith("error: ") and "6 problem(s)" in output, output
        assert not any(character in output for character in "\x1b\x07\x9b\u202e\t"), repr(output)
        for problem in (
            "name = 'x\\x1b[2J'",
            "description = 'two\\nlines are fine\\x9b31m'",
            "links[0].id = 'L\\x1b[31mred\\u202e'",
            "links[1].device.k\\x07: a key with control characters",
            "links[2].id = 'two\\nlines'",
            "demands[0].name = 'tab\\there'",
        ):
            assert problem in output, (problem, output)


def test_control_characters_in_a_command_line_value_are_escaped_in_the_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, output, _ = run_cli(["rate", "bb\x1b[31m84"], capsys)
    assert code == 2 and "protocol = 'bb\\x1b[31m84'" in output and "\x1b" not in output, repr(output)
