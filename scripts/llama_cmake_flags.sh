# Sourced by scripts/build_llama.sh and bench/setup_llama_bench.sh: prints the CMake flags for
# llama.cpp on this CPU. Instruction sets are switched on only when /proc/cpuinfo lists them
# (no -march=native); AMX is always off, since sandboxes that advertise it fault on it.
llama_cmake_flags() {
  local flags
  flags="$(grep -m1 '^flags' /proc/cpuinfo || true)"
  has() { [[ " $flags " == *" $1 "* ]] && echo ON || echo OFF; }
  printf '%s' "-DGGML_NATIVE=OFF -DGGML_AVX=$(has avx) -DGGML_AVX2=$(has avx2) -DGGML_FMA=$(has fma) -DGGML_F16C=$(has f16c)"
  printf '%s' " -DGGML_AVX512=$(has avx512f) -DGGML_AVX512_VNNI=$(has avx512_vnni) -DGGML_AVX512_BF16=$(has avx512_bf16) -DGGML_AVX_VNNI=$(has avx_vnni)"
  printf '%s' " -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
}
