#!/usr/bin/env bash
# Build llama-cpp-python from source for this CPU, with AMX always off.
# The wheel is kept in a cache folder whose name includes the version and the
# CMake flags, so a wheel built with other flags is never silently reused
# (pip's own wheel cache ignores CMAKE_ARGS).
set -euo pipefail
VERSION="${LLAMA_CPP_VERSION:-0.3.36}"
PY="${1:?usage: build_llama.sh PYTHON}"

source "$(dirname "$0")/llama_cmake_flags.sh"
CMAKE_ARGS="$(llama_cmake_flags) -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF"
export CMAKE_ARGS

key="$(printf '%s %s' "$VERSION" "$CMAKE_ARGS" | sha256sum | cut -c1-16)"
cache="${RAG_WHEEL_CACHE:-$HOME/.cache/rag-wheels}/llama-$VERSION-$key"
if ! ls "$cache"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  echo "building llama-cpp-python $VERSION from source (about 6 minutes); CMAKE_ARGS=$CMAKE_ARGS" >&2
  mkdir -p "$cache.tmp"
  CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" "$PY" -m pip wheel --no-cache-dir --no-deps -w "$cache.tmp" "llama-cpp-python==$VERSION" >&2
  rm -rf "$cache" && mv "$cache.tmp" "$cache"
fi
"$PY" -m pip install -q --no-deps --force-reinstall "$cache"/llama_cpp_python-*.whl
# llama-cpp-python's own runtime dependencies
"$PY" -m pip install -q "numpy>=1.20" "typing-extensions>=4.5" "diskcache>=5.6.1" "jinja2>=2.11.3"
