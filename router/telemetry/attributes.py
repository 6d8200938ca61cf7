"""Every attribute, event and metric name the router's telemetry emits, in one place.

Two families:

- ``gen_ai.*``, ``server.*`` and ``error.type``: the OpenTelemetry GenAI semantic
  conventions. We define the strings ourselves instead of importing the deprecated
  ``gen_ai`` constants of ``opentelemetry-semantic-conventions``.
- ``hybrid_router.*``: our own namespace for the routing step, which the conventions do not
  cover. It is versioned by :data:`SCHEMA_VERSION`, set on every request span as
  ``hybrid_router.schema_version``; a rename or a change of meaning bumps it. Each name is
  documented in ``docs/telemetry.md``.

No name here ever carries prompt text, completion text or a detected value: only names,
counts, types and numbers (content capture, opt-in, is the one exception; see
:mod:`router.telemetry.content`).
"""

from __future__ import annotations

from typing import Final

INSTRUMENTATION_NAME: Final = "hybrid-router"
SCHEMA_VERSION: Final = "1"

# --- GenAI semantic conventions ------------------------------------------------------------

GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
GEN_AI_CONVERSATION_ID: Final = "gen_ai.conversation.id"
GEN_AI_OUTPUT_TYPE: Final = "gen_ai.output.type"
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
GEN_AI_REQUEST_TOP_P: Final = "gen_ai.request.top_p"
GEN_AI_REQUEST_STOP_SEQUENCES: Final = "gen_ai.request.stop_sequences"
GEN_AI_REQUEST_SEED: Final = "gen_ai.request.seed"
GEN_AI_REQUEST_STREAM: Final = "gen_ai.request.stream"
GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: Final = "gen_ai.response.time_to_first_chunk"
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.usage.reasoning.output_tokens"
GEN_AI_TOKEN_TYPE: Final = "gen_ai.token.type"
GEN_AI_INPUT_MESSAGES: Final = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
ERROR_TYPE: Final = "error.type"

OPERATION_CHAT: Final = "chat"
PROVIDER_OPENAI: Final = "openai"
PROVIDER_LLAMA_CPP: Final = "llama_cpp"
OUTPUT_TEXT: Final = "text"
OUTPUT_JSON: Final = "json"
TOKEN_INPUT: Final = "input"
TOKEN_OUTPUT: Final = "output"

CAPTURE_CONTENT_ENV: Final = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"

# --- hybrid_router.*: the routing step (schema version 1) -----------------------------------

_NS = "hybrid_router."

SCHEMA: Final = _NS + "schema_version"
TEAM: Final = _NS + "team"
POLICY_NAME: Final = _NS + "policy.name"
POLICY_VERSION: Final = _NS + "policy.version"
POLICY_REVISION: Final = _NS + "policy.revision"
POLICY_HASH: Final = _NS + "policy.hash"
REQUEST_STREAM: Final = _NS + "request.stream"

CLASS_TASK: Final = _NS + "classification.task"
CLASS_COMPLEXITY: Final = _NS + "classification.complexity"
CLASS_TOKENS: Final = _NS + "classification.tokens"
CLASS_SCORER: Final = _NS + "classification.scorer"
CLASS_DATA_CLASSES: Final = _NS + "classification.data_classes"
CLASS_DETECTIONS: Final = _NS + "classification.detections"
CLASS_LABEL_KEYS: Final = _NS + "classification.label_keys"

DECISION_DURATION: Final = _NS + "decision.duration"
DECISION_REQUIRED_TIER: Final = _NS + "decision.required_tier"
DECISION_BACKEND: Final = _NS + "decision.backend"
DECISION_TIER: Final = _NS + "decision.tier"
DECISION_ZONE: Final = _NS + "decision.zone"
DECISION_REASONS: Final = _NS + "decision.reasons"
CANDIDATES_RANKED: Final = _NS + "candidates.ranked"
CANDIDATES_EXCLUDED: Final = _NS + "candidates.excluded"
CANDIDATES_EXCLUDED_REASONS: Final = _NS + "candidates.excluded_reasons"
PRIVACY_BLOCKED: Final = _NS + "privacy.blocked"
PRIVACY_LOCAL_ONLY: Final = _NS + "privacy.local_only"
PRIVACY_REDACT_CLASSES: Final = _NS + "privacy.redact_classes"

