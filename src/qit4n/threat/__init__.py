"""Quantum threat to network cryptography: a cited catalog, Mosca risk, inventory and migration planning."""
