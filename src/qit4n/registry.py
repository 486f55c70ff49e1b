"""One extension pattern: a small typed registry of named members of one family.

Every extensible family of qit4n (protocols, reconcilers, hash families, emulators, heralding
schemes, key supplies, report sections) is a :class:`Registry`. A member is found by name; an
unknown name raises :class:`~qit4n.errors.ParameterError` listing the valid ones, and
:meth:`Registry.names` feeds ``--help``.

Members come from three places, in this order of precedence:

1. :meth:`Registry.register` (also a decorator), for members defined next to the registry or by a
   user's own code;
2. :meth:`Registry.register_lazy`, ``"package.module:attribute"`` imported on first use, so that a
   family can list many members without importing them all. A lazy target names a module of the
   registering package, never a higher one;
3. the package entry-point group ``entry_point_group`` (``[project.entry-points."qit4n.protocols"]``
   in a ``pyproject.toml``), so that a higher package or a third-party distribution adds members
   without the lower package naming it (the pattern of pytest plugins and Dask backends).

>>> from qit4n.registry import Registry
>>> greetings: Registry[str] = Registry("greeting")
>>> _ = greetings.register("hello", "Hello, world")
>>> greetings.get("hello")
'Hello, world'
>>> greetings.get("bye")
Traceback (most recent call last):
...
qit4n.errors.ParameterError: greeting = 'bye': must be one of hello
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar, overload

from qit4n.errors import ParameterError

__all__ = ["Registry"]

MemberT = TypeVar("MemberT")


class Registry(Generic[MemberT]):
    """Named members of one extension family (see the module docstring).

    Parameters
    ----------
    family : str
        What a member is, as a user names it in an error: ``"protocol"``, ``"reconciler"``.
    entry_point_group : str or None
        Package entry-point group whose entries are members too (loaded on first use).
    """

    def __init__(self, family: str, *, entry_point_group: str | None = None) -> None:
        self.family = family
        self.entry_point_group = entry_point_group
        self._members: dict[str, MemberT] = {}
        self._lazy: dict[str, str] = {}
        self._order: list[str] = []
        self._entry_points_read = False

    @overload
    def register(self, name: str) -> Callable[[MemberT], MemberT]: ...

    @overload
    def register(self, name: str, member: MemberT) -> MemberT: ...

    def register(self, name: str, member: Any = None) -> Any:
        """Add ``member`` as ``name`` (or, without ``member``, return a decorator that does).

        Raises :class:`ParameterError` when ``name`` is taken: members are never replaced
        silently (call :meth:`unregister` first).
        """
        if member is None:

            def decorator(decorated: MemberT) -> MemberT:
                return self.register(name, decorated)

            return decorator
        self._check_free(name)
        self._members[name] = member
        self._order.append(name)
        return member

    def register_lazy(self, name: str, target: str) -> None:
        """Add the member ``"package.module:attribute"`` as ``name``, imported on first use."""
        module_name, _, attribute = target.partition(":")
        if not module_name or not attribute:
            raise ParameterError(f"{self.family} target = {target!r}: must read 'package.module:attribute'")
        self._check_free(name)
        self._lazy[name] = target
        self._order.append(name)

    def unregister(self, name: str) -> None:
        """Remove ``name`` (a no-op when it is not registered)."""
        self._members.pop(name, None)
        self._lazy.pop(name, None)
        if name in self._order:
            self._order.remove(name)

    def get(self, name: str) -> MemberT:
        """The member called ``name``; :class:`ParameterError` lists the valid names."""
        if name in self._members:
            return self._members[name]
        self._read_entry_points()
        target = self._lazy.get(name)
        if target is None:
            raise ParameterError(f"{self.family} = {name!r}: must be one of {', '.join(self.names())}")
        module_name, _, attribute = target.partition(":")
        member: MemberT = getattr(importlib.import_module(module_name), attribute)
        self._members[name] = member
        del self._lazy[name]
        return member

    def names(self) -> list[str]:
        """Every registered name, in registration order (entry points after the members registered by code)."""
        self._read_entry_points()
        return list(self._order)

    def __contains__(self, name: object) -> bool:
        self._read_entry_points()
        return name in self._members or name in self._lazy

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def _check_free(self, name: str) -> None:
        if not name:
            raise ParameterError(f"{self.family} name = {name!r}: must be a non-empty string")
        if name in self._members or name in self._lazy:
            raise ParameterError(f"{self.family} = {name!r}: already registered")

    def _read_entry_points(self) -> None:
        if self._entry_points_read or self.entry_point_group is None:
            return
        self._entry_points_read = True
        for entry in entry_points(group=self.entry_point_group):
            if entry.name not in self._members and entry.name not in self._lazy:
                self._lazy[entry.name] = entry.value
                self._order.append(entry.name)
