"""``hybrid-router train``, ``calibrate`` and ``eval``: the learned router's life cycle.

* ``train --outcomes FILE... --out MODEL`` fits a model on per-prompt outcomes (progress on
  stderr). Needs numpy (the ``train`` extra); scoring with the model does not.
* ``calibrate --outcomes FILE --target-strong-share 0.2`` finds the threshold that sends that
  share of the file's prompts to the strong tier.
* ``eval --outcomes FILE... [--model MODEL] [--json] [--plot curve.png] [--cv K]`` prints APGR,
  CPT(50%), CPT(80%) and both tiers' accuracy per file, for the shipped model, a given model,
  or (``--cv``) a model cross-validated on the files themselves, trained with the knobs
  ``--c``, ``--word-min-rows``, ``--dense-scale`` and ``--segment-min-df`` when given.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

from router.cli.common import writable_file
from router.cli.main import UsageError

_OUTCOMES_HELP = "outcomes file(s), JSON lines with prompt, weak_correct, strong_correct"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a learned router on per-prompt outcomes",
        description="Train the learned router. Output .gz is gzip'd JSON; anything else JSON.",
    )
    p.add_argument("--outcomes", nargs="+", required=True, metavar="FILE", help=_OUTCOMES_HELP)
    p.add_argument("--out", required=True, metavar="MODEL", help="where to write the model")
    p.add_argument("--seed", type=int, default=0, help="seed of the share-table folds")
    p.add_argument("--c", type=float, default=None, help="inverse L2 strength (default: 0.3)")
    p.add_argument(
        "--word-min-rows",
        type=int,
        default=None,
        metavar="N",
        help="a segment (multiple-choice or free-form) with fewer prompts is scored without "
        "words (default: 100)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=run_train)

    p = sub.add_parser(
        "calibrate",
        help="find the threshold for a target share of strong-tier calls",
        description="Score the prompts of the outcomes files and find the threshold that sends "
        "the target share of them to the strong tier; report the share and accuracy reached, "
        "and the threshold the model's own share table gives for that share.",
    )
    p.add_argument("--outcomes", nargs="+", required=True, metavar="FILE", help=_OUTCOMES_HELP)
    p.add_argument(
        "--target-strong-share",
        type=float,
        required=True,
        metavar="SHARE",
        help="share of prompts to send to the strong tier, in [0, 1]",
    )
    p.add_argument("--model", metavar="MODEL", help="model file (default: the shipped model)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_calibrate)

    p = sub.add_parser(
        "eval",
        help="evaluate a learned router: APGR and CPT per outcomes file",
        description=(
            "Prints APGR, CPT(50%), CPT(80%), weak and strong accuracy per file. "
            "With --cv K the model is cross-validated on the files (pooled, K folds) "
            "instead of loaded."
        ),
    )
    p.add_argument("--outcomes", nargs="+", required=True, metavar="FILE", help=_OUTCOMES_HELP)
    p.add_argument("--model", metavar="MODEL", help="model file (default: the shipped model)")
    p.add_argument("--json", action="store_true", help="one JSON object per file")
    p.add_argument("--plot", metavar="PNG", help="draw quality vs strong share (matplotlib)")
    p.add_argument(
        "--cv",
        type=int,
        default=None,
        metavar="K",
        help="K-fold cross-validation, 2 <= K <= the number of outcomes",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the --cv folds")
    knobs = p.add_argument_group("training knobs of --cv (default: those of the shipped model)")
    knobs.add_argument("--c", type=float, default=None, help="inverse L2 strength (0.3)")
    knobs.add_argument(
        "--word-min-rows",
        type=int,
        default=None,
        metavar="N",
        help="a segment with fewer prompts is scored without words (100)",
    )
    knobs.add_argument(
        "--dense-scale",
        type=float,
        default=None,
        metavar="X",
        help="scale of the standardised dense features; above 1 they are penalised less (1)",
    )
    knobs.add_argument(
        "--segment-min-df",
        type=int,
        default=None,
        metavar="N",
        help="prompts of a segment a word needs for a per-segment weight (2)",
    )
    p.set_defaults(func=run_eval)


def _say(args: argparse.Namespace, message: str) -> None:
    if not getattr(args, "quiet", False):
        print(f"[{args.command}] {message}", file=sys.stderr, flush=True)


def _read(paths: list[str]) -> list[tuple[str, list[Any]]]:
    from router.learned.outcomes import read_many

    return read_many(paths)


_KNOBS = ("c", "word_min_rows", "dense_scale", "segment_min_df")


def _knobs(args: argparse.Namespace) -> dict[str, Any]:
    """The training knobs given on the command line, as :class:`TrainConfig` fields."""
    knobs = {k: getattr(args, k, None) for k in _KNOBS}
    knobs = {k: v for k, v in knobs.items() if v is not None}
    for k, low, high in _KNOB_RANGES:
        if k in knobs and not low <= knobs[k] <= high:  # NaN fails too
            raise UsageError(f"--{k.replace('_', '-')} must be in [{low:g}, {high:g}]")
    return knobs


# Ranges in which training stays numerically sound (outside, weights overflow or the
# model never leaves its prior) or a count means something.
_KNOB_RANGES = (
    ("c", 1e-6, 1e6),
    ("dense_scale", 1e-3, 1e3),
    ("word_min_rows", 0, 10**9),
    ("segment_min_df", 1, 10**9),
)


def _scorer(path: str | None) -> Any:
    from router.learned.model import LearnedScorer, load_default

    return LearnedScorer.load(path) if path else load_default()


def run_train(args: argparse.Namespace) -> int:
    from router.learned.train import TrainConfig, train_model

    out = writable_file(args.out, "--out")  # before training, not after it
    config = TrainConfig(seed=args.seed, **_knobs(args))
    files = _read(args.outcomes)
    rows = [row for _, file_rows in files for row in file_rows]
    if len(rows) < 10:
        raise UsageError(f"need at least 10 outcomes to train, got {len(rows)}")
    _say(args, f"{len(rows)} outcomes from {len(files)} file(s)")
    sources = [Path(p).name for p, _ in files]
    model = train_model(rows, config, sources=sources, progress=lambda m: _say(args, m))
    data = json.dumps(model, sort_keys=True, separators=(",", ":")).encode()
    if args.out.endswith(".gz"):
        data = gzip.compress(data, mtime=0)  # mtime=0: same data, same bytes
    part = out.with_name(f".{out.name}.part")
    try:  # a whole model or none: an old file survives a full disk or Ctrl-C
        part.write_bytes(data)
        os.replace(part, out)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise UsageError(f"{args.out}: cannot write model ({exc.strerror or exc})") from None
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    _say(args, f"wrote {args.out} ({len(data) / 1e6:.2f} MB)")
    return 0


def run_calibrate(args: argparse.Namespace) -> int:
    from router.learned.calibrate import achieved_share, threshold_for_share
    from router.learned.metrics import routing_curve

    share = args.target_strong_share
    if not 0.0 <= share <= 1.0:
        raise UsageError(f"--target-strong-share must be in [0, 1], got {share}")
    scorer = _scorer(args.model)
    rows = [row for _, file_rows in _read(args.outcomes) for row in file_rows]
    scores = [scorer.score(r.turns) for r in rows]
    threshold = threshold_for_share(scores, share)
    achieved = achieved_share(scores, threshold)
    curve = routing_curve(scores, [r.weak_correct for r in rows], [r.strong_correct for r in rows])
    result = {
        "target_strong_share": share,
        # Unrounded: rounding up by 5e-7 would drop the prompt at the threshold itself.
        "threshold": None if math.isinf(threshold) else threshold,
        "achieved_strong_share": round(achieved, 4),
        "accuracy_at_share": round(curve.accuracy_at(achieved), 4),
        "weak_accuracy": round(curve.weak_accuracy, 4),
        "strong_accuracy": round(curve.strong_accuracy, 4),
        "model_threshold_for_share": _finite(scorer.threshold_for_share(share)),
        "n": len(rows),
    }
    if args.json:
        print(json.dumps(result))
    else:
        shown = "never strong" if result["threshold"] is None else f"{threshold:.6f}"
        print(
            f"threshold {shown}: {achieved:.1%} of {len(rows)} prompts go to the strong tier "
            f"(target {share:.1%}); accuracy {curve.accuracy_at(achieved):.4f} "
            f"(weak {curve.weak_accuracy:.4f}, strong {curve.strong_accuracy:.4f})"
        )
        own = result["model_threshold_for_share"]
        own_shown = "never strong" if own is None else f"{own:.6f}"
        print(f"the model's own share table gives threshold {own_shown} for this share")
    return 0


def _finite(x: float) -> float | None:
    return None if math.isinf(x) else x


def run_eval(args: argparse.Namespace) -> int:
    from router.learned.cv import cross_validate, summarise

    if args.plot:
        from router.learned.plot import require_matplotlib

        require_matplotlib()  # before any work, not after it
        writable_file(args.plot, "--plot")
    knobs = _knobs(args)
    if args.cv is None:
        if knobs:
            flags = ", ".join(f"--{k.replace('_', '-')}" for k in knobs)
            raise UsageError(f"{flags}: training knobs apply to --cv only")
    else:
        if args.model:
            raise UsageError("--cv trains its own models; drop --model")
        if args.cv < 2:
            raise UsageError(f"--cv needs at least 2 folds, got {args.cv}")
    files = _read(args.outcomes)
    if args.cv is not None:
        n = sum(len(rows) for _, rows in files)
        if args.cv > n:
            raise UsageError(f"--cv needs at most as many folds as outcomes ({n}), got {args.cv}")
        # Each file is dealt into the folds on its own, so a fold holds up to ceil(len / K)
        # of each file's outcomes; the rest must be enough to train on.
        smallest = n - sum(-(-len(rows) // args.cv) for _, rows in files)
        if smallest < 10:
            raise UsageError(
                f"--cv {args.cv} leaves {smallest} outcomes to train a fold on; need at least "
                "10 (use fewer folds or more outcomes)"
            )
        from router.learned.train import TrainConfig

        lines = cross_validate(
            files,
            TrainConfig(seed=args.seed, quantile_folds=0, **knobs),
            folds=args.cv,
            seed=args.seed,
            progress=lambda m: _say(args, m),
            keep_scores=bool(args.plot),
        )
        scored = [(line.pop("_scores", None), line) for line in lines]
    else:
        scorer = _scorer(args.model)
        scored = []
        for name, rows in files:
            scores = [scorer.score(r.turns) for r in rows]
            scored.append((scores, summarise(name, scores, rows)))
    for _, line in scored:
        if args.json:
            print(json.dumps(line))
        else:
            print(_human(line))
    if args.plot:
        _plot(files, [s for s, _ in scored], args.plot)
        _say(args, f"wrote {args.plot}")
    return 0


def _human(line: dict[str, Any]) -> str:
    def f(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.3f}"

    return (
        f"{line['file']}: APGR {f(line['apgr'])}  CPT(50%) {f(line['cpt50'])}  "
        f"CPT(80%) {f(line['cpt80'])}  weak {line['weak_accuracy']:.3f}  "
        f"strong {line['strong_accuracy']:.3f}  n={line['n']}"
    )


def _plot(files: list[tuple[str, list[Any]]], all_scores: list[Any], path: str) -> None:
    from router.learned.metrics import routing_curve
    from router.learned.plot import plot_curves

    panels = []
    for (name, rows), scores in zip(files, all_scores, strict=False):
        weak = [r.weak_correct for r in rows]
        strong = [r.strong_correct for r in rows]
        oracle = [int(s) - int(w) for w, s in zip(weak, strong, strict=False)]
        panels.append(
            (
                Path(name).name,
                routing_curve(scores, weak, strong),
                routing_curve(oracle, weak, strong),
            )
        )
    plot_curves(panels, path)
