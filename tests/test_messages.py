"""The OpenAI chat format: what is accepted, and how a malformed request is reported."""

import pytest

from router import InvalidRequest, parse_request


def test_a_plain_string_is_one_user_message() -> None:
    req = parse_request("Hello")
    assert [m.role for m in req.messages] == ["user"]
    assert req.messages[0].text() == "Hello"


def test_full_openai_conversation_is_accepted() -> None:
    req = parse_request(
        [
            {"role": "system", "content": "Be brief."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Weather in Paris?"},
                    {"type": "image_url", "image_url": {"url": "x://y"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city": "Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "18 C, sunny"},
        ],
        max_tokens=50,
        temperature=0.2,
        top_p=0.9,
        stop=["\n\n"],
        seed=7,
        tools=[{"type": "function", "function": {"name": "weather", "parameters": {}}}],
        tool_choice="auto",
        response_format={"type": "json_object"},
    )
    assert [m.role for m in req.messages] == ["system", "user", "assistant", "tool"]
    assert req.messages[1].text() == "Weather in Paris?"
    assert '"city": "Paris"' in req.messages[2].text()  # tool-call arguments are text we send
    assert req.wants_json and req.stop_list == ["\n\n"]
    assert req.generation_params()["max_tokens"] == 50


def test_max_completion_tokens_is_an_alias() -> None:
    assert parse_request("hi", max_completion_tokens=9).max_tokens == 9
    with pytest.raises(InvalidRequest, match="not both"):
        parse_request("hi", max_completion_tokens=9, max_tokens=9)


@pytest.mark.parametrize(
    ("messages", "params", "field"),
    [
        ([], {}, "messages"),
        ([{"role": "user"}], {}, "messages[0].content"),
        ([{"role": "bot", "content": "x"}], {}, "messages[0]"),
        ([{"role": "user", "content": 5}], {}, "messages[0].content"),
        ([{"role": "user", "content": [{"type": "text"}]}], {}, "messages[0].content[0].text"),
        ([{"role": "user", "content": [{"type": "video"}]}], {}, "messages[0].content[0]"),
        ([{"role": "tool", "content": "x"}], {}, "messages[0].tool_call_id"),
        (
            [{"role": "assistant", "tool_calls": [{"id": "1", "function": {"name": "f"}}]}],
            {},
            "messages[0].tool_calls[0].function.arguments",
        ),
        ("hi", {"temperature": 3}, "temperature"),
        ("hi", {"top_p": 0}, "top_p"),
        ("hi", {"max_tokens": 0}, "max_tokens"),
        ("hi", {"tempreature": 0.5}, "tempreature"),
        ("hi", {"tool_choice": "maybe"}, "tool_choice"),
        ("hi", {"response_format": {"type": "xml"}}, "response_format.type"),
        (5, {}, "messages"),
    ],
)
def test_malformed_requests_name_the_field(messages, params, field) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_request(messages, **params)
    assert info.value.field == field
    assert str(info.value).startswith(field)


def test_invalid_request_is_a_value_error_for_callers_that_catch_broadly() -> None:
    with pytest.raises(ValueError):
        parse_request([])
