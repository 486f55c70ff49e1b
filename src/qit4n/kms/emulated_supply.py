"""Emulated key supply: link pools filled with key distilled by the emulator and post-processing stack.

For each QKD link a *producer* (``python -m qit4n.kms.emulated_supply PRODUCER.json``, started by
the launcher) emulates blocks of pulses (:func:`qit4n.emulate.run.run_link`) and distils each
block with :mod:`qit4n.postprocess`, Alice and Bob running as separate parties over the public
channel. A block whose verification or authentication fails yields no key (the pipeline aborts
it) and is discarded. Of every other block, Alice's final key is appended to the key file of
the link's first end and Bob's to the second end's, so both files hold the same bytes in the same
order; then the *committed* length is advanced (a small JSON file replaced atomically, after both
key files are on disk). A KME serves unit ``n`` of a link (bytes ``[n*u, (n+1)*u)`` of its end's
file) only below the committed length (:class:`DistilledLinkSupply`), and
:class:`DistilledLinkFiller` releases units into its pool as they are committed, up to the pool
capacity: pool levels follow the distilled rate and never exceed what was distilled. Key beyond
the capacity waits in the file. After a crash the producer truncates both files to the committed
length and goes on with the next block, so committed bytes never change.

The producer is paced to the link's repetition rate (never faster than the physical link), and
block ``b`` is emulated with a seed derived from the link secret and ``b``.

The link's physical condition (``qit4n network fault``, :mod:`qit4n.qkdn.faults`) reaches the
producer through ``condition.json`` next to the committed file (:func:`write_link_condition`), read
before every block: while the link is cut no block is emulated, and at a ``rate_factor`` below 1
(a "degraded" link, e.g. Raman noise from a classical channel that leaves the QBER under the abort
threshold) each block keeps only that share of its final key, the first ``floor(rate_factor *
length)`` bytes at both ends, as a privacy amplification to the lower secret fraction would; the
pools then fill at ``rate_factor`` of the distilled rate, as the modelled supply's do.

References
----------
ITU-T Y.3803 (2020), key management for QKD networks (key supply from the QKD module).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field

from qit4n.errors import ParameterError, ServiceError
from qit4n.kms.atrest import private_dir, write_private
from qit4n.kms.config import LinkConfig
from qit4n.kms.storage import KeyStorage, UnitMismatchError
from qit4n.kms.supply import KeySupply, LinkSupplyPlan, PoolFiller
from qit4n.schema import StrictModel

if TYPE_CHECKING:
    from qit4n.scenario import Link, Scenario

__all__ = [
    "EMULATED",
    "DistilledLinkFiller",
    "DistilledLinkSupply",
    "EmulatedSupply",
    "ProducerConfig",
    "block_seed",
    "committed_state",
    "condition_file",
    "main",
    "produce",
    "producer_config",
    "read_link_condition",
    "write_link_condition",
]


#: How often a producer of a cut link looks at its condition again, in seconds.
_CUT_POLL_S = 0.1


class ProducerConfig(StrictModel):
    """One link's producer: the emulated link, the block size and the key files of both ends."""

    link_id: str = Field(min_length=1)
    link: dict[str, Any] = Field(description="the scenario's link (qit4n.scenario.Link fields)")
    secret_hex: str = Field(pattern=r"^[0-9a-f]{64}$", description="seeds the emulation of each block")
    pulses_per_block: int = Field(30_000_000, ge=10_000, le=10**10)
    key_files: tuple[Path, Path] = Field(description="key file of the link's first and second end")
    committed_file: Path
    reconciler: str = "cascade"


def committed_state(path: Path) -> dict[str, int]:
    """``{"bytes", "blocks", "discarded"}`` committed so far (zeros before the first block)."""
    try:
        state: dict[str, int] = json.loads(path.read_text())
        return state
    except FileNotFoundError:
        return {"bytes": 0, "blocks": 0, "discarded": 0}


class DistilledLinkSupply:
    """Units of one end's key file, only below the committed length (a :class:`KeySupply`).

    Parameters
    ----------
    key_file, committed_file : Path
    unit_bytes : int
    """

    def __init__(self, key_file: Path, committed_file: Path, *, unit_bytes: int) -> None:
        self.key_file = key_file
        self.committed_file = committed_file
        self.unit_bytes = unit_bytes

    def available_units(self) -> int:
        """Units distilled and committed at both ends so far."""
        return committed_state(self.committed_file)["bytes"] // self.unit_bytes

    def distilled_units(self) -> int:
        """Units distilled so far: :meth:`available_units`."""
        return self.available_units()

    def units(self, start: int, count: int) -> list[bytes]:
        """Units ``start .. start+count-1``; raises :class:`UnitMismatchError` beyond the committed key."""
        available = self.available_units()
        if start < 0 or start + count > available:
            raise UnitMismatchError(
                f"{self.key_file.name}: units {start}..{start + count - 1} not distilled yet ({available} available)"
            )
        size = self.unit_bytes
        with open(self.key_file, "rb") as handle:
            handle.seek(start * size)
            data = handle.read(count * size)
        return [data[i * size : (i + 1) * size] for i in range(count)]


