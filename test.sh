#!/usr/bin/env bash
# Set everything up on first use, then run the whole test suite (unit and end-to-end
# with the real models). Extra arguments go to pytest, e.g. ./test.sh -m "not e2e".
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
bash scripts/setup_browser.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec .venv/bin/python -m pytest -q "$@"
