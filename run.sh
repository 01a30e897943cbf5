#!/usr/bin/env bash
# Set everything up on first use, then run the rag command, e.g.
#   ./run.sh ask "DeepSeekはどれくらいの費用でモデルを作ったと主張しましたか？"
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
if [ "$#" -eq 0 ]; then
  set -- ask "DeepSeekはどれくらいの費用でChatGPTに匹敵するモデルを作ったと主張しましたか？"
fi
exec .venv/bin/rag "$@"