COST_ESTIMATED: Final = _NS + "cost.estimated_usd"
COST_ACTUAL: Final = _NS + "cost.actual_usd"
ATTEMPTS: Final = _NS + "attempts"
RETRIES: Final = _NS + "retries"
FALLBACKS: Final = _NS + "fallbacks"
OUTCOME: Final = _NS + "outcome"
RESPONSE_BACKEND: Final = _NS + "response.backend"
RESPONSE_TIER: Final = _NS + "response.tier"
RESPONSE_ZONE: Final = _NS + "response.zone"

# On inference (attempt) spans and as metric attributes: the backend this is about.
BACKEND: Final = _NS + "backend"
TIER: Final = _NS + "tier"
ZONE: Final = _NS + "zone"
ATTEMPT_INDEX: Final = _NS + "attempt.index"
ATTEMPT_RETRY: Final = _NS + "attempt.retry"
ATTEMPT_REDACTED: Final = _NS + "attempt.redacted_values"
USAGE_ESTIMATED: Final = _NS + "usage.estimated"

# Event attributes.
RETRY_DELAY: Final = _NS + "retry.delay_s"
FALLBACK_TO: Final = _NS + "fallback.to"
CIRCUIT_FROM: Final = _NS + "circuit.from"
CIRCUIT_STATE: Final = _NS + "circuit.state"
BUDGET_PERIOD: Final = _NS + "budget.period"
REDACTION_CLASSES: Final = _NS + "redaction.data_classes"
REDACTION_COUNTS: Final = _NS + "redaction.counts"
REDACTION_TOTAL: Final = _NS + "redaction.total"
DATA_CLASS: Final = _NS + "data_class"

OUTCOME_OK: Final = "ok"
OUTCOME_ERROR: Final = "error"
OUTCOME_CANCELLED: Final = "cancelled"

# --- span and event names --------------------------------------------------------------------

ROUTE_SPAN_PREFIX: Final = "route"
EVENT_RETRY: Final = _NS + "retry"
EVENT_FALLBACK: Final = _NS + "fallback"
EVENT_STREAM_RESTART: Final = _NS + "stream_restart"
EVENT_CIRCUIT: Final = _NS + "circuit_changed"
EVENT_BUDGET_DEGRADED: Final = _NS + "budget_degraded"
EVENT_REDACTION: Final = _NS + "redaction"

# --- metrics ---------------------------------------------------------------------------------

METRIC_OPERATION_DURATION: Final = "gen_ai.client.operation.duration"
METRIC_TOKEN_USAGE: Final = "gen_ai.client.token.usage"
METRIC_REQUESTS: Final = _NS + "requests"
METRIC_FALLBACKS: Final = _NS + "fallbacks"
METRIC_RETRIES: Final = _NS + "retries"
METRIC_COST: Final = _NS + "cost"
METRIC_DECISION_DURATION: Final = _NS + "decision.duration"
METRIC_QUEUE_DEPTH: Final = _NS + "backend.queue_depth"
METRIC_CIRCUIT_CHANGES: Final = _NS + "circuit.changes"
METRIC_REDACTIONS: Final = _NS + "redactions"
METRIC_BUDGET_DEGRADED: Final = _NS + "budget.degraded"

# Advisory bucket boundaries. The two GenAI ones are those of the conventions.
DURATION_BUCKETS: Final = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip
TOKEN_BUCKETS: Final = tuple(4**i for i in range(14))  # 1, 4, 16, ... 67108864
DECISION_BUCKETS: Final = (
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05, 0.1,
)  # fmt: skip
