"""L2-regularised logistic regression on sparse rows, fitted with L-BFGS (training only).

Needs numpy, which only training does: inference in :mod:`router.learned.model` is pure
Python. Rows are given in compressed sparse row form (``indptr``, ``indices``, ``values``);
column ``0`` is treated as the intercept and is not penalised.

The objective is ``mean(log(1 + exp(-y * z))) + l2 / 2 * ||w[1:]||^2`` with ``y`` in {-1, +1}.
It is smooth and strictly convex, so the result depends only on the data and ``l2``: no
random initialisation, no shuffling, the same weights on every run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["SparseRows", "fit_logistic", "require_numpy"]


def require_numpy() -> Any:
    """Import numpy, or explain that training needs it (inference does not)."""
    try:
        import numpy
    except ModuleNotFoundError:  # pragma: no cover - numpy is in the dev and train extras
        from router.errors import RouterError

        raise RouterError(
            "training a learned router needs numpy: pip install 'hybrid-router[train]' "
            "(scoring with a trained model does not)"
        ) from None
    return numpy


@dataclass
class SparseRows:
    """A sparse matrix in CSR form, with the row index of every stored value precomputed."""

    indptr: Any
    indices: Any
    values: Any
    n_cols: int

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1

    def __post_init__(self) -> None:
        np = require_numpy()
        self.rows = np.repeat(np.arange(self.n_rows), np.diff(self.indptr))

    def dot(self, w: Any) -> Any:
        """``X @ w``."""
        np = require_numpy()
        return np.bincount(self.rows, weights=self.values * w[self.indices], minlength=self.n_rows)

    def tdot(self, g: Any) -> Any:
        """``X.T @ g``."""
        np = require_numpy()
        return np.bincount(self.indices, weights=self.values * g[self.rows], minlength=self.n_cols)


def _objective(X: SparseRows, y: Any, l2: float) -> Callable[[Any], tuple[float, Any]]:
    np = require_numpy()
    n = X.n_rows
    if not np.all((y == 0) | (y == 1)):
        return _soft_objective(X, y, l2)
    sign = np.where(y > 0, 1.0, -1.0)

    def f(w: Any) -> tuple[float, Any]:
        z = X.dot(w) * sign
        loss = np.logaddexp(0.0, -z).mean()
        # d/dz log(1+exp(-z)) = -sigmoid(-z)
        g_rows = -sign * np.exp(-np.logaddexp(0.0, z)) / n
        grad = X.tdot(g_rows)
        reg = w.copy()
        reg[0] = 0.0
        return float(loss + 0.5 * l2 * reg @ reg), grad + l2 * reg

    return f


def _soft_objective(X: SparseRows, y: Any, l2: float) -> Callable[[Any], tuple[float, Any]]:
    """Cross-entropy against targets in [0, 1] (soft labels)."""
    np = require_numpy()
    n = X.n_rows

    def f(w: Any) -> tuple[float, Any]:
        z = X.dot(w)
        loss = (np.logaddexp(0.0, z) - y * z).mean()
        grad = X.tdot((np.exp(-np.logaddexp(0.0, -z)) - y) / n)
        reg = w.copy()
        reg[0] = 0.0
        return float(loss + 0.5 * l2 * reg @ reg), grad + l2 * reg

    return f


def fit_logistic(
    X: SparseRows,
    y: Any,
    l2: float,
    *,
    max_iter: int = 200,
    tol: float = 1e-6,
    memory: int = 7,
) -> Any:
    """Fit weights (column 0 the intercept) by L-BFGS with a backtracking line search."""
    np = require_numpy()
    f = _objective(X, y, l2)
    w = np.zeros(X.n_cols)
    p = float(np.clip(np.mean(y), 1e-3, 1 - 1e-3))
    w[0] = np.log(p / (1 - p))
    value, grad = f(w)
    if not (np.isfinite(value) and np.isfinite(grad).all()):
        raise ValueError("logistic fit: the features or the L2 strength are not finite")
    s_hist: list[Any] = []
    y_hist: list[Any] = []
    for _ in range(max_iter):
        # Two-loop recursion: direction = -H * grad.
        q = grad.copy()
        alphas = []
        for s, yv in zip(reversed(s_hist), reversed(y_hist), strict=False):
            a = (s @ q) / (yv @ s)
            alphas.append(a)
            q -= a * yv
        if s_hist:
            q *= (s_hist[-1] @ y_hist[-1]) / (y_hist[-1] @ y_hist[-1])
        for (s, yv), a in zip(zip(s_hist, y_hist, strict=False), reversed(alphas), strict=False):
            b = (yv @ q) / (yv @ s)
            q += (a - b) * s
        direction = -q
        slope = grad @ direction
        if slope >= 0:  # not a descent direction: restart from steepest descent
            s_hist.clear()
            y_hist.clear()
            direction = -grad
            slope = grad @ direction
        step = 1.0 if s_hist else 1.0 / max(np.linalg.norm(grad), 1.0)
        while True:
            w_new = w + step * direction
            v_new, g_new = f(w_new)
            if v_new <= value + 1e-4 * step * slope or step < 1e-12:
                break
            step *= 0.5
        if not np.isfinite(v_new):  # no step keeps the loss finite: stop where it was
            break
        s_vec, y_vec = w_new - w, g_new - grad
        if s_vec @ y_vec > 1e-12:
            s_hist.append(s_vec)
            y_hist.append(y_vec)
            if len(s_hist) > memory:
                s_hist.pop(0)
                y_hist.pop(0)
        improvement = value - v_new
        w, value, grad = w_new, v_new, g_new
        if improvement <= tol * max(abs(value), 1.0) and np.abs(grad).max() < 1e-5:
            break
    return w
