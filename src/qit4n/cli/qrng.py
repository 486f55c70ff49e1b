"""``qit4n qrng``: emulate QRNG devices, assess entropy (SP 800-90B), extract, and monitor health."""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table as RichTable

from qit4n.cli.options import parse_settings
from qit4n.cli.render import tracked
from qit4n.errors import InputError, ParameterError

__all__ = ["open_randomness", "parse_fault", "register"]

qrng_app = typer.Typer(
    help="Quantum random number generation: device emulation, SP 800-90B assessment, extraction, health tests.",
    no_args_is_help=True,
)

_MODELS = ("homodyne", "phase-noise", "beam-splitter")
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]
BitsOption = Annotated[int, typer.Option("--bits-per-symbol", help="bits per sample, 1-8 (one sample per byte)")]
SeedOption = Annotated[int, typer.Option("--seed", help="seed of the random generator")]
MaxSamplesOption = Annotated[
    float | None,
    typer.Option("--max-samples", help="read at most this many samples (needed for a device such as /dev/urandom)"),
]


def _source(model: str, settings: list[str] | None) -> Any:
    from qit4n.qrng import BeamSplitterSource, HomodyneSource, PhaseNoiseSource

    classes = {"homodyne": HomodyneSource, "phase-noise": PhaseNoiseSource, "beam-splitter": BeamSplitterSource}
    if model not in classes:
        raise ParameterError(f"--model = {model!r}: must be one of {', '.join(_MODELS)}")
    cls = classes[model]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for name, value in parse_settings("--set", settings or []).items():
        if name not in fields:
            raise ParameterError(f"--set {name}: unknown parameter of {model}; known: {', '.join(fields)}")
        default = fields[name].default
        if isinstance(default, tuple):
            values[name] = (float(value), float(value)) if isinstance(value, float) else _pair(name, str(value))
        elif isinstance(value, str):
            raise ParameterError(f"--set {name}={value}: must be a number")
        else:
            values[name] = int(value) if isinstance(default, int) else value
    source = cls(**values)
    bits = source.bits_per_sample
    if not 1 <= bits <= 8:
        raise ParameterError(f"--set adc_bits = {bits}: must be in [1, 8] (one sample per byte)")
    return source


def _pair(name: str, text: str) -> tuple[float, float]:
    try:
        first, second = (float(part) for part in text.split("/"))
    except ValueError:
        raise ParameterError(f"--set {name}={text}: must be a number or two numbers A/B") from None
    return first, second


def parse_fault(text: str) -> Any:
    """``KIND@START[:VALUE[:BIT]]`` (:func:`qit4n.qrng.source.parse_fault`)."""
    from qit4n.qrng.source import parse_fault as parse

    return parse(text)


def open_randomness(option: str, text: str | None, seed: int) -> Any:
    """The source of ``--randomness`` (:func:`qit4n.qrng.source.open_source`), ``None`` when omitted;
    an emulated device's stream is seeded from ``seed``.

    >>> open_randomness("--randomness", "qrng:homodyne", 0).name
    'qrng:homodyne'
    """
    from qit4n.qrng.source import open_source

    return None if text is None else open_source(text, option=option, seed=seed)


