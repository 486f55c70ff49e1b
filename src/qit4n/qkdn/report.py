"""Report part of the QKD network: a scripted fault sequence under the QKDN controller (``qit4n demo``)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qit4n.report import REPORT_SECTIONS, Figure, Section, Table

if TYPE_CHECKING:
    from qit4n.qkdn.demo import FaultRun
    from qit4n.scenario import Scenario

__all__ = ["network_section"]

_FIGURE = "qkdn_fault_timeline.png"


def _seconds(run: FaultRun, iso: str | None) -> float | None:
    return None if iso is None else datetime.fromisoformat(iso).timestamp() - run.started_unix_s


def _reaction(run: FaultRun, at_s: float, target: str) -> tuple[str, str]:
    """(the controller's first state change of ``target`` after ``at_s``, the first route install after it)."""
    seen = next(
        (
            event
            for event in run.events
            if event["time_s"] - run.started_unix_s >= at_s
            and event["source"] in (f"link:{target}", f"node:{target}")
            and not event["kind"].startswith("alarm")
        ),
        None,
    )
    if seen is None:
        return "no state change", ""
    if seen["kind"] == "link-degraded":
        return (
            f"link-degraded after {seen['time_s'] - run.started_unix_s - at_s:.2f} s",
            "none: a degraded link stays in use",
        )
    installed = next(
        (event for event in run.events if event["kind"] == "routes-installed" and event["time_s"] >= seen["time_s"]),
        None,
    )
    seen_text = f"{seen['kind']} after {seen['time_s'] - run.started_unix_s - at_s:.2f} s"
    if installed is None:
        return seen_text, "none needed"
    return seen_text, f"after {installed['time_s'] - run.started_unix_s - at_s:.2f} s ({len(installed['kmes'])} KMEs)"


def _figure(run: FaultRun, out_dir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axis = plt.subplots(figsize=(8, 3.6))
    for index, (a, b) in enumerate(run.pairs):
        pair = f"{a}>{b}"
        times = [time_s for time_s, name, outcome in run.requests if name == pair and outcome == "delivered"]
        refused = [time_s for time_s, name, outcome in run.requests if name == pair and outcome == "refused_503"]
        line = axis.step([0.0, *times], range(len(times) + 1), where="post", label=f"{a} → {b} delivered")[0]
        if refused:
            axis.plot(refused, [-1 - index] * len(refused), "x", color=line.get_color(), label=f"{a} → {b} 503")
    top = axis.get_ylim()[1]
    for at_s, fault in run.faults:
        axis.axvline(at_s, color="grey", linestyle="--", linewidth=0.8)
        label = f" {fault.action} {fault.target}"
        axis.text(at_s, top, label, rotation=90, va="top", ha="left", fontsize=7, backgroundcolor="white")
    axis.set_xlabel("time since the first request (s)")
    axis.set_ylabel("keys delivered (cumulative)")
    axis.set_title("Keys delivered per SAE pair while faults come and go")
    axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7)
    fig.tight_layout()
    fig.savefig(out_dir / _FIGURE, dpi=110)
    plt.close(fig)


def _ledger_rows(run: FaultRun) -> list[tuple[Any, ...]]:
    names = [(f"{a} → {b}", f"{a}>{b}") for a, b in run.pairs] + [("all pairs", None)]
    columns = ("requested", "delivered", "refused_503", "lost", "duplicated", "other_errors")
    return [(label, *(run.ledger(pair)[column] for column in columns)) for label, pair in names]


def network_section(scenario: Scenario, out_dir: Path) -> Section:
    """Run the scenario's KMEs under the QKDN controller through a short fault sequence (:mod:`qit4n.qkdn.demo`)."""
    from qit4n.qkdn.demo import run_fault_sequence

    run = run_fault_sequence(scenario)
    _figure(run, out_dir)
    ledger = run.ledger()
    faults = []
    for at_s, fault in run.faults:
        seen, routes = _reaction(run, at_s, fault.target)
        faults.append((f"{at_s:.2f}", f"network fault {fault.command}", fault.why, seen, routes))
    alarms = []
    for alarm in sorted(run.alarms, key=lambda item: item["raised_at"]):
        raised, cleared = _seconds(run, alarm["raised_at"]), _seconds(run, alarm["cleared_at"])
        alarms.append(
            (
                alarm["severity"],
                alarm["source"],
                alarm["text"],
                f"{raised:.2f}",
                "active at the end" if cleared is None else f"{cleared:.2f}",
            )
        )
    pairs = ", ".join(f"{a} → {b}" for a, b in run.pairs)
    return Section(
        title="QKD network under faults (QKDN controller)",
        paragraphs=[
            f"The KMEs of {scenario.name} (as `qit4n network up` starts them, here in one process) ran under the "
            f"QKDN controller, which polled them every {run.poll_interval_s:.2g} s, raised alarms and pushed relay "
            "routes. "
            f"The SAE pairs {pairs} each asked for a key every 0.1 s while the faults below were applied with "
            "`qit4n network fault`'s code, one per phase; the slave fetched every key the master got and compared "
            "the bytes. Killing a node's KME is not part of this sequence because the KMEs share this process; "
            "tests/qkdn/test_network_faults.py does it with real processes.",
            f"Ledger: {ledger['requested']} keys requested, {ledger['delivered']} delivered to both SAEs, "
            f"{ledger['refused_503']} refused with ETSI 503, {ledger['lost']} lost, {ledger['duplicated']} "
            f"duplicated, {ledger['other_errors']} other errors.",
        ],
        tables=[
            Table(
                ["time (s)", "fault", "why", "controller saw", "new routes installed"],
                faults,
                caption="fault sequence and the controller's reaction (times after the fault)",
            ),
            Table(
                ["SAE pair", "requested", "delivered", "refused 503", "lost", "duplicated", "other errors"],
                _ledger_rows(run),
                caption="delivered-key ledger",
            ),
            Table(["severity", "source", "text", "raised (s)", "cleared (s)"], alarms, caption="alarms"),
            Table(
                ["answers", "refusal"],
                [(count, text) for text, count in run.refusals.most_common()],
                caption="refusals, as the KMEs worded them",
            ),
        ],
        figures=[Figure(_FIGURE, "Keys delivered per SAE pair (steps) and 503 refusals (crosses), faults dashed")],
    )


REPORT_SECTIONS.register("qkdn", network_section)
