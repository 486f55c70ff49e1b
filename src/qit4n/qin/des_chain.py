"""Event-driven repeater chain on the shared discrete-event kernel (:class:`qit4n.des.Kernel`).

Messages and actions are events: an attempt starts at a node pair (memory qubits initialised,
photons emitted), the midpoint station detects (success drawn from the link model), the herald
reaches both nodes one attempt time after the start (by default runs of failed attempts are
skipped by drawing their number, see :class:`ChainSimulation`), a repeater Bell-measures two stored qubits as
soon as its policy allows, and a failed swap or an expired pair (cutoff) sends its segments back to
attempting at the next attempt boundary. Deliveries run one after another: when the end nodes share
a pair the round ends and every segment starts again. Time is an integer number of picoseconds and
all randomness comes from one seeded generator, so a run is deterministic for a seed.

Without a cutoff this is the model of :mod:`qit4n.qin.montecarlo`, and the two agree in
distribution (tested); the event engine additionally handles cutoffs, swap-asap with
probabilistic swaps, and records memory occupancy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from qit4n.des import PS_PER_S, Kernel
from qit4n.errors import ParameterError
from qit4n.qin.bell import correlations, from_correlations
from qit4n.qin.chain import SPEED_OF_LIGHT_FIBRE_KM_PER_S, ChainParameters, LinkModel, link_model
from qit4n.qin.density_pairs import DensityPair, DensityRules
from qit4n.qin.memory import decay_rates_per_s
from qit4n.qin.montecarlo import SwapPolicy
from qit4n.qin.purify import dejmps
from qit4n.qin.waiting import doubling_levels
from qit4n.workload import ProgressCallback, run_within_budget

__all__ = ["ChainRun", "ChainSimulation", "simulate_chain_des"]

#: Noise-free correlations ``(x, y, z)`` of a Bell-diagonal pair.
_Correlations = tuple[float, float, float]


def _as_correlations(values: Iterable[float]) -> _Correlations:
    x, y, z = (float(v) for v in values)
    return (x, y, z)


class _Pair:
    """A pair between nodes ``left`` < ``right``: end-qubit start times, storage so far and its state.

    ``state`` is the noise-free correlation triple (Bell-diagonal formalism; memory noise follows
    from ``stored_ps``) or a :class:`~qit4n.qin.density_pairs.DensityPair`.
    """

    __slots__ = ("alive", "left", "left_start_ps", "notice_ps", "right", "right_start_ps", "state", "stored_ps")

    def __init__(
        self,
        left: int,
        right: int,
        left_start_ps: int,
        right_start_ps: int,
        stored_ps: int,
        state: _Correlations | DensityPair,
        notice_ps: int = 0,
    ) -> None:
        self.left = left
        self.right = right
        self.left_start_ps = left_start_ps
        self.right_start_ps = right_start_ps
        self.stored_ps = stored_ps
        self.state = state
        self.notice_ps = notice_ps
        self.alive = True


@dataclass
class ChainRun:
    """What an event-driven run delivered."""

    waiting_time_s: np.ndarray
    fidelity: np.ndarray
    simulated_s: float
    events: int
    memory_qubit_seconds: float
    link: LinkModel | list[LinkModel]
    discarded_pairs: int = 0
    failed_swaps: int = 0

    def summary(self) -> dict[str, float]:
        """Delivered pairs, rate over the simulated time, fidelity and waiting-time statistics."""
        count = int(self.waiting_time_s.size)
        return {
            "delivered_pairs": count,
            "rate_pairs_per_s": count / self.simulated_s,
            "fidelity_mean": float(self.fidelity.mean()) if count else float("nan"),
            "waiting_time_mean_s": float(self.waiting_time_s.mean()) if count else float("nan"),
            "waiting_time_p99_s": float(np.quantile(self.waiting_time_s, 0.99)) if count else float("nan"),
            "mean_memories_in_use": self.memory_qubit_seconds / self.simulated_s,
            "discarded_pairs": self.discarded_pairs,
            "failed_swaps": self.failed_swaps,
            "events": self.events,
        }


@dataclass
class ChainSimulation:
    """One repeater chain driven by a kernel; call :meth:`start` then ``kernel.run``.

    ``segment_lengths_km`` makes the chain heterogeneous (one length per segment; the hardware is
    ``params``' for all). With ``every_attempt`` each attempt is simulated as messages (emission,
    midpoint detection, herald); otherwise the number of failed attempts before a success is drawn
    from its geometric distribution and only the successful attempt's messages are scheduled,
    which is the same process in distribution with far fewer events. With ``notify_end_nodes``
    each swap sends its outcome to both end nodes over the fibre (classical message delay); a
    delivery counts, and the end qubits stop waiting, when the last outcome has arrived.
    ``formalism="density-matrix"`` carries each pair as a 4x4 density matrix (exact T1 amplitude
    damping, literal swap circuit) instead of Bell-diagonal correlations; the random draws are the
    same, so both formalisms see the same events for a seed. ``on_delivery(simulation)``, when
    given, is called after each delivery instead of starting the next round at once (the network
    layer uses it to share memories). ``pumping_rounds`` purifies each elementary pair that many
    times with fresh pairs of its segment (DEJMPS entanglement pumping, a second memory per
    segment end, memory noise up to the moment of each purification) before it may be swapped;
    Bell-diagonal formalism only.
    """

    params: ChainParameters
    kernel: Kernel
    rng: np.random.Generator
    cutoff_s: float | None = None
    segment_lengths_km: list[float] | None = None
    every_attempt: bool = False
    notify_end_nodes: bool = False
    formalism: Literal["bell-diagonal", "density-matrix"] = "bell-diagonal"
    pumping_rounds: int = 0
    on_delivery: Callable[[ChainSimulation], None] | None = None
    models: list[LinkModel] = field(init=False)

    def __post_init__(self) -> None:
        if self.params.policy is SwapPolicy.DOUBLING:
            doubling_levels(self.params.segments)
        if self.cutoff_s is not None and self.cutoff_s <= 0:
            raise ParameterError(f"cutoff_s = {self.cutoff_s:g}: must be > 0")
        count = self.params.segments
        lengths = self.segment_lengths_km or [self.params.length_km / count] * count
        if len(lengths) != count:
            raise ParameterError(f"segment_lengths_km has {len(lengths)} entries: must have segments = {count}")
        self.models = [
            link_model(self.params.model_copy(update={"segments": 1, "length_km": length})) for length in lengths
        ]
        self.attempt_ps = [max(1, round(model.attempt_time_s * PS_PER_S)) for model in self.models]
        self.to_midpoint_ps = [round(length / 2.0 / SPEED_OF_LIGHT_FIBRE_KM_PER_S * PS_PER_S) for length in lengths]
        positions_km = np.concatenate([[0.0], np.cumsum(lengths)])
        self.notice_delay_ps = [
            round(max(position, positions_km[-1] - position) / SPEED_OF_LIGHT_FIBRE_KM_PER_S * PS_PER_S)
            for position in positions_km
        ]
        self.link_correlations = [_as_correlations(correlations(model.heralded.state)) for model in self.models]
        self.swap_factor = _as_correlations(self.models[0].swap_correlation_factor)
        self.density_rules: DensityRules | None = None
        if self.formalism == "density-matrix":
            self.density_rules = DensityRules(
                self.params.memory, self.params.swap_gate_depolarising, self.params.swap_measurement_error
            )
        elif self.formalism != "bell-diagonal":
            raise ParameterError(f"formalism = {self.formalism!r}: must be one of bell-diagonal, density-matrix")
        self.density_fidelities: list[float] = []
        if self.pumping_rounds < 0 or (self.pumping_rounds and self.density_rules is not None):
            raise ParameterError(
                f"pumping_rounds = {self.pumping_rounds}: must be >= 0, and 0 with the density-matrix formalism"
            )
        self.pumped: list[_Pair | None] = [None] * self.params.segments
        self.pumped_rounds = [0] * self.params.segments
        self.decay_rates_per_ps = decay_rates_per_s(self.params.memory) / PS_PER_S
        self.cutoff_ps = None if self.cutoff_s is None else round(self.cutoff_s * PS_PER_S)
        self.left_pair: list[_Pair | None] = [None] * (count + 1)
        self.right_pair: list[_Pair | None] = [None] * (count + 1)
        self.round_start_ps = 0
        self.waits_ps: list[int] = []
        self.stores_ps: list[int] = []
        self.delivered_correlations: list[_Correlations] = []
        self.discarded = 0
        self.failed_swaps = 0
        self.qubits_in_memory = 0
        self.occupancy_since_ps = 0
        self.qubit_ps = 0
        self.generation = 0
        self._random = self.rng.random
        self._geometric = self.rng.geometric
        self._p = [model.success_probability for model in self.models]
        self._a = self.models[0].swap_success_probability

    def start(self) -> None:
        """Schedule the first attempt of every segment at the current kernel time."""
        self.round_start_ps = self.kernel.now_ps
        self.occupancy_since_ps = self.kernel.now_ps
        self.pumped = [None] * self.params.segments
        for segment in range(self.params.segments):
            self.kernel.schedule_in(0, self._attempt, segment, self.generation)

    def _occupancy(self, change: int) -> None:
        now = self.kernel.now_ps
        self.qubit_ps += self.qubits_in_memory * (now - self.occupancy_since_ps)
        self.occupancy_since_ps = now
        self.qubits_in_memory += change

    def _next_boundary(self, time_ps: int, segment: int) -> int:
        step = self.attempt_ps[segment]
        offset = (time_ps - self.round_start_ps) % step
        return time_ps if offset == 0 else time_ps + step - offset

    def _attempt(self, segment: int, generation: int) -> None:
        if generation != self.generation:
            return
        start = self.kernel.now_ps
        if not self.every_attempt:
            failures = int(self._geometric(self._p[segment])) - 1
            start += failures * self.attempt_ps[segment]
            self.kernel.schedule_at(start + self.attempt_ps[segment], self._herald, segment, start, True, generation)
            return
        self.kernel.schedule_in(
            self.attempt_ps[segment] - self.to_midpoint_ps[segment], self._midpoint, segment, start, generation
        )

    def _midpoint(self, segment: int, start_ps: int, generation: int) -> None:
        success = self._random() < self._p[segment]
        self.kernel.schedule_in(self.to_midpoint_ps[segment], self._herald, segment, start_ps, success, generation)

    def _herald(self, segment: int, start_ps: int, success: bool, generation: int) -> None:
        if generation != self.generation:
            return
        if not success:
            self._attempt(segment, generation)
            return
        state: _Correlations | DensityPair
        if self.density_rules is None:
            state = self.link_correlations[segment]
        else:
            state = self.density_rules.fresh(self.models[segment].heralded.density_matrix, start_ps)
        pair = _Pair(segment, segment + 1, start_ps, start_ps, 0, state)
        self._occupancy(2)
        if self.pumping_rounds:
            self._pump(segment, pair)
        else:
            self._store(pair)

    def _bell_state_now(self, pair: _Pair) -> np.ndarray:
        """Bell-diagonal state of a segment pair now, memory noise included."""
        now = self.kernel.now_ps
        storage_ps = pair.stored_ps + 2 * now - pair.left_start_ps - pair.right_start_ps
        return from_correlations(np.array(pair.state) * np.exp(-storage_ps * self.decay_rates_per_ps))

    def _pump(self, segment: int, fresh: _Pair) -> None:
        held = self.pumped[segment]
        if held is None:
            self.pumped[segment] = fresh
            self.pumped_rounds[segment] = 0
            self._attempt(segment, self.generation)
            return
        state, success = dejmps(self._bell_state_now(held), self._bell_state_now(fresh))
        self._occupancy(-2)
        if self._random() >= float(success):
            self._occupancy(-2)
            self.pumped[segment] = None
            self._attempt(segment, self.generation)
            return
        now = self.kernel.now_ps
        purified = _Pair(segment, segment + 1, now, now, 0, _as_correlations(correlations(state)))
        self.pumped_rounds[segment] += 1
        if self.pumped_rounds[segment] < self.pumping_rounds:
            self.pumped[segment] = purified
            self._attempt(segment, self.generation)
            return
        self.pumped[segment] = None
        self._store(purified)

    def _store(self, pair: _Pair) -> None:
        if pair.left == 0 and pair.right == self.params.segments:
            self._deliver(pair)
            return
        self.right_pair[pair.left] = pair
        self.left_pair[pair.right] = pair
        if self.cutoff_ps is not None:
            expiry = min(pair.left_start_ps, pair.right_start_ps) + self.cutoff_ps
            self.kernel.schedule_at(max(expiry, self.kernel.now_ps), self._expire, pair, self.generation)
        for node in (pair.left, pair.right):
            swappable = self._swappable(node)
            if swappable is not None:
                self._swap(node, *swappable)
                return

    def _swappable(self, node: int) -> tuple[_Pair, _Pair] | None:
        """The pairs ``node`` may swap now (left, right), if its policy allows a swap."""
        if node == 0 or node == self.params.segments:
            return None
        left, right = self.left_pair[node], self.right_pair[node]
        if left is None or right is None:
            return None
        if self.params.policy is SwapPolicy.SWAP_ASAP:
            return left, right
        half = node & -node
        return (left, right) if left.left == node - half and right.right == node + half else None

    def _swap(self, node: int, left: _Pair, right: _Pair) -> None:
        self._unlink(left)
        self._unlink(right)
        now = self.kernel.now_ps
        self._occupancy(-2)
        if self._random() < self._a:
            stored = left.stored_ps + right.stored_ps + 2 * now - left.right_start_ps - right.left_start_ps
            joined = self._swapped_state(left.state, right.state, now)
            notice = max(left.notice_ps, right.notice_ps, now + self.notice_delay_ps[node])
            self._store(_Pair(left.left, right.right, left.left_start_ps, right.right_start_ps, stored, joined, notice))
            return
        self.failed_swaps += 1
        self._occupancy(-2)
        self._restart(left.left, right.right, now)

    def _swapped_state(
        self, left: _Correlations | DensityPair, right: _Correlations | DensityPair, now_ps: int
    ) -> _Correlations | DensityPair:
        """State of the pair joined by swapping ``left`` and ``right`` (both in the run's formalism)."""
        if isinstance(left, DensityPair) and isinstance(right, DensityPair) and self.density_rules is not None:
            return self.density_rules.swap(left, right, now_ps)
        if isinstance(left, tuple) and isinstance(right, tuple):
            (lx, ly, lz), (rx, ry, rz), (sx, sy, sz) = left, right, self.swap_factor
            return (lx * rx * sx, ly * ry * sy, lz * rz * sz)
        raise TypeError(f"pair states {type(left).__name__} and {type(right).__name__}: not one formalism")

    def _unlink(self, pair: _Pair) -> None:
        pair.alive = False
        self.right_pair[pair.left] = None
        self.left_pair[pair.right] = None

    def _restart(self, left_node: int, right_node: int, time_ps: int) -> None:
        for segment in range(left_node, right_node):
            self.kernel.schedule_at(self._next_boundary(time_ps, segment), self._attempt, segment, self.generation)

    def _expire(self, pair: _Pair, generation: int) -> None:
        if not pair.alive or generation != self.generation:
            return
        self._unlink(pair)
        self.discarded += 1
        self._occupancy(-2)
        self._restart(pair.left, pair.right, self.kernel.now_ps)

    def _deliver(self, pair: _Pair) -> None:
        if self.notify_end_nodes and pair.notice_ps > self.kernel.now_ps:
            self.kernel.schedule_at(pair.notice_ps, self._deliver_known, pair, self.generation)
            return
        self._deliver_known(pair, self.generation)

    def _deliver_known(self, pair: _Pair, generation: int) -> None:
        if generation != self.generation:
            return
        now = self.kernel.now_ps
        self._occupancy(-2)
        self.waits_ps.append(now - self.round_start_ps)
        self.stores_ps.append(pair.stored_ps + 2 * now - pair.left_start_ps - pair.right_start_ps)
        if isinstance(pair.state, DensityPair) and self.density_rules is not None:
            self.density_fidelities.append(self.density_rules.fidelity(pair.state, now))
        elif isinstance(pair.state, tuple):
            self.delivered_correlations.append(pair.state)
        else:
            raise TypeError(f"pair state {type(pair.state).__name__}: not in the run's formalism")
        self.generation += 1
        if self.on_delivery is None:
            self.start()
        else:
            self.on_delivery(self)

    def fidelities(self) -> np.ndarray:
        """Fidelity of each delivered pair (memory noise for its exact storage time)."""
        if self.density_rules is not None:
            return np.array(self.density_fidelities)
        storage_s = np.array(self.stores_ps, dtype=float) / PS_PER_S
        base = np.array(self.delivered_correlations, dtype=float).reshape(-1, 3)
        decay = np.exp(-storage_s[:, None] * decay_rates_per_s(self.params.memory))
        return (1.0 + np.sum(base * decay, axis=1)) / 4.0

    def result(self, simulated_s: float) -> ChainRun:
        """Collect the deliveries so far (call after ``kernel.run``)."""
        self._occupancy(0)
        return ChainRun(
            waiting_time_s=np.array(self.waits_ps, dtype=float) / PS_PER_S,
            fidelity=self.fidelities(),
            simulated_s=simulated_s,
            events=self.kernel.events_fired,
            memory_qubit_seconds=self.qubit_ps / PS_PER_S,
            link=self.models[0] if len(set(self.attempt_ps)) == 1 else self.models,
            discarded_pairs=self.discarded,
            failed_swaps=self.failed_swaps,
        )


def simulate_chain_des(
    params: ChainParameters,
    *,
    duration_s: float,
    seed: int,
    cutoff_s: float | None = None,
    every_attempt: bool = False,
    notify_end_nodes: bool = False,
    formalism: Literal["bell-diagonal", "density-matrix"] = "bell-diagonal",
    pumping_rounds: int = 0,
    on_progress: ProgressCallback | None = None,
) -> ChainRun:
    """Run the event-driven chain for ``duration_s`` simulated seconds (``on_progress(done_ps, total_ps)``
    as the simulated time advances).

    >>> run = simulate_chain_des(ChainParameters(segments=4, length_km=100.0), duration_s=2.0, seed=1)
    >>> run.summary()["delivered_pairs"] > 0
    True
    """
    if duration_s <= 0:
        raise ParameterError(f"duration_s = {duration_s:g}: must be > 0")
    kernel = Kernel()
    simulation = ChainSimulation(
        params,
        kernel,
        np.random.default_rng(seed),
        cutoff_s,
        every_attempt=every_attempt,
        notify_end_nodes=notify_end_nodes,
        formalism=formalism,
        pumping_rounds=pumping_rounds,
    )
    simulation.start()
    run_within_budget(kernel, until_ps=round(duration_s * PS_PER_S), field="duration_s", on_progress=on_progress)
    return simulation.result(duration_s)
