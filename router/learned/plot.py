"""Draw quality-versus-strong-share curves, with the random and oracle lines (matplotlib).

matplotlib is optional: it is imported only here, and only when a plot is asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from router.errors import RouterError
from router.learned.metrics import RoutingCurve

__all__ = ["plot_curves", "require_matplotlib"]


def require_matplotlib() -> None:
    """Fail early, with the fix, when matplotlib is not installed."""
    try:
        import matplotlib  # noqa: F401
    except ModuleNotFoundError:
        raise RouterError("--plot needs matplotlib: pip install matplotlib") from None


def plot_curves(panels: Sequence[tuple[str, RoutingCurve, RoutingCurve]], path: str | Path) -> None:
    """Write one panel per ``(title, router curve, oracle curve)`` to the image ``path``."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ModuleNotFoundError:
        raise RouterError("--plot needs matplotlib: pip install matplotlib") from None
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4), squeeze=False)
    for ax, (title, curve, oracle) in zip(axes[0], panels, strict=False):
        xs, ys = zip(*curve.points, strict=False)
        ax.plot(xs, ys, label=f"router (APGR {curve.apgr():.3f})", color="tab:blue")
        oxs, oys = zip(*oracle.points, strict=False)
        ax.plot(oxs, oys, label="oracle", color="tab:green", linestyle=":")
        ax.plot(
            [0, 1],
            [curve.weak_accuracy, curve.strong_accuracy],
            label="random",
            color="grey",
            linestyle="--",
        )
        ax.axhline(curve.strong_accuracy, color="tab:red", linewidth=0.8, alpha=0.5)
        ax.axhline(curve.weak_accuracy, color="tab:orange", linewidth=0.8, alpha=0.5)
        ax.set_title(title)
        ax.set_xlabel("share of calls to the strong tier")
        ax.set_ylabel("accuracy")
        ax.set_xlim(0, 1)
        ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    try:
        fig.savefig(path)
    except OSError as exc:
        raise RouterError(f"{path}: cannot write plot ({exc.strerror or exc})") from None
    finally:
        plt.close(fig)
