"""The tier that served each conversation's last turn, for stickiness (bounded, LRU).

Conversations are told apart by team and id: two teams that happen to use the same
conversation id (``"1"``, a user name) never share a tier."""

from __future__ import annotations

import threading
from collections import OrderedDict


class ConversationTiers:
    """Remembers the last tier of up to ``limit`` conversations; thread-safe."""

    def __init__(self, limit: int = 10_000) -> None:
        self._tiers: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def tier(self, team: str, conversation_id: str) -> str | None:
        """The tier of the conversation's last turn, or ``None``."""
        return self._tiers.get((team, conversation_id))

    def remember(self, team: str, conversation_id: str, tier: str) -> None:
        """Note the tier that served a turn of the conversation."""
        key = (team, conversation_id)
        with self._lock:
            self._tiers[key] = tier
            self._tiers.move_to_end(key)
            if len(self._tiers) > self._limit:
                self._tiers.popitem(last=False)
