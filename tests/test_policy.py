"""Policy files: what is valid, and how every mistake is reported (file, line, what to do)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from router import PolicyError, PolicySet, UnknownTeam, load_policy
from router.classify.types import TASKS
from router.policy.load import builtin_default, builtin_default_text
from router.policy.schema import reference_markdown, schema_text

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize("name", ["default", "legal", "support", "research"])
def test_shipped_policies_are_valid(name: str) -> None:
    tp = load_policy(POLICIES / f"{name}.yaml", directory=POLICIES)
    assert tp.team == name
    assert len(tp.sha256) == 64


def test_the_legal_example_keeps_every_data_class_local() -> None:
    from router.classify.types import DATA_CLASSES

    legal = load_policy(POLICIES / "legal.yaml", directory=POLICIES).policy
    assert {legal.privacy.action(c) for c in DATA_CLASSES} == {"local_only"}


def test_packaged_default_is_the_shipped_default_file() -> None:
    assert (POLICIES / "default.yaml").read_text(encoding="utf-8") == builtin_default_text()
    assert builtin_default().policy == load_policy(POLICIES / "default.yaml").policy


def test_schema_and_reference_are_generated_from_the_models() -> None:
    assert (POLICIES / "schema.json").read_text(encoding="utf-8") == schema_text()
    assert (ROOT / "docs" / "policy-reference.md").read_text(encoding="utf-8") == (
        reference_markdown()
    )
    schema = json.loads(schema_text())
    assert schema["additionalProperties"] is False
    assert "privacy" in schema["properties"]


def test_the_schema_states_what_the_loader_enforces(tmp_path: Path) -> None:
    """An editor checking a file against schema.json warns where the loader would fail:
    task names, unique tier and backend lists, non-empty label rules, a named parent,
    and a version in every file, a child included."""
    defs = json.loads(schema_text())["$defs"]
    tasks = defs["Quality"]["properties"]["tasks"]
    assert tasks["propertyNames"]["enum"] == list(TASKS)
    routing = defs["Routing"]["properties"]
    assert routing["allowed_tiers"]["uniqueItems"] and routing["denied_backends"]["uniqueItems"]
    assert defs["LabelRule"]["minProperties"] == 1
    assert json.loads(schema_text())["properties"]["extends"]["minLength"] == 1
    bad = {
        "quality: {tasks: {summarization: large}}": "unknown task",
        "routing: {allowed_tiers: [small, small]}": "unique",
        "routing: {denied_backends: [a, a]}": "unique",
        "labels: {sensitivity: {secret: {}}}": "needs 'privacy' or 'min_tier'",
    }
    for body, message in bad.items():
        with pytest.raises(PolicyError, match=message):
            load_policy(write(tmp_path, "t.yaml", f"version: 1\n{body}\n"), directory=tmp_path)
    p = write(tmp_path, "child.yaml", "extends: default\nprivacy: {email: local_only}\n")
    with pytest.raises(PolicyError, match="version is missing") as info:
        load_policy(p, directory=tmp_path)
    assert info.value.line == 1 and "version: 1" in (info.value.hint or "")


def test_extends_merges_mappings_and_replaces_lists(tmp_path: Path) -> None:
    write(
        tmp_path,
        "base.yaml",
        "version: 1\nprivacy: {email: allow}\n"
        "routing: {allowed_tiers: [small, large], retries: 3}\n",
    )
    p = write(
        tmp_path,
        "team.yaml",
        "version: 1\nextends: base\nprivacy: {phone: block}\nrouting: {allowed_tiers: [small]}\n",
    )
    tp = load_policy(p, directory=tmp_path)
    assert tp.policy.privacy.email == "allow"  # inherited
    assert tp.policy.privacy.phone == "block"  # own
    assert tp.policy.routing.allowed_tiers == ["small"]  # list replaced
    assert tp.policy.routing.retries == 3  # sibling key kept
    assert tp.chain == (str(p), str(tmp_path / "base.yaml"))


def test_a_child_stating_thresholds_does_not_inherit_shares(tmp_path: Path) -> None:
    """Inherited shares would override the child's thresholds with a calibrated scorer."""
    p = write(
        tmp_path,
        "team.yaml",
        "version: 1\nextends: default\nquality: {thresholds: {large: 0.8, proprietary: 0.95}}\n",
    )
    tp = load_policy(p, directory=tmp_path)
    assert builtin_default().policy.quality.shares is not None  # the parent has shares
    assert tp.policy.quality.shares is None
    assert tp.policy.quality.thresholds.large == 0.8


