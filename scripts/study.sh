#!/usr/bin/env bash
# study.sh runs the study of docs/results/: the five objectives (ce, wgan-gp,
# ebgan, mse, logloss) x 3 seeds on the 32x32 Weizmann split, once with
# --preset paper (Table 2 of the report) and once with egan-ort's tuned
# defaults, then writes the report.
#
#   scripts/study.sh [RUNS_DIR [REPORT_DIR]]
#
# Environment: DATA (default ../shared/data/weizmann_horse_32), SEEDS
# (default "1 2 3"), OBJECTIVES, PRESETS (default "paper tuned"), EPOCHS
# (override both presets' epochs, for a quick pass), JOBS (runs in parallel,
# default 1; each run uses THREADS ORT threads, default nproc/JOBS).
# Runs that already finished are skipped; unfinished ones are resumed.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-$root/runs/study}
out=${2:-$root/docs/results}
data=${DATA:-$root/../shared/data/weizmann_horse_32}
seeds=${SEEDS:-1 2 3}
objectives=${OBJECTIVES:-ce wgan-gp ebgan mse logloss}
presets=${PRESETS:-paper tuned}
jobs=${JOBS:-1}
threads=${THREADS:-$(( $(nproc) / jobs > 0 ? $(nproc) / jobs : 1 ))}
bin=$root/bin/egan-ort

make -C "$root" --no-print-directory setup build >/dev/null

# Expected duration, from a one-iteration benchmark of each objective.
echo "study: measuring one training iteration per objective to estimate the duration..."
bench=$("$bin" --json --quiet --threads "$threads" bench --iters 2 --warmup 1 --data "$data")
est=$(python3 - "$bench" "$seeds" "$presets" "${EPOCHS:-}" "$jobs" <<'PY'
import json, sys
rep = json.loads(sys.argv[1]); seeds = len(sys.argv[2].split()); presets = sys.argv[3].split()
epochs_override, jobs = sys.argv[4], int(sys.argv[5])
iters_per_epoch = {"paper": 16, "tuned": 16}   # 160 training images, batch 10
epochs = {"paper": 300, "tuned": 100}
total = 0.0
for r in rep["results"]:
    for p in presets:
        e = int(epochs_override) if epochs_override else epochs[p]
        # training plus about 15% for evaluation of the three splits per epoch
        total += seeds * e * iters_per_epoch[p] * r["ms_per_iter"] / 1000 * 1.15
print(f"{total / jobs / 3600:.1f}")
PY
)
echo "study: expected duration about ${est} h on this machine ($jobs run(s) at a time, $threads threads each)"

run_one() {
	local obj=$1 preset=$2 seed=$3
	local dir=$runs/$preset/$obj-seed$seed
	local args=(--threads "$threads" --quiet train --objective "$obj" --seed "$seed" --data "$data" --out "$dir")
	[ "$preset" = paper ] && args+=(--preset paper)
	[ -n "${EPOCHS:-}" ] && args+=(--epochs "$EPOCHS")
	if [ -f "$dir/model.onnx" ]; then
		echo "study: $dir done"
		return
	elif [ -f "$dir/last.json" ]; then
		"$bin" --threads "$threads" --quiet train --resume "$dir" ${EPOCHS:+--epochs "$EPOCHS"}
	else
		"$bin" "${args[@]}"
	fi
}

pids=()
for preset in $presets; do
	for obj in $objectives; do
		for seed in $seeds; do
			run_one "$obj" "$preset" "$seed" &
			pids+=($!)
			if [ "${#pids[@]}" -ge "$jobs" ]; then
				wait "${pids[0]}"
				pids=("${pids[@]:1}")
			fi
		done
	done
done
for p in "${pids[@]}"; do wait "$p"; done

# Figures for the first seed of each group keep docs/results/ small; the
# tables cover every run.
"$bin" report --figures-per-group 1 --runs "$runs"/*/* -o "$out"
echo "study: report in $out"
