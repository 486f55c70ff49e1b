"""Entry point for ``python -m qit4n``."""

from qit4n.cli import main

main()
