"""QRNG-fed randomness sources: an emulated device behind online health tests and an extractor, or a file.

:class:`QrngSource` is the whole chain of a QRNG as one :class:`~qit4n.randomness.RandomnessSource`:
raw samples of an emulated device (:func:`qit4n.qrng.emulate`, faults included) pass the SP 800-90B
health tests online (:class:`~qit4n.qrng.HealthMonitor`, cutoffs from the device's min-entropy),
then blocks of them are hashed by a seeded Toeplitz extractor to the leftover-hash length for
``epsilon``. A block in which a test raises an alarm is discarded whole and the source stops:
every later draw raises :class:`~qit4n.errors.RandomnessError` naming the source and the test.

:class:`FileSource` reads bytes that are already uniform (a vendor QRNG's output file, device
node or pipe) and runs the same two tests on them, with the claimed entropy of 8 bits per byte.

The false-positive probability of the tests defaults to ``2^-40`` per sample (the low end that
SP 800-90B section 4.4 allows), because a consumer draws tens of millions of samples and the
standard's ``2^-20`` would stop a healthy source about once per million samples.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np

from qit4n.errors import ParameterError, RandomnessError
from qit4n.qrng.emulation import (
    BeamSplitterSource,
    Fault,
    FaultKind,
    HomodyneSource,
    PhaseNoiseSource,
    Source,
    emulate,
)
from qit4n.qrng.extraction import ToeplitzExtractor, leftover_hash_output_bits, samples_to_packed_bits
from qit4n.qrng.health import Alarm, HealthMonitor
from qit4n.qrng.streams import PathKind, path_kind
from qit4n.randomness import HealthState

__all__ = ["DEVICE_MODELS", "FEED_ALPHA", "FileSource", "QrngSource", "open_source", "parse_fault"]

#: False-positive probability per sample of the health tests of a feeding source.
FEED_ALPHA = 2.0**-40

#: Device models by the name a ``qrng:MODEL`` specification uses.
DEVICE_MODELS: dict[str, type[HomodyneSource] | type[PhaseNoiseSource] | type[BeamSplitterSource]] = {
    "homodyne": HomodyneSource,
    "phase-noise": PhaseNoiseSource,
    "beam-splitter": BeamSplitterSource,
}


def _alarm_error(name: str, alarm: Alarm) -> RandomnessError:
    detail = f"failed at raw sample {alarm.sample_index} (count {alarm.count} >= cutoff {alarm.cutoff})"
    return RandomnessError(name, f"{alarm.test} test", detail)


class _HealthTestedSource:
    """Delivery and health state shared by the sources: bytes come from ``_refill`` (which appends
    to the buffer or raises), and the first failure stops the source for good."""

    _name: str
    monitor: HealthMonitor

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._delivered = 0
        self._failure: RandomnessError | None = None

    @property
    def name(self) -> str:
        return self._name

    def _refill(self, missing_bytes: int) -> None:
        raise NotImplementedError

    def _fail(self, failure: RandomnessError) -> RandomnessError:
        self._failure = failure
        self._buffer.clear()
        return failure

    def random_bytes(self, num_bytes: int) -> bytes:
        if num_bytes < 0:
            raise ParameterError(f"num_bytes = {num_bytes}: must be >= 0")
        if self._failure is not None:
            raise self._failure
        while len(self._buffer) < num_bytes:
            self._refill(num_bytes - len(self._buffer))
        out = bytes(self._buffer[:num_bytes])
        del self._buffer[:num_bytes]
        self._delivered += num_bytes
        return out

    def health(self) -> HealthState:
        failure = self._failure
        return HealthState(
            source=self._name,
            healthy=failure is None,
            bytes_delivered=self._delivered,
            failed_test=None if failure is None else failure.test,
            detail=None if failure is None else str(failure),
            raw_samples_tested=self.monitor.samples_seen,
        )


class QrngSource(_HealthTestedSource):
    """An emulated QRNG device, health-tested online and Toeplitz-extracted (see the module docstring).

    ``seed`` seeds both the device's noise and the extractor's seed (the extractor seed is public and
    fixed for the device's life, as in a deployed QRNG). ``block_samples`` raw samples make one
    extractor block.

    >>> source = QrngSource(HomodyneSource(), seed=1, block_samples=1 << 14)
    >>> len(source.random_bytes(1000)), source.health().healthy
    (1000, True)
    """

    def __init__(
        self,
        device: Source,
        *,
        name: str | None = None,
        seed: int | np.random.SeedSequence | None = None,
        faults: Sequence[Fault] = (),
        alpha: float = FEED_ALPHA,
        epsilon: float = 2.0**-100,
        block_samples: int = 1 << 18,
    ) -> None:
        if block_samples < 1024:
            raise ParameterError(f"block_samples = {block_samples}: must be >= 1024")
        super().__init__()
        self.device = device
        self._name = name or f"qrng:{type(device).__name__}"
        bits = device.bits_per_sample
        entropy = float(device.min_entropy_per_sample())
        if not entropy > 0.0:
            raise ParameterError(
                f"{self._name}: the device's min-entropy is {entropy:g} bits per sample; nothing to extract"
            )
        self.min_entropy_per_sample = entropy
        self.monitor = HealthMonitor(entropy_bits=min(entropy, float(bits)), bits_per_sample=bits, alpha=alpha)
        input_bits = block_samples * bits
        output_bits = leftover_hash_output_bits(input_bits, entropy / bits, epsilon)
        if output_bits < 8:
            raise ParameterError(f"block_samples = {block_samples}: too few for epsilon = {epsilon:g}; raise it")
        generator = np.random.default_rng(seed)
        self.extractor = ToeplitzExtractor.from_generator(input_bits, output_bits - output_bits % 8, generator)
        self._chunks: Iterator[np.ndarray] = emulate(
            device, 1 << 62, generator, chunk_samples=block_samples, faults=faults
        )

    def _refill(self, missing_bytes: int) -> None:
        chunk = next(self._chunks)
        alarms = self.monitor.feed(chunk)
        if alarms:
            raise self._fail(_alarm_error(self._name, alarms[0]))
        packed = samples_to_packed_bits(chunk, self.device.bits_per_sample)
        self._buffer += self.extractor.extract(packed).tobytes()


class FileSource(_HealthTestedSource):
    """Uniform bytes read in order from a file, a pipe or FIFO (``/dev/stdin``) or a device node,
    health-tested as 8-bit samples of full entropy; running out is an error too (``exhausted``).

    A regular file is reopened at its offset for each read; a stream or device is opened once, at
    the first draw (opening a FIFO waits for its writer), and read in order until its end.
    :meth:`close` releases that handle.
    """

    def __init__(
        self, path: Path | str, *, alpha: float = FEED_ALPHA, chunk_bytes: int = 1 << 20, option: str = "randomness"
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self._name = f"file:{self.path}"
        self._stream: BinaryIO | None = None
        self._kind = path_kind(self.path, option, shown=self._name)
        self._offset = 0
        self.monitor = HealthMonitor(entropy_bits=8.0, bits_per_sample=8, alpha=alpha, bit_planes=False)
        self._chunk_bytes = chunk_bytes

    def _read(self, num_bytes: int) -> bytes:
        try:
            if self._kind is PathKind.REGULAR:
                with self.path.open("rb") as handle:
                    handle.seek(self._offset)
                    return handle.read(num_bytes)
            if self._stream is None:
                self._stream = self.path.open("rb")
            return self._stream.read(num_bytes)
        except OSError as error:
            detail = f"cannot read ({error.strerror or error})"
            raise self._fail(RandomnessError(self._name, "unreadable", detail)) from None

    def _refill(self, missing_bytes: int) -> None:
        data = self._read(max(self._chunk_bytes, missing_bytes))
        self._offset += len(data)
        if not data:
            self.close()
            read = self.monitor.samples_seen
            raise self._fail(
                RandomnessError(self._name, "exhausted", f"after {read} bytes ({missing_bytes} more wanted)")
            )
        alarms = self.monitor.feed(np.frombuffer(data, dtype=np.uint8))
        if alarms:
            self.close()
            raise self._fail(_alarm_error(self._name, alarms[0]))
        self._buffer += data

    def close(self) -> None:
        """Release the stream's handle (a regular file holds none); later draws of a stream then fail."""
        if self._stream is not None:
            self._stream.close()

    def __del__(self) -> None:
        self.close()


def parse_fault(text: str, option: str = "--fault") -> Fault:
    """``KIND@START[:VALUE[:BIT]]``, e.g. ``stuck-bit@1e5:1:0`` or ``signal-loss@200000``.

    >>> parse_fault("bias@1e5:0.5")
    Fault(kind=<FaultKind.BIAS: 'bias'>, start_sample=100000, value=0.5, bit=0)
    """
    kinds = ", ".join(kind.value for kind in FaultKind)
    usage = f"{option} = {text!r}: must look like KIND@START[:VALUE[:BIT]] with KIND one of {kinds}"
    kind_text, separator, rest = text.partition("@")
    if not separator:
        raise ParameterError(usage)
    try:
        kind = FaultKind(kind_text)
        parts = rest.split(":")
        start = float(parts[0])
        value = float(parts[1]) if len(parts) > 1 else 0.0
        bit = int(parts[2]) if len(parts) > 2 else 0
    except ValueError:
        raise ParameterError(usage) from None
    if len(parts) > 3 or start < 0 or not math.isfinite(start):
        raise ParameterError(usage)
    return Fault(kind, int(start), value, bit)


#: Seed-sequence key that separates an emulated QRNG's stream from its user's own generator.
_QRNG_STREAM = 0x51524E47


def open_source(text: str, *, option: str = "randomness", seed: int | None = None) -> QrngSource | FileSource:
    """A source from its specification: ``qrng:MODEL[,FAULT...]`` (an emulated device of
    :data:`DEVICE_MODELS` with faults as :func:`parse_fault` reads them; its stream seeded from
    ``seed``, or fresh OS entropy when ``None``) or ``file:PATH``. ``option`` names the setting in
    error messages.

    >>> open_source("qrng:homodyne,stuck-value@1e6:7", seed=0).name
    'qrng:homodyne'
    """
    usage = (
        f"{option} = {text!r}: must be qrng:MODEL[,FAULT...] with MODEL one of {', '.join(DEVICE_MODELS)} "
        "and FAULT as KIND@START[:VALUE[:BIT]], or file:PATH"
    )
    kind, separator, rest = text.partition(":")
    if not separator or not rest:
        raise ParameterError(usage)
    if kind == "file":
        return FileSource(rest, option=option)
    if kind != "qrng":
        raise ParameterError(usage)
    model, *fault_texts = rest.split(",")
    if model not in DEVICE_MODELS:
        raise ParameterError(usage)
    faults = [parse_fault(fault, f"{option} fault") for fault in fault_texts]
    stream = np.random.SeedSequence(None if seed is None else [seed, _QRNG_STREAM])
    return QrngSource(DEVICE_MODELS[model](), name=f"qrng:{model}", seed=stream, faults=faults)