def _positive(option: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise ParameterError(f"{option} = {value}: must be a finite number > 0")


#: Most samples one command emulates: 1e10 one-byte samples are a 10 GB file and minutes of work.
MAX_EMULATED_SAMPLES = 10**10


def _sample_count(option: str, value: float) -> int:
    """``value`` as a number of samples in [1, MAX_EMULATED_SAMPLES]; ParameterError otherwise."""
    _positive(option, value)
    if value > MAX_EMULATED_SAMPLES:
        raise ParameterError(f"{option} = {value:g}: must be at most {MAX_EMULATED_SAMPLES:.0e} samples")
    return max(1, int(value))


def _emit(payload: dict[str, Any], as_json: bool, title: str, rows: list[tuple[str, Any]]) -> None:
    if as_json:
        typer.echo(json.dumps(payload, indent=2, default=float))
        return
    table = RichTable(title=title)
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for name, value in rows:
        table.add_row(name, f"{value:.6g}" if isinstance(value, float) else str(value))
    Console().print(table)


@qrng_app.command("simulate")
def simulate(
    out: Annotated[Path, typer.Option("--out", help="file for the raw samples (one per byte)")],
    model: Annotated[str, typer.Option("--model", help="homodyne | phase-noise | beam-splitter")] = "homodyne",
    samples: Annotated[float, typer.Option("--samples", help="number of raw samples, e.g. 1e6")] = 1e6,
    rate_sps: Annotated[float, typer.Option("--rate-sps", help="sample rate of the device, samples/s")] = 1e9,
    fault: Annotated[
        list[str] | None, typer.Option("--fault", help="KIND@START[:VALUE[:BIT]] failure (repeatable)")
    ] = None,
    drift: Annotated[float, typer.Option("--drift", help="classical offset drift, ADC half-ranges per sample")] = 0.0,
    settings: Annotated[list[str] | None, typer.Option("--set", help="NAME=VALUE model parameter (repeatable)")] = None,
    seed: SeedOption = 0,
    as_json: JsonOption = False,
) -> None:
    """Emulate a device and write its raw samples."""
    from qit4n.qrng import emulate, write_samples

    count = _sample_count("--samples", samples)
    _positive("--rate-sps", rate_sps)
    if not math.isfinite(drift):
        raise ParameterError(f"--drift = {drift}: must be finite")
    source = _source(model, settings)
    faults = [parse_fault(text) for text in fault or []]
    with tracked(
        f"emulating {count:,} {model} samples", quiet=as_json, budget_option=f"--samples = {count:g}"
    ) as shown:
        chunks = emulate(source, count, np.random.default_rng(seed), faults=faults, drift_per_sample=drift)
        written = write_samples(out, _counted(chunks, shown, count))
    payload = {
        "model": model,
        "parameters": dataclasses.asdict(source),
        "bits_per_sample": source.bits_per_sample,
        "min_entropy_per_sample": source.min_entropy_per_sample(),
        "samples": written,
        "duration_s": written / rate_sps,
        "raw_rate_bps": rate_sps * source.bits_per_sample,
        "min_entropy_rate_bps": rate_sps * source.min_entropy_per_sample(),
        "faults": [
            {"kind": f.kind.value, "start_sample": f.start_sample, "value": f.value, "bit": f.bit} for f in faults
        ],
        "out": str(out),
    }
    rows = [(k, v) for k, v in payload.items() if k not in ("parameters", "faults")]
    _emit(payload, as_json, f"{model} QRNG emulation", rows)


def _read(file: Path, bits_per_symbol: int, max_samples: float | None) -> np.ndarray:
    """Samples of FILE: a file, a pipe or FIFO (``/dev/stdin``) read to its end, or a device."""
    from qit4n.qrng import read_samples

    if not 1 <= bits_per_symbol <= 8:
        raise ParameterError(f"--bits-per-symbol = {bits_per_symbol}: must be in [1, 8]")
    limit = None if max_samples is None else _sample_count("--max-samples", max_samples)
    if limit is not None and limit < 2:
        raise ParameterError(f"--max-samples = {max_samples:g}: must be >= 2")
    return read_samples(file, bits_per_symbol, max_samples=limit)


def _stream_samples(file: Path, bits_per_symbol: int, max_samples: float | None, chunk: int) -> Iterator[np.ndarray]:
    """Samples of FILE in chunks of ``chunk`` as they are read (a pipe is monitored while it flows)."""
    from qit4n.qrng.streams import iter_chunks

    limit = None if max_samples is None else _sample_count("--max-samples", max_samples)
    mask = np.uint8((1 << bits_per_symbol) - 1)
    pieces = iter_chunks(file, "FILE", limit, chunk_bytes=chunk)
    return (np.frombuffer(piece, dtype=np.uint8) & mask for piece in pieces)


def _counted(
    chunks: Iterable[np.ndarray], on_progress: Callable[[float, float], None], total: int | None
) -> Iterator[np.ndarray]:
    """``chunks`` passed on, with ``on_progress(samples so far, total)`` after each (``total`` None: unknown)."""
    seen = 0
    for chunk in chunks:
        yield chunk
        seen += chunk.size
        on_progress(seen, total if total is not None else seen)


def _file_samples(file: Path, max_samples: float | None) -> int | None:
    """How many samples FILE will give, when it is a regular file (None for a pipe or a device)."""
    try:
        size = file.stat().st_size if file.is_file() else None
    except OSError:
        return None
    if size is None:
        return None
    return size if max_samples is None else min(size, int(max_samples))


@qrng_app.command("assess")
def assess(
    file: Annotated[Path, typer.Argument(help="raw samples, one per byte (the low bits are the sample)")],
    bits_per_symbol: BitsOption,
    track: Annotated[str, typer.Option("--track", help="non-iid | iid | both")] = "non-iid",
    truncate: Annotated[
        bool, typer.Option("--truncate", help="use only the first 1,000,000 bits of the bitstring (reference -t)")
    ] = False,
    seed: SeedOption = 0,
    max_samples: MaxSamplesOption = None,
    as_json: JsonOption = False,
) -> None:
    """NIST SP 800-90B entropy assessment of a sample file, pipe (/dev/stdin) or device."""
    from qit4n.qrng import assess_iid, assess_non_iid

    if track not in ("non-iid", "iid", "both"):
        raise ParameterError(f"--track = {track!r}: must be non-iid, iid or both")
    data = _read(file, bits_per_symbol, max_samples)
    payload: dict[str, Any] = {"file": str(file), "samples": int(data.size)}
    rows: list[tuple[str, Any]] = [("samples", int(data.size))]
    if data.size < 1_000_000:
        payload["warning"] = "fewer than 1,000,000 samples (SP 800-90B section 3.1.1)"
    started = time.perf_counter()
    if track in ("non-iid", "both"):
        with tracked(f"non-IID estimators on {data.size:,} samples", quiet=as_json) as shown:
            result = assess_non_iid(
                data, bits_per_symbol, bitstring_bits=1_000_000 if truncate else None, on_progress=shown
            )
        payload["non_iid"] = result.as_dict()
        rows += [(f"{e.name}", e.min_entropy) for e in result.original]
        rows += [(f"bitstring {e.name}", e.min_entropy) for e in result.bitstring]
        rows += [("H_original", result.h_original), ("H_initial (non-IID)", result.h_initial)]
    if track in ("iid", "both"):
        with tracked(f"IID permutation tests on {data.size:,} samples: shuffles", quiet=as_json) as shown:
            iid = assess_iid(data, bits_per_symbol, np.random.default_rng(seed), on_progress=shown)
        payload["iid"] = iid.as_dict()
        rows += [("IID tests passed", iid.iid), ("H (IID track)", iid.min_entropy)]
    payload["seconds"] = time.perf_counter() - started
    _emit(payload, as_json, f"SP 800-90B assessment of {file}", rows)


@qrng_app.command("extract")
def extract(
    file: Annotated[Path, typer.Argument(help="raw samples, one per byte")],
    bits_per_symbol: BitsOption,
    out: Annotated[Path, typer.Option("--out", help="file for the extracted bits (packed bytes)")],
    min_entropy: Annotated[
        float | None, typer.Option("--min-entropy", help="bits per sample (default: the non-IID assessment)")
    ] = None,
    epsilon: Annotated[float, typer.Option("--epsilon", help="security parameter (statistical distance)")] = 2.0**-100,
    block_bits: Annotated[float, typer.Option("--block-bits", help="raw bits per Toeplitz block")] = 1e6,
    seed: SeedOption = 0,
    max_samples: MaxSamplesOption = None,
    as_json: JsonOption = False,
) -> None:
    """Toeplitz-extract nearly uniform bits (leftover hash lemma output length)."""
    from qit4n.qrng import ToeplitzExtractor, assess_non_iid, leftover_hash_output_bits, samples_to_packed_bits

    data = _read(file, bits_per_symbol, max_samples)
    if min_entropy is None:
        with tracked(f"assessing {data.size:,} samples (non-IID estimators)", quiet=as_json) as shown:
            min_entropy = assess_non_iid(data, bits_per_symbol, on_progress=shown).h_initial
    if not 0.0 < min_entropy <= bits_per_symbol:
        raise ParameterError(f"--min-entropy = {min_entropy}: must be in (0, {bits_per_symbol}] bits per sample")
    block = int(block_bits)
    if block < 64 or block % 8 or block > 1 << 30:
        raise ParameterError(f"--block-bits = {block_bits:g}: must be a multiple of 8 in [64, 2^30]")
    packed = samples_to_packed_bits(data, bits_per_symbol)
    if packed.size * 8 < block:
        raise InputError(f"FILE = {str(file)!r}: {packed.size * 8} raw bits, fewer than --block-bits = {block}")
    output_bits = leftover_hash_output_bits(block, min_entropy / bits_per_symbol, epsilon)
    if output_bits == 0:
        raise ParameterError(
            f"--block-bits = {block}: too short to extract anything"
            f" at --min-entropy {min_entropy:g}, --epsilon {epsilon:g}"
        )
    extractor = ToeplitzExtractor.from_generator(block, output_bits, np.random.default_rng(seed))
    started = time.perf_counter()
    with tracked(f"Toeplitz extraction, {block:,}-bit blocks", quiet=as_json) as shown:
        blocks = packed.size * 8 // block
        outputs = []
        for output in extractor.stream([packed]):
            outputs.append(output)
            shown(len(outputs), blocks)
    seconds = time.perf_counter() - started
    try:
        out.write_bytes(b"".join(chunk.tobytes() for chunk in outputs))
    except OSError as error:
        raise InputError(f"--out = {str(out)!r}: cannot write ({error.strerror or error})") from None
    raw_bits = len(outputs) * block
    payload = {
        "file": str(file),
        "min_entropy_per_sample": min_entropy,
        "epsilon": epsilon,
        "block_bits": block,
        "output_bits_per_block": output_bits,
        "blocks": len(outputs),
        "raw_bits": raw_bits,
        "extracted_bits": len(outputs) * output_bits,
        "extraction_ratio": output_bits / block,
        "seconds": seconds,
        "raw_throughput_bps": raw_bits / seconds if seconds > 0 else None,
        "extracted_throughput_bps": len(outputs) * output_bits / seconds if seconds > 0 else None,
        "out": str(out),
    }
    _emit(payload, as_json, f"Toeplitz extraction of {file}", list(payload.items()))


@qrng_app.command("monitor")
def monitor(
    file: Annotated[Path | None, typer.Argument(help="raw samples, one per byte (default: emulate --model)")] = None,
    bits_per_symbol: Annotated[
        int | None, typer.Option("--bits-per-symbol", help="bits per sample of FILE, 1-8")
    ] = None,
    min_entropy: Annotated[
        float | None, typer.Option("--min-entropy", help="assessed bits per sample (default: the model's)")
    ] = None,
    alpha: Annotated[float, typer.Option("--alpha", help="false-positive probability per test")] = 2.0**-20,
    chunk_samples: Annotated[float, typer.Option("--chunk-samples", help="samples per chunk")] = 65536,
    model: Annotated[str, typer.Option("--model", help="homodyne | phase-noise | beam-splitter")] = "homodyne",
    samples: Annotated[float, typer.Option("--samples", help="samples to emulate without FILE")] = 1e6,
    fault: Annotated[
        list[str] | None, typer.Option("--fault", help="KIND@START[:VALUE[:BIT]] failure (repeatable)")
    ] = None,
    settings: Annotated[list[str] | None, typer.Option("--set", help="NAME=VALUE model parameter (repeatable)")] = None,
    seed: SeedOption = 0,
    max_samples: MaxSamplesOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run the SP 800-90B health tests online over a file, a pipe or an emulated stream; exit status 1
    when a test raised an alarm (the report is printed first), so that scripts can stop drawing."""
    from qit4n.qrng import HealthMonitor, emulate

    chunk = _sample_count("--chunk-samples", chunk_samples)
    if max_samples is not None:
        _sample_count("--max-samples", max_samples)  # checked even where no FILE is read
    if file is not None:
        if bits_per_symbol is None:
            raise ParameterError("--bits-per-symbol: required with FILE (1-8)")
        if not 1 <= bits_per_symbol <= 8:
            raise ParameterError(f"--bits-per-symbol = {bits_per_symbol}: must be in [1, 8]")
        if min_entropy is None:
            raise ParameterError("--min-entropy: required with FILE (bits per sample, from qit4n qrng assess)")
        chunks: Any = _stream_samples(file, bits_per_symbol, max_samples, chunk)
        bits = bits_per_symbol
        origin = str(file)
    else:
        count = _sample_count("--samples", samples)
        source = _source(model, settings)
        faults = [parse_fault(text) for text in fault or []]
        bits = source.bits_per_sample
        min_entropy = source.min_entropy_per_sample() if min_entropy is None else min_entropy
        chunks = emulate(source, count, np.random.default_rng(seed), chunk_samples=chunk, faults=faults)
        origin = f"emulated {model}"
    health = HealthMonitor(entropy_bits=min_entropy, bits_per_sample=bits, alpha=alpha)
    total = _file_samples(file, max_samples) if file is not None else count
    limit = f"--samples = {count:g}" if file is None else None
    with tracked(f"health tests on {origin}: samples", quiet=as_json, budget_option=limit) as shown:
        for piece in _counted(chunks, shown, total):
            health.feed(piece)
    payload = {
        "source": origin,
        "samples": health.samples_seen,
        "min_entropy_per_sample": min_entropy,
        "alpha": alpha,
        "repetition_count_cutoff": health.rct_cutoff,
        "adaptive_proportion_cutoff": health.apt_cutoff,
        "adaptive_proportion_window": health.window,
        "healthy": health.healthy,
        "alarms": len(health.alarms),
        "first_alarm": str(health.alarms[0]) if health.alarms else None,
        "alarm_list": [dataclasses.asdict(a) for a in health.alarms[:100]],
    }
    _emit(payload, as_json, f"health tests on {origin}", [(k, v) for k, v in payload.items() if k != "alarm_list"])
    if not health.healthy:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``qit4n qrng ...``."""
    app.add_typer(qrng_app, name="qrng")
