package optim

import (
	"math"
	"testing"
)

func TestGradNormAndClip(t *testing.T) {
	for _, tc := range []struct {
		name    string
		grads   [][]float32
		maxNorm float64
		norm    float64     // returned, before clipping
		clipped [][]float32 // grads afterwards
	}{
		// ‖(3, 4)‖ = 5 across two buffers.
		{"clipped", [][]float32{{3}, {4}}, 1, 5, [][]float32{{0.6}, {0.8}}},
		{"below the limit", [][]float32{{3}, {4}}, 10, 5, [][]float32{{3}, {4}}},
		{"at the limit", [][]float32{{3}, {4}}, 5, 5, [][]float32{{3}, {4}}},
		{"empty", [][]float32{{}, nil}, 1, 0, [][]float32{{}, nil}},
		{"infinite left alone", [][]float32{{float32(math.Inf(1)), 1}}, 1, math.Inf(1),
			[][]float32{{float32(math.Inf(1)), 1}}},
	} {
		if got := GradNorm(tc.grads); got != tc.norm {
			t.Errorf("%s: GradNorm = %g, want %g", tc.name, got, tc.norm)
		}
		if got := ClipGradNorm(tc.grads, tc.maxNorm); got != tc.norm {
			t.Errorf("%s: ClipGradNorm returned %g, want %g", tc.name, got, tc.norm)
		}
		for i := range tc.grads {
			for k := range tc.grads[i] {
				if g, w := tc.grads[i][k], tc.clipped[i][k]; !near(float64(g), float64(w), 1e-7) && g != w {
					t.Errorf("%s: grads[%d][%d] = %g, want %g", tc.name, i, k, g, w)
				}
			}
		}
	}
	if n := GradNorm([][]float32{{0.6}, {0.8}}); math.Abs(n-1) > 1e-7 {
		t.Errorf("norm after clipping to 1 = %g", n)
	}
}

func TestClipGradNormPanics(t *testing.T) {
	for _, m := range []float64{0, -1, math.NaN()} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("ClipGradNorm(maxNorm = %g) did not panic", m)
				}
			}()
			ClipGradNorm([][]float32{{1}}, m)
		}()
	}
}

func TestAllFinite(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, tc := range []struct {
		name  string
		bufs  [][]float32
		ok    bool
		index int
	}{
		{"finite", [][]float32{{1, -2}, {math.MaxFloat32}}, true, -1},
		{"none", nil, true, -1},
		{"NaN in second", [][]float32{{1}, {0, nan}}, false, 1},
		{"+Inf first", [][]float32{{inf}, {nan}}, false, 0},
		{"−Inf in third", [][]float32{{}, {1}, {-inf}}, false, 2},
	} {
		ok, i := AllFinite(tc.bufs)
		if ok != tc.ok || i != tc.index {
			t.Errorf("%s: AllFinite = %v, %d, want %v, %d", tc.name, ok, i, tc.ok, tc.index)
		}
	}
}
