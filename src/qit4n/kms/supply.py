"""Key supply of the QKD links: identical key units with identical IDs at both ends of a link.

A link's key is a stream of *units* (``unit_bits`` each) numbered 0, 1, 2, ...; the unit's index on
its link is its ID, the same at both KMEs. :class:`KeySupply` is the interface, with two
implementations. :class:`SeededLinkSupply` (the default, ``--supply modelled``) models the link:
the units are the ChaCha20 keystream under a 256-bit secret drawn from ``os.urandom`` and shared by
the two ends, so both ends produce the same units without talking to each other.
:class:`LinkFiller` releases its units into a KME's pool at the link's key rate, up to the pool
capacity, and never releases an index twice. ``--supply emulated`` serves key distilled by the
emulator and post-processing stack instead (:mod:`qit4n.kms.emulated_supply`).

Each way of supplying link key is a :class:`SupplyKind` registered in :data:`KEY_SUPPLIES` (the
launcher's ``--supply`` choices): it plans a link when the network is planned, and opens the link's
supply and pool filler when a KME starts.

References
----------
ITU-T Y.3803 (2020), key management for QKD networks (key supply from the QKD module).
D. J. Bernstein, ChaCha, a variant of Salsa20 (2008); RFC 8439.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from qit4n.kms.storage import KeyStorage
from qit4n.registry import Registry

if TYPE_CHECKING:
    from qit4n.kms.config import LinkConfig
    from qit4n.scenario import Scenario

__all__ = [
    "KEY_SUPPLIES",
    "MODELLED",
    "KeySupply",
    "LinkFiller",
    "LinkSupplyPlan",
    "ModelledSupply",
    "PoolFiller",
    "SeededLinkSupply",
    "SupplyKind",
    "new_link_secret",
]

_CHACHA_BLOCK_BYTES = 64
_COUNTER_SPAN = 1 << 32


def new_link_secret() -> str:
    """A fresh 256-bit link secret (hex) from the operating system's CSPRNG."""
    return os.urandom(32).hex()


class KeySupply(Protocol):
    """A source of key units that yields the same units at both ends of one link."""

    unit_bytes: int

    def units(self, start: int, count: int) -> list[bytes]:
        """Units ``start .. start+count-1`` (each ``unit_bytes`` long)."""
        ...

    def distilled_units(self) -> int | None:
        """Units a key source (real or emulated) has distilled so far; None for modelled key."""
        ...


class PoolFiller(Protocol):
    """Releases one link's units into a KME's store as the link produces them."""

    link_id: str

    def tick(self, store: KeyStorage, elapsed_s: float) -> int:
        """Add the units due after ``elapsed_s`` seconds; returns how many (side effect: writes ``store``)."""
        ...


@dataclass(frozen=True)
class LinkSupplyPlan:
    """What a :class:`SupplyKind` planned for one link: the files of its ends and its producer, if any."""

    key_files: tuple[Path, Path] | None = None
    committed_file: Path | None = None
    producer: Path | None = None


class SupplyKind(Protocol):
    """A way of supplying link key (a member of :data:`KEY_SUPPLIES`)."""

    def check_options(self, *, pulses_per_block: int) -> None:
        """Raise :class:`~qit4n.errors.ParameterError` for an option value this supply cannot use."""
        ...

    def plan_link(
        self, scenario: Scenario, index: int, *, state_dir: Path, secret_hex: str, pulses_per_block: int
    ) -> LinkSupplyPlan:
        """Plan ``scenario.links[index]`` (files under ``state_dir``); :class:`~qit4n.errors.ParameterError`
        when this supply cannot serve the link (the launcher then models it)."""
        ...

    def open_link(self, link: LinkConfig, *, unit_bytes: int) -> tuple[KeySupply, PoolFiller]:
        """The supply and pool filler of one link at one KME."""
        ...


