"""Explicit registries of rule conditions and actions, keyed by their TOML key.

A registry refuses duplicates so two modules can never silently claim the same key, and
the loader asks it for a class by key: an unknown key is a load-time error, never ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, type[T]] = {}

    def register(self, cls: type[T]) -> type[T]:
        key: str = cls.key  # type: ignore[attr-defined]
        if key in self._items:
            raise RuntimeError(f"duplicate {self.kind} {key!r}")
        self._items[key] = cls
        return cls

    def get(self, key: str) -> type[T] | None:
        return self._items.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def keys_text(self) -> str:
        return ", ".join(sorted(self._items))


def registrar(registry: Registry[T]) -> Callable[[type[T]], type[T]]:
    return registry.register
