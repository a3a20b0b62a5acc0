# shellcheck shell=bash
# Sourced by scripts/demo and scripts/test: cmake --build with its progress on one updating
# line ("building [123/410] 30%"), on a terminal; elsewhere (CI, a pipe) one line per tenth.
# The compiler's messages are shown only when the build fails.
# Usage: build_quietly BUILD_DIR [more cmake --build arguments]
build_quietly() {
  local dir=$1 log rc
  shift
  log=$(mktemp "${TMPDIR:-/tmp}/exhibit-build.XXXXXX")
  set +e
  cmake --build "$dir" -j"$(nproc)" "$@" 2>&1 | tee "$log" | awk -v tty="$([[ -t 1 ]] && echo 1)" '
    match($0, /^\[[0-9]+\/[0-9]+\]/) {
      split(substr($0, 2, RLENGTH - 2), n, "/")
      pct = int(100 * n[1] / n[2])
      if (tty) { printf "\r  building [%s/%s] %d%%   ", n[1], n[2], pct; fflush() }
      else if (pct >= next_pct) { printf "  building [%s/%s] %d%%\n", n[1], n[2], pct; fflush(); next_pct = pct - pct % 10 + 10 }
      shown = 1
    }
    END { if (tty && shown) printf "\n" }'
  rc=${PIPESTATUS[0]}
  set -e
  if ((rc != 0)); then
    echo "build failed in $dir; the compiler said:" >&2
    grep -v '^\[[0-9]*/[0-9]*\]' "$log" >&2 || true
  fi
  rm -f "$log"
  return "$rc"
}

# The one sanitizer tree, build-asan/: clang-15 with AddressSanitizer, UndefinedBehaviorSanitizer
# and libFuzzer's coverage instrumentation, at -O1 with line tables (the usual fuzzing flags;
# assertions stay on). scripts/test builds its unit and hostile tests and the fuzz targets in
# it, scripts/fuzz the fuzz targets. A tree left by an older configuration (GCC) is remade.
configure_sanitizer_tree() {
  local cache=build-asan/CMakeCache.txt
  if [[ -f $cache ]] && ! grep -q '^CMAKE_CXX_COMPILER:[A-Z]*=.*clang++-15$' "$cache"; then
    rm -rf build-asan
  fi
  CC=clang-15 CXX=clang++-15 cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_FLAGS_DEBUG="-O1 -gline-tables-only" \
    -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only" \
    -DEXHIBIT_SANITIZE=ON -DEXHIBIT_FUZZ=ON -DEXHIBIT_WERROR=ON -DEXHIBIT_BENCH=OFF >/dev/null
}
