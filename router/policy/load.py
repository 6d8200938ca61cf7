"""Read policy files: resolve ``extends``, validate, and report errors as ``file:line``.

A team's policy is the file ``policies/<team>.yaml``. ``extends: default`` starts from
``default.yaml`` in the same directory (or the built-in default when the directory has none);
mappings merge key by key, lists and scalars replace.
"""

from __future__ import annotations

import datetime
import difflib
import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from router.errors import PolicyError, UnknownTeam
from router.policy.model import Policy
from router.yamlio import LineMap, load_yaml, load_yaml_file

BUILTIN_DEFAULT = "default"
_MAX_DEPTH = 8

Origins = dict[tuple[str | int, ...], tuple[str, int | None]]


@dataclass(frozen=True, slots=True)
class TeamPolicy:
    """A validated policy with where it came from.

    ``sha256`` hashes the fully resolved policy, so it changes when a parent changes too.
    """

    team: str
    policy: Policy
    source: str
    sha256: str
    chain: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        """Team, format version, sha256 (and revision): what route records and spans name."""
        out: dict[str, Any] = {
            "team": self.team,
            "version": self.policy.version,
            "sha256": self.sha256,
            "source": self.source,
        }
        if self.policy.revision is not None:
            out["revision"] = self.policy.revision
        return out


def builtin_default_text() -> str:
    """The text of the built-in default policy shipped inside the package."""
    return resources.files("router.policy").joinpath("default.yaml").read_text("utf-8")


def _origins(lines: LineMap, data: Any, file: str, path: tuple[str | int, ...] = ()) -> Origins:
    out: Origins = {path: (file, lines.line(path))}
    if isinstance(data, dict):
        for k, v in data.items():
            out.update(_origins(lines, v, file, (*path, k)))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.update(_origins(lines, v, file, (*path, i)))
    return out


def _spellings(base: dict[str, Any], over: dict[str, Any]) -> dict[Any, Any]:
    """The keys of ``base`` that ``over`` spells differently (case, surrounding spaces),
    each with ``over``'s spelling, so that the child's entry overrides the parent's. Keys
    that ``base`` itself spells two ways are left alone: the duplicate is then reported."""
    spelled = {str(k).strip().lower(): k for k in over}
    seen = Counter(str(k).strip().lower() for k in base)
    return {
        k: spelled[n]
        for k in base
        if (n := str(k).strip().lower()) in spelled and spelled[n] != k and seen[n] == 1
    }


def _rename_origins(origins: Origins, path: tuple, renames: Mapping[Any, Any]) -> None:
    """Move the origins of the keys renamed at ``path``, so that an error in a parent's
    value still names the parent's file and line."""
    n = len(path)
    for key in [k for k in origins if len(k) > n and k[:n] == path and k[n] in renames]:
        origins[(*path, renames[key[n]], *key[n + 1 :])] = origins.pop(key)


def _merge(base: Any, over: Any, base_o: Origins, over_o: Origins, path: tuple = ()) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        if path[:1] == ("labels",) and len(path) <= 2:
            renames = _spellings(base, over)  # label names and values ignore case
            if renames:
                base = {renames.get(k, k): v for k, v in base.items()}
                _rename_origins(base_o, path, renames)
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base.get(k), v, base_o, over_o, (*path, k)) if k in base else v
        if path == ("quality",) and "thresholds" in over and "shares" not in over:
            # Thresholds the child states are meant to apply: inherited shares would
            # silently override them (shares win over thresholds with a calibrated scorer).
            out.pop("shares", None)
        return out
    # Replaced: the child's origins win for everything under this path.
    for key in [k for k in base_o if k[: len(path)] == path]:
        del base_o[key]
    return over


def _read(source: str, text: str | None) -> tuple[dict[str, Any], Origins]:
    if text is None:
        data, lines = load_yaml_file(source)
    else:
        data, lines = load_yaml(text, source)
    if not isinstance(data, dict):
        raise PolicyError(
            "a policy file must be a mapping of keys to values",
            file=source,
            line=1,
            hint="start with 'version: 1'",
        )
    return data, _origins(lines, data, source)


