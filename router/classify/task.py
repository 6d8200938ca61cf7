"""What kind of task a request is, from cues in its last user turn. No model, no network.

Each task has weighted cue words and phrases; the task with the highest total wins,
``chat`` when nothing matches. Explicit instructions ("translate", "summarise", "extract",
"write a poem") weigh more than any number of hints (digits, code-like punctuation), so
"summarise this code" is summarisation.

Speed matters (this runs on every request). Instructions sit at the start or the end of a
prompt ("Summarise the following: ...", "... Translate this into French."), so only the
first and last 200 characters are read; they are lower-cased and cut into words once
(one ``bytes.translate`` for ASCII text), and one intersection with a table of every key
word finds the cues present. A phrase is searched for only when its key word is present.
Under 10 µs for any prompt length.
"""

from __future__ import annotations

import string

_EDGE = 200
_PUNCT = string.punctuation.replace("+", "").replace("#", "").encode()
_SPLIT = bytes.maketrans(_PUNCT, b" " * len(_PUNCT))

_LANGUAGES = (
    "english french spanish german italian portuguese chinese japanese korean russian arabic "
    "hindi dutch polish swedish turkish greek czech ukrainian vietnamese indonesian"
).split()

# task -> (weight, cue words, phrases as (key word, phrase)); words are matched as bytes
_RAW_CUES: dict[str, tuple[float, frozenset[str], tuple[tuple[str, str], ...]]] = {
    "translation": (
        4.0,
        frozenset(
            "translate translation translating traduis traduire traduce traducir traduz "
            "übersetze übersetzen übersetzung tradurre vertaal".split()
        ),
        tuple((lang, f"into {lang}") for lang in _LANGUAGES),
    ),
    "summarisation": (
        4.0,
        frozenset(
            "summarise summarize summary summarisation summarization tldr condense gist "
            "recap".split()
        ),
        (
            ("tl", "tl;dr"),
            ("points", "key points"),
            ("takeaways", "key takeaways"),
            ("sentences", "in a few sentences"),
            ("sentence", "in one sentence"),
            ("points", "main points"),
        ),
    ),
    "extraction": (
        4.0,
        frozenset("extract extraction parse".split()),
        (
            ("list", "list all"),
            ("list", "list every"),
            ("find", "find all"),
            ("json", "as json"),
            ("json", "into json"),
            ("json", "to json"),
            ("entities", "named entities"),
            ("fields", "fill in the fields"),
            ("identify", "identify all"),
            ("pull", "pull out"),
        ),
    ),
    "creative_writing": (
        4.0,
        frozenset(
            "poem haiku limerick sonnet lyrics screenplay fairytale slogan tagline verse "
            "rhyme".split()
        ),
        (
            ("story", "short story"),
            ("story", "write a story"),
            ("story", "bedtime story"),
            ("song", "a song"),
            ("tale", "fairy tale"),
            ("joke", "tell me a joke"),
            ("joke", "write a joke"),
        ),
    ),
    "code": (
        2.5,
        frozenset(
            "python javascript typescript java rust golang sql regex bash kotlin swift haskell "
            "c++ c# def const void struct compiler traceback segfault stacktrace refactor "
            "unittest pytest npm pip dockerfile html css".split()
        ),
        (
            ("trace", "stack trace"),
            ("test", "unit test"),
            ("function", "write a function"),
            ("function", "this function"),
            ("script", "write a script"),
            ("code", "this code"),
            ("code", "my code"),
            ("code", "the code"),
            ("program", "a program"),
            ("request", "pull request"),
            ("class", "write a class"),
            ("query", "sql query"),
        ),
    ),
    "math": (
        2.0,
        frozenset(
            "solve calculate compute integral derivative equation equations probability "
            "percent percentage factorial prime matrix theorem lemma algebra arithmetic sum "
            "product quotient fraction fractions ratio average mean median".split()
        ),
        (
            ("many", "how many"),
            ("much", "how much"),
            ("root", "square root"),
            ("value", "what is the value"),
        ),
    ),
    "reasoning": (
        1.5,
        frozenset(
            "why explain reason reasoning prove justify compare tradeoff tradeoffs "
            "implications analyse analyze infer deduce argue logic logical".split()
        ),
        (
            ("step", "step by step"),
            ("cons", "pros and cons"),
            ("happen", "what would happen"),
            ("following", "which of the following"),
            ("trade", "trade-off"),
        ),
    ),
}

_OPERATORS = "+-*/^×÷="


_WEIGHTS = {task: weight for task, (weight, _, _) in _RAW_CUES.items()}
_ORDER = {task: i for i, task in enumerate(_RAW_CUES)}  # ties go to the task listed first
# One table for every key word: a cue word -> its task, a phrase's key word -> its phrases.
# No word is both (checked at import), so one intersection finds every cue present.
_WORD_TASK = {w.encode(): task for task, (_, words, _) in _RAW_CUES.items() for w in words}
_PHRASES: dict[bytes, list[tuple[str, str]]] = {}
for _task, (_, _, _phrases) in _RAW_CUES.items():
    for _key, _phrase in _phrases:
        _PHRASES.setdefault(_key.encode(), []).append((_task, _phrase))
assert _WORD_TASK.keys().isdisjoint(_PHRASES)
_KEYS = frozenset(_WORD_TASK) | frozenset(_PHRASES)
# bytes.translate table for ASCII text: lower-case and blank punctuation in one pass.
_LOWER_SPLIT = bytes(c + 32 if 65 <= c <= 90 else 32 if c in _PUNCT else c for c in range(256))


def _code_marks(text: str) -> bool:
    return (
        "```" in text
        or "()" in text
        or "=>" in text
        or "->" in text
        or "::" in text
        or "</" in text
        or ";\n" in text
        or "{\n" in text
    )


def _arithmetic(text: str) -> bool:
    """A digit, an operator, a digit: ``12 * 7``, ``3x+4=10``."""
    for op in _OPERATORS:
        i = text.find(op)
        while i != -1:
            before = text[max(0, i - 3) : i].rstrip()
            after = text[i + 1 : i + 4].lstrip(" (")
            if before[-1:].isdigit() and after[:1].isdigit():
                return True
            i = text.find(op, i + 1)
    return False


def classify_task(text: str) -> str:
    """The task of a user turn: one of :data:`router.classify.types.TASKS`.

    >>> classify_task("Translate 'good morning' into French")
    'translation'
    >>> classify_task("hi there!")
    'chat'
    """
    if len(text) > 2 * _EDGE:
        text = text[:_EDGE] + "\n" + text[-_EDGE:]
    if text.isascii():  # bytes.translate is several times faster than str.lower + translate
        tokens = text.encode().translate(_LOWER_SPLIT).split()
    else:
        tokens = text.lower().encode("utf-8", "ignore").translate(_SPLIT).split()
    hits: dict[str, int] = {}
    low = ""
    for key in _KEYS.intersection(tokens):
        task = _WORD_TASK.get(key)
        if task is not None:
            hits[task] = hits.get(task, 0) + 1
            continue
        low = low or text.lower()
        for task, phrase in _PHRASES[key]:
            if phrase in low:
                hits[task] = hits.get(task, 0) + 1
    if _code_marks(text):
        hits["code"] = hits.get("code", 0) + 1
    if _arithmetic(text):
        hits["math"] = hits.get("math", 0) + 1
    best, best_score = "chat", 0.0
    for task, n in hits.items():
        score = _WEIGHTS[task] * (1.0 + 0.25 * (min(n, 3) - 1))
        if score > best_score or (score == best_score and _ORDER[task] < _ORDER[best]):
            best, best_score = task, score
    return best
