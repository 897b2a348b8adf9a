package metrics

import (
	"math"
	"strings"
	"testing"
)

func TestIoU(t *testing.T) {
	for _, tc := range []struct {
		name         string
		pred, truth  []float32
		thresh       float32
		inter, union int
		iou          float64 // as recorded by IoUAccum
	}{
		{"both empty", []float32{0.1, 0.4, 0}, []float32{0, 0, 0}, 0.5, 0, 0, 1},
		{"empty truth, non-empty prediction", []float32{0.9, 0.1}, []float32{0, 0}, 0.5, 0, 1, 0},
		{"empty prediction, non-empty truth", []float32{0.2, 0.1}, []float32{1, 0}, 0.5, 0, 1, 0},
		{"perfect", []float32{0.9, 0.2, 0.7}, []float32{1, 0, 1}, 0.5, 2, 2, 1},
		// Predicted {0, 1}, true {1, 2}: ∩ = {1}, ∪ = {0, 1, 2}.
		{"partial", []float32{0.6, 0.8, 0.3, 0}, []float32{0, 1, 1, 0}, 0.5, 1, 3, 1.0 / 3},
		// The threshold is inclusive: 0.5 is foreground.
		{"at the threshold", []float32{0.5, 0.49999997}, []float32{1, 1}, 0.5, 1, 2, 0.5},
		{"other threshold", []float32{0.5, 0.95}, []float32{1, 1}, 0.9, 1, 2, 0.5},
		{"NaN is background", []float32{float32(math.NaN())}, []float32{1}, 0.5, 0, 1, 0},
	} {
		inter, union := IoU(tc.pred, tc.truth, tc.thresh)
		if inter != tc.inter || union != tc.union {
			t.Errorf("%s: IoU = %d/%d, want %d/%d", tc.name, inter, union, tc.inter, tc.union)
		}
		var acc IoUAccum
		acc.Add(inter, union)
		if got := acc.Mean(); math.Abs(got-tc.iou) > 1e-15 {
			t.Errorf("%s: recorded IoU = %g, want %g", tc.name, got, tc.iou)
		}
	}
}

// TestIoUAccumMeanVsGlobal uses a small object predicted badly and a large
// one predicted well, where the two figures differ:
//
//	image 0: 1 of 4 pixels right (∩ 1, ∪ 4): IoU 0.25
//	image 1: 16-pixel object, 15 right, no spill (∩ 15, ∪ 16): IoU 0.9375
//	image 2: both empty: IoU 1, adds nothing to the global sums
//
// mean = (0.25 + 0.9375 + 1)/3 = 0.729166…, global = 16/20 = 0.8.
func TestIoUAccumMeanVsGlobal(t *testing.T) {
	const P = 16
	pred := make([]float32, 3*P)
	truth := make([]float32, 3*P)
	truth[0], truth[1], truth[2], truth[3] = 1, 1, 1, 1
	pred[0] = 0.9
	for p := range P {
		truth[P+p] = 1
		if p > 0 {
			pred[P+p] = 0.8
		}
	}

	var acc IoUAccum
	acc.AddBatch(pred, truth, 3, 0.5)
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		{"Mean", acc.Mean(), (0.25 + 0.9375 + 1) / 3},
		{"Global", acc.Global(), 0.8},
		{"Count", float64(acc.Count()), 3},
	} {
		if math.Abs(tc.got-tc.want) > 1e-15 {
			t.Errorf("%s = %.17g, want %.17g", tc.name, tc.got, tc.want)
		}
	}

	// Adding the images one by one, or merging two halves, gives the same.
	var one, half1, half2 IoUAccum
	for i := range 3 {
		one.Add(IoU(pred[i*P:(i+1)*P], truth[i*P:(i+1)*P], 0.5))
	}
	half1.AddBatch(pred[:P], truth[:P], 1, 0.5)
	half2.AddBatch(pred[P:], truth[P:], 2, 0.5)
	half1.Merge(half2)
	for _, b := range []IoUAccum{one, half1} {
		if b.Count() != 3 || math.Abs(b.Mean()-acc.Mean()) > 1e-15 || b.Global() != acc.Global() {
			t.Errorf("accumulated %+v, want %+v", b, acc)
		}
	}

	acc.Reset()
	if acc.Count() != 0 || !math.IsNaN(acc.Mean()) || !math.IsNaN(acc.Global()) {
		t.Errorf("after Reset: Count %d, Mean %g, Global %g; want 0, NaN, NaN",
			acc.Count(), acc.Mean(), acc.Global())
	}
}

func TestIoUAccumAllEmpty(t *testing.T) {
	var acc IoUAccum
	acc.AddBatch(make([]float32, 6), make([]float32, 6), 2, 0.5)
	if acc.Mean() != 1 || acc.Global() != 1 {
		t.Errorf("empty masks: Mean %g, Global %g, want 1, 1", acc.Mean(), acc.Global())
	}
}

func TestIoUPanics(t *testing.T) {
	var acc IoUAccum
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"IoU lengths", func() { IoU(make([]float32, 2), make([]float32, 3), 0.5) }},
		{"AddBatch B", func() { acc.AddBatch(make([]float32, 4), make([]float32, 4), 3, 0.5) }},
		{"AddBatch lengths", func() { acc.AddBatch(make([]float32, 4), make([]float32, 2), 2, 0.5) }},
		{"AddBatch B = 0", func() { acc.AddBatch(nil, nil, 0, 0.5) }},
		{"Add inter > union", func() { acc.Add(3, 2) }},
	} {
		func() {
			defer func() {
				r := recover()
				if msg, _ := r.(string); !strings.HasPrefix(msg, "metrics: ") {
					t.Errorf("%s: recovered %v, want a metrics panic", tc.name, r)
				}
			}()
			tc.f()
		}()
	}
}
