"""How a team tests its policy before deploying it: fake backends, no GPU, no network.

pytest examples/team_policy
"""

from __future__ import annotations

from pathlib import Path

from router import FakeBackend, NoRouteAvailable, Price, Router, load_policy

POLICY = load_policy(Path(__file__).with_name("marketing.yaml"), team="marketing")


def make_router() -> tuple[Router, FakeBackend]:
    cloud = FakeBackend(
        "cloud",
        tier="proprietary",
        zone="remote",
        price=Price(input_per_mtok=2.0, output_per_mtok=8.0),
        reply=lambda req: "Draft for " + req.messages[-1].text()[-20:],
    )
    backends = [FakeBackend("local-small"), FakeBackend("local-large", tier="large"), cloud]
    return Router(backends, [POLICY], telemetry=False), cloud


def test_creative_writing_goes_to_the_proprietary_tier() -> None:
    router, _ = make_router()
    e = router.explain("Write a short poem about our new espresso machine", team="marketing")
    assert e.decision.required_tier == "proprietary"
    assert e.backend == "cloud"


def test_customer_names_stay_local() -> None:
    router, cloud = make_router()
    reply = router.chat("Write a poem for our customer Olivia Martinez", team="marketing")
    assert reply.route.zone == "local"
    assert cloud.calls == 0


def test_emails_reach_the_cloud_only_as_placeholders() -> None:
    router, cloud = make_router()
    reply = router.chat("Write a slogan to send to press@example.com", team="marketing")
    assert reply.route.backend == "cloud"
    assert "press@example.com" not in cloud.requests[-1].messages[-1].text()
    assert "press@example.com" in reply.text  # restored in the answer


def test_a_blocked_request_says_why() -> None:
    strict = Router(
        [FakeBackend("cloud", tier="proprietary", zone="remote")], [POLICY], telemetry=False
    )
    try:
        strict.chat("A poem for Olivia Martinez", team="marketing")
    except NoRouteAvailable as exc:
        assert "person is local_only" in str(exc)
    else:
        raise AssertionError("a remote-only router must refuse a request naming a customer")
