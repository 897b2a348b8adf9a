package data

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// ramp returns a size×size image whose value at (x, y) in channel c is
// (c·S·S + y·S + x)/(3·S·S), and a mask that is 1 where x < y.
func ramp(size int) (img, mask []float32) {
	p := size * size
	img = make([]float32, 3*p)
	for i := range img {
		img[i] = float32(i) / float32(3*p)
	}
	mask = make([]float32, p)
	for y := range size {
		for x := range y {
			mask[y*size+x] = 1
		}
	}
	return img, mask
}

// TestTransformExact checks transforms that only move pixels against the
// positions they must read.
func TestTransformExact(t *testing.T) {
	const s = 6
	img, mask := ramp(s)
	clampi := func(v int) int { return min(max(v, 0), s-1) }
	tests := []struct {
		name string
		tr   Transform
		src  func(x, y int) (int, int) // input pixel read by output (x, y)
	}{
		{"identity", Transform{}, func(x, y int) (int, int) { return x, y }},
		{"flip", Transform{Flip: true}, func(x, y int) (int, int) { return s - 1 - x, y }},
		{"shift right down", Transform{DX: 2, DY: 1}, func(x, y int) (int, int) { return clampi(x - 2), clampi(y - 1) }},
		{"shift left up", Transform{DX: -3, DY: -2}, func(x, y int) (int, int) { return clampi(x + 3), clampi(y + 2) }},
		{"flip and shift", Transform{Flip: true, DX: 1}, func(x, y int) (int, int) { return clampi(s - 1 - x - 1), y }},
		{"shift past the frame", Transform{DX: 100}, func(x, y int) (int, int) { return 0, y }},
	}
	for _, tt := range tests {
		gotImg, gotMask := make([]float32, 3*s*s), make([]float32, s*s)
		tt.tr.Apply(gotImg, gotMask, img, mask, s)
		for y := range s {
			for x := range s {
				sx, sy := tt.src(x, y)
				for c := range 3 {
					if g, w := gotImg[c*s*s+y*s+x], img[c*s*s+sy*s+sx]; g != w {
						t.Fatalf("%s: image (%d,%d,%d) = %g, want %g", tt.name, c, x, y, g, w)
					}
				}
				if g, w := gotMask[y*s+x], mask[sy*s+sx]; g != w {
					t.Fatalf("%s: mask (%d,%d) = %g, want %g", tt.name, x, y, g, w)
				}
			}
		}
	}
}

// TestTransformCrop checks a zoom: the centre crop of half the side reads
// the centre of the input, values stay in range and the mask binary.
func TestTransformCrop(t *testing.T) {
	const s = 8
	img, mask := ramp(s)
	gotImg, gotMask := make([]float32, 3*s*s), make([]float32, s*s)
	Transform{Crop: 0.5, OX: 2, OY: 2}.Apply(gotImg, gotMask, img, mask, s)
	// Output (0,0) reads u = 2 + 0.5·0.5 − 0.5 = 1.75: between input 1 and 2.
	want := img[1*s+1]*0.0625 + img[1*s+2]*0.1875 + img[2*s+1]*0.1875 + img[2*s+2]*0.5625
	if d := gotImg[0] - want; d > 1e-6 || d < -1e-6 {
		t.Errorf("zoomed (0,0) = %g, want %g", gotImg[0], want)
	}
	lo, hi := img[0], img[3*s*s-1]
	for _, v := range gotImg {
		if v < lo || v > hi {
			t.Fatalf("value %g outside [%g, %g]", v, lo, hi)
		}
	}
	for _, v := range gotMask {
		if v != 0 && v != 1 {
			t.Fatalf("mask value %g", v)
		}
	}
}

// TestAugmentDeterministic checks that equal generator states give equal
// samples, and that the draws vary.
func TestAugmentDeterministic(t *testing.T) {
	const s = 16
	img, mask := ramp(s)
	tests := []Augment{
		{Flip: true},
		{MaxShift: 3},
		{Scale: 0.3},
		{Flip: true, MaxShift: 2, Scale: 0.2},
	}
	for _, a := range tests {
		run := func(seed uint64) ([]float32, []float32) {
			rng := rand.New(rand.NewPCG(seed, 7))
			var outImg, outMask []float32
			for range 8 {
				di, dm := make([]float32, 3*s*s), make([]float32, s*s)
				a.Apply(rng, di, dm, img, mask, s)
				outImg, outMask = append(outImg, di...), append(outMask, dm...)
			}
			return outImg, outMask
		}
		i1, m1 := run(1)
		i2, m2 := run(1)
		i3, _ := run(2)
		if !slices.Equal(i1, i2) || !slices.Equal(m1, m2) {
			t.Errorf("%+v: same seed, different samples", a)
		}
		if slices.Equal(i1, i3) {
			t.Errorf("%+v: seeds 1 and 2 gave the same 8 samples", a)
		}
	}
}

// TestAugmentZero checks that the zero Augment copies and draws nothing.
func TestAugmentZero(t *testing.T) {
	const s = 4
	img, mask := ramp(s)
	pcg := rand.NewPCG(3, 4)
	before, _ := pcg.MarshalBinary()
	di, dm := make([]float32, 3*s*s), make([]float32, s*s)
	Augment{}.Apply(rand.New(pcg), di, dm, img, mask, s)
	after, _ := pcg.MarshalBinary()
	if !slices.Equal(di, img) || !slices.Equal(dm, mask) || !slices.Equal(before, after) {
		t.Error("the zero Augment changed the sample or drew from the generator")
	}
}

func TestAugmentAllocs(t *testing.T) {
	const s = 32
	img, mask := ramp(s)
	di, dm := make([]float32, 3*s*s), make([]float32, s*s)
	rng := rand.New(rand.NewPCG(1, 1))
	a := Augment{Flip: true, MaxShift: 4, Scale: 0.25}
	if n := testing.AllocsPerRun(20, func() { a.Apply(rng, di, dm, img, mask, s) }); n != 0 {
		t.Errorf("Apply allocates %g times per call", n)
	}
}

func TestAugmentPanics(t *testing.T) {
	img, mask := ramp(4)
	rng := rand.New(rand.NewPCG(1, 1))
	tests := []struct {
		name string
		f    func()
	}{
		{"short image", func() { Augment{Flip: true}.Apply(rng, make([]float32, 3), make([]float32, 16), img, mask, 4) }},
		{"mask without destination", func() { Augment{}.Apply(rng, make([]float32, 48), nil, img, mask, 4) }},
		{"scale 1", func() { Augment{Scale: 1}.Apply(rng, make([]float32, 48), make([]float32, 16), img, mask, 4) }},
		{"negative shift", func() { Augment{MaxShift: -1}.Draw(rng, 4) }},
	}
	for _, tt := range tests {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tt.name)
				}
			}()
			tt.f()
		}()
	}
}
