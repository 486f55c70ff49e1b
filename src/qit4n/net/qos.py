"""Quality-of-service metrics of key delivery, after ITU-T Y.3807, from the raw records of a simulation.

Per demand: key delivery throughput (delivered end-to-end key per second), key response delay
(time from a request to its delivery; median and 99th percentile), delivery loss ratio (requested
bits never delivered within the waiting limit, over requested bits of the requests that ended),
availability (fraction of the time the demand had a working route through live links and nodes),
and restoration time after each failure that broke its routes (time to the first delivery after
the failure; ``None`` if none came before the end).

References
----------
ITU-T Y.3807, Quantum key distribution networks – Quality of service parameters (2020).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["DemandQoS", "DemandRecord", "summarise"]


@dataclass
class DemandRecord:
    """What a simulation counts for one demand while it runs (mutated by the simulator)."""

    name: str
    requests: int = 0
    requested_bits: float = 0.0
    served: int = 0
    delivered_bits: float = 0.0
    lost: int = 0
    lost_bits: float = 0.0
    delays_s: list[float] = field(default_factory=list)
    outage_s: float = 0.0
    restoration_s: list[float | None] = field(default_factory=list)


@dataclass(frozen=True)
class DemandQoS:
    """Y.3807-style QoS of one demand over a simulation."""

    name: str
    requests: int
    served: int
    lost: int
    requested_bits: float
    delivered_bits: float
    throughput_bps: float
    delay_median_s: float | None
    delay_p99_s: float | None
    loss_ratio: float
    availability: float
    restoration_times_s: tuple[float | None, ...]

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "name": self.name,
            "requests": self.requests,
            "served": self.served,
            "lost": self.lost,
            "requested_bits": self.requested_bits,
            "delivered_bits": self.delivered_bits,
            "throughput_bps": self.throughput_bps,
            "delay_median_s": self.delay_median_s,
            "delay_p99_s": self.delay_p99_s,
            "loss_ratio": self.loss_ratio,
            "availability": self.availability,
            "restoration_times_s": list(self.restoration_times_s),
        }


def summarise(record: DemandRecord, duration_s: float) -> DemandQoS:
    """The QoS of one demand from its record over a run of ``duration_s`` seconds.

    >>> record = DemandRecord("ab", requests=4, requested_bits=400, served=3, delivered_bits=300,
    ...                       lost=1, lost_bits=100, delays_s=[0.0, 1.0, 2.0])
    >>> qos = summarise(record, 10.0)
    >>> qos.throughput_bps, qos.delay_median_s, qos.loss_ratio
    (30.0, 1.0, 0.25)
    """
    delays = np.asarray(record.delays_s, dtype=float)
    ended_bits = record.delivered_bits + record.lost_bits
    return DemandQoS(
        name=record.name,
        requests=record.requests,
        served=record.served,
        lost=record.lost,
        requested_bits=record.requested_bits,
        delivered_bits=record.delivered_bits,
        throughput_bps=record.delivered_bits / duration_s,
        delay_median_s=float(np.median(delays)) if delays.size else None,
        delay_p99_s=float(np.percentile(delays, 99)) if delays.size else None,
        loss_ratio=record.lost_bits / ended_bits if ended_bits > 0 else 0.0,
        availability=max(0.0, 1.0 - record.outage_s / duration_s),
        restoration_times_s=tuple(record.restoration_s),
    )
