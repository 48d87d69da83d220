#!/usr/bin/env bash
# Format gate: fails (listing the files) if any C++ source differs from clang-format's output.
set -euo pipefail
cd "$(dirname "$0")/.."
fmt=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$fmt" ]; then
  echo "clang-format not found (run scripts/install-deps.sh)" >&2
  exit 1
fi
bad=0
while IFS= read -r -d '' f; do
  if ! "$fmt" --style=file "$f" | cmp -s - "$f"; then
    echo "not formatted: $f (run scripts/format.sh)"
    bad=1
  fi
done < <(git ls-files -z --cached --others --exclude-standard -- '*.cpp' '*.hpp' '*.h' '*.cc')
exit $bad
