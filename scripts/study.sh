#!/usr/bin/env bash
# study.sh runs the study of docs/results/: the five objectives (ce, wgan-gp,
# ebgan, mse, logloss) x 3 seeds on the 32x32 Weizmann split, once with
# --preset paper (Table 2 of the report) and once with egan-ort's tuned
# defaults, then writes the report.
#
#   scripts/study.sh [RUNS_DIR [REPORT_DIR]]
#
# Environment: DATA (default ../shared/data/weizmann_horse_32), SEEDS
# (default "1 2 3"), OBJECTIVES, PRESETS (default "tuned paper"), EPOCHS
# (override both presets' epochs, for a quick pass), JOBS (runs in parallel,
# default 1; each run uses THREADS ORT threads, default nproc/JOBS).
# Runs that already finished are skipped; unfinished ones are resumed, and
# finished ones shorter than their preset's epochs are extended.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-$root/runs/study}
out=${2:-$root/docs/results}
data=${DATA:-$root/../shared/data/weizmann_horse_32}
seeds=${SEEDS:-1 2 3}
objectives=${OBJECTIVES:-ce wgan-gp ebgan mse logloss}
presets=${PRESETS:-tuned paper}
jobs=${JOBS:-1}
threads=${THREADS:-$(( $(nproc) / jobs > 0 ? $(nproc) / jobs : 1 ))}
bin=$root/bin/egan-ort

make -C "$root" --no-print-directory setup build >/dev/null

# Each preset's epochs, as the binary's defaults have them (a test in
# cmd/egan-ort keeps the two in step). They are passed explicitly so that a
# run that finished under a shorter default is extended to the current one:
# with the constant learning rate of both presets, a run extended with
# --resume --epochs is the run that a fresh one of that length would be.
declare -A epochs=([tuned]=150 [paper]=300)

# completed DIR prints the epochs a run directory has completed (0 if none).
completed() {
	if [ -f "$1/last.json" ]; then
		python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["meta"]["epoch"])' "$1/last.json"
	else
		echo 0
	fi
}

# Expected duration, from a short benchmark of each objective under each
# preset (the paper's networks and unroll are much cheaper than the tuned
# defaults'): the epochs still to do (finished runs are skipped, unfinished
# ones counted from where they stand). An epoch is the training split's
# iterations at the benchmark's time per iteration, then the evaluation of
# the three splits at its time per image of the exported model (which, like
# evaluation, runs the unroll with the preset's flip average or without).
echo "study: measuring training iterations per objective and preset to estimate the duration..."
benches=()
for preset in $presets; do
	pflag=()
	[ "$preset" = paper ] && pflag=(--preset paper)
	benches+=("$preset=$("$bin" --json --quiet --threads "$threads" bench --iters 2 --warmup 1 --data "$data" "${pflag[@]}")")
done
todo=""
for preset in $presets; do
	planned=${EPOCHS:-${epochs[$preset]}}
	for obj in $objectives; do
		for seed in $seeds; do
			dir=$runs/$preset/$obj-seed$seed
			left=$(( planned - $(completed "$dir") ))
			if [ "$left" -gt 0 ] || [ ! -f "$dir/model.onnx" ]; then
				todo+="$preset:$obj:$(( left > 0 ? left : 0 )) "
			fi
		done
	done
done
images() { [ -f "$data/$1.txt" ] && grep -c . "$data/$1.txt" || echo "$2"; }
est=$(python3 - "$todo" "$jobs" "$(images train 160)" "$(images val 40)" "$(images test 128)" "${benches[@]}" <<'PY'
import json, math, sys
todo, jobs = sys.argv[1].split(), int(sys.argv[2])
train, val, evaluated = int(sys.argv[3]), int(sys.argv[4]), sum(int(n) for n in sys.argv[3:6])
epoch_s = {}
for arg in sys.argv[6:]:
    preset, rep = arg.split("=", 1)
    rep = json.loads(rep)
    for r in rep["results"]:
        iters = math.ceil(train / rep["Batch"])
        # With a parameter average, val is evaluated twice: the average, then
        # the parameters themselves.
        images = evaluated + (val if rep.get("ema", 0) > 0 else 0)
        epoch_s[preset, r["objective"]] = (iters * r["ms_per_iter"] + images * rep["infer_ms_per_image_batch128"]) / 1000
total = 0.0
for item in todo:
    preset, obj, left = item.split(":")
    total += int(left) * epoch_s[preset, obj]
print(f"{len(todo)} runs to do or finish, about {total / jobs / 3600:.1f} h")
PY
)
echo "study: $est on this machine ($jobs run(s) at a time, $threads threads each)"

run_one() {
	local obj=$1 preset=$2 seed=$3
	local dir=$runs/$preset/$obj-seed$seed
	local planned=${EPOCHS:-${epochs[$preset]}}
	local done
	done=$(completed "$dir")
	if [ -f "$dir/model.onnx" ] && [ "$done" -ge "$planned" ]; then
		echo "study: $dir done ($done epochs)"
		return
	elif [ -f "$dir/last.json" ]; then
		"$bin" --threads "$threads" --quiet train --resume "$dir" --epochs "$planned"
	else
		local args=(--threads "$threads" --quiet train --objective "$obj" --seed "$seed" --data "$data"
			--epochs "$planned" --out "$dir")
		[ "$preset" = paper ] && args+=(--preset paper)
		"$bin" "${args[@]}"
	fi
}

# JOBS runs at a time: the next starts as soon as any running one ends. A
# run that fails does not stop the others; the study reports it at the end.
running=0 failed=0
reap() {
	if wait -n; then :; else failed=$((failed + 1)); fi
	running=$((running - 1))
}
for preset in $presets; do
	for obj in $objectives; do
		for seed in $seeds; do
			[ "$running" -lt "$jobs" ] || reap
			run_one "$obj" "$preset" "$seed" &
			running=$((running + 1))
		done
	done
done
while [ "$running" -gt 0 ]; do reap; done

# Figures for the first seed of each group keep docs/results/ small; the
# tables cover every run.
"$bin" report --figures-per-group 1 --runs "$runs"/*/* -o "$out"
echo "study: report in $out; this invocation took $((SECONDS / 3600)) h $((SECONDS % 3600 / 60)) min"
if [ "$failed" -gt 0 ]; then
	echo "study: $failed run(s) failed; their errors are above, and the report shows how far they got" >&2
	exit 1
fi
