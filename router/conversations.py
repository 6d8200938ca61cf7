"""The tier each conversation's last turn required, for stickiness (bounded, LRU).

Conversations are told apart by team and id: two teams that happen to use the same
conversation id (``"1"``, a user name) never share a tier, and each team has its own
bound, so one busy team cannot push the others' conversations out."""

from __future__ import annotations

import threading
from collections import OrderedDict

DEFAULT_LIMIT = 10_000
"""Conversations remembered per team (least recently used dropped first)."""


class ConversationTiers:
    """Remembers the last tier of up to ``limit`` conversations per team; thread-safe."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._teams: dict[str, OrderedDict[str, str]] = {}
        self._limit = limit
        self._lock = threading.Lock()

    def tier(self, team: str, conversation_id: str) -> str | None:
        """The tier of the conversation's last turn, or ``None``."""
        tiers = self._teams.get(team)
        return tiers.get(conversation_id) if tiers is not None else None

    def remember(self, team: str, conversation_id: str, tier: str) -> None:
        """Note the tier a turn of the conversation required."""
        with self._lock:
            tiers = self._teams.setdefault(team, OrderedDict())
            tiers[conversation_id] = tier
            tiers.move_to_end(conversation_id)
            if len(tiers) > self._limit:
                tiers.popitem(last=False)

    def __len__(self) -> int:
        return sum(len(t) for t in self._teams.values())
