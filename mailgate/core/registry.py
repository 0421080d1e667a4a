"""An explicit registry keyed by a class or object attribute, refusing duplicates.

A registry never changes silently: two components can never claim the same key, and a
lookup of an unknown key is the caller's error to report (at load time, for rules).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str, items: Iterable[T] = (), key: str = "key") -> None:
        self.kind = kind
        self._key = key
        self._items: dict[str, T] = {}
        for item in items:
            self.register(item)

    def register(self, item: T) -> T:
        name: str = getattr(item, self._key)
        if name in self._items:
            raise RuntimeError(f"duplicate {self.kind} {name!r}")
        self._items[name] = item
        return item

    def get(self, name: str) -> T | None:
        return self._items.get(name)

    def __getitem__(self, name: str) -> T:
        return self._items[name]

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def values(self) -> list[T]:
        return list(self._items.values())

    def keys_text(self) -> str:
        return ", ".join(sorted(self._items))
