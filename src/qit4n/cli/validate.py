"""``qit4n validate``: recompute every published anchor and write them as one HTML page.

The anchors are those the validation tests hold qit4n to: the QKD models
(:func:`qit4n.qkd.anchors.qkd_anchor_specs`: decoy BB84, finite-key, MDI, twin-field, bounds,
GG02), the QRNG device models (:func:`qit4n.qrng.anchors.qrng_anchor_specs`: Xu et al. 2012,
Herrero-Collantes and Garcia-Escartin 2017), repeater waiting times (Shchukin et al. 2019; Bernardes
et al. 2011), the Raman gain of
silica (Stolen and Ippen 1973) and the Micius downlink loss (Liao et al. 2017, as digitised by the
Baidu QNET team), each with its paper, place, parameters, published value, qit4n's value, ratio and
verdict. The page goes to ``--out`` (``index.html`` and the figures); the exit status is 1 if any
anchor is outside its tolerance. ``qit4n demo`` gets a ``validation`` section
(:func:`validation_section`) that writes the same page into its report folder and links it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from fractions import Fraction
from math import comb
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.table import Table as RichTable

from qit4n.cli.render import tracked
from qit4n.physics.satellite import micius_link_loss_points
from qit4n.qkd.anchors import Anchor, AnchorSpec, evaluate_anchors, qkd_anchor_specs
from qit4n.report import REPORT_SECTIONS, Figure, Section, Table, write_report
from qit4n.workload import ProgressCallback

__all__ = ["collect_anchors", "register", "validate", "validation_section"]

#: Altitude of the Xinglong ground station (``physics/data/micius_optics.yaml``), m.
_XINGLONG_ALTITUDE_M = 900.0

_LIAO_2017 = (
    "Liao et al., Nature 549, 43 (2017), link efficiency digitised by Baidu QNET (micius2017_link_efficiency.csv)"
)


def _exact_deterministic_mean(segments: int, p: Fraction) -> float:
    q = 1 - p
    return float(sum((-1) ** (k + 1) * comb(segments, k) / (1 - q**k) for k in range(1, segments + 1)))


def _micius_loss_db(range_km: np.ndarray) -> np.ndarray:
    """Loss of the shipped Micius optics (``micius_optics()``, Xinglong at 900 m) at the given slant ranges."""
    from qit4n.physics.satellite import elevation_from_slant_range_deg, micius_optics, satellite_link_loss_db

    optics = micius_optics()
    elevation = elevation_from_slant_range_deg(range_km, optics.altitude_km, _XINGLONG_ALTITUDE_M)
    return np.asarray(satellite_link_loss_db(optics, elevation, ground_altitude_m=_XINGLONG_ALTITUDE_M))


def _other_anchor_specs() -> list[AnchorSpec]:
    from qit4n.qin import waiting

    specs = [
        AnchorSpec(
            "qin waiting (Markov chain)",
            "Shchukin, Schmidt, van Loock, PRA 100, 032322 (2019)",
            "two-segment closed form K_2 = (3 - 2p) / (a p (2 - p))",
            "2 segments, p = 0.1, a = 0.5",
            (3 - 2 * 0.1) / (0.5 * 0.1 * (2 - 0.1)),
            1e-9,
            lambda: waiting.doubling_mean_waiting_time(2, 0.1, 0.5),
            unit="attempts",
        ),
        AnchorSpec(
            "qin waiting (deterministic swaps)",
            "Bernardes, Praxmeyer, van Loock, PRA 83, 012323 (2011)",
            "mean of the maximum of N geometric times (exact rational sum)",
            "64 segments, p = 1e-3, a = 1",
            _exact_deterministic_mean(64, Fraction(1, 1000)),
            1e-12,
            lambda: waiting.mean_waiting_time_deterministic_swaps(64, 1e-3),
            unit="attempts",
        ),
    ]

    def loss_at(range_km: float) -> Callable[[], float]:
        return lambda: float(_micius_loss_db(np.array([range_km]))[0])

    points = micius_link_loss_points()
    for range_km, loss_db in (
        (points.slant_range_km[0], points.loss_db[0]),
        (points.slant_range_km[-1], points.loss_db[-1]),
    ):
        specs.append(
            AnchorSpec(
                "satellite link (micius_optics(), fitted to the digitised curve)",
                _LIAO_2017,
                "Fig. (link efficiency vs slant range)",
                f"slant range {range_km:g} km",
                float(loss_db),
                1.1,
                loss_at(float(range_km)),
                relative=False,
                unit="dB",
            )
        )
    return specs


def _raman_peak_shift_thz() -> float:
    from qit4n.physics.raman import raman_efficiency_per_w_m

    shift_thz = np.linspace(0.0, 42.0, 42001)
    return float(shift_thz[np.argmax(raman_efficiency_per_w_m(shift_thz))])


def _raman_peak_gain_m_per_w() -> float:
    from qit4n.physics.raman import FIBRE_EFFECTIVE_AREA_UM2, raman_efficiency_per_w_m

    peak = float(np.max(raman_efficiency_per_w_m(np.linspace(0.0, 42.0, 42001))))
    return 2.0 * peak * FIBRE_EFFECTIVE_AREA_UM2 * 1e-12


def _raman_anchor_specs() -> list[AnchorSpec]:
    """The Raman anchors of ``tests/validation/test_physics_raman_published.py``."""
    paper = "Stolen, Ippen, Appl. Phys. Lett. 22, 276 (1973); Agrawal, Nonlinear Fiber Optics, sec. 8.1.1"
    table = "SSMF Raman efficiency table (GNPy, after Curri et al. 2016)"
    return [
        AnchorSpec(
            "Raman scattering (silica)",
            paper,
            "gain peak shift, about 13.2 THz (440 cm^-1)",
            table,
            13.2,
            0.5,
            _raman_peak_shift_thz,
            relative=False,
            unit="THz",
        ),
        AnchorSpec(
            "Raman scattering (silica)",
            paper,
            "co-polarised peak gain, about 6e-14 m/W at a 1550 nm pump",
            f"{table}: twice the polarisation-averaged peak times A_eff = 80 um^2",
            6e-14,
            0.10,
            _raman_peak_gain_m_per_w,
            unit="m/W",
        ),
    ]


def collect_anchors(on_progress: ProgressCallback | None = None) -> list[Anchor]:
    """Every published anchor with qit4n's value (``on_progress(anchors_done, anchors)`` as they come)."""
    from qit4n.qrng.anchors import qrng_anchor_specs  # here: qrng (numba) stays out of every command's start-up

    specs = qkd_anchor_specs() + qrng_anchor_specs() + _raman_anchor_specs() + _other_anchor_specs()
    return evaluate_anchors(specs, on_progress=on_progress)


