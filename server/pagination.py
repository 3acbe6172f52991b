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


def page_of(items: Sequence[T], request: PageRequest, *, id_of: str = "id") -> Page[T]:
    """Cut a list fetched with ``size + 1`` rows into a page and its continuation."""
    if len(items) <= request.size:
        return Page(items=items, next_before_id=None)
    kept = items[: request.size]
    return Page(items=kept, next_before_id=str(getattr(kept[-1], id_of)))
