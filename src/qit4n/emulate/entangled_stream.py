"""Streaming BBM92: both receivers' click records in chunks of whole blocks.

:func:`qit4n.emulate.entangled_pairs.emulate_bbm92` already draws only the slots where a photon
is detected or a dark count fires (geometric gaps), and its slots are independent (no dead time),
so a stream is that emulation run block by block: block ``b`` of ``block_pulses`` slots draws
from its own generator ``SeedSequence(entropy, spawn_key=(b,))``, and a chunk is a whole number of
blocks. The records are therefore the same whatever chunk size the consumer asks for, and a chunk
holds only its own clicks.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from qit4n.emulate.decoy_stream import BLOCK_PULSES
from qit4n.emulate.entangled_pairs import DetectionRecords, EntangledLinkSettings, EntangledRecords, emulate_bbm92
from qit4n.errors import ParameterError
from qit4n.randomness import RandomnessSource
from qit4n.workload import ProgressCallback

__all__ = ["EntangledStream"]


class EntangledStream:
    """The records of ``num_slots`` BBM92 slots, drawn block by block (module docstring).

    ``choices`` (a QRNG) supplies the bases and double-click bits, block after block; the stream
    can then be read once only (the source moves on). ``on_progress(slots_drawn, num_slots)`` is
    called after each chunk is drawn.

    >>> settings = EntangledLinkSettings(eta_alice=0.1, eta_bob=0.1, mean_pair_number=0.1)
    >>> stream = EntangledStream(settings, 1_000_000, entropy=1, block_pulses=300_000)
    >>> [chunk.num_slots for chunk in stream.chunks(500_000)]
    [600000, 400000]
    """

    def __init__(
        self,
        settings: EntangledLinkSettings,
        num_slots: int,
        *,
        entropy: int,
        block_pulses: int = BLOCK_PULSES,
        choices: RandomnessSource | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        if num_slots < 1:
            raise ParameterError(f"pulses = {num_slots}: must be >= 1")
        if block_pulses < 1:
            raise ParameterError(f"block_pulses = {block_pulses}: must be >= 1")
        self.settings = settings
        self.num_slots = int(num_slots)
        self.entropy = int(entropy)
        self.block_pulses = int(block_pulses)
        self.choices = choices
        self.on_progress = on_progress

    def chunks(self, chunk_slots: int | None = None) -> Iterator[EntangledRecords]:
        """Chunks of at least ``chunk_slots`` slots (whole blocks; default one block); slot indices
        count from the start of the stream."""
        per_chunk = max(1, -(-(chunk_slots or self.block_pulses) // self.block_pulses))
        num_blocks = -(-self.num_slots // self.block_pulses)
        for first_block in range(0, num_blocks, per_chunk):
            blocks = [self._block(block) for block in range(first_block, min(first_block + per_chunk, num_blocks))]
            if self.on_progress is not None:
                self.on_progress(min((first_block + per_chunk) * self.block_pulses, self.num_slots), self.num_slots)
            yield _concatenate(blocks)

    def _block(self, block: int) -> EntangledRecords:
        rng = np.random.default_rng(np.random.SeedSequence(self.entropy, spawn_key=(block,)))
        first = block * self.block_pulses
        size = min(self.block_pulses, self.num_slots - first)
        records = emulate_bbm92(self.settings, size, rng, choices=self.choices)
        return EntangledRecords(_shifted(records.alice, first), _shifted(records.bob, first), size)


def _shifted(records: DetectionRecords, first: int) -> DetectionRecords:
    return DetectionRecords(records.slots + first, records.bases, records.bits, records.double_clicks)


def _concatenate(blocks: list[EntangledRecords]) -> EntangledRecords:
    if len(blocks) == 1:
        return blocks[0]

    def party(name: str) -> DetectionRecords:
        parts = [getattr(block, name) for block in blocks]
        return DetectionRecords(
            *(
                np.concatenate([getattr(part, field) for part in parts])
                for field in ("slots", "bases", "bits", "double_clicks")
            )
        )

    return EntangledRecords(party("alice"), party("bob"), sum(block.num_slots for block in blocks))