def _micius_figure(out: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ranges = np.linspace(600.0, 1250.0, 131)
    figure, axes = plt.subplots(figsize=(7.0, 4.2), dpi=110)
    points = micius_link_loss_points()
    axes.plot(ranges, _micius_loss_db(ranges), label="qit4n, micius_optics() (least-squares fit)")
    axes.plot(points.slant_range_km, points.loss_db, "o", label="Liao et al. 2017 (QNET digitisation)")
    axes.set_xlabel("slant range (km)")
    axes.set_ylabel("link loss (dB, detectors excluded)")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize="small")
    figure.tight_layout()
    name = "micius-link-loss.png"
    out.mkdir(parents=True, exist_ok=True)
    figure.savefig(out / name)
    plt.close(figure)
    return name


_COLUMNS = ("model", "paper", "place", "parameters", "published", "qit4n", "unit", "ratio", "tolerance", "verdict")
#: The columns printed in the terminal (the page has all of them).
_TERMINAL_COLUMNS = ("model", "parameters", "published", "qit4n", "unit", "ratio", "verdict")


def _write_page(anchors: list[Anchor], out: Path) -> Path:
    rows = [[anchor.as_dict()[column] for column in _COLUMNS] for anchor in anchors]
    failed = sum(not anchor.within for anchor in anchors)
    summary = Section(
        "Published anchors",
        [f"{len(anchors) - failed} of {len(anchors)} anchors within tolerance."],
        [Table(_COLUMNS, rows, caption="qit4n against the published values (ratio = qit4n / published)")],
    )
    curve = Section(
        "Micius downlink loss",
        [
            "The loss of the shipped Micius optics (also those of the micius-xinglong scenario) along a pass,"
            " next to the published points they are fitted to."
        ],
        figures=[Figure(_micius_figure(out), "Link loss versus slant range: qit4n curve and Liao et al. 2017 points")],
    )
    return write_report(
        out,
        "qit4n validation",
        [summary, curve],
        intro="Every number below is recomputed by this run of qit4n against a value printed in a paper.",
    )


def validate(
    out: Annotated[Path, typer.Option("--out", help="folder for index.html and its figures")] = Path(
        "qit4n-validation"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="print the anchors as JSON")] = False,
) -> None:
    """Recompute every published anchor, write the validation page; exit 1 if any is out of tolerance."""
    with tracked("recomputing published anchors", quiet=as_json) as shown:
        anchors = collect_anchors(shown)
    page = _write_page(anchors, out)
    if as_json:
        typer.echo(json.dumps([anchor.as_dict() for anchor in anchors]))
    else:
        table = RichTable(title="published anchors")
        for column in _TERMINAL_COLUMNS:
            table.add_column(column, overflow="fold")
        for anchor in anchors:
            values = anchor.as_dict()
            table.add_row(
                *(
                    f"{values[column]:.6g}" if isinstance(values[column], float) else str(values[column])
                    for column in _TERMINAL_COLUMNS
                )
            )
        Console().print(table)
        typer.echo(f"validation page written to {page}")
    if not all(anchor.within for anchor in anchors):
        raise typer.Exit(code=1)


def validation_section(scenario: object, out_dir: Path) -> Section:
    """``qit4n demo`` section: recompute the anchors, write the validation page into ``out_dir/validation``
    and summarise it per model (the scenario does not enter)."""
    anchors = collect_anchors()
    page = _write_page(anchors, out_dir / "validation")
    models: dict[str, list[Anchor]] = {}
    for anchor in anchors:
        models.setdefault(anchor.model, []).append(anchor)
    rows = [[model, len(group), sum(anchor.within for anchor in group)] for model, group in models.items()]
    failed = sum(not anchor.within for anchor in anchors)
    return Section(
        "Validation against published results",
        [
            f"{len(anchors) - failed} of {len(anchors)} published anchors are within tolerance in this run. "
            f"The full table (paper, equation or figure, parameters, published value, qit4n value, ratio, "
            f"verdict) and the reproduced curves are on the validation page: {page.relative_to(out_dir).as_posix()} "
            "(also written by `qit4n validate --out DIR`, which exits non-zero if any anchor fails)."
        ],
        [Table(("model", "anchors", "within tolerance"), rows, caption="Published anchors by model")],
    )


REPORT_SECTIONS.register("validation", validation_section)


def register(app: typer.Typer) -> None:
    """Add ``validate`` to the CLI."""
    app.command("validate")(validate)
