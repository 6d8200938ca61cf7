"""The tier that served each conversation's last turn, for stickiness (bounded, LRU)."""

from __future__ import annotations

import threading
from collections import OrderedDict


class ConversationTiers:
    """Remembers the last tier of up to ``limit`` conversations; thread-safe."""

    def __init__(self, limit: int = 10_000) -> None:
        self._tiers: OrderedDict[str, str] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def tier(self, conversation_id: str) -> str | None:
        return self._tiers.get(conversation_id)

    def remember(self, conversation_id: str, tier: str) -> None:
        with self._lock:
            self._tiers[conversation_id] = tier
            self._tiers.move_to_end(conversation_id)
            if len(self._tiers) > self._limit:
                self._tiers.popitem(last=False)
