"""qit4n: quantum information technology for networks.

From photons to keys in applications: QKD link models (:mod:`qit4n.qkd`), channel physics
(:mod:`qit4n.physics`), the scenario schema (:mod:`qit4n.scenario`), QKD networks
(:mod:`qit4n.net`), post-processing (:mod:`qit4n.postprocess`), key management
(:mod:`qit4n.kms`), quantum-network simulation (:mod:`qit4n.qin`) and quantum-threat planning
(:mod:`qit4n.threat`). Subpackages are imported on demand to keep ``import qit4n`` light.
"""

from qit4n.errors import Qit4nError

__version__ = "0.1.0"

__all__ = ["Qit4nError", "__version__"]
