"""Every bad input gets a typed error (a RouterError) that says what is wrong: malformed
YAML, JSON lines, model files, requests and constructor arguments; never a raw Python
exception from deep inside a library."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from router import (
    FakeBackend,
    InvalidRequest,
    PolicyError,
    Router,
    RouterError,
    load_policy,
    parse_request,
)
from router.cli.common import batch_items
from router.config import load_config
from router.errors import ConfigError, ModelFileError, OutcomesError
from router.learned.model import LearnedScorer, load_default
from router.learned.outcomes import parse_outcomes
from router.yamlio import MAX_BYTES, MAX_DEPTH, MAX_NODES, load_yaml

CONFIG = "version: 1\nbackends:\n  - {name: a, tier: small, zone: local, kind: fake, model: m}\n"
DEEP = "a: " + "[" * (MAX_DEPTH + 10) + "]" * (MAX_DEPTH + 10) + "\n"
BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join(['*' + p] * 10)}]\n" for p, n in zip("abcdef", "bcdefg", strict=True)
)

BAD_YAML = [
    ("int tag", "version: !!int abc\n", "!!int"),
    ("bool tag", "version: 1\ndefault_team: !!bool maybe\n", "!!bool"),
    ("timestamp tag", "version: 1\ndefault_team: !!timestamp nope\n", "!!timestamp"),
    ("nul byte", "version: 1\x00\n", "not valid YAML"),
    ("deep nesting", DEEP, "nested more than"),
    ("alias bomb", BOMB, f"more than {MAX_NODES:,} values"),
]


@pytest.mark.parametrize(("text", "match"), [c[1:] for c in BAD_YAML], ids=[c[0] for c in BAD_YAML])
def test_malformed_yaml_is_a_policy_error(text: str, match: str) -> None:
    with pytest.raises(PolicyError, match=match) as info:
        load_yaml(text, "bad.yaml")
    assert "\n" not in str(info.value)  # one line, as file:line errors are


def test_a_config_with_backends_of_the_wrong_type_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("version: 1\nbackends: 5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c.yaml:2: backends"):
        load_config(path)


def test_aliases_within_limits_still_load() -> None:
    data, _ = load_yaml("base: &b {x: 1}\ncopy: *b\n" + CONFIG)
    assert data["copy"] == {"x": 1}


def test_text_with_an_unpaired_surrogate_is_an_invalid_request() -> None:
    with pytest.raises(InvalidRequest, match="surrogate") as info:
        parse_request("hello \ud800 world")
    assert info.value.field == "messages[0]"


def test_a_response_format_that_cannot_be_serialised_is_an_invalid_request() -> None:
    schema: dict = {}
    node = schema
    for _ in range(2000):
        node["x"] = {}
        node = node["x"]
    with pytest.raises(InvalidRequest, match="serialised"):
        parse_request(
            "hi", response_format={"type": "json_schema", "json_schema": {"schema": schema}}
        )


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ('{"text": "hi", "self": 1}', 'unknown field "self"'),
        ('{"text": ' + "[" * 100_000 + "]" * 100_000 + "}", "not JSON this reader accepts"),
        ('{"text": "hi", "max_tokens": ' + "9" * 5000 + "}", "not JSON this reader accepts"),
    ],
    ids=["self", "deep", "huge-int"],
)
def test_bad_batch_lines_are_reported_per_line(line: str, error: str) -> None:
    ((n, item, message),) = list(batch_items(io.StringIO(line + "\n")))
    assert n == 1 and item is None and error in message


@pytest.mark.parametrize(
    "line",
    [
        '{"prompt": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"prompt": "q", "weak_correct": ' + "1" * 5000 + ', "strong_correct": 1}',
    ],
    ids=["deep", "huge-int"],
)
def test_bad_outcome_lines_are_outcomes_errors(line: str) -> None:
    with pytest.raises(OutcomesError, match=r"o.jsonl:1"):
        parse_outcomes([line], "o.jsonl")


def _model() -> dict:
    path = Path(load_default().source)
    return json.loads(gzip.decompress(path.read_bytes()))


@pytest.mark.parametrize("damage", ["corrupt gzip", "no segments", "no quantiles", "nan weight"])
def test_damaged_model_files_are_model_file_errors(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "model.json.gz"
    if damage == "corrupt gzip":
        path.write_bytes(b"\x1f\x8b" + b"\x00" * 40)
    else:
        model = _model()
        if damage == "no segments":
            model["segments"] = {}
        elif damage == "no quantiles":
            model["quantiles"] = []
        else:
            model["segments"]["free"]["strong"]["bias"] = float("nan")
        path.write_bytes(gzip.compress(json.dumps(model).encode()))
    with pytest.raises(ModelFileError):
        LearnedScorer.load(path)


def test_a_share_out_of_range_is_typed() -> None:
    with pytest.raises(RouterError, match="share"):
        load_default().threshold_for_share(2.0)


BAD_ARGUMENTS = [
    ("backends str", lambda: Router("abc")),
    ("backends int", lambda: Router(5)),
    ("backend None", lambda: Router([None])),
    ("policies str", lambda: Router([FakeBackend("a")], "default")),
    ("policies dict", lambda: Router([FakeBackend("a")], {"t": 1})),
    ("scorer", lambda: Router([FakeBackend("a")], scorer="fast")),
    ("observer", lambda: Router([FakeBackend("a")], observer=5)),
    ("health", lambda: Router([FakeBackend("a")], health=5)),
    ("fake tier", lambda: FakeBackend("a", tier="huge")),
    ("fake name", lambda: FakeBackend("a b/c")),
    ("fake script", lambda: FakeBackend("a", script=["nonsense"])),
]


@pytest.mark.parametrize("make", [c[1] for c in BAD_ARGUMENTS], ids=[c[0] for c in BAD_ARGUMENTS])
def test_wrong_constructor_arguments_are_config_errors(make) -> None:
    with pytest.raises(ConfigError):
        make()


def test_a_policy_naming_a_backend_the_router_lacks_is_a_config_error() -> None:
    # A typo in allowed_backends would otherwise exclude every backend on every request.
    typo = load_policy("t.yaml", team="t", text="version: 1\nrouting: {allowed_backends: [smal]}\n")
    match = r"policy t names backend 'smal', which this router does not have \(known: small"
    with pytest.raises(ConfigError, match=match):
        Router([FakeBackend("small")], [typo], default_team="t")


def test_from_config_closes_the_backends_it_built_when_a_policy_names_a_missing_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "default.yaml").write_text(
        "version: 1\nrouting: {fallback: [a, cloud]}\n"
    )
    config = tmp_path / "router.yaml"
    config.write_text(CONFIG + "policies: policies\n")
    closed: list[str] = []
    monkeypatch.setattr(FakeBackend, "close", lambda self: closed.append(self.spec.name))
    with pytest.raises(ConfigError, match=r"names backend 'cloud'"):
        Router.from_config(config)
    assert closed == ["a"]


def test_yaml_merge_keys_work_and_the_mappings_own_keys_win(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "version: 1\nbackends:\n"
        "  - &local {name: a, tier: small, zone: local, kind: fake, model: m}\n"
        "  - <<: *local\n    name: b\n    tier: large\n"
        "  - <<: [*local]\n    name: c\n    bogus: 1\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"c.yaml:9: backends\[2\].bogus: unknown key"):
        load_config(path)
    path.write_text(path.read_text().replace("    bogus: 1\n", ""), encoding="utf-8")
    _, b, c = load_config(path).backends
    assert (b.name, b.tier, b.zone) == ("b", "large", "local") and c.tier == "small"
    with pytest.raises(PolicyError, match="<< merges a mapping"):
        load_yaml("a: {<<: 5}\n")


def test_a_configuration_that_cannot_be_read_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "router.yaml"
    bad.write_text("version: 1\nbackends: [\n")
    with pytest.raises(ConfigError, match=r"router.yaml:2: not valid YAML"):
        Router.from_config(bad)


def test_a_default_team_without_a_policy_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"default_team 'nope' has no policy \(known: default\)"):
        Router([FakeBackend("a")], default_team="nope")


def test_a_policy_file_over_a_megabyte_is_refused_before_parsing(tmp_path: Path) -> None:
    huge = tmp_path / "team.yaml"
    huge.write_text("version: 1\ndescription: " + "x" * MAX_BYTES + "\n")
    with pytest.raises(PolicyError, match="larger than 1 MB"):
        load_policy(huge)
