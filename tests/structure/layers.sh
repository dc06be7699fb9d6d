#!/usr/bin/env bash
# The library's layers include only downward (docs/design.md, "Layers and folders"): each folder
# of src/ and include/embedkit/ may include only the layers listed for it below. A new arrow in
# the picture is a decision to write down there first, then here.
set -euo pipefail
root="$1"
declare -A allowed=(
  [core]=""
  [kernels]="core"
  [nn]="core kernels"
  [optim]="core kernels nn"
  [io]="core"
  [vectors]="core kernels io"
  [models]="core kernels nn optim io vectors"
  [cuda]="core nn optim"
  [dist]="core kernels nn optim io models"
)
layers="core kernels nn optim io vectors models cuda dist"
status=0
for layer in $layers; do
  for dir in "$root/src/$layer" "$root/include/embedkit/$layer"; do
    [ -d "$dir" ] || continue
    # Every project include names its layer first: "embedkit/<layer>/..." or "<layer>/...".
    while IFS= read -r hit; do
      file="${hit%%:*}"
      target=$(sed -E 's/.*#include "(embedkit\/)?([a-z_]+)\/.*/\2/' <<<"$hit")
      [ "$target" = "$layer" ] && continue
      case " $layers " in *" $target "*) ;; *) continue ;; esac
      case " ${allowed[$layer]} " in
        *" $target "*) ;;
        *)
          echo "${file#"$root/"}: layer '$layer' includes layer '$target' (allowed: ${allowed[$layer]:-none})" >&2
          status=1
          ;;
      esac
    done < <(grep -rHE '^#include "(embedkit/)?[a-z_]+/' "$dir" || true)
  done
done
# Nothing in the library includes the command, the tests or the examples.
if grep -rnE '^#include "(tools|tests|examples|support)/' "$root/src" "$root/include"; then
  echo "the library includes tools/, tests/ or examples/" >&2
  status=1
fi
# The Python bindings (python/bindings) stand above the library and use only its public headers
# ("embedkit/...") and their own files: what they can do, a C++ user can do too.
if grep -rnE '^#include "' "$root/python/bindings" | grep -vE '#include "(embedkit/[a-z0-9_/]+\.hpp|[a-z0-9_]+\.hpp)"'; then
  echo "python/bindings includes something other than embedkit's public headers and its own files" >&2
  status=1
fi
exit "$status"
