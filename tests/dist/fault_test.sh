#!/usr/bin/env bash
# The fault test of the sharded tables (issue 17): a job in which one rank dies stops with
# mpirun's message (and does not hang), leaves the last complete checkpoint whole (a save cut
# short is never picked up), and a second job, at another P, restarts from that checkpoint and
# ends with the table and optimizer state of an uninterrupted run, bit for bit.
#
#   fault_test.sh SCENARIO WORK_DIR DRIVER MPIEXEC NP_FLAG [MPIEXEC_FLAGS...]
#
# SCENARIO: after-checkpoint (rank 1 of 3 dies after step 7; checkpoints every 3 steps, so the
# last is step 6; the restart runs at P = 2) or during-save (rank 1 of 2 dies while the others
# save step 6; the last complete checkpoint is step 3; the restart runs at P = 4).
set -euo pipefail

scenario=$1 work=$2 driver=$3 mpiexec=$4 np_flag=$5
shift 5
flags=("$@")
steps=10 every=3
# A killed job must end by itself: a hang is a failure, not a CTest timeout.
limit=60

fail() {
  echo "FAIL ($scenario): $*" >&2
  exit 1
}
mpi() {
  local ranks=$1
  shift
  timeout "$limit" "$mpiexec" "$np_flag" "$ranks" "${flags[@]}" "$driver" "$@"
}

case $scenario in
  after-checkpoint) ranks=3 die=(--die-after-step 7) last=6 restart_ranks=2 ;;
  during-save) ranks=2 die=(--die-in-save-at-step 6) last=3 restart_ranks=4 ;;
  *) fail "unknown scenario" ;;
esac

rm -rf "$work"
mkdir -p "$work"
cd "$work"

# The uninterrupted run: one process, all the steps.
mpi 1 train --checkpoint reference --steps $steps --every $every --final reference-final \
  >reference.log 2>&1 || { cat reference.log; fail "the uninterrupted run failed"; }

# The job that loses a rank.
status=0
mpi $ranks train --checkpoint job --steps $steps --every $every --die-rank 1 "${die[@]}" \
  >killed.log 2>&1 || status=$?
cat killed.log
[ "$status" -ne 124 ] || fail "the job hung after rank 1 died (killed after ${limit}s)"
[ "$status" -ne 0 ] || fail "the job exited 0 although rank 1 died"
grep -q "rank 1 kills itself" killed.log || fail "rank 1 did not die where it should have"
# What OpenMPI's mpirun says when a rank is killed by a signal (MPICH's words differ).
if "$mpiexec" --version 2>&1 | grep -q "Open MPI"; then
  grep -q "exited on signal 9" killed.log || fail "no message from mpirun about the dead rank"
fi
[ -f job/manifest.json ] || fail "no checkpoint left"
if [ "$scenario" = during-save ]; then
  # The save of step 6 was cut short: shard files were written that the manifest does not name.
  orphans=0
  for f in job/shard-*.safetensors; do
    grep -q "\"$(basename "$f")\"" job/manifest.json || orphans=$((orphans + 1))
  done
  [ "$orphans" -gt 0 ] || fail "the killed save left no shard behind: the scenario did not happen"
  echo "the half-written save left $orphans shard file(s) that the manifest does not name"
fi
got=$(mpi 1 step-of job) || fail "the last checkpoint does not load"
[ "$got" = "$last" ] || fail "the last checkpoint is of step $got, not $last"
echo "the checkpoint left is the complete one of step $last"

# The restart, at another P, finishes the job.
mpi $restart_ranks train --checkpoint job --steps $steps --every $every --resume --final job-final \
  >restart.log 2>&1 || { cat restart.log; fail "the restart failed"; }
cat restart.log
grep -q "resume from the checkpoint of step $last" restart.log || fail "the restart did not resume"

mpi 1 compare reference-final job-final || fail "the restarted job ends with another table"
