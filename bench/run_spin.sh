#!/usr/bin/env bash
# Generate, compile and run SPIN's verifier on bench/quiesce.pml; print one line.
#
#   bench/run_spin.sh VARIANT NPAGES NREQ [K] [MAXV]
#     VARIANT: a (holds), b PERSISTENT, c KEEP_PROCESSING, d RESPOND_FIRST
#   MODE=exhaustive (default): depth-first, whole state space (-DSAFETY)
#   MODE=bfs: breadth-first (-DBFS): the trail is a shortest counterexample
#   HASHW=N: pan -wN (default 24, or 27 when NPAGES * NREQ > 12)
#
# Prints: states=N transitions=N depth=N memory_mb=M verdict=pass|violation|incomplete
#         trail_steps=N compile_s=S pan_s=S
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 3 ] || { sed -n '2,12p' "$0"; exit 2; }
variant=$1 npages=$2 nreq=$3 k=${4:-1} maxv=${5:-1}
command -v spin >/dev/null || { echo "spin is not installed (Debian: apt-get install spin)" >&2; exit 3; }
cc=${CC:-gcc}
case $variant in
  a) flag= ;; b) flag=-DPERSISTENT ;; c) flag=-DKEEP_PROCESSING ;; d) flag=-DRESPOND_FIRST ;;
  *) echo "unknown variant $variant" >&2; exit 2 ;;
esac
# pan's default table (-w24) up to a few million states, 2^27 slots beyond (as the peer runs)
hashw=${HASHW:-$(( npages * nreq > 12 ? 27 : 24 ))}
cflags="-O2 -DSAFETY -DMEMLIM=20000"
[ "${MODE:-exhaustive}" = bfs ] && cflags="$cflags -DBFS"
work=$(mktemp -d -t qc-spin.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp "$here/quiesce.pml" "$work/"
cd "$work"
t0=$EPOCHREALTIME
spin -a $flag -DNPAGES="$npages" -DNREQ="$nreq" -DK="$k" -DMAXV="$maxv" quiesce.pml >spin.log 2>&1 || { cat spin.log >&2; exit 1; }
# shellcheck disable=SC2086
$cc $cflags -o pan pan.c >cc.log 2>&1 || { cat cc.log >&2; exit 1; }
t1=$EPOCHREALTIME
./pan -w"$hashw" -m100000 >pan.log 2>&1 || true
t2=$EPOCHREALTIME
field() { grep -E "$1" pan.log | tail -1 | awk '{print $1}'; }
states=$(field 'states, stored')
trans=$(field 'transitions \(= stored\+matched\)')
depth=$(grep -Eo 'depth reached [0-9]+' pan.log | tail -1 | grep -Eo '[0-9]+$' || echo 0)
mem=$(field 'total actual memory usage')
if grep -qE 'MEMLIM bound|out of memory|max search depth too small' pan.log; then verdict=incomplete
elif grep -q 'assertion violated' pan.log; then verdict=violation
else verdict=pass; fi
trail=0
[ -f quiesce.pml.trail ] && trail=$(grep -vc '^-' quiesce.pml.trail || true)
echo "states=${states:-0} transitions=${trans:-0} depth=$depth memory_mb=${mem:-0} verdict=$verdict trail_steps=$trail" \
     "compile_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')" \
     "pan_s=$(awk -v a="$t1" -v b="$t2" 'BEGIN{printf "%.3f", b-a}')"
