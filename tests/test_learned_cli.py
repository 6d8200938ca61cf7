"""train, calibrate and eval round-trip on a small outcomes file; errors are one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from router.cli.main import main
from router.learned import LearnedScorer, read_outcomes
from router.learned.outcomes import OutcomesError, parse_outcomes

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = str(ROOT / "tests" / "data" / "routing-outcomes" / "sample.jsonl")
KEYS = {"file", "apgr", "cpt50", "cpt80", "weak_accuracy", "strong_accuracy", "n"}


def test_train_calibrate_eval_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    model = tmp_path / "model.json.gz"
    train = ["train", "--outcomes", SAMPLE, "--out", str(model), "--word-min-rows", "50"]
    assert main([*train, "--seed", "1"]) == 0
    err = capsys.readouterr().err
    assert "fitting" in err and "wrote" in err  # progress on stderr
    first = model.read_bytes()
    assert main([*train, "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    scorer = LearnedScorer.load(model)
    assert 0.0 <= scorer.score(["What is 7 * 6?"]) <= 1.0
    assert main([*train, "--seed", "1", "--quiet"]) == 0
    assert model.read_bytes() == first  # reproducible to the byte
    # a segment with too few prompts for words is scored from its dense features only
    assert main([*train, "--word-min-rows", "1000", "--quiet"]) == 0
    assert 0.0 <= LearnedScorer.load(model).score(["What is 7 * 6?"]) <= 1.0
    main([*train, "--seed", "1", "--quiet"])

    args = ["calibrate", "--outcomes", SAMPLE, "--model", str(model)]
    assert main([*args, "--target-strong-share", "0.2", "--json"]) == 0
    cal = json.loads(capsys.readouterr().out)
    assert abs(cal["achieved_strong_share"] - 0.2) < 0.02
    assert cal["n"] == len(read_outcomes(SAMPLE))
    assert 0.0 <= cal["model_threshold_for_share"] <= 1.0

    assert main(["eval", "--outcomes", SAMPLE, SAMPLE, "--model", str(model), "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(lines) == 2 and set(lines[0]) == KEYS
    assert lines[0]["apgr"] > 0.5  # in-sample, it must beat random


def test_eval_default_model_human_and_cv(capsys: pytest.CaptureFixture) -> None:
    assert main(["eval", "--outcomes", SAMPLE]) == 0
    out = capsys.readouterr().out
    assert "APGR" in out and "CPT(50%)" in out
    assert main(["eval", "--outcomes", SAMPLE, "--cv", "2", "--json"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert set(line) == KEYS and line["n"] == len(read_outcomes(SAMPLE))


def test_plot(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    png = tmp_path / "curve.png"
    code = main(["eval", "--outcomes", SAMPLE, "--plot", str(png)])
    try:
        import matplotlib  # noqa: F401
    except ModuleNotFoundError:
        assert code == 2
        assert "pip install matplotlib" in capsys.readouterr().err
    else:
        assert code == 0 and png.stat().st_size > 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"prompt": "x", "weak_correct": true}\n', ":1: missing field 'strong_correct'"),
        ('\n{"prompt": "x", "weak_correct": 1, "strong_correct": true\n', ":2: not valid JSON"),
        ("[1, 2]\n", ":1: each line must be a JSON object"),
        ('{"prompt": 3, "weak_correct": true, "strong_correct": true}\n', ":1: 'prompt' must"),
        ('{"prompt": "x", "weak_correct": "yes", "strong_correct": true}\n', ":1: 'weak_correct"),
        ("", "no outcomes in file"),
    ],
)
def test_malformed_outcomes_name_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, content: str, message: str
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content)
    assert main(["eval", "--outcomes", str(bad)]) == 2
    err = capsys.readouterr().err
    assert message in err and str(bad) in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_user_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    missing = str(tmp_path / "nope.jsonl")
    assert main(["train", "--outcomes", missing, "--out", str(tmp_path / "m.json")]) == 2
    assert "cannot read file" in capsys.readouterr().err
    share = ["--target-strong-share", "1.5"]
    assert main(["calibrate", "--outcomes", SAMPLE, *share]) == 2
    assert "must be in [0, 1]" in capsys.readouterr().err
    assert main(["eval", "--outcomes", SAMPLE, "--model", missing]) == 2
    assert "cannot read model" in capsys.readouterr().err


def test_conversations_and_integer_flags_parse() -> None:
    rows = parse_outcomes(
        ['{"prompt": ["hi", "and more?"], "weak_correct": 0, "strong_correct": 1, "subject": 5}'],
        "mem",
    )
    assert rows[0].turns == ("hi", "and more?") and rows[0].strong_correct is True
    assert rows[0].subject == "5"
    with pytest.raises(OutcomesError, match="mem:1"):
        parse_outcomes(['{"prompt": [], "weak_correct": 0, "strong_correct": 1}'], "mem")


def test_a_null_subject_is_no_subject() -> None:
    # pandas writes a missing value as null: it must not become one big subject "None"
    # whose rate softens every such row.
    line = '{"prompt": "hi", "weak_correct": true, "strong_correct": true, "subject": null}'
    missing = '{"prompt": "hi", "weak_correct": true, "strong_correct": true}'
    assert parse_outcomes([line], "mem")[0].subject == ""
    assert parse_outcomes([line], "mem") == parse_outcomes([missing], "mem")


def test_eval_cv_takes_the_training_knobs(capsys: pytest.CaptureFixture) -> None:
    base = ["eval", "--outcomes", SAMPLE, "--cv", "2", "--json"]
    assert main(base) == 0
    plain = json.loads(capsys.readouterr().out)
    knobs = ["--c", "0.05", "--dense-scale", "3", "--segment-min-df", "5"]
    assert main([*base, *knobs, "--word-min-rows", "1000"]) == 0
    tuned = json.loads(capsys.readouterr().out)
    assert set(tuned) == KEYS and tuned["n"] == plain["n"]
    assert tuned["apgr"] != plain["apgr"]  # the knobs reached the trainer


@pytest.mark.parametrize("folds", ["0", "1", "-1", "244"])
def test_eval_cv_needs_2_to_n_folds(capsys: pytest.CaptureFixture, folds: str) -> None:
    assert len(read_outcomes(SAMPLE)) == 243
    assert main(["eval", "--outcomes", SAMPLE, "--cv", folds]) == 2
    err = capsys.readouterr().err
    assert "--cv needs" in err and len(err.strip().splitlines()) == 1


def test_eval_cv_with_folds_too_small_to_train_on_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    small = tmp_path / "twelve.jsonl"
    small.write_text("".join(Path(SAMPLE).read_text().splitlines(keepends=True)[:12]))
    assert main(["eval", "--outcomes", str(small), "--cv", "2"]) == 2
    err = capsys.readouterr().err
    assert "leaves 6 outcomes to train a fold on" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_cross_validation_has_one_command_line() -> None:
    import router.learned.cv as cv

    assert not hasattr(cv, "main")  # `hybrid-router eval --cv` is the command


def test_a_failed_model_write_leaves_the_old_model_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import os

    out = tmp_path / "model.json"
    assert main(["train", "--outcomes", SAMPLE, "--out", str(out), "--word-min-rows", "50"]) == 0
    before = out.read_bytes()

    def full_disk(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    assert main(["train", "--outcomes", SAMPLE, "--out", str(out), "--seed", "3"]) == 2
    assert "cannot write model (No space left on device)" in capsys.readouterr().err
    assert out.read_bytes() == before and LearnedScorer.load(out)
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]  # no part file left


def test_the_printed_threshold_sends_the_reported_share(capsys: pytest.CaptureFixture) -> None:
    scorer = LearnedScorer.load(ROOT / "router" / "learned" / "default_model.json.gz")
    scores = [scorer.score(r.turns) for r in read_outcomes(SAMPLE)]
    for share in (0.05, 0.2, 0.5):
        assert main(["calibrate", "--outcomes", SAMPLE, "--target-strong-share", str(share),
                     "--json"]) == 0  # fmt: skip
        out = json.loads(capsys.readouterr().out)
        sent = sum(s >= out["threshold"] for s in scores) / len(scores)
        assert sent == pytest.approx(out["achieved_strong_share"], abs=1e-4)


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--dense-scale", "inf"),  # used to train for many minutes on NaN weights
        ("--c", "nan"),
        ("--c", "1e-300"),  # overflowed and wrote a model that never routes up
        ("--word-min-rows", "-5"),
        ("--segment-min-df", "-4"),
    ],
)
def test_training_knobs_out_of_range_are_usage_errors(
    capsys: pytest.CaptureFixture, flag: str, value: str
) -> None:
    assert main(["eval", "--outcomes", SAMPLE, "--cv", "2", flag, value]) == 2
    err = capsys.readouterr().err
    assert f"{flag} must be in [" in err and len(err.strip().splitlines()) == 1


def test_a_logistic_fit_on_non_finite_features_is_a_value_error() -> None:
    np = pytest.importorskip("numpy")
    from router.learned.logistic import SparseRows, fit_logistic

    values = np.array([1.0, float("inf"), 1.0, 1.0])
    rows = SparseRows(np.array([0, 2, 4]), np.array([0, 1, 0, 1]), values, 2)
    with np.errstate(invalid="ignore"), pytest.raises(ValueError, match="not finite"):
        fit_logistic(rows, np.array([0.0, 1.0]), 1.0)


@pytest.mark.parametrize("out", ["", ".", "/", "missing-dir/model.json"])
def test_train_checks_its_output_path_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, out: str
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--outcomes", SAMPLE, "--out", out, "--quiet"]) == 2
    captured = capsys.readouterr()
    assert "--out" in captured.err and "Traceback" not in captured.err
    assert "fitting" not in captured.err  # refused before any work


def test_eval_checks_its_plot_path_before_evaluating(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    pytest.importorskip("matplotlib")
    plot = str(tmp_path / "missing" / "curve.png")
    assert main(["eval", "--outcomes", SAMPLE, "--json", "--plot", plot]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "--plot" in captured.err
