#!/usr/bin/env bash
# embedkit/embedkit.hpp includes every public header of the library (docs/design.md says so, and a
# user who includes it expects the whole API): each header under include/embedkit/, except the
# umbrella itself and the CUDA backend's (its own library), must appear in it.
set -euo pipefail
root="$1"
umbrella="$root/include/embedkit/embedkit.hpp"
missing=0
while IFS= read -r header; do
  name="${header#"$root/include/"}"
  if ! grep -qF "#include \"$name\"" "$umbrella"; then
    echo "embedkit/embedkit.hpp does not include $name" >&2
    missing=1
  fi
done < <(find "$root/include/embedkit" -name '*.hpp' ! -path '*/cuda/*' ! -name embedkit.hpp | sort)
exit "$missing"
