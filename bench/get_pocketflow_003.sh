#!/usr/bin/env bash
# Fetch PocketFlow 0.0.3 (the baseline that bench/engine.py compares against) into
# bench/.pocketflow-0.0.3/, beside the workspace's own `pocketflow` rather than over it.
set -euo pipefail
cd "$(dirname "$0")"
uv pip install --no-deps --target .pocketflow-0.0.3 pocketflow==0.0.3
