#!/usr/bin/env bash
# The built kernels still prefetch: in each per-ISA object given, the run-time-width bodies of the
# bag kernel (bag_loop at D = 0), of reduce_row and of the fused SGD step (sgd_runs at width 0),
# and the width dispatchers of reduce_runs and update_runs (the fused Adagrad steps), each hold at
# least one prefetch instruction.
#
# Why a test reads the machine code: GCC 12 finds a function that only prefetches "looping
# const" and deletes a call to it that it left out of line, prefetches and all, with every
# result still right. The functions above had no prefetch at all in release builds that way,
# and the fused SGD kernels at every width had lost their table-row prefetches (text model's
# fused step 25% slower: BENCHMARKS.md, "The prefetches GCC deleted"). The helpers are now
# EMBEDKIT_ALWAYS_INLINE (kernels_impl.hpp, prefetch_row); the widths checked here are the ones
# where a kernel that does not prefetch has none left at all to count.
#
#   [OBJDUMP=objdump] prefetches.sh OBJECT...   (the objects of embedkit_kernels_<level>)
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 OBJECT..." >&2
  exit 2
fi

status=0
for object in "$@"; do
  # One line per function: its prefetch count, then its demangled name.
  counts=$("${OBJDUMP:-objdump}" -d -C --no-show-raw-insn "$object" | awk '
    /^[0-9a-f]+ <.*>:$/ { if (name != "") print count "\t" name; name = $0; count = 0; next }
    /\tprefetch/ { count++ }
    END { if (name != "") print count "\t" name }')
  for family in 'bag_loop<[^,]*, [^,]*, [^,]*, 0, ' 'reduce_row<[^,]*, [^,]*, 0, ' \
                'sgd_runs<.*integral_constant<int, 0> >' 'with_dim<.*reduce_runs<' \
                'with_dim<.*update_runs<'; do
    matched=$(printf '%s\n' "$counts" | grep -E -- "$family" || true)
    if [ -z "$matched" ]; then
      echo "FAIL $object: no function matches /$family/ (renamed or inlined? update this test)"
      status=1
      continue
    fi
    without=$(printf '%s\n' "$matched" | awk -F'\t' '$1 == 0' || true)
    if [ -n "$without" ]; then
      echo "FAIL $object: functions of /$family/ without a prefetch instruction:"
      printf '%s\n' "$without" | cut -f2 | cut -c1-300
      status=1
    else
      echo "ok   $object: $(printf '%s\n' "$matched" | wc -l) functions of /$family/ prefetch"
    fi
  done
done
exit "$status"
