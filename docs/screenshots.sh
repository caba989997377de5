#!/usr/bin/env bash
# Refresh the review page's screenshots in this folder (shown in the README), taken by the
# browser test's own setup: a durable SummarizeThenVerify run waiting, headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
POCKETFLOW_SCREENSHOTS="$PWD/docs" uv run pytest -q -p no:cacheprovider tests/test_review_page_browser.py
