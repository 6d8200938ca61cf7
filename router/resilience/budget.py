"""Team budgets, enforced atomically under concurrency through a small store interface.

Before a call to a backend that costs money, the router *reserves* the call's worst-case
cost (prompt tokens plus the output allowance, at the backend's prices) against every
budget period of the team; the reservation succeeds only if it fits under each limit,
counting what other in-flight requests have reserved. After the call it *settles*: the
reservation is released and the actual cost (from measured usage) is charged. So many
concurrent requests cannot together overspend: at most, actual usage above its estimate.

:class:`MemoryBudgetStore` keeps the books in this process. A store shared by many
processes (Redis, PostgreSQL) implements the same three methods.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from router.policy.load import TeamPolicy


class BudgetStore(Protocol):
    """Where spend is kept. ``try_reserve`` must be atomic across all ``limits``."""

    def try_reserve(self, limits: Sequence[tuple[str, float]], amount: float) -> bool:
        """Reserve ``amount`` under every (key, limit) pair, or under none."""
        ...

    def settle(self, keys: Sequence[str], reserved: float, actual: float) -> None:
        """Release ``reserved`` and charge ``actual`` on every key."""
        ...

    def used(self, key: str) -> float:
        """Charged plus reserved on ``key``."""
        ...


class MemoryBudgetStore:
    """An in-process :class:`BudgetStore` guarded by one lock."""

    def __init__(self) -> None:
        self._charged: dict[str, float] = {}
        self._reserved: dict[str, float] = {}
        self._lock = threading.Lock()

    def try_reserve(self, limits: Sequence[tuple[str, float]], amount: float) -> bool:
        with self._lock:
            for key, limit in limits:
                if self._charged.get(key, 0.0) + self._reserved.get(key, 0.0) + amount > limit:
                    return False
            for key, _ in limits:
                self._reserved[key] = self._reserved.get(key, 0.0) + amount
            return True

    def settle(self, keys: Sequence[str], reserved: float, actual: float) -> None:
        with self._lock:
            for key in keys:
                self._reserved[key] = max(0.0, self._reserved.get(key, 0.0) - reserved)
                self._charged[key] = self._charged.get(key, 0.0) + actual

    def used(self, key: str) -> float:
        with self._lock:
            return self._charged.get(key, 0.0) + self._reserved.get(key, 0.0)

    def charged(self, key: str) -> float:
        with self._lock:
            return self._charged.get(key, 0.0)


@dataclass(slots=True)
class Reservation:
    keys: tuple[str, ...]
    amount: float


_NOTHING_RESERVED = Reservation((), 0.0)


class Budgets:
    """The team budgets of a router: period keys, reservations and settlement.

    Periods are UTC days (``team:daily:2026-11-22``) and months (``team:monthly:2026-11``).
    """

    def __init__(
        self, store: BudgetStore | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.store: BudgetStore = store if store is not None else MemoryBudgetStore()
        self._clock = clock

    def _limits(self, team: TeamPolicy) -> list[tuple[str, float, str]]:
        cost = team.policy.cost
        if cost.daily_budget_usd is None and cost.monthly_budget_usd is None:
            return []
        now = time.gmtime(self._clock())
        out = []
        if cost.daily_budget_usd is not None:
            day = time.strftime("%Y-%m-%d", now)
            out.append((f"{team.team}:daily:{day}", cost.daily_budget_usd, "daily"))
        if cost.monthly_budget_usd is not None:
            month = time.strftime("%Y-%m", now)
            out.append((f"{team.team}:monthly:{month}", cost.monthly_budget_usd, "monthly"))
        return out

    def shortfall(self, team: TeamPolicy, amount: float) -> tuple[str, float, float] | None:
        """The first period that cannot take ``amount`` more: its name, its limit and what
        is left of it; ``None`` when every period can."""
        for key, limit, period in self._limits(team):
            used = self.store.used(key)
            if used + amount > limit:
                return period, limit, max(limit - used, 0.0)
        return None

    def left(self, team: TeamPolicy) -> tuple[str, float] | None:
        """The period with the least left and that amount (``None`` without a budget)."""
        least: tuple[str, float] | None = None
        for key, limit, period in self._limits(team):
            left = max(limit - self.store.used(key), 0.0)
            if least is None or left < least[1]:
                least = (period, left)
        return least

    def exhausted(self, team: TeamPolicy) -> str | None:
        """The first budget period that is fully used ("daily" or "monthly"), if any."""
        return spent_period(self.left(team))

    def reserve(self, team: TeamPolicy, amount: float) -> Reservation | None:
        """Reserve ``amount`` under every period, or return ``None`` if it does not fit."""
        limits = self._limits(team)
        if not limits or amount <= 0:
            return _NOTHING_RESERVED
        if not self.store.try_reserve([(k, lim) for k, lim, _ in limits], amount):
            return None
        return Reservation(tuple(k for k, _, _ in limits), amount)

    def settle(self, reservation: Reservation, actual: float) -> None:
        if reservation.keys:
            self.store.settle(reservation.keys, reservation.amount, actual)

    def spent(self, team: TeamPolicy) -> dict[str, float]:
        """Used amount (charged plus reserved) per period."""
        return {period: self.store.used(key) for key, _, period in self._limits(team)}


def spent_period(least: tuple[str, float] | None) -> str | None:
    """The period of :meth:`Budgets.left`'s answer when nothing is left of it, else ``None``."""
    return least[0] if least is not None and least[1] <= 0 else None
