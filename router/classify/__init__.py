"""Classification: personal and secret data, task, complexity and size of a request."""

from router.classify.classifier import Classifier, estimate_tokens
from router.classify.complexity import ComplexityScorer, HeuristicScorer
from router.classify.types import DATA_CLASSES, TASKS, Classification, DataClass, Detection, Task

__all__ = [
    "DATA_CLASSES",
    "TASKS",
    "Classification",
    "Classifier",
    "ComplexityScorer",
    "DataClass",
    "Detection",
    "HeuristicScorer",
    "Task",
    "estimate_tokens",
]
