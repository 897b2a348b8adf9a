package metrics

import (
	"fmt"
	"math"
)

// IoU returns the foreground intersection and union pixel counts of one
// image: a pixel is in the predicted foreground when pred ≥ thresh and in
// the true foreground when truth ≥ 0.5. A NaN probability counts as
// background. The image's IoU is inter/union, or 1 when union is 0; see
// IoUAccum. IoU panics if len(pred) != len(truth).
func IoU(pred, truth []float32, thresh float32) (inter, union int) {
	if len(pred) != len(truth) {
		panic(fmt.Sprintf("metrics: IoU: len(pred) = %d, len(truth) = %d", len(pred), len(truth)))
	}
	for k, p := range pred {
		a, t := p >= thresh, truth[k] >= 0.5
		if a && t {
			inter++
		}
		if a || t {
			union++
		}
	}
	return inter, union
}

// IoUAccum accumulates IoU over the images of a split, for both mean IoU
// (per-image IoU averaged, an empty prediction of an empty mask scoring 1)
// and global IoU (intersections and unions summed). The zero value is an
// empty accumulator ready for use.
type IoUAccum struct {
	n            int     // images added
	sum          float64 // Σ_i IoU_i
	inter, union int64   // Σ_i |A_i ∩ T_i|, Σ_i |A_i ∪ T_i|
}

// Add records one image given its intersection and union counts, as IoU
// returns them. It panics if the counts are negative or inter > union.
func (a *IoUAccum) Add(inter, union int) {
	if inter < 0 || inter > union {
		panic(fmt.Sprintf("metrics: IoUAccum.Add: inter = %d, union = %d", inter, union))
	}
	a.n++
	a.inter += int64(inter)
	a.union += int64(union)
	if union == 0 {
		a.sum++
	} else {
		a.sum += float64(inter) / float64(union)
	}
}

// AddBatch records the B images of a sample-major batch: pred and truth each
// hold B·P values, P per image. It panics if B < 1 or if len(pred) and
// len(truth) are not the same multiple of B.
func (a *IoUAccum) AddBatch(pred, truth []float32, B int, thresh float32) {
	if B < 1 || len(pred) != len(truth) || len(pred)%B != 0 {
		panic(fmt.Sprintf("metrics: IoUAccum.AddBatch: len(pred) = %d, len(truth) = %d, B = %d",
			len(pred), len(truth), B))
	}
	P := len(pred) / B
	for i := range B {
		a.Add(IoU(pred[i*P:(i+1)*P], truth[i*P:(i+1)*P], thresh))
	}
}

// Merge adds the images recorded in b to a, as if they had been added to a
// directly (up to the order of the floating-point sum).
func (a *IoUAccum) Merge(b IoUAccum) {
	a.n += b.n
	a.sum += b.sum
	a.inter += b.inter
	a.union += b.union
}

// Reset empties the accumulator.
func (a *IoUAccum) Reset() { *a = IoUAccum{} }

// Count returns the number of images recorded.
func (a *IoUAccum) Count() int { return a.n }

// Mean returns the mean of the per-image IoUs, or NaN when no image has
// been recorded.
func (a *IoUAccum) Mean() float64 {
	if a.n == 0 {
		return math.NaN()
	}
	return a.sum / float64(a.n)
}

// Global returns Σ intersections / Σ unions over the recorded images, 1 when
// every recorded image had an empty union, or NaN when none was recorded.
func (a *IoUAccum) Global() float64 {
	switch {
	case a.n == 0:
		return math.NaN()
	case a.union == 0:
		return 1
	}
	return float64(a.inter) / float64(a.union)
}
