"""Parameter sweeps and ensembles on local processes or a Dask cluster, with per-point status; a Dask
mapper for other independent analyses (the failures of ``qit4n plan``)."""

from qit4n.sweep.points import key_rate_point
from qit4n.sweep.runner import PointResult, dask_batch_mapper, grid, run_sweep

__all__ = ["PointResult", "dask_batch_mapper", "grid", "key_rate_point", "run_sweep"]
