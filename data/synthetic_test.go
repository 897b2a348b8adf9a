package data

import (
	"slices"
	"testing"
)

func TestSynthetic(t *testing.T) {
	for _, size := range []int{8, 32} {
		a, b, c := Synthetic(size, 1), Synthetic(size, 1), Synthetic(size, 2)
		want := map[string]int{"train": SyntheticTrain, "val": SyntheticVal, "test": SyntheticTest}
		for i, d := range a.All() {
			if d.Name != "synthetic" || d.Size != size || d.Len() != want[d.Split] {
				t.Errorf("size %d: %s/%s: %d samples of %d", size, d.Name, d.Split, d.Len(), d.Size)
			}
			if err := d.Validate(); err != nil {
				t.Error(err)
			}
			other := b.All()[i]
			for k := range d.Len() {
				if !slices.Equal(d.Images[k], other.Images[k]) || !slices.Equal(d.Masks[k], other.Masks[k]) {
					t.Fatalf("size %d: %s sample %d differs between two calls with seed 1", size, d.Split, k)
				}
			}
		}
		if slices.Equal(a.Train.Images[0], c.Train.Images[0]) {
			t.Errorf("size %d: seeds 1 and 2 give the same first image", size)
		}
	}
}

// TestSyntheticContent checks that the task is neither empty nor trivial:
// foreground fractions spread over 5% to 75%, and foreground and
// background colours overlap in some images.
func TestSyntheticContent(t *testing.T) {
	const size = 32
	s := Synthetic(size, 7)
	p := size * size
	var lowContrast int
	for k, m := range s.Train.Masks {
		var fg float64
		var meanFG, meanBG [3]float64
		for i, v := range m {
			fg += float64(v)
			for c := range 3 {
				x := float64(s.Train.Images[k][c*p+i])
				if v == 1 {
					meanFG[c] += x
				} else {
					meanBG[c] += x
				}
			}
		}
		frac := fg / float64(p)
		if frac < 0.04 || frac > 0.76 {
			t.Errorf("sample %d: foreground fraction %.3f", k, frac)
		}
		var dist float64
		for c := range 3 {
			d := meanFG[c]/fg - meanBG[c]/(float64(p)-fg)
			dist += d * d
		}
		if dist < 0.15*0.15 {
			lowContrast++
		}
	}
	if lowContrast < 5 {
		t.Errorf("%d of 160 samples have a low-contrast foreground, want at least 5", lowContrast)
	}
}