class DistilledLinkFiller:
    """Releases committed units of a link into one KME's store, up to the pool capacity."""

    def __init__(self, link_id: str, supply: DistilledLinkSupply, *, capacity_bits: float) -> None:
        self.link_id = link_id
        self.supply = supply
        self.capacity_units = int(capacity_bits // (8 * supply.unit_bytes))

    def tick(self, store: KeyStorage, elapsed_s: float) -> int:
        """Add the units committed since the last call (as room allows); returns how many."""
        pooled = store.unit_count(link_id=self.link_id)
        supplied = pooled + store.spent_units(link_id=self.link_id)
        count = min(self.supply.available_units() - supplied, self.capacity_units - pooled)
        if count > 0:
            store.supply_units(link_id=self.link_id, count=count)
        return max(count, 0)


class EmulatedSupply:
    """``--supply emulated``: one producer per link distils key; the KMEs serve the committed key."""

    def check_options(self, *, pulses_per_block: int) -> None:
        """``pulses_per_block`` must lie in [1e4, 1e10]."""
        if not 10_000 <= pulses_per_block <= 10**10:
            raise ParameterError(f"pulses_per_block = {pulses_per_block}: must be in [1e4, 1e10]")

    def plan_link(
        self, scenario: Scenario, index: int, *, state_dir: Path, secret_hex: str, pulses_per_block: int
    ) -> LinkSupplyPlan:
        """Write the link's producer (``producers/link-I.json``, keys in ``keys/link-I/``)."""
        producer = producer_config(
            scenario, index, state_dir / "keys" / f"link-{index}", secret_hex, pulses_per_block=pulses_per_block
        )
        path = state_dir / "producers" / f"link-{index}.json"
        private_dir(path.parent)
        private_dir(state_dir / "keys")
        write_private(path, producer.model_dump_json(indent=1))
        return LinkSupplyPlan(key_files=producer.key_files, committed_file=producer.committed_file, producer=path)

    def open_link(self, link: LinkConfig, *, unit_bytes: int) -> tuple[KeySupply, PoolFiller]:
        """The distilled supply of this end's key file and a filler that follows the committed key."""
        if link.key_file is None or link.committed_file is None:
            raise ParameterError(f"links[{link.link_id}].key_file = None: the emulated supply needs the key files")
        supply = DistilledLinkSupply(link.key_file, link.committed_file, unit_bytes=unit_bytes)
        return supply, DistilledLinkFiller(link.link_id, supply, capacity_bits=link.pool_capacity_bits)


#: The emulated supply (registered as ``emulated`` in :data:`qit4n.kms.supply.KEY_SUPPLIES`).
EMULATED = EmulatedSupply()


def producer_config(
    scenario: Scenario, index: int, key_dir: Path, secret_hex: str, *, pulses_per_block: int
) -> ProducerConfig:
    """The producer of ``scenario.links[index]``, its files under ``key_dir``; checks the link can be emulated."""
    from qit4n.emulate import EMULATORS
    from qit4n.scenario.model import ChannelKind

    link = scenario.links[index]
    if link.protocol not in EMULATORS:
        raise ParameterError(
            f"links[{index}].protocol = {link.protocol!r}: --supply emulated plays {', '.join(EMULATORS.names())}"
        )
    if link.channel is not ChannelKind.FIBRE or link.length_km is None:
        raise ParameterError(
            f"links[{index}].length_km = {link.length_km}: --supply emulated needs a fibre link with length_km"
        )
    return ProducerConfig(
        link_id=scenario.link_id(index),
        link=link.model_dump(mode="json"),
        secret_hex=secret_hex,
        pulses_per_block=pulses_per_block,
        key_files=(key_dir / "end0.key", key_dir / "end1.key"),
        committed_file=key_dir / "committed.json",
    )


def condition_file(committed_file: Path) -> Path:
    """Where a link's condition is kept for its producer (next to its committed file)."""
    return committed_file.with_name("condition.json")


def write_link_condition(committed_file: Path, *, cut: bool, rate_factor: float) -> None:
    """Tell the link's producer its condition (module docstring); ``rate_factor`` must lie in [0, 1]."""
    if not 0.0 <= rate_factor <= 1.0:
        raise ParameterError(f"rate_factor = {rate_factor}: must be in [0, 1]")
    private_dir(committed_file.parent)
    write_private(condition_file(committed_file), json.dumps({"cut": cut, "rate_factor": rate_factor}))


def read_link_condition(committed_file: Path) -> tuple[bool, float]:
    """(cut, rate factor) of the link; (False, 1.0) when no condition was ever written."""
    try:
        condition = json.loads(condition_file(committed_file).read_text())
    except FileNotFoundError:
        return False, 1.0
    return bool(condition["cut"]), float(condition["rate_factor"])


def _bytes_of(bits: np.ndarray) -> bytes:
    """Whole bytes of a bit array (little bit order); the last ``size % 8`` bits are dropped."""
    return np.packbits(bits[: bits.size // 8 * 8], bitorder="little").tobytes()


def block_seed(secret_hex: str, block: int) -> int:
    """Seed of the emulation of block ``block``: derived from the link secret."""
    return int(np.random.SeedSequence(int(secret_hex, 16), spawn_key=(block,)).generate_state(1, np.uint64)[0])


def _write_committed(path: Path, state: dict[str, int]) -> None:
    temporary = path.with_suffix(".tmp")
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        json.dump(state, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


@contextlib.contextmanager
def _sole_producer(config: ProducerConfig) -> Iterator[None]:
    """Hold the link's lock file for the block; a second producer of the same link is refused."""
    private_dir(config.committed_file.parent)
    lock_path = config.committed_file.with_suffix(".lock")
    with os.fdopen(os.open(lock_path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ServiceError(f"link {config.link_id}: another producer is running") from None
        yield


def _recover(config: ProducerConfig) -> dict[str, int]:
    """Cut both key files back to the committed length (drops an append torn by a crash)."""
    state = committed_state(config.committed_file)
    for path in config.key_files:
        path.touch(mode=0o600, exist_ok=True)
        with open(path, "ab") as handle:
            if handle.seek(0, os.SEEK_END) < state["bytes"]:
                raise ServiceError(f"{path}: shorter than the {state['bytes']} committed bytes (key file lost?)")
            handle.truncate(state["bytes"])
    return state


def _distil_block(config: ProducerConfig, link: Link, block: int) -> tuple[bytes, bytes, bool, float]:
    """(Alice's key, Bob's key, kept, repetition rate) of one emulated and distilled block.

    A block is kept when the pipeline authenticated it with no failed verification frame and the
    two final keys are equal (the emulation holds both parties, so it checks that too).
    """
    from qit4n.emulate.run import run_link

    if link.length_km is None:
        raise ParameterError(f"link {config.link_id}: length_km = None: the emulated supply needs a fibre length")
    run = run_link(
        link.protocol,
        link.length_km,
        config.pulses_per_block,
        preset=link.preset,
        overrides=link.device,
        reconciler=config.reconciler,
        seed=block_seed(config.secret_hex, block),
        classical_channels=link.classical_channels,
        receiver=link.receiver,
    )
    result = run.distilled.result
    alice, bob = _bytes_of(result.alice_key), _bytes_of(result.bob_key)
    kept = result.authenticated and not result.reconciliation.frame_errors and alice == bob
    return alice, bob, kept, run.settings.repetition_rate_hz


def produce(config: ProducerConfig, *, blocks: int | None = None, pace: bool = True) -> dict[str, int]:
    """Emulate and distil blocks (``blocks`` of them, or until interrupted); returns the committed state.

    Side effects: appends to the two key files and advances the committed file (module docstring).
    """
    from qit4n.scenario.model import Link

    link = Link.model_validate(config.link)
    with _sole_producer(config):
        state = _recover(config)
        started = time.monotonic()
        done = 0
        while blocks is None or done < blocks:
            cut, rate_factor = read_link_condition(config.committed_file)
            if cut or rate_factor <= 0.0:
                time.sleep(_CUT_POLL_S)  # no photons, no block
                started += _CUT_POLL_S
                continue
            alice, bob, kept, repetition_rate_hz = _distil_block(config, link, state["blocks"])
            if rate_factor < 1.0:
                share = int(len(alice) * rate_factor)
                alice, bob = alice[:share], bob[:share]
            if kept and alice:
                for path, key in zip(config.key_files, (alice, bob)):
                    with open(path, "ab") as handle:
                        handle.write(key)
                        handle.flush()
                        os.fsync(handle.fileno())
            state = {
                "bytes": state["bytes"] + (len(alice) if kept else 0),
                "blocks": state["blocks"] + 1,
                "discarded": state["discarded"] + (0 if kept else 1),
            }
            _write_committed(config.committed_file, state)
            done += 1
            if pace:
                time.sleep(max(0.0, started + done * config.pulses_per_block / repetition_rate_hz - time.monotonic()))
        return state


def main(argv: list[str] | None = None) -> None:
    """Entry point of a producer process: ``python -m qit4n.kms.emulated_supply PRODUCER.json``."""
    args = sys.argv[1:] if argv is None else argv
    config = ProducerConfig.model_validate_json(Path(args[0]).read_text())
    with contextlib.suppress(KeyboardInterrupt):
        produce(config)


if __name__ == "__main__":
    main()