def test_a_child_overrides_a_parents_label_whatever_its_case(tmp_path: Path) -> None:
    write(
        tmp_path,
        "base.yaml",
        "version: 1\nlabels: {Sensitivity: {Confidential: {privacy: local_only}}}\n",
    )
    p = write(
        tmp_path,
        "team.yaml",
        "version: 1\nextends: base\nlabels: {sensitivity: {confidential: {min_tier: large}}}\n",
    )
    rule = load_policy(p, directory=tmp_path).policy.labels["sensitivity"]["confidential"]
    assert (rule.privacy, rule.min_tier) == ("local_only", "large")  # merged, not an error


def test_extends_default_without_a_file_uses_the_builtin(tmp_path: Path) -> None:
    p = write(tmp_path, "team.yaml", "version: 1\nextends: default\ncost: {daily_budget_usd: 3}\n")
    tp = load_policy(p, directory=tmp_path)
    assert tp.policy.privacy == builtin_default().policy.privacy
    assert tp.policy.cost.daily_budget_usd == 3


def test_hash_changes_when_a_parent_changes(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", "version: 1\nrouting: {retries: 1}\n")
    p = write(tmp_path, "team.yaml", "version: 1\nextends: base\n")
    before = load_policy(p, directory=tmp_path).sha256
    write(tmp_path, "base.yaml", "version: 1\nrouting: {retries: 2}\n")
    assert load_policy(p, directory=tmp_path).sha256 != before


BAD = [
    # (file text, line, message fragment, hint fragment)
    (
        "version: 1\nprivacy:\n  emial: local_only\n",
        3,
        "unknown key 'privacy.emial'",
        "did you mean 'email'",
    ),
    ("version: 1\nprivacy:\n  email: local\n", 3, "privacy.email", "did you mean 'local_only'"),
    ("version: 1\nprivacy:\n  email: nope\n", 3, "privacy.email", "use one of: allow, local_only"),
    ("version: 1\ncost:\n  max_per_request_usd: -1\n", 3, "greater than 0", ""),
    ("version: 1\ncost:\n  max_per_request_usd: lots\n", 3, "valid number", ""),
    (
        "version: 1\ncost:\n  daily_budget_usd: 50\n  monthly_budget_usd: 10\n",
        2,
        "larger than monthly_budget_usd",
        "",
    ),
    (
        "version: 1\nlatency:\n  deadline_ms: 1000\n  attempt_timeout_ms: 5000\n",
        2,
        "longer than deadline_ms",
        "",
    ),
    (
        "version: 1\nquality:\n  thresholds: {large: 0.9, proprietary: 0.5}\n",
        2,
        "below thresholds.large",
        "",
    ),
    ("version: 1\nquality:\n  tasks: {poetry: large}\n", 3, "unknown task 'poetry'", ""),
    ("version: 1\nrouting:\n  retries: 99\n", 3, "routing.retries", ""),
    ("version: 1\nrouting:\n  allowed_tiers: []\n", 3, "at least 1", ""),
    ("version: 1\nrouting:\n  allowed_tiers: [small, huge]\n", 3, "allowed_tiers", ""),
    ("version: 2\n", 1, "version", "version 1"),
    ("privacy: {email: allow}\n", None, "missing required key 'version'", "version: 1"),
    ("version: 1\nprivacy:\n  email: allow\n  email: block\n", 4, "duplicate key 'email'", ""),
    # An unclosed bracket or quote: the line where it opens, not where the parser gave up.
    ("version: 1\nprivacy: [email\n", 2, "not valid YAML", ""),
    ('version: 1\nprivacy:\n  email: "open\n  phone: allow\n', 3, "gave up on line 4", ""),
    ("version: 1\nprivacy:\n  email: allow\n - x\n", 4, "block mapping from line", ""),
    ("- just\n- a list\n", 1, "must be a mapping", ""),
    (
        "version: 1\nlabels:\n  sensitivity:\n    secret: {}\n",
        4,
        "needs 'privacy' or 'min_tier'",
        "",
    ),
    ("version: 1\nextends: nowhere\n", 2, "no such policy", "create nowhere.yaml"),
    ("version: 1\nextends: /etc/nowhere.yaml\n", 2, "no such policy", "give a path that exists"),
    # Wrong types are errors, not converted: a quoted number, a boolean for a count.
    ("version: 1\nrouting:\n  retries: true\n", 3, "routing.retries", ""),
    ("version: 1\nrouting:\n  max_attempts: '3'\n", 3, "routing.max_attempts", ""),
    ("version: 1\nquality:\n  thresholds: {large: '0.6'}\n", 3, "thresholds.large", ""),
    ("version: 1\nquality:\n  stickiness: {enabled: 'on'}\n", 3, "stickiness.enabled", ""),
    ("version: true\n", 1, "version", ""),
]


@pytest.mark.parametrize(("text", "line", "message", "hint"), BAD)
def test_mistakes_are_reported_with_file_line_and_hint(tmp_path, text, line, message, hint):
    p = write(tmp_path, "team.yaml", text)
    with pytest.raises(PolicyError) as info:
        load_policy(p, directory=tmp_path)
    err = info.value
    assert err.file == str(p)
    if line is not None:
        assert err.line == line, str(err)
        assert str(err).startswith(f"{p}:{line}: ")
    assert message in str(err)
    assert hint in err.hint


def test_errors_in_a_parent_point_at_the_parent_file(tmp_path: Path) -> None:
    base = write(tmp_path, "base.yaml", "version: 1\nrouting:\n  retries: -4\n")
    p = write(tmp_path, "team.yaml", "version: 1\nextends: base\n")
    with pytest.raises(PolicyError) as info:
        load_policy(p, directory=tmp_path)
    assert (info.value.file, info.value.line) == (str(base), 3)


def test_extends_cycles_are_errors(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "version: 1\nextends: b\n")
    write(tmp_path, "b.yaml", "version: 1\nextends: a\n")
    with pytest.raises(PolicyError, match="cycle"):
        load_policy(tmp_path / "a.yaml", directory=tmp_path)


def test_a_cycle_through_a_relative_path_is_a_cycle(tmp_path: Path) -> None:
    (tmp_path / "ext").mkdir()
    p = write(tmp_path / "ext", "self.yaml", "version: 1\nextends: ../ext/self.yaml\n")
    with pytest.raises(PolicyError, match="cycle"):
        load_policy(p, directory=tmp_path / "ext")


def test_policy_set_loads_a_directory_and_names_unknown_teams(tmp_path: Path) -> None:
    write(tmp_path, "ops.yaml", "version: 1\n")
    teams = PolicySet.from_directory(tmp_path)
    assert set(teams) == {"ops", "default"}  # default is always there
    with pytest.raises(UnknownTeam, match="known teams: default, ops"):
        teams["legal"]


def test_one_bad_file_fails_the_whole_directory(tmp_path: Path) -> None:
    write(tmp_path, "ok.yaml", "version: 1\n")
    write(tmp_path, "bad.yaml", "version: 1\nrouting: {retries: x}\n")
    with pytest.raises(PolicyError, match=r"bad\.yaml:2"):
        PolicySet.from_directory(tmp_path)


def test_every_problem_in_a_file_is_reported(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "team.yaml",
        "version: 1\nrouting:\n  retries: -1\ncost:\n  max_per_request_usd: -3\nbogus: 1\n",
    )
    with pytest.raises(PolicyError) as info:
        load_policy(p, directory=tmp_path)
    lines = sorted([info.value.line, *(e.line for e in info.value.also)])
    assert lines == [3, 5, 6]


def test_the_reference_shows_defaults_a_factory_makes() -> None:
    text = (ROOT / "docs" / "policy-reference.md").read_text(encoding="utf-8")
    assert (
        '| `allowed_tiers` | list of `small` \\| `large` \\| `proprietary` | `["small", "large", '
        '"proprietary"]`' in text
    )
    assert "| `tasks` | map of name to" in text and "| `{}` |" in text


def test_a_yaml_and_a_yml_file_for_one_team_are_an_error(tmp_path: Path) -> None:
    write(tmp_path, "legal.yaml", "version: 1\n")
    write(tmp_path, "legal.yml", "version: 1\nprivacy: {email: allow}\n")
    with pytest.raises(PolicyError, match="two policy files for team 'legal'"):
        PolicySet.from_directory(tmp_path)


def test_a_parents_version_is_checked_too(tmp_path: Path) -> None:
    base = write(tmp_path, "base.yaml", "version: 2\nrouting: {retries: 1}\n")
    p = write(tmp_path, "team.yaml", "version: 1\nextends: base\n")
    with pytest.raises(PolicyError, match="version 2 in a parent policy") as info:
        load_policy(p, directory=tmp_path)
    assert (info.value.file, info.value.line) == (str(base), 1)


def test_a_mistake_in_a_parent_label_is_blamed_on_the_parent_however_the_child_spells_it(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        "parent.yaml",
        "version: 1\nlabels:\n  sensitivity:\n"
        "    confidential: {privacy: local_only, min_tier: lage}\n",
    )
    child = write(
        tmp_path,
        "child.yaml",
        "version: 1\nextends: parent\nlabels:\n"
        "  Sensitivity:\n    Confidential: {privacy: block}\n",
    )
    with pytest.raises(PolicyError) as info:
        load_policy(child, directory=tmp_path)
    assert Path(info.value.file).name == "parent.yaml" and info.value.line == 4


def test_a_date_or_number_where_text_is_expected_says_to_quote_it(tmp_path: Path) -> None:
    p = write(tmp_path, "t.yaml", "version: 1\nrevision: 2026-11-22\n")
    with pytest.raises(PolicyError) as info:
        load_policy(p, directory=tmp_path)
    assert info.value.line == 2 and "quote it, as '2026-11-22'" in info.value.hint


def test_a_too_long_extends_chain_names_the_limit_and_the_chain(tmp_path: Path) -> None:
    for i in range(1, 11):
        write(tmp_path, f"p{i}.yaml", f"version: 1\nextends: p{i + 1}\n")
    write(tmp_path, "p11.yaml", "version: 1\n")
    with pytest.raises(PolicyError, match=r"more than 8 files \(p1.yaml -> p2.yaml") as info:
        load_policy(tmp_path / "p1.yaml", directory=tmp_path)
    assert info.value.hint


def test_a_cross_field_error_names_where_an_inherited_value_was_set(tmp_path: Path) -> None:
    write(
        tmp_path,
        "base.yaml",
        "version: 1\nquality:\n  thresholds: {large: 0.5, proprietary: 0.8}\n",
    )
    p = write(
        tmp_path, "t.yaml", "version: 1\nextends: base\nquality:\n  thresholds: {large: 0.9}\n"
    )
    with pytest.raises(PolicyError, match=r"below thresholds\.large") as info:
        load_policy(p, directory=tmp_path)
    assert "thresholds.proprietary is set in base.yaml:3" in info.value.hint


def test_a_budget_error_says_where_the_inherited_budget_was_set(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", "version: 1\ncost: {monthly_budget_usd: 5}\n")
    p = write(tmp_path, "t.yaml", "version: 1\nextends: base\ncost: {daily_budget_usd: 10}\n")
    with pytest.raises(PolicyError, match="larger than monthly_budget_usd") as info:
        load_policy(p, directory=tmp_path)
    assert "monthly_budget_usd is set in base.yaml:2" in info.value.hint


def test_a_parent_label_spelled_two_ways_is_reported_through_a_child(tmp_path: Path) -> None:
    """The child's spelling matches both of the parent's: an error, not a crash."""
    write(
        tmp_path,
        "parent.yaml",
        "version: 1\nlabels:\n  sensitivity:\n"
        "    secret: {privacy: block}\n    Secret: {privacy: local_only}\n",
    )
    child = write(
        tmp_path,
        "child.yaml",
        "version: 1\nextends: parent\nlabels:\n  sensitivity:\n    SECRET: {privacy: block}\n",
    )
    with pytest.raises(PolicyError, match="given twice"):
        load_policy(child, directory=tmp_path)
