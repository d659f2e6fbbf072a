#!/usr/bin/env bash
# clang-format (the checked-in .clang-format, clang-format 14 as Debian 12
# ships it: other versions break lines differently) over every C++ and CUDA
# source of the tree.
#   launch/format.sh          rewrite the files in place
#   launch/format.sh --check  change nothing: name each file that differs, exit 1 if any
#                             (CTest runs this: Format.SourcesAreClangFormatted)
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG_FORMAT=${CLANG_FORMAT:-$(command -v clang-format-14 || command -v clang-format || true)}
[ -n "$CLANG_FORMAT" ] || { echo "launch/format.sh: clang-format not found (launch/setup.sh installs it)" >&2; exit 2; }
mapfile -t files < <(find src include tests cmake -type f \
    \( -name '*.cpp' -o -name '*.h' -o -name '*.cu' -o -name '*.cuh' \) -not -path 'tests/fixtures/*' | sort)
if [ "${1:-}" = --check ]; then
  bad=()
  for f in "${files[@]}"; do
    "$CLANG_FORMAT" --style=file "$f" | cmp -s - "$f" || bad+=("$f")
  done
  if [ ${#bad[@]} -gt 0 ]; then
    printf 'launch/format.sh: not clang-formatted: %s\n' "${bad[@]}" >&2
    echo "launch/format.sh: ${#bad[@]} of ${#files[@]} files differ; run launch/format.sh to rewrite them" >&2
    exit 1
  fi
  echo "launch/format.sh: ${#files[@]} files clang-formatted"
else
  "$CLANG_FORMAT" --style=file -i "${files[@]}"
fi
