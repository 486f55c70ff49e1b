"""``qit4n kms certs``: an offline CA that issues, rotates and revokes the certificates of a KMS state.

The CA folder (``--ca``) holds the only copy of the CA key; it can live on a machine that never runs
a KME. Each command writes certificates, keys and the CRL into the state folder (``--state``) and
into its per-host bundles, replacing every file atomically.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

if TYPE_CHECKING:
    from qit4n.kms.pki import Entities

__all__ = ["certs_app"]

certs_app = typer.Typer(
    help="Offline CA: issue, rotate and revoke KME, SAE, operator and QKDN controller certificates.",
    no_args_is_help=True,
)

CaOption = Annotated[Path, typer.Option("--ca", help="the CA folder (ca.pem, ca.key, CRL); keep it offline")]
StateOption = Annotated[Path, typer.Option("--state", help="the KMS state folder whose certificates to write")]
DaysOption = Annotated[
    float | None, typer.Option("--days", help="lifetime of the certificates issued, in days (default 30, at most 3650)")
]
CrlDaysOption = Annotated[
    float | None,
    typer.Option("--crl-days", help="days until the CRL's next update, renew it before then (default 7)"),
]
EntitiesArgument = Annotated[
    list[str] | None, typer.Argument(help="entity IDs (KME-X, SAE-X, qit4n-operator, qkdn-controller)")
]


ControllerOption = Annotated[
    bool,
    typer.Option(
        "--controller",
        help="also the QKDN controller's server certificate (for `qit4n network up`; kept once issued)",
    ),
]


def _entities(state: Path, *, controller: bool = False) -> Entities:
    """The state's KMEs, SAEs and operator, and the QKDN controller if asked or if the state has one."""
    from qit4n.kms.launcher import load_plan
    from qit4n.kms.pki import entities_of
    from qit4n.qkdn.plan import CONTROLLER_ID, controller_entities

    entities = entities_of(load_plan(state).configs.values())
    has_controller = (state / "certs" / f"{CONTROLLER_ID}.pem").exists() or (state / "qkdn").is_dir()
    return controller_entities(entities) if controller or has_controller else entities


def _lifetimes(days: float | None, crl_days: float | None) -> dict[str, float]:
    """``days`` and ``crl_days`` with the library defaults for options not given."""
    from qit4n.kms.certs import DEFAULT_CERT_DAYS, DEFAULT_CRL_DAYS

    return {
        "days": DEFAULT_CERT_DAYS if days is None else days,
        "crl_days": DEFAULT_CRL_DAYS if crl_days is None else crl_days,
    }


@certs_app.command("init")
def init(
    ca: CaOption,
    days: Annotated[
        float | None, typer.Option("--days", help="lifetime of the CA certificate, in days (default 1825)")
    ] = None,
    name: Annotated[str, typer.Option("--name", help="the CA's common name")] = "qit4n KMS CA",
) -> None:
    """Create a CA in folder CA (mode 0700): its certificate, key, an empty CRL and the issue records."""
    from qit4n.errors import InputError
    from qit4n.kms.certs import DEFAULT_CA_DAYS, THROWAWAY_CA_NAME, CertificateAuthority

    if name == THROWAWAY_CA_NAME:
        raise InputError(f"--name = {name!r}: reserved for the throwaway CA of `kms up`")
    authority = CertificateAuthority.create(ca, common_name=name, days=DEFAULT_CA_DAYS if days is None else days)
    typer.echo(f"CA {name!r} in {ca} (valid until {authority.cert.not_valid_after_utc:%Y-%m-%d}); keep {ca} offline")


@certs_app.command("issue")
def issue(
    ca: CaOption,
    state: StateOption,
    days: DaysOption = None,
    crl_days: CrlDaysOption = None,
    controller: ControllerOption = False,
) -> None:
    """Issue every certificate the state lacks (or that expired, names the wrong hosts or comes from
    another CA), and a fresh CRL. With --controller, also the QKDN controller's (`qit4n network up`)."""
    from qit4n.kms.pki import ensure_certs, publish

    entities = _entities(state, controller=controller)
    issued = ensure_certs(state / "certs", entities, ca_dir=ca, **_lifetimes(days, crl_days))
    publish(state)
    typer.echo(f"issued: {', '.join(issued) or 'nothing (all valid)'}; CRL renewed")


@certs_app.command("rotate")
def rotate(
    ca: CaOption,
    state: StateOption,
    entities: EntitiesArgument = None,
    within_days: Annotated[
        float | None,
        typer.Option("--within-days", min=0.0, help="only certificates ending within this many days (for cron)"),
    ] = None,
    days: DaysOption = None,
    crl_days: CrlDaysOption = None,
) -> None:
    """Re-issue certificates (ENTITIES, or all) with new keys, and the CRL. Files are replaced atomically:
    running KMEs use the new certificate for new TLS handshakes, without a restart."""
    from qit4n.kms.pki import rotate as rotate_certs

    rotated = rotate_certs(
        state, _entities(state), ca, chosen=entities, within_days=within_days, **_lifetimes(days, crl_days)
    )
    typer.echo(f"rotated: {', '.join(rotated) or 'nothing'}; CRL renewed")


@certs_app.command("revoke")
def revoke(
    ca: CaOption,
    state: StateOption,
    entities: EntitiesArgument = None,
    serial: Annotated[list[str] | None, typer.Option("--serial", help="a serial number (hex) to revoke")] = None,
    crl_days: CrlDaysOption = None,
) -> None:
    """Revoke every unexpired certificate of ENTITIES (and --serial ones) and write the CRL into the state.
    KMEs refuse a revoked peer from their next TLS handshake on; issue a new certificate with `rotate`."""
    from qit4n.errors import InputError
    from qit4n.kms.pki import revoke as revoke_certs

    serials = []
    for value in serial or []:
        try:
            serials.append(int(value, 16))
        except ValueError:
            raise InputError(f"--serial = {value!r}: must be a hexadecimal serial number") from None
    if not entities and not serials:
        raise InputError("revoke: name the entities (or --serial) whose certificates to revoke")
    lifetime = _lifetimes(None, crl_days)["crl_days"]
    revoked = revoke_certs(state, ca, entities=list(entities or []), serials=serials, crl_days=lifetime)
    typer.echo(f"revoked {len(revoked)} certificate(s): {', '.join(format(s, 'x') for s in revoked) or '-'}")


@certs_app.command("show")
def show(
    state: StateOption, as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False
) -> None:
    """The certificates of a state: entity, serial, expiry, host names, and whether the CRL revokes it."""
    from qit4n.kms.pki import describe

    rows = describe(state / "certs")
    if as_json:
        typer.echo(json.dumps(rows, indent=1))
        return
    table = RichTable(title=f"certificates in {state / 'certs'}")
    for column in ("entity", "serial", "not after (UTC)", "names", "revoked"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["entity"], row["serial"], row["not_after"], ", ".join(row["names"]), str(row["revoked"]))
    Console().print(table)
