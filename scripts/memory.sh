#!/usr/bin/env bash
# memory.sh runs `egan-ort train` and prints its resident memory at the end
# of every epoch: VmRSS (now) and VmHWM (the peak so far), from
# /proc/PID/status, next to the epoch that metrics.jsonl last recorded.
#
#   scripts/memory.sh RUN_DIR [TRAIN FLAGS...]
#
# e.g. scripts/memory.sh /tmp/mem --objective wgan-gp --epochs 20 \
#          --data ../shared/data/weizmann_horse_32
#
# RUN_DIR must not exist yet. The table goes to stdout, train's own log to
# RUN_DIR.log. Exits with train's exit status.
set -euo pipefail

if [ $# -lt 1 ]; then
	echo "usage: scripts/memory.sh RUN_DIR [TRAIN FLAGS...]" >&2
	exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$1
shift
if [ -e "$dir" ]; then
	echo "memory.sh: $dir exists; give a new run directory" >&2
	exit 2
fi

"$root/bin/egan-ort" --quiet train -o "$dir" "$@" >"$dir.log" 2>&1 &
pid=$!

kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$pid/status" 2>/dev/null || true; }
epochs() {
	local n
	n=$(grep -c '"kind":"epoch"' "$dir/metrics.jsonl" 2>/dev/null) || true
	echo "${n:-0}"
}

printf '%6s  %12s  %12s\n' epoch "VmRSS kB" "VmHWM kB"
seen=0
while kill -0 "$pid" 2>/dev/null; do
	e=$(epochs)
	if [ "$e" -gt "$seen" ]; then
		rss=$(kb VmRSS)
		hwm=$(kb VmHWM)
		[ -n "$rss" ] && printf '%6d  %12s  %12s\n' "$e" "$rss" "$hwm"
		seen=$e
	fi
	sleep 0.5
done
wait "$pid"