def _resolve(
    source: str, text: str | None, directory: Path | None, seen: tuple[str, ...]
) -> tuple[dict[str, Any], Origins, tuple[str, ...]]:
    data, origins = _read(source, text)
    chain = (*seen, source)
    parent_name = data.get("extends")
    if parent_name is None:
        return data, origins, chain
    line = origins.get(("extends",), (source, None))[1]
    if not isinstance(parent_name, str) or not parent_name:
        raise PolicyError("extends must be a policy name", file=source, line=line)
    if "version" not in data:  # the parent's would hide its absence
        raise PolicyError(
            "version is missing: every policy file states its format version, extends or not",
            file=source,
            line=1,
            hint="add 'version: 1' at the top",
        )
    if len(chain) > _MAX_DEPTH:
        raise PolicyError(
            f"extends chain is too deep: more than {_MAX_DEPTH} files "
            f"({' -> '.join(Path(c).name for c in chain)} -> ...)",
            file=source,
            line=line,
            hint="let policies extend a shared parent instead of one another in a long line",
        )
    here = Path(source).parent if text is None else None  # text policies have no folder
    parent_source, parent_text = _locate(parent_name, directory, here)
    if parent_source is not None and _same_file(parent_source, chain):
        raise PolicyError(
            f"extends cycle: {' -> '.join([*chain, parent_source])}",
            file=source,
            line=line,
            hint="remove one of the extends",
        )
    if parent_source is None:
        named = parent_name.removesuffix(".yaml").removesuffix(".yml")
        hint = (
            "give a path that exists, or extend 'default'"
            if "/" in parent_name or "\\" in parent_name
            else f"create {named}.yaml next to this file, or extend 'default'"
        )
        raise PolicyError(
            f"extends {parent_name!r}: no such policy", file=source, line=line, hint=hint
        )
    base, base_o, chain = _resolve(parent_source, parent_text, directory, chain)
    version = base.get("version")
    if type(version) is not int or version != 1:  # the child's version would hide it
        where = base_o.get(("version",), (parent_source, 1))
        raise PolicyError(
            f"version {version!r} in a parent policy: this is format version 1",
            file=where[0],
            line=where[1],
            hint="a parent must be a version: 1 policy too",
        )
    base.pop("extends", None)
    merged = _merge(base, data, base_o, origins)
    base_o.update(origins)
    return merged, base_o, chain


def _same_file(source: str, chain: tuple[str, ...]) -> bool:
    """Whether ``source`` is already in the chain, however its path is spelled
    (``../ext/self.yaml`` is ``self.yaml``)."""
    if source in chain:
        return True
    real = os.path.realpath(source)
    return any(os.path.realpath(c) == real for c in chain if not c.startswith("<"))


def _locate(name: str, directory: Path | None, here: Path | None) -> tuple[str | None, str | None]:
    """Find the file ``extends: name`` refers to; the built-in default when none exists."""
    candidates = []
    if name.endswith((".yaml", ".yml")):
        candidates += [d / name for d in (here, directory) if d is not None]
    else:
        for d in (here, directory):
            if d is not None:
                candidates += [d / f"{name}.yaml", d / f"{name}.yml"]
    for c in candidates:
        if c.is_file():
            return str(c), None
    if name == BUILTIN_DEFAULT:
        return "<builtin:default>", builtin_default_text()
    return None, None


def _model_at(model: type[BaseModel] | None, loc: tuple) -> type[BaseModel] | None:
    for part in loc:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            return None
        ann = model.model_fields[part].annotation
        model = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
    return model


def _translate(exc: ValidationError, origins: Origins, default_file: str) -> PolicyError:
    """The first problem as the error raised; every further one in its ``also``."""
    problems = [_problem(e, origins, default_file) for e in exc.errors(include_url=False)]
    first = problems[0]
    first.also = tuple(problems[1:])
    return first


