// Package report writes the study report of a set of egan-ort training
// runs: a markdown file, README.md, with tables that compare the runs and
// PNG figures of each run.
//
// # Tables
//
// Runs are grouped by their whole config but for the seed: objective,
// preset (Config.Preset, "" being the project's tuned defaults), dataset
// (Config.Data, "" being the synthetic dataset) and every other setting.
// A group whose settings differ from the defaults of its objective and
// preset is labelled by the flags that differ, e.g. "tuned defaults,
// --batch 4". Runs of different datasets or settings are never averaged
// together. Each run counts
// with its best-on-val checkpoint: the epoch e* = argmax_e IoU_val(e),
// the first on ties, which is the checkpoint "best" that training keeps.
// Over the n runs of a group (its seeds) a figure x is printed as
//
//	x̄ ± s,   x̄ = (1/n) Σ_k x_k,   s² = 1/(n−1) Σ_k (x_k − x̄)²
//
// the sample standard deviation, left out when n = 1. IoU is printed in
// percent with one decimal; "mean" IoU averages the per-image foreground
// IoU over a split, "global" IoU is Σ intersections / Σ unions over it.
//
// # Figures
//
// For each run, as far as its directory holds the data:
//
//   - IoU per epoch of the train, val and test splits (metrics.jsonl);
//   - histograms of the discriminator's scores of real and fake masks at
//     the first and the last epoch (the "scores" records; none for ce);
//   - the loss landscapes L(θ + α·d₁ + β·d₂) of the cross entropy and of
//     the adversarial generator loss at the first and the last epoch, as
//     heat maps with contours, the centre (α, β) = (0, 0) being θ itself;
//   - sample grids of the train, val and test splits: rows image, truth
//     and the best checkpoint's prediction.
//
// A run may be unfinished or damaged: a missing piece skips its figure and
// the report says so. A directory with neither a checkpoint nor an epoch
// in metrics.jsonl is not a run; Generate skips it with a warning and fails
// only when no directory is a run.
//
// # Left out on purpose
//
// The report reads what training wrote and recomputes nothing but the
// sample predictions: IoU figures are those of metrics.jsonl and of the
// checkpoints. Its text holds no facts about the machine it was made on
// (no host, no absolute paths, no date), so that reports made from the
// same runs on two machines are the same apart from wall times, which the
// runs recorded themselves.
package report