class SeededLinkSupply:
    """Modelled QKD key: unit ``n`` is bytes ``[n*u, (n+1)*u)`` of the ChaCha20 keystream.

    >>> a = SeededLinkSupply("11" * 32, unit_bytes=32)
    >>> b = SeededLinkSupply("11" * 32, unit_bytes=32)
    >>> a.units(5, 3) == b.units(5, 3) and a.units(6, 1)[0] == b.units(5, 3)[1]
    True
    """

    def __init__(self, secret_hex: str, *, unit_bytes: int) -> None:
        self._secret = bytes.fromhex(secret_hex)
        self.unit_bytes = unit_bytes

    def _keystream(self, offset: int, length: int) -> bytes:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

        out = bytearray()
        while length > 0:
            block = offset // _CHACHA_BLOCK_BYTES
            skip = offset % _CHACHA_BLOCK_BYTES
            room = (_COUNTER_SPAN - block % _COUNTER_SPAN) * _CHACHA_BLOCK_BYTES - skip
            take = min(length, room)
            nonce = (block % _COUNTER_SPAN).to_bytes(4, "little") + (block // _COUNTER_SPAN).to_bytes(12, "little")
            encryptor = Cipher(algorithms.ChaCha20(self._secret, nonce), mode=None).encryptor()
            out += encryptor.update(bytes(skip + take))[skip:]
            offset += take
            length -= take
        return bytes(out)

    def units(self, start: int, count: int) -> list[bytes]:
        """Units ``start .. start+count-1``."""
        size = self.unit_bytes
        stream = self._keystream(start * size, count * size)
        return [stream[i * size : (i + 1) * size] for i in range(count)]

    def distilled_units(self) -> None:
        """Modelled key is not distilled: None."""
        return None


class LinkFiller:
    """Releases a link's units into one KME's store at ``key_rate_bps``, up to the pool capacity.

    Parameters
    ----------
    link_id : str
    supply : KeySupply
    key_rate_bps : float
        Secret key rate of the link (bit/s).
    capacity_bits : float
        Pool capacity at this end (bits); the link drops key while the pool is full.
    """

    def __init__(self, link_id: str, supply: KeySupply, *, key_rate_bps: float, capacity_bits: float) -> None:
        self.link_id = link_id
        self.supply = supply
        self.key_rate_bps = key_rate_bps
        self.capacity_units = int(capacity_bits // (8 * supply.unit_bytes))
        self._credit_units = 0.0

    def tick(self, store: KeyStorage, elapsed_s: float) -> int:
        """Add the units due after ``elapsed_s`` seconds of key generation; returns how many.

        Side effect: records the units in ``store``.
        """
        self._credit_units += elapsed_s * self.key_rate_bps / (8 * self.supply.unit_bytes)
        due = int(self._credit_units)
        if due <= 0:
            return 0
        self._credit_units -= due
        room = self.capacity_units - store.unit_count(link_id=self.link_id)
        count = min(due, max(room, 0))
        if count > 0:
            store.supply_units(link_id=self.link_id, count=count)
        return count


class ModelledSupply:
    """``--supply modelled``: the ChaCha20 key of :class:`SeededLinkSupply` at the link's modelled rate."""

    def check_options(self, *, pulses_per_block: int) -> None:
        """Every option value is fine (modelled key has no blocks)."""

    def plan_link(
        self, scenario: Scenario, index: int, *, state_dir: Path, secret_hex: str, pulses_per_block: int
    ) -> LinkSupplyPlan:
        """Nothing to plan: both ends derive the units from the link secret."""
        return LinkSupplyPlan()

    def open_link(self, link: LinkConfig, *, unit_bytes: int) -> tuple[KeySupply, PoolFiller]:
        """The seeded supply of ``link`` and a filler at its key rate."""
        supply = SeededLinkSupply(link.secret_hex, unit_bytes=unit_bytes)
        filler = LinkFiller(link.link_id, supply, key_rate_bps=link.key_rate_bps, capacity_bits=link.pool_capacity_bits)
        return supply, filler


#: The modelled supply (the default ``--supply``).
MODELLED = ModelledSupply()

#: Ways of supplying link key, by ``--supply`` name; a new one registers here.
KEY_SUPPLIES: Registry[SupplyKind] = Registry("supply", entry_point_group="qit4n.key_supplies")
KEY_SUPPLIES.register("modelled", MODELLED)
KEY_SUPPLIES.register_lazy("emulated", "qit4n.kms.emulated_supply:EMULATED")
