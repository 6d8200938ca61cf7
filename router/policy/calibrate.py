"""Turn policies that state a share of traffic per tier into thresholds for a scorer."""

from __future__ import annotations

from typing import Any

from router import errors
from router.policy.load import PolicySet, TeamPolicy


def calibrate_policies(policies: PolicySet, scorer: Any) -> PolicySet:
    """``policies`` with shares turned into thresholds for ``scorer`` (which converts with
    ``threshold_for_share``). An uncalibrated scorer uses the policies' thresholds, which
    must then be stated in the policy (or a policy it extends)."""
    convert = getattr(scorer, "threshold_for_share", None)
    out = []
    for team in policies.values():
        quality = team.policy.quality
        shares = quality.shares
        if shares is None or (shares.large is None and shares.proprietary is None):
            out.append(team)
            continue
        if convert is None:
            if "thresholds" not in quality.model_fields_set:
                raise errors.PolicyError(
                    f"quality.shares needs a calibrated scorer; {scorer.name!r} is not",
                    file=team.source,
                    hint="state quality.thresholds as well (they apply to such scorers)",
                )
            out.append(team)
            continue
        update = {
            tier: float(convert(share))  # unrounded: the threshold may be a score itself
            for tier, share in (("large", shares.large), ("proprietary", shares.proprietary))
            if share is not None
        }
        thresholds = quality.thresholds.model_copy(update=update)
        policy = team.policy.model_copy(
            update={"quality": quality.model_copy(update={"thresholds": thresholds})}
        )
        out.append(TeamPolicy(team.team, policy, team.source, team.sha256, team.chain))
    return PolicySet(out)
