"""Keyset pages: what a List* use case takes and gives back, free of any wire format."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 500

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class PageRequest:
    """``size`` items, newest first, strictly older than ``before_id`` when given."""

    size: int = DEFAULT_PAGE_SIZE
    before_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_before_id: str | None
    #: The attribute of an item that the next page continues from.
    id_of: str = "id"

    def first(self, count: int) -> Page[T]:
        """Only the first ``count`` items, the next page continuing after the last of them
        (a page cut short, say to fit a response, loses nothing)."""
        if count >= len(self.items):
            return self
        kept = self.items[:count]
        return Page(items=kept, next_before_id=str(getattr(kept[-1], self.id_of)), id_of=self.id_of)


def page_of(items: Sequence[T], request: PageRequest, *, id_of: str = "id") -> Page[T]:
    """Cut a list fetched with ``size + 1`` rows into a page and its continuation."""
    return Page(items=items, next_before_id=None, id_of=id_of).first(request.size)
