"""An application that imports the router instead of calling a model.

Runs anywhere: the backends in examples/config.yaml are scripted fakes, so the routes and
reasons are real while the answers are canned. Swap the config for one with real backends
(examples/backends_config.yaml) and nothing else changes.

    python examples/app.py
"""

from __future__ import annotations

from pathlib import Path

from router import NoRouteAvailable, Router

HERE = Path(__file__).resolve().parent


def main() -> None:
    with Router.from_config(HERE / "config.yaml") as router:
        requests = [
            ("support", "Hi! Where can I download my invoice?"),
            ("support", "Please update the phone on my account to +44 20 7946 0958."),
            ("legal", "Summarise the attached NDA for Maria Schmidt, Hauptstraße 5, Berlin."),
            ("research", "Prove that the sum of two even integers is even, step by step."),
            ("research", "Here is my key sk-proj-abcdefghijklmnopqrstuvwxyz123456, debug it"),
        ]
        for team, text in requests:
            try:
                reply = router.chat(text, team=team, max_tokens=200)
            except NoRouteAvailable as exc:
                print(f"[{team}] refused: {str(exc).splitlines()[0]}")
                continue
            route = reply.route
            print(f"[{team}] -> {route.backend} ({route.tier}, {route.zone}): {reply.text}")
            for reason in route.reasons:
                print(f"      {reason}")


if __name__ == "__main__":
    main()
