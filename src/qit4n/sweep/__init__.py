"""Parameter sweeps and ensembles on local processes or a Dask cluster, with per-point status."""

from qit4n.sweep.points import key_rate_point
from qit4n.sweep.runner import PointResult, grid, run_sweep

__all__ = ["PointResult", "grid", "key_rate_point", "run_sweep"]
