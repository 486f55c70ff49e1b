"""``qit4n threat``: CRQC timeline, inventory assessment, TLS scans and the threat catalog."""

from __future__ import annotations

import json
import shutil
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
import yaml
from rich.console import Console
from rich.table import Table as RichTable

from qit4n.cli.options import check_figure_path
from qit4n.cli.render import tracked
from qit4n.errors import ParameterError
from qit4n.scenario import Scenario

__all__ = ["register"]

threat_app = typer.Typer(
    help="Quantum threat to network cryptography: timeline, assessment, TLS scan, catalog.", no_args_is_help=True
)


def _this_year() -> int:
    return datetime.now(UTC).year


#: The years ``threat timeline`` tabulates: from the first public quantum-threat estimates to well past any forecast.
_FIRST_YEAR, _LAST_YEAR = 1990, 2200


def _writable(path: Path) -> Path:
    """``path`` with its folder created, so an output option never fails on a missing folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@threat_app.command("timeline")
def timeline(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    plot: Annotated[Path | None, typer.Option(help="write the timeline as a PNG")] = None,
    first_year: Annotated[int | None, typer.Option("--from", help="first year (default: this year)")] = None,
    last_year: Annotated[int | None, typer.Option("--to", help="last year (default: 20 years on)")] = None,
) -> None:
    """Probability of a cryptographically relevant quantum computer by year, per catalog scenario."""
    from qit4n.threat import load_catalog
    from qit4n.threat.report import crqc_timeline_table, plot_timeline

    start = first_year if first_year is not None else _this_year()
    stop = last_year if last_year is not None else start + 20
    for option, year in (("--from", start), ("--to", stop)):
        if not _FIRST_YEAR <= year <= _LAST_YEAR:
            raise ParameterError(f"{option} = {year}: must be a year in [{_FIRST_YEAR}, {_LAST_YEAR}]")
    if plot is not None:
        check_figure_path("--plot", plot)
    catalog = load_catalog()
    table = crqc_timeline_table(catalog, start, stop)
    if plot is not None:
        plot_timeline(catalog.timelines, np.array(table.years, dtype=float), _writable(plot))
    if as_json:
        typer.echo(json.dumps(table.to_json(), indent=2))
        return
    rich_table = RichTable(title=f"P(CRQC by year), threat catalog {table.catalog_version}")
    rich_table.add_column("year", justify="right")
    for scenario in table.scenarios:
        rich_table.add_column(scenario.id, justify="right")
    for index, year in enumerate(table.years):
        rich_table.add_row(str(year), *(f"{table.probability_by_scenario[s.id][index]:.3f}" for s in table.scenarios))
    Console().print(rich_table)
    width = max(40, shutil.get_terminal_size().columns)
    for scenario in table.scenarios:
        typer.echo(textwrap.fill(f"{scenario.id}: {scenario.source}", width, subsequent_indent="    "))


def _network(name: str | None) -> Scenario | None:
    if name is None:
        return None
    from qit4n.scenario import load_scenario

    return load_scenario(name)


@threat_app.command("assess")
def assess(
    inventory: Annotated[
        Path,
        typer.Argument(
            help="inventory YAML/JSON, PEM/DER certificates, SSH public keys or a CycloneDX CBOM; "
            "or a shipped example's name: secoqc-vienna-example"
        ),
    ],
    scenario: Annotated[
        str | None,
        typer.Option(
            help="network scenario (file or built-in) the asset locations refer to (default: the inventory's)"
        ),
    ] = None,
    policy: Annotated[
        list[str] | None, typer.Option(help="policy whose deadlines apply (repeatable; default nist-ir-8547)")
    ] = None,
    timeline: Annotated[
        str | None, typer.Option(help="CRQC timeline of the catalog (default gri-2023; see `qit4n threat timeline`)")
    ] = None,
    year: Annotated[float | None, typer.Option(help="the year 'now' (default: this year)")] = None,
    teams: Annotated[int, typer.Option(help="migrations that can run in parallel")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    cbom: Annotated[Path | None, typer.Option(help="write a CycloneDX 1.6 CBOM (JSON)")] = None,
    out: Annotated[Path | None, typer.Option(help="write an HTML report with figures into this folder")] = None,
) -> None:
    """Per asset: vulnerable, exposure probability, deadline, recommendation and reasons."""
    from qit4n.threat import DEFAULT_POLICIES, DEFAULT_TIMELINE, assess_inventory, inventory_from_file, load_catalog

    if year is not None and not _FIRST_YEAR <= year <= _LAST_YEAR:
        raise ParameterError(f"--year = {year:g}: must be a year in [{_FIRST_YEAR}, {_LAST_YEAR}]")
    catalog = load_catalog()
    loaded = inventory_from_file(inventory, catalog)
    unassessed = sorted({use.name for asset in loaded.assets for use in asset.unassessed_algorithms})
    if unassessed:
        typer.echo(
            f"warning: not in threat catalog {catalog.version}, kept but not assessed: {', '.join(unassessed)}",
            err=True,
        )
    result = assess_inventory(
        loaded,
        now_year=year if year is not None else float(_this_year()),
        timeline_id=timeline or DEFAULT_TIMELINE,
        policy_ids=policy or DEFAULT_POLICIES,
        catalog=catalog,
        network=_network(scenario or loaded.scenario),
        teams=teams,
    )
    if cbom is not None:
        from qit4n.threat.cbom import cbom_json

        _writable(cbom).write_text(cbom_json(result), encoding="utf-8")
    if out is not None:
        from qit4n.threat.report import write_assessment_report

        write_assessment_report(result, catalog.timelines, out)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    from qit4n.threat.report import asset_rows

    rows = asset_rows(result)
    table = RichTable(
        title=f"{result.inventory.name}: timeline {result.timeline.id}, policies {', '.join(result.policy_ids)}, "
        f"threat catalog {catalog.version} ({catalog.released})"
    )
    for column in ("asset", "vulnerable", "P(exposed)", "deadline", "recommendation", "start", "finish"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row.name,
            "yes" if row.vulnerable else "no",
            f"{row.exposure_probability:.3f}",
            str(row.deadline or "–"),
            row.recommendation,
            "–" if row.start_year is None else f"{row.start_year:g}",
            "–" if row.finish_year is None else f"{row.finish_year:g}",
        )
    Console().print(table)
    width = max(40, shutil.get_terminal_size().columns)
    for row in rows:
        typer.echo(f"{row.name}:")
        for reason in row.reasons:
            typer.echo(textwrap.fill(reason, width, initial_indent="  - ", subsequent_indent="    "))


#: The longest ``--timeout`` of one connection (s): an hour.
MAX_TIMEOUT_S = 3600.0


@threat_app.command("scan")
def scan(
    targets: Annotated[
        list[str] | None, typer.Argument(help="HOST:PORTS; HOST may be a CIDR block, PORTS a range N-M or a list")
    ] = None,
    targets_file: Annotated[Path | None, typer.Option("--targets-file", help="target specs, one per line")] = None,
    protocol: Annotated[str, typer.Option(help="tls or ssh")] = "tls",
    timeout: Annotated[float, typer.Option(help="seconds per connection")] = 5.0,
    workers: Annotated[int, typer.Option(help="targets scanned at the same time")] = 1,
    rate: Annotated[float | None, typer.Option(help="at most this many targets started per second")] = None,
    results: Annotated[
        Path | None, typer.Option(help="append one JSON line per target as it completes (for --resume)")
    ] = None,
    resume: Annotated[bool, typer.Option(help="skip the targets already in --results")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    csv_out: Annotated[Path | None, typer.Option("--csv", help="write the findings as CSV")] = None,
    sarif_out: Annotated[Path | None, typer.Option("--sarif", help="write the findings as SARIF 2.1.0")] = None,
    inventory_out: Annotated[
        Path | None, typer.Option("--inventory-out", help="write the scanned endpoints as an inventory YAML")
    ] = None,
    cbom: Annotated[
        Path | None, typer.Option(help="write a CycloneDX 1.6 CBOM of the scanned endpoints, assessed (JSON)")
    ] = None,
    trust_store: Annotated[
        Path | None,
        typer.Option(help="PEM file or folder of trust anchors the chain must validate to (default /etc/ssl/certs)"),
    ] = None,
    servername: Annotated[
        str | None, typer.Option(help="name sent as SNI and checked against the certificate (default: HOST)")
    ] = None,
    starttls: Annotated[
        str | None, typer.Option(help="upgrade with STARTTLS first: smtp, imap, pop3, ftp or ldap")
    ] = None,
) -> None:
    """Probe TLS servers (versions, key exchanges, certificates) or SSH servers (key exchanges, host keys).

    Every target gets a result or an error; the exit status is 1 only when no target could be scanned.
    """
    from qit4n.threat import load_catalog
    from qit4n.threat.findings import findings_csv, findings_sarif, scan_findings
    from qit4n.threat.targets import done_targets, expand_target, format_target, read_targets_file, scan_targets

    if not 0 < timeout <= MAX_TIMEOUT_S:
        raise ParameterError(f"--timeout = {timeout:g}: must be in (0, {MAX_TIMEOUT_S:g}] seconds")
    if not 1 <= workers <= 256:
        raise ParameterError(f"--workers = {workers}: must be in [1, 256]")
    if rate is not None and rate <= 0:
        raise ParameterError(f"--rate = {rate:g}: must be > 0 targets per second")
    if protocol not in ("tls", "ssh"):
        raise ParameterError(f"--protocol = {protocol!r}: must be tls or ssh")
    if resume and results is None:
        raise ParameterError("--resume: needs --results FILE")
    if protocol == "ssh" and (starttls is not None or trust_store is not None or servername is not None):
        raise ParameterError("--starttls, --trust-store, --servername: only with --protocol tls")
    store = _trust_store(trust_store) if protocol == "tls" else None
    if servername is not None:
        from qit4n.threat.trust import check_server_name

        check_server_name(servername)
    if starttls is not None:
        from qit4n.threat.starttls import STARTTLS

        if starttls not in STARTTLS:
            raise ParameterError(f"--starttls = {starttls!r}: must be one of {', '.join(STARTTLS.names())}")
    specs = [*(targets or []), *(read_targets_file(targets_file) if targets_file is not None else [])]
    if not specs:
        raise ParameterError("targets: give HOST:PORTS arguments or --targets-file")
    endpoints = [endpoint for spec in specs for endpoint in expand_target(spec)]
    if resume and results is not None:
        done = done_targets(results)
        endpoints = [endpoint for endpoint in endpoints if format_target(*endpoint) not in done]
    catalog = load_catalog()
    typer.echo(f"threat catalog {catalog.version} ({catalog.released}); {len(endpoints)} target(s)", err=True)
    log = _writable(results).open("a", encoding="utf-8") if results is not None else None

    finished = 0

    def record(outcome) -> None:
        nonlocal finished
        finished += 1
        shown(finished, len(endpoints))
        if log is not None:
            log.write(json.dumps(outcome.to_dict()) + "\n")
            log.flush()

    if protocol == "ssh":
        from qit4n.threat.ssh import scan_ssh

        def scanner(host: str, port: int):
            return scan_ssh(host, port, timeout_s=timeout)
    else:
        from qit4n.threat.scan import scan_tls

        def scanner(host: str, port: int):
            return scan_tls(host, port, timeout_s=timeout, server_name=servername, trust_store=store, starttls=starttls)

    try:
        with tracked(f"scanning {len(endpoints)} {protocol} target(s)", total=len(endpoints), quiet=as_json) as shown:
            outcomes = scan_targets(endpoints, scanner, workers=workers, rate_per_s=rate, on_result=record)
    finally:
        if log is not None:
            log.close()
    scanned = [outcome.scan for outcome in outcomes if outcome.scan is not None]
    if inventory_out is not None and scanned:
        assets = [result.to_asset().model_dump(mode="json", exclude_defaults=True) for result in scanned]
        _writable(inventory_out).write_text(
            yaml.safe_dump({"name": f"{protocol}-scan", "assets": assets}, sort_keys=False), encoding="utf-8"
        )
    if cbom is not None and scanned:
        from qit4n.threat import assess_inventory
        from qit4n.threat.cbom import cbom_json
        from qit4n.threat.inventory import Inventory

        scanned_inventory = Inventory(name=f"{protocol}-scan", assets=[result.to_asset() for result in scanned])
        assessment = assess_inventory(scanned_inventory, now_year=float(_this_year()), catalog=catalog)
        _writable(cbom).write_text(cbom_json(assessment, scanned), encoding="utf-8")
    if csv_out is not None or sarif_out is not None:
        findings = scan_findings(outcomes, catalog, protocol)
        if csv_out is not None:
            _writable(csv_out).write_text(findings_csv(findings), encoding="utf-8")
        if sarif_out is not None:
            from qit4n import __version__

            log_document = findings_sarif(findings, catalog, __version__)
            _writable(sarif_out).write_text(json.dumps(log_document, indent=2), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps([outcome.to_dict() for outcome in outcomes], indent=2))
    else:
        for outcome in outcomes:
            if outcome.scan is None:
                typer.echo(f"{outcome.target}: error: {outcome.error}", err=True)
            elif protocol == "ssh":
                _print_ssh(outcome.scan)
            else:
                _print_scan(outcome.scan)
    if endpoints and not scanned:
        raise typer.Exit(1)


def _trust_store(path: Path | None):
    """The trust store to validate chains against; the system one when it exists, else none (with a warning)."""
    from qit4n.threat.trust import DEFAULT_TRUST_STORE, TrustStore

    if path is not None:
        return TrustStore.open(path)
    if not DEFAULT_TRUST_STORE.is_dir():
        typer.echo(f"warning: no system trust store at {DEFAULT_TRUST_STORE}; trust paths not checked", err=True)
        return None
    return TrustStore.open(DEFAULT_TRUST_STORE)


def _print_ssh(result) -> None:
    table = RichTable(title=f"ssh {result.host}:{result.port}", show_header=False)
    table.add_column("field")
    table.add_column("value")
    table.add_row("verdict", result.verdict)
    table.add_row("banner", result.banner)
    table.add_row("key exchanges", ", ".join(result.kex_algorithms))
    table.add_row("host-key algorithms", ", ".join(result.host_key_algorithms))
    for key in result.host_keys:
        table.add_row("host key", f"{key.key_type} {key.key_bits or ''} ({key.catalog_algorithm or 'not in catalog'})")
    Console().print(table)


def _print_scan(result) -> None:
    table = RichTable(title=f"{result.host}:{result.port}", show_header=False)
    table.add_column("field")
    table.add_column("value")
    table.add_row("verdict", result.verdict)
    table.add_row("protocol", result.protocol_version)
    table.add_row("cipher suite", result.cipher_suite)
    table.add_row("negotiated group", str(result.negotiated_group))
    table.add_row("accepted groups", ", ".join(result.accepted_groups) or "–")
    table.add_row("accepted versions", ", ".join(result.accepted_versions))
    table.add_row("key exchanges", "; ".join(exchange.describe() for exchange in result.key_exchanges))
    for version, suites in result.cipher_suites.items():
        order = {True: ", server order", False: ", client order", None: ""}[result.server_preference[version]]
        table.add_row(f"{version} suites", f"{', '.join(suites)}{order}")
    table.add_row("signature algorithms", ", ".join(result.accepted_signature_algorithms) or "–")
    for probe in result.raw_probes:
        verdict = "accepted" if probe.accepted else "not accepted"
        table.add_row(f"{probe.offer} (raw hello)", f"{verdict}: {probe.detail}")
    table.add_row("chain size", f"{result.chain_bytes} bytes")
    if result.trust is not None:
        table.add_row("trust", result.trust.verdict)
        for index, entry in enumerate(result.trust.path):
            cert = entry.certificate
            origin = "trust store" if entry.from_trust_store else "presented"
            table.add_row(
                f"path {index}",
                f"{cert.subject} ({origin}): {cert.key_type} {cert.curve or cert.key_bits}, {cert.signature_algorithm}",
            )
    for index, cert in enumerate(result.certificates):
        key = f"{cert.key_type} {cert.curve or cert.key_bits}"
        table.add_row(
            f"certificate {index}",
            f"{cert.subject}: {key}, {cert.signature_algorithm}, "
            f"expires {cert.not_after} ({cert.expires_in_days:.0f} d)",
        )
    Console().print(table)


@threat_app.command("scan-diff")
def scan_diff(
    old: Annotated[Path, typer.Argument(help="earlier scan: --json output or --results JSON lines")],
    new: Annotated[Path, typer.Argument(help="later scan, same formats")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """What changed between two scans: targets, verdicts, key exchanges, versions, leaf keys, errors."""
    from qit4n.threat.scandiff import diff_scans, load_scan_records

    changes = diff_scans(load_scan_records(old), load_scan_records(new))
    if as_json:
        typer.echo(json.dumps([vars(change) for change in changes], indent=2))
        return
    typer.echo(f"{len(changes)} change(s)")
    for change in changes:
        typer.echo(f"  {change.describe()}")


@threat_app.command("catalog")
def catalog_command(
    diff: Annotated[
        Path | None, typer.Option(help="an older catalog (folder or exported file) to compare with")
    ] = None,
    export: Annotated[Path | None, typer.Option(help="write the catalog as one YAML file")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """The threat catalog's entries, or what changed since an older version (--diff OLD)."""
    from qit4n.threat import catalog_to_dict, diff_catalogs, load_catalog

    catalog = load_catalog()
    if export is not None:
        _writable(export).write_text(yaml.safe_dump(catalog_to_dict(catalog), sort_keys=False), encoding="utf-8")
    if diff is not None:
        old = load_catalog(diff)
        changes = diff_catalogs(old, catalog)
        if as_json:
            from qit4n.threat.report import catalog_diff_json

            typer.echo(json.dumps(catalog_diff_json(old, catalog, changes), indent=2))
            return
        typer.echo(f"catalog {old.version} -> {catalog.version}: {len(changes)} change(s)")
        for change in changes:
            typer.echo(f"  {change.describe()}")
        return
    if as_json:
        typer.echo(json.dumps(catalog_to_dict(catalog), indent=2))
        return
    table = RichTable(title=f"threat catalog {catalog.version} ({catalog.released})")
    for column in ("table", "id", "summary", "source"):
        table.add_column(column, overflow="fold")  # a DOI is folded onto the next line, never cut
    for algorithm in catalog.algorithms:
        level = "quantum-vulnerable" if algorithm.quantum_vulnerable else f"NIST category {algorithm.nist_category}"
        table.add_row("algorithm", algorithm.id, level, algorithm.source)
    for estimate in catalog.estimates:
        table.add_row("estimate", estimate.id, f"breaks {estimate.target}", estimate.source)
    for scenario in catalog.timelines:
        table.add_row("timeline", scenario.id, scenario.title, scenario.source)
    for policy_entry in catalog.policies:
        table.add_row("policy", policy_entry.id, f"{len(policy_entry.rules)} rules", policy_entry.source)
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add ``qit4n threat`` and its subcommands to ``app``."""
    app.add_typer(threat_app, name="threat")
