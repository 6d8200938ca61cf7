"""Validate policy and router configuration files, as ``hybrid-router validate`` does.

A YAML file with a top-level ``backends`` key is a router configuration; anything else is
a policy. A configuration is also checked against its policy directory: names in a
policy's ``allowed_backends``, ``denied_backends`` and ``fallback`` must exist.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path

from router.config import load_config, policies_dir
from router.errors import ConfigError, PolicyError
from router.policy.load import TeamPolicy, load_policy, policy_files
from router.policy.model import TIERS
from router.yamlio import LineMap, load_yaml_file

_SKIP = {"schema.json"}


def _files(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(f for f in [*p.glob("*.yaml"), *p.glob("*.yml")] if f.name not in _SKIP)
        else:
            out.append(p)
    return out


def _is_config(path: Path) -> bool:
    try:
        data, _ = load_yaml_file(path)
    except PolicyError:
        return False
    return isinstance(data, dict) and "backends" in data


def _check_config(path: Path) -> list[str]:
    from router.backends.registry import backend_class

    config = load_config(path)
    _, lines = load_yaml_file(path)

    def at(*key: str | int) -> str:
        line = lines.line(key)
        return f"{path}:{line}" if line is not None else str(path)

    problems = []
    for i, spec in enumerate(config.backends):
        try:
            cls = backend_class(spec.kind)
            check = getattr(cls, "check_options", None)
            if check is not None:
                check(spec)
        except (ConfigError, ImportError, ValueError) as exc:
            key = ("backends", i, "kind") if "kind" in str(exc) else ("backends", i)
            problems.append(f"{at(*key)}: backends[{i}] ({spec.name}): {exc}")
    directory = policies_dir(config, path)
    if directory is None:
        if config.default_team != "default":  # only the built-in default exists then
            problems.append(
                f"{at('default_team')}: default_team {config.default_team!r} has no policy "
                "(no policies directory is given; only 'default' exists)"
            )
        return problems
    if not directory.is_dir():
        return [*problems, f"{at('policies')}: policy directory {directory} not found"]
    try:
        files = policy_files(directory)
    except PolicyError as exc:  # two files for one team: still check each of them
        problems.append(str(exc))
        files = _files([directory])
    teams: list[TeamPolicy] = []
    for f in files:  # every file's problems, not only the first file's
        try:
            teams.append(load_policy(f, directory=directory))
        except PolicyError as exc:
            problems += [str(exc), *(str(more) for more in exc.also)]
    names = {b.name for b in config.backends}
    for team in teams:
        problems += unknown_backends(team, names, f"{path} does not declare")
    if config.default_team != "default" and config.default_team not in {t.team for t in teams}:
        problems.append(
            f"{at('default_team')}: default_team {config.default_team!r} has no policy file"
        )
    return problems


def unknown_backends(team: TeamPolicy, names: Collection[str], where: str) -> list[str]:
    """A problem for every backend name in ``team``'s ``allowed_backends``,
    ``denied_backends`` or ``fallback`` that is not in ``names`` (a typo there would
    otherwise exclude a backend, or every backend, on each request). ``where`` says what
    lacks the name, e.g. "the router has no such backend"."""
    r = team.policy.routing
    refs = {}  # name -> the routing key that names it (the first, if several do)
    fallback = [] if r.fallback == "auto" else [x for x in r.fallback if x not in TIERS]
    for key, values in (
        ("allowed_backends", r.allowed_backends or []),
        ("denied_backends", r.denied_backends),
        ("fallback", fallback),
    ):
        for name in values:
            refs.setdefault(name, key)
    unknown = [(name, key) for name, key in refs.items() if name not in names]
    if not unknown:
        return []
    known = ", ".join(sorted(names)) or "none"
    lines = _lines(team.source)  # read once, for every name it locates
    return [
        f"{_where(team.source, lines, ('routing', key))}: policy {team.team} names backend "
        f"{name!r}, which {where} (known: {known})"
        for name, key in unknown
    ]


def _lines(source: str) -> LineMap | None:
    try:
        return load_yaml_file(source)[1]
    except PolicyError:  # a policy built from text has no file
        return None


def _where(source: str, lines: LineMap | None, key: tuple[str, ...]) -> str:
    """``source:line`` of ``key`` in a policy file, or ``source`` when the file does not
    say it (the key comes from a parent policy, or the policy was built from text)."""
    line = lines.exact(key) if lines is not None else None
    return f"{source}:{line}" if line is not None else source


def validate_paths(paths: Iterable[Path]) -> tuple[list[str], int]:
    """Every problem found in ``paths`` as ``file:line: message``, and how many files."""
    problems: list[str] = []
    paths = list(paths)
    for p in paths:
        if p.is_dir():
            try:
                policy_files(p)  # two files for one team (a.yaml and a.yml)
            except PolicyError as exc:
                problems.append(str(exc))
    files = _files(paths)
    for f in files:
        try:
            if _is_config(f):
                problems += _check_config(f)
            else:
                load_policy(f, directory=f.parent)
        except PolicyError as exc:
            problems += [str(exc), *(str(more) for more in exc.also)]
    # A parent's problem is met again through each policy that extends it: report it once.
    return list(dict.fromkeys(problems)), len(files)
