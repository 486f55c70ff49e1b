"""The one extension pattern: registration, lazy members, errors that list the names."""

from __future__ import annotations

import pytest

from qit4n.errors import ParameterError
from qit4n.registry import Registry


def test_members_are_found_by_name_in_registration_order() -> None:
    family: Registry[int] = Registry("widget")
    family.register("one", 1)

    @family.register("two")
    def two() -> int:
        return 2

    assert family.get("one") == 1 and family.get("two") is two
    assert family.names() == ["one", "two"] and "two" in family and len(family) == 2


def test_unknown_and_duplicate_names_are_refused_with_the_valid_names() -> None:
    family: Registry[int] = Registry("widget")
    family.register("one", 1)
    with pytest.raises(ParameterError, match=r"widget = 'three': must be one of one"):
        family.get("three")
    with pytest.raises(ParameterError, match="already registered"):
        family.register("one", 11)
    family.unregister("one")
    family.register("one", 11)
    assert family.get("one") == 11


def test_lazy_members_are_imported_on_first_use() -> None:
    family: Registry[object] = Registry("function")
    family.register_lazy("entropy", "qit4n.maths:binary_entropy")
    from qit4n.maths import binary_entropy

    family.register("after", 1)
    assert family.names() == ["entropy", "after"]
    assert family.get("entropy") is binary_entropy
    assert family.names() == ["entropy", "after"], "loading a lazy member keeps the registration order"
    with pytest.raises(ParameterError, match=r"package\.module:attribute"):
        family.register_lazy("bad", "qit4n.maths")
