"""Team policies: the file format, loading with ``extends``, and the JSON Schema."""

from router.policy.load import PolicySet, TeamPolicy, builtin_default, load_policy
from router.policy.model import TIER_RANK, TIERS, Policy, PrivacyAction, Tier

__all__ = [
    "TIERS",
    "TIER_RANK",
    "Policy",
    "PolicySet",
    "PrivacyAction",
    "TeamPolicy",
    "Tier",
    "builtin_default",
    "load_policy",
]
