"""hybrid-router: send each chat request to the right model, by team policy, and say why.

>>> from router import FakeBackend, Router
>>> router = Router([FakeBackend("local-small", reply="Bonjour !")])
>>> router.chat("Say hello in French").route.backend
'local-small'
"""

from router.backends.base import Backend, Health
from router.backends.fake import FakeBackend
from router.classify import Classification, Classifier, ComplexityScorer, Detection
from router.completion import ChatCompletion, ChatCompletionChunk, Usage
from router.config import BackendSpec, Capabilities, Price, RouterConfig, load_config
from router.core import Router
from router.decision import BackendState, Candidate, Decision, decide
from router.errors import (
    AllAttemptsFailed,
    AuthenticationFailed,
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    BadRequest,
    BudgetExceeded,
    ConfigError,
    ContentRefused,
    ContextTooLong,
    DeadlineExceeded,
    InvalidRequest,
    MalformedResponse,
    ModelFileError,
    NoRouteAvailable,
    OutcomesError,
    PolicyError,
    PrivacyGuardTripped,
    RateLimited,
    RouterClosed,
    RouterError,
    ServerError,
    StreamInterrupted,
    UnknownTeam,
)
from router.explanation import Explanation
from router.messages import ChatRequest, parse_request
from router.observe import Observer, RequestContext
from router.policy import Policy, PolicySet, TeamPolicy, load_policy
from router.route import Attempt, RouteRecord

__version__ = "0.1.0"

__all__ = [
    "AllAttemptsFailed",
    "Attempt",
    "AuthenticationFailed",
    "Backend",
    "BackendError",
    "BackendSpec",
    "BackendState",
    "BackendTimeout",
    "BackendUnavailable",
    "BadRequest",
    "BudgetExceeded",
    "Candidate",
    "Capabilities",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatRequest",
    "Classification",
    "Classifier",
    "ComplexityScorer",
    "ConfigError",
    "ContentRefused",
    "ContextTooLong",
    "DeadlineExceeded",
    "Decision",
    "Detection",
    "Explanation",
    "FakeBackend",
    "Health",
    "InvalidRequest",
    "MalformedResponse",
    "ModelFileError",
    "NoRouteAvailable",
    "Observer",
    "OutcomesError",
    "Policy",
    "PolicyError",
    "PolicySet",
    "Price",
    "PrivacyGuardTripped",
    "RateLimited",
    "RequestContext",
    "RouteRecord",
    "Router",
    "RouterClosed",
    "RouterConfig",
    "RouterError",
    "ServerError",
    "StreamInterrupted",
    "TeamPolicy",
    "UnknownTeam",
    "Usage",
    "decide",
    "load_config",
    "load_policy",
    "parse_request",
]
