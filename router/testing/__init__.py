"""Tools for testing applications and policies that use the router.

- :class:`router.backends.fake.FakeBackend`: a scripted backend, no model, no network.
- :class:`router.testing.faultserver.FaultServer`: a fault-injecting OpenAI-compatible
  server on 127.0.0.1, to test real HTTP backends against refusals, 429s, 500s, cut
  streams and hangs.
"""

from router.testing.faultserver import FAULTS, FaultServer

__all__ = ["FAULTS", "FaultServer"]
