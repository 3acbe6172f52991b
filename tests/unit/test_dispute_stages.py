"""What each step of a dispute does to the disputed money (server.payments.disputes)."""

from __future__ import annotations

import pytest

from gateways.types import DisputeStatus as S
from server.payments.disputes import money_moved
from server.payments.outcomes import DisputeStage as M


@pytest.mark.parametrize(
    ("before", "after", "moved"),
    [
        (None, S.WARNING_NEEDS_RESPONSE, []),
        (S.WARNING_NEEDS_RESPONSE, S.WARNING_UNDER_REVIEW, []),
        (S.WARNING_UNDER_REVIEW, S.WARNING_CLOSED, []),
        (None, S.NEEDS_RESPONSE, [M.WITHDRAWN]),
        (S.WARNING_NEEDS_RESPONSE, S.NEEDS_RESPONSE, [M.WITHDRAWN]),
        (S.NEEDS_RESPONSE, S.UNDER_REVIEW, []),
        (S.NEEDS_RESPONSE, S.NEEDS_RESPONSE, []),
        (S.UNDER_REVIEW, S.WON, [M.REINSTATED]),
        (S.NEEDS_RESPONSE, S.LOST, [M.LOST]),
        (None, S.LOST, [M.WITHDRAWN, M.LOST]),
        (S.WARNING_UNDER_REVIEW, S.LOST, [M.WITHDRAWN, M.LOST]),
        (None, S.WON, []),
    ],
)
def test_money_moves_once_per_stage(before: S | None, after: S, moved: list[M]) -> None:
    assert money_moved(before, after) == moved
