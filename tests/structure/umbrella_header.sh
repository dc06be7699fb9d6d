#!/usr/bin/env bash
# embedkit/embedkit.hpp includes every public header of the library (docs/design.md says so, and a
# user who includes it expects the whole API): each header under include/embedkit/, except the
# umbrella itself, the CUDA backend's and the MPI-sharded tables' (each its own library), must
# appear in it; and none of those two may.
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
done < <(find "$root/include/embedkit" -name '*.hpp' ! -path '*/cuda/*' ! -path '*/dist/*' \
  ! -name embedkit.hpp | sort)
if grep -nE '#include "embedkit/(cuda|dist)/' "$umbrella"; then
  echo "embedkit/embedkit.hpp includes an optional library's header (cuda/ or dist/)" >&2
  missing=1
fi
exit "$missing"
