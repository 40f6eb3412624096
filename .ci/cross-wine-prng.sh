#!/usr/bin/env bash
# Wine 8.0 has no bcryptprimitives.dll, whose ProcessPrng Rust's std
# (>= 1.78) imports on Windows: a test binary exits with 53 before main.
# This builds a stand-in DLL whose ProcessPrng calls RtlGenRandom
# (advapi32's SystemFunction036) and installs it in a Wine prefix.
#
# Usage, sourced:  . .ci/cross-wine-prng.sh; wine_prng_install "$WINEPREFIX"
# or run:          bash .ci/cross-wine-prng.sh "$WINEPREFIX"
# Idempotent: an installed DLL is left as it is. The prefix is created
# (wineboot) if it does not exist yet.

wine_prng_install() {
  local prefix="${1:?usage: wine_prng_install WINEPREFIX}"
  local loader="${WINE_LOADER:-/usr/lib/wine/wine64}"
  local cc="${MINGW_CC:-x86_64-w64-mingw32-gcc}"
  local sys32="$prefix/drive_c/windows/system32"
  if [ -f "$sys32/bcryptprimitives.dll" ]; then
    return 0
  fi
  if [ ! -d "$sys32" ]; then
    mkdir -p "$prefix"
    WINEPREFIX="$prefix" WINEDEBUG=-all "$loader" wineboot --init >/dev/null 2>&1 || return 1
    WINEPREFIX="$prefix" "${WINESERVER:-/usr/lib/wine/wineserver64}" -w 2>/dev/null || true
  fi
  local dir
  dir="$(mktemp -d)" || return 1
  cat > "$dir/prng.c" <<'C'
#include <windows.h>

/* advapi32's RtlGenRandom, exported as SystemFunction036. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* bcryptprimitives' ProcessPrng: fills data with len random bytes and
   always succeeds (so does the real one). */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len > 0) {
    ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
    if (!SystemFunction036(data, chunk)) return FALSE;
    data += chunk;
    len -= chunk;
  }
  return TRUE;
}
C
  cat > "$dir/prng.def" <<'DEF'
LIBRARY bcryptprimitives.dll
EXPORTS
  ProcessPrng
DEF
  if ! "$cc" -shared -O2 -o "$dir/bcryptprimitives.dll" "$dir/prng.c" "$dir/prng.def" -ladvapi32; then
    rm -rf "$dir"
    return 1
  fi
  cp "$dir/bcryptprimitives.dll" "$sys32/bcryptprimitives.dll"
  rm -rf "$dir"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  wine_prng_install "${1:-${WINEPREFIX:?give the Wine prefix as an argument or in WINEPREFIX}}"
fi
