"""Throughput of the threat assessment: Mosca integration and whole inventories (same run).

Usage: ``python benchmarks/bench_threat.py [--quick]``. Prints absolute times and ratios:
the 64 x 64 quantile integration of triangular distributions against point values (the baseline),
and the whole ``assess_inventory`` (risk, deadlines, plan, schedule) per asset.
"""

from __future__ import annotations

import argparse

import numpy as np

from _timing import best_seconds
from qit4n.threat import Triangular, assess_inventory, exposure_probabilities, inventory_from_dict, load_catalog


def _inventory(count: int, rng: np.random.Generator) -> dict:
    algorithms = [
        ["x25519", "ecdsa-p256"],
        ["rsa-2048"],
        ["ecdh-p384", "rsa-3072", "aes-256"],
        ["x25519mlkem768", "ml-dsa-65"],
    ]
    assets = []
    for index in range(count):
        low = float(rng.uniform(0, 10))
        assets.append(
            {
                "name": f"asset-{index}",
                "algorithms": algorithms[index % len(algorithms)],
                "secrecy_lifetime_years": {"low": low, "mode": low + 2, "high": low + 8},
                "migration_time_years": {"low": 1, "mode": 2, "high": 5},
                "risk": ["high", "medium", "low"][index % 3],
            }
        )
    return {"name": "benchmark", "assets": assets}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    options = parser.parse_args()
    calls = 200 if options.quick else 5_000
    assets = 100 if options.quick else 2_000
    repeats = 1 if options.quick else 3
    catalog = load_catalog()
    timeline = catalog.timeline("gri-2023")

    def point_values() -> None:
        for _ in range(calls):
            exposure_probabilities(
                timeline,
                now_year=2026,
                secrecy_years=10.0,
                migration_years=2.0,
                key_exchange_vulnerable=True,
                signature_vulnerable=True,
            )

    secrecy, migration = Triangular(low=5, mode=10, high=20), Triangular(low=1, mode=2, high=4)

    def distributions() -> None:
        for _ in range(calls):
            exposure_probabilities(
                timeline,
                now_year=2026,
                secrecy_years=secrecy,
                migration_years=migration,
                key_exchange_vulnerable=True,
                signature_vulnerable=True,
            )

    baseline = best_seconds(point_values, repeats)
    integrated = best_seconds(distributions, repeats)
    print(
        f"exposure_probabilities, point values (baseline): {calls} calls in {baseline:.3f} s = "
        f"{calls / baseline:,.0f} calls/s"
    )
    print(
        f"exposure_probabilities, triangular x and y (64 x 64 nodes): {calls} calls in {integrated:.3f} s = "
        f"{calls / integrated:,.0f} calls/s"
    )
    print(f"  ratio distributions / point values: {integrated / baseline:.2f}")

    inventory = inventory_from_dict(_inventory(assets, np.random.default_rng(7)))
    policies = ("nist-ir-8547", "cnsa-2.0", "eu-roadmap", "uk-ncsc")
    whole = best_seconds(
        lambda: assess_inventory(inventory, now_year=2026, catalog=catalog, policy_ids=policies), repeats
    )
    print(
        f"assess_inventory: {assets} assets, 4 policies, plan and schedule in {whole:.3f} s = "
        f"{1e3 * whole / assets:.2f} ms per asset"
    )


if __name__ == "__main__":
    main()
