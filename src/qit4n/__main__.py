"""Entry point for ``python -m qit4n``."""

from qit4n.cli import main

if __name__ == "__main__":
    main()
