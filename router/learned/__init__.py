"""The learned router: predicts from the prompt whether the stronger tier is needed.

A small model trained on per-prompt outcomes (did the weak tier answer correctly, did the
strong tier) scores each conversation in pure Python, in microseconds, with no network.
:func:`load_default` returns the model shipped in the package, trained on the train half of
RouteLLM's MMLU and GSM8K outcomes for Mixtral-8x7B vs GPT-4 (see ``docs/learned-routing.md``).

>>> from router.learned import load_default
>>> scorer = load_default()
>>> s = scorer.score(["What is the capital of France?"])
>>> route_strong = s >= scorer.threshold_for_share(0.2)

Modules: :mod:`.features` (what the model reads), :mod:`.model` (scoring), :mod:`.train`
and :mod:`.logistic` (fitting, numpy), :mod:`.metrics` (APGR, CPT), :mod:`.calibrate`
(thresholds for a share),
:mod:`.outcomes` (reading outcomes files), :mod:`.cv` (cross-validation), :mod:`.plot`.
"""

from router.learned.calibrate import achieved_share, threshold_for_share
from router.learned.metrics import RoutingCurve, apgr, cpt, routing_curve
from router.learned.model import LearnedScorer, ModelFileError, load_default
from router.learned.outcomes import Outcome, OutcomesError, read_outcomes

__all__ = [
    "LearnedScorer",
    "ModelFileError",
    "Outcome",
    "OutcomesError",
    "RoutingCurve",
    "achieved_share",
    "apgr",
    "cpt",
    "load_default",
    "read_outcomes",
    "routing_curve",
    "threshold_for_share",
]
