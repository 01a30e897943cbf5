#!/usr/bin/env bash
# The benchmark's own set-up (not the user's): build llama.cpp's llama-bench from the very source
# that llama-cpp-python vendors, with the same CPU flags as scripts/build_llama.sh (AMX off).
# Prints the path of the built binary. Idempotent; about 4 minutes the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="${LLAMA_CPP_VERSION:-0.3.36}"
source scripts/llama_cmake_flags.sh
ARGS="$(llama_cmake_flags) -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF"
key="$(printf '%s %s' "$VERSION" "$ARGS" | sha256sum | cut -c1-16)"
root="${RAG_BENCH_CACHE:-$HOME/.cache/rag-bench}/llama-bench-$VERSION-$key"
if [ ! -x "$root/llama-bench" ]; then
  work="$(mktemp -d)"
  echo "building llama-bench from llama-cpp-python $VERSION's vendored llama.cpp; cmake flags: $ARGS" >&2
  .venv/bin/python -m pip download --no-deps --no-binary :all: -q -d "$work" "llama-cpp-python==$VERSION" 2> >(grep -v "^WARNING: Location" >&2)
  tar xzf "$work"/llama_cpp_python-*.tar.gz -C "$work"
  src="$(echo "$work"/llama_cpp_python-*/vendor/llama.cpp)"
  # shellcheck disable=SC2086
  cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release $ARGS >&2
  cmake --build "$work/build" --target llama-bench -j "$(nproc)" >&2
  mkdir -p "$root"
  cp "$work/build/bin/llama-bench" "$root/"
  cp "$work"/build/bin/*.so* "$root/" 2>/dev/null || true
  rm -rf "$work"
fi
echo "$root/llama-bench"
