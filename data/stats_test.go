package data

import (
	"math"
	"testing"
)

// flatDataset returns n samples of size×size whose channel c holds
// values[c] in every pixel, plus k on sample k.
func flatDataset(n, size int, values [3]float32) *Dataset {
	d := &Dataset{Name: "flat", Split: "train", Size: size}
	p := size * size
	for k := range n {
		img := make([]float32, 3*p)
		for c := range 3 {
			for i := range p {
				img[c*p+i] = values[c] + 0.1*float32(k)
			}
		}
		d.Names = append(d.Names, "s")
		d.Images = append(d.Images, img)
		d.Masks = append(d.Masks, make([]float32, p))
	}
	return d
}

func TestComputeStats(t *testing.T) {
	tests := []struct {
		name      string
		d         *Dataset
		mean, std [3]float64
	}{
		// Samples 0.2 and 0.3 in channel 0: mean 0.25, std 0.05.
		{"two samples", flatDataset(2, 4, [3]float32{0.2, 0.5, 0.9}),
			[3]float64{0.25, 0.55, 0.95}, [3]float64{0.05, 0.05, 0.05}},
		{"constant channel", flatDataset(1, 3, [3]float32{0, 1, 0.5}),
			[3]float64{0, 1, 0.5}, [3]float64{MinStd, MinStd, MinStd}},
		{"empty", &Dataset{Size: 4}, [3]float64{}, [3]float64{1, 1, 1}},
	}
	for _, tt := range tests {
		s := ComputeStats(tt.d)
		for c := range 3 {
			if math.Abs(float64(s.Mean[c])-tt.mean[c]) > 1e-6 || math.Abs(float64(s.Std[c])-tt.std[c]) > 1e-6 {
				t.Errorf("%s channel %d: mean %g std %g, want %g %g",
					tt.name, c, s.Mean[c], s.Std[c], tt.mean[c], tt.std[c])
			}
		}
	}
}

func TestNormalize(t *testing.T) {
	s := Stats{Mean: [3]float32{0.5, 0.25, 0}, Std: [3]float32{0.5, 0.25, 2}}
	chw := []float32{1, 0, 0.5, 0.25, 1, -2}
	want := []float32{1, -1, 1, 0, 0.5, -1}
	dst := make([]float32, len(chw))
	s.Normalize(dst, chw)
	for i := range want {
		if math.Abs(float64(dst[i]-want[i])) > 1e-6 {
			t.Fatalf("Normalize = %v, want %v", dst, want)
		}
	}
	// In place, and back.
	back := append([]float32(nil), dst...)
	s.Denormalize(back, back)
	for i := range chw {
		if math.Abs(float64(back[i]-chw[i])) > 1e-6 {
			t.Fatalf("Denormalize = %v, want %v", back, chw)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Normalize of a length not divisible by 3 did not panic")
		}
	}()
	s.Normalize(make([]float32, 4), make([]float32, 4))
}
