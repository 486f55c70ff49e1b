"""Secret-key-rate and QBER models of QKD protocols, vectorised over numpy arrays.

Each protocol is a :class:`~qit4n.qkd.base.ProtocolSpec` found by name through
:func:`get_protocol` in the registry :data:`PROTOCOLS` (entry-point group ``qit4n.protocols``);
parameters come from defaults, a published preset and user overrides
(:func:`make_parameters`).
"""

from qit4n.qkd.base import ChannelParameters, ProtocolSpec, RateResult
from qit4n.qkd.compare import ComparisonResult, MaxDistance, RatePoint, compare_protocols, rate_curve
from qit4n.qkd.distance import max_distance_km
from qit4n.qkd.evaluate import key_rate_at_distance
from qit4n.qkd.presets import Preset, all_presets, get_preset
from qit4n.qkd.registry import PROTOCOLS, get_protocol, make_parameters, protocol_names

__all__ = [
    "PROTOCOLS",
    "ChannelParameters",
    "ComparisonResult",
    "MaxDistance",
    "Preset",
    "ProtocolSpec",
    "RatePoint",
    "RateResult",
    "all_presets",
    "compare_protocols",
    "get_preset",
    "get_protocol",
    "key_rate_at_distance",
    "make_parameters",
    "max_distance_km",
    "protocol_names",
    "rate_curve",
]
