#!/usr/bin/env bash
# The installed Python package works on its own: `cmake --install <build> --component python`
# into a temporary directory (what make python-install does),
# then the package is imported from there, away from the checkout, by the interpreter the module
# was built for. A plain `cmake --install --prefix` must not write the package anywhere.
#
# Usage: tests/python/install_smoke.sh <build directory> <python interpreter>
set -euo pipefail
build=$1
python=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/embedkit-python-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
if find "$tmp/prefix" -name '_embedkit*' | grep -q .; then
  echo "install_smoke: a plain install wrote the Python module under the prefix" >&2
  exit 1
fi

# DESTDIR stages the install under $tmp/root (the destination is the interpreter's absolute
# site directory), so the test writes nothing outside its temporary directory.
DESTDIR="$tmp/root" cmake --install "$build" --component python >/dev/null
init=$(find "$tmp/root" -path '*/embedkit/__init__.py' | head -n 1)
if [[ -z $init ]]; then
  echo "install_smoke: the python component installed no package" >&2
  exit 1
fi
site=$(dirname "$(dirname "$init")")
cd "$tmp"
PYTHONPATH="$site" "$python" -c '
import os, sys
import embedkit
where = os.path.dirname(embedkit.__file__)
assert where == os.path.join(sys.argv[1], "embedkit"), where
print("embedkit", embedkit.__version__, "from the installed package")
' "$site"
