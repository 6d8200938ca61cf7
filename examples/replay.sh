#!/usr/bin/env bash
# Replay recorded traffic against a team's policy before deploying it: one decision per
# line on stdout (JSON), requests per tier and the estimated cost on stderr. No model runs.
set -euo pipefail
cd "$(dirname "$0")"
team="${1:-support}"
hybrid-router explain --config config.yaml --team "$team" --batch < traffic.jsonl
