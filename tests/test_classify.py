"""The classifier as a whole: every turn counts, tasks, tokens, labels, the scorer seam."""

from __future__ import annotations

import pytest

from router import Classifier, InvalidRequest, parse_request
from router.classify import HeuristicScorer, estimate_tokens
from router.classify.complexity import default_scorer
from router.classify.task import classify_task
from tests.helpers import FixedScorer


def classify(messages, labels=None, **params):
    return Classifier(FixedScorer(0.3)).classify(parse_request(messages, **params), labels)


def test_data_in_an_earlier_turn_is_in_the_request() -> None:
    c = classify(
        [
            {"role": "system", "content": "You help Maria Schmidt."},
            {"role": "user", "content": "My IBAN is GB82 WEST 1234 5698 7654 32."},
            {"role": "assistant", "content": "Thanks."},
            {"role": "user", "content": "What is the weather like?"},
        ]
    )
    assert {"iban", "person"} <= c.data_classes
    iban = next(d for d in c.detections if d.data_class == "iban")
    assert iban.message == 1
    text = "My IBAN is GB82 WEST 1234 5698 7654 32."
    assert text[iban.start : iban.end] == "GB82 WEST 1234 5698 7654 32"


def test_tool_results_and_tool_call_arguments_are_scanned() -> None:
    c = classify(
        [
            {"role": "user", "content": "Look up the customer."},
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "1",
                        "type": "function",
                        "function": {"name": "lookup", "arguments": '{"email": "ana@example.org"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "1", "content": "Phone: +44 20 7946 0958"},
        ]
    )
    assert {"email", "phone"} <= c.data_classes


def test_request_needs_are_recorded() -> None:
    c = classify(
        "hi",
        max_tokens=30,
        tools=[{"type": "function", "function": {"name": "f"}}],
        response_format={"type": "json_object"},
    )
    assert c.wants_tools and c.wants_json and c.max_output_tokens == 30
    assert not c.wants_images
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    content = [{"type": "text", "text": "what is this?"}, image]
    assert classify([{"role": "user", "content": content}]).wants_images


def test_an_image_counts_as_an_image_not_as_the_length_of_its_url() -> None:
    # A 300 kB photo sent inline is 400 kB of base64: it was counted as 100,000 tokens,
    # which pushed it past cost ceilings and context windows.
    photo = "data:image/jpeg;base64," + "QUJD" * 100_000

    def tokens(url: str, detail: str | None = None) -> int:
        image = {"type": "image_url", "image_url": {"url": url}}
        if detail:
            image["image_url"]["detail"] = detail
        content = [{"type": "text", "text": "what is this?"}, image]
        return classify([{"role": "user", "content": content}]).tokens

    text_only = classify([{"role": "user", "content": "what is this?"}]).tokens
    assert tokens(photo) == text_only + 765
    assert tokens(photo, "low") == text_only + 85
    assert tokens("https://img.example/cat.png") == text_only + 765
    # The URL's text is still read for personal data.
    leaky = "https://img.example/cat.png?owner=jane.doe@example.com"
    image = {"type": "image_url", "image_url": {"url": leaky}}
    c = classify([{"role": "user", "content": [{"type": "text", "text": "hi"}, image]}])
    assert "email" in c.data_classes


def test_labels_are_validated_and_kept() -> None:
    assert classify("hi", {"sensitivity": "confidential"}).labels == {"sensitivity": "confidential"}
    from router.classify.classifier import check_labels

    with pytest.raises(InvalidRequest):
        check_labels({"sensitivity": 1})
    with pytest.raises(InvalidRequest):
        check_labels(["not", "a", "mapping"])


@pytest.mark.parametrize(("text", "tokens"), [("", 0), ("abcd", 1), ("a" * 400, 100)])
def test_token_estimate_for_ascii(text: str, tokens: int) -> None:
    assert estimate_tokens(text) == tokens


def test_token_estimate_counts_cjk_characters_as_tokens() -> None:
    assert estimate_tokens("东京都の天気は晴れです") >= 10  # ~1 token per character, not 1/4


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ("hi there!", "chat"),
        ("Thanks, that helped a lot.", "chat"),
        ("I want to return my order, it arrived broken", "chat"),
        ("Translate 'good morning' into French", "translation"),
        ("Übersetze das bitte: where is the station?", "translation"),
        ("Summarise this article in three bullet points: ...", "summarisation"),
        ("Summarise this code: def f(x): return x", "summarisation"),
        ("Give me the key points of this memo", "summarisation"),
        ("Extract all names and dates as JSON from the text below", "extraction"),
        ("Write a haiku about autumn", "creative_writing"),
        ("Tell me a joke about databases", "creative_writing"),
        ("My python script throws a traceback when I import numpy", "code"),
        ("Fix this: for (i = 0; i < n; i++) {\n  sum += a[i];\n}", "code"),
        ("What is 17 * 23?", "math"),
        ("Solve 3x + 7 = 22", "math"),
        ("How many apples are left if Tom eats 3 of 10?", "math"),
        ("Why is the sky blue? Explain step by step.", "reasoning"),
        ("Which of the following is a prime number? A. 4 B. 9 C. 11", "math"),
    ],
)
def test_task_table(text: str, task: str) -> None:
    assert classify_task(text) == task


def test_long_prompts_are_judged_by_their_first_and_last_lines() -> None:
    body = "lorem ipsum dolor sit amet " * 200
    assert classify_task("Summarise the following report.\n" + body) == "summarisation"
    assert classify_task(body + "\nTranslate the text above into Spanish") == "translation"


def test_complexity_scorers_stay_in_range() -> None:
    for scorer in (HeuristicScorer(), default_scorer()):
        for turns in (["hello"], ["Prove the theorem " * 300], ["", ""], ["x"]):
            assert 0.0 <= scorer.score(turns) <= 1.0
    assert HeuristicScorer().score([]) == 0.0