def _problem(err: Any, origins: Origins, default_file: str) -> PolicyError:
    loc = tuple(p for p in err["loc"] if p not in ("literal['auto']", "list[str]"))
    if loc and isinstance(loc[-1], str) and loc[-1].startswith(("function-", "union[")):
        loc = loc[:-1]
    dotted = ".".join(str(p) for p in loc) or "(top level)"
    file, line = default_file, None
    for n in range(len(loc), -1, -1):
        if loc[:n] in origins:
            file, line = origins[loc[:n]]
            break
    hint = ""
    kind = err["type"]
    if kind == "extra_forbidden":
        parent = _model_at(Policy, loc[:-1])
        known = list(parent.model_fields) if parent else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        msg = f"unknown key {dotted!r}"
        if close:
            hint = f"did you mean {close[0]!r}?"
        elif known:
            hint = f"allowed keys here: {', '.join(known)}"
    elif kind == "missing":
        msg = f"missing required key {dotted!r}"
        if loc == ("version",):
            hint = "add 'version: 1' at the top"
    else:
        msg = f"{dotted}: {err['msg']}"
        if kind == "value_error":
            hint = _inherited(err["msg"], loc, origins, file)
        elif kind == "literal_error" and loc == ("version",):
            hint = "this router reads policy format version 1"
        elif kind == "string_type" and isinstance(err.get("input"), (datetime.date, int, float)):
            seen = "a date" if isinstance(err["input"], datetime.date) else "a number"
            hint = f"quote it, as '{err['input']}': YAML reads it as {seen}"
        elif kind == "literal_error":
            choices = [
                c.strip(" '") for c in str(err["ctx"]["expected"]).replace(" or ", ",").split(",")
            ]
            close = difflib.get_close_matches(str(err.get("input")), choices, n=1, cutoff=0.5)
            hint = f"did you mean {close[0]!r}?" if close else f"use one of: {', '.join(choices)}"
    return PolicyError(msg, file=file, line=line, hint=hint)


def _inherited(message: str, loc: tuple, origins: Origins, file: str) -> str:
    """Where the values a cross-field error names come from, when another file set them
    (``thresholds.proprietary`` inherited from the default, say)."""
    found = []
    for name in dict.fromkeys(re.findall(r"\b[a-z_]+(?:\.[a-z_]+)*\b", message)):
        where = origins.get((*loc, *name.split(".")))
        if where is not None and where[0] != file:
            found.append(f"{name} is set in {Path(where[0]).name}:{where[1]}")
    return "; ".join(found) + ", which this file may override" if found else ""


def _digest(policy: Policy) -> str:
    canon = json.dumps(policy.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()


def load_policy(
    path: str | Path,
    *,
    team: str | None = None,
    directory: str | Path | None = None,
    text: str | None = None,
) -> TeamPolicy:
    """Load one policy file (following ``extends``) and validate it.

    ``team`` defaults to the file name without extension. Raises :class:`PolicyError`.
    """
    source = str(path)
    d = Path(directory) if directory is not None else None
    data, origins, chain = _resolve(source, text, d, ())
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        raise _translate(exc, origins, source) from None
    name = team if team is not None else Path(source).stem
    if name.startswith("<builtin:"):
        name = BUILTIN_DEFAULT
    return TeamPolicy(team=name, policy=policy, source=source, sha256=_digest(policy), chain=chain)


def builtin_default() -> TeamPolicy:
    """The default policy shipped in the package (same content as ``policies/default.yaml``)."""
    return load_policy("<builtin:default>", team=BUILTIN_DEFAULT, text=builtin_default_text())


def policy_files(directory: Path) -> list[Path]:
    """The policy files of ``directory`` (``*.yaml`` and ``*.yml``, one per team), sorted.
    A missing directory, or two files for one team, is a :class:`PolicyError`."""
    if not directory.is_dir():
        raise PolicyError("policy directory not found", file=str(directory))
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    seen: dict[str, Path] = {}
    for f in files:
        if f.stem in seen:  # one would silently replace the other
            raise PolicyError(
                f"two policy files for team {f.stem!r}: {seen[f.stem].name} and {f.name}",
                file=str(f),
                hint="keep one of them",
            )
        seen[f.stem] = f
    return files


class PolicySet(Mapping[str, TeamPolicy]):
    """The policies of every team, by team name."""

    def __init__(self, policies: Iterable[TeamPolicy]) -> None:
        self._by_team = {p.team: p for p in policies}
        if BUILTIN_DEFAULT not in self._by_team:
            self._by_team[BUILTIN_DEFAULT] = builtin_default()

    @classmethod
    def from_directory(cls, directory: str | Path) -> PolicySet:
        """Load every ``*.yaml`` policy in ``directory`` (team = file name)."""
        d = Path(directory)
        return cls(load_policy(f, directory=d) for f in policy_files(d))

    def __getitem__(self, team: str) -> TeamPolicy:
        try:
            return self._by_team[team]
        except KeyError:
            raise UnknownTeam(team, sorted(self._by_team)) from None

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._by_team)

    def __len__(self) -> int:
        return len(self._by_team)
