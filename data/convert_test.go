package data

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/image/draw"
)

// TestToCHWColourModels converts flat images of every colour model, at
// their size and resized, and checks the RGB values within 1/255 (JPEG's
// YCbCr rounding needs 2/255).
func TestToCHWColourModels(t *testing.T) {
	want := [3]float32{200.0 / 255, 100.0 / 255, 50.0 / 255}
	c := color.NRGBA{200, 100, 50, 255}
	r := image.Rect(3, 5, 13, 13) // 10×8, origin away from (0,0)
	fill := func(m draw.Image) image.Image {
		draw.Draw(m, m.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
		return m
	}
	yc := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
	y, cb, cr := color.RGBToYCbCr(200, 100, 50)
	for i := range yc.Y {
		yc.Y[i] = y
	}
	for i := range yc.Cb {
		yc.Cb[i], yc.Cr[i] = cb, cr
	}
	gray := image.NewGray(r)
	for i := range gray.Pix {
		gray.Pix[i] = 77
	}
	pal := image.NewPaletted(r, color.Palette{color.Black, c})
	for i := range pal.Pix {
		pal.Pix[i] = 1
	}
	tests := []struct {
		name string
		img  image.Image
		want [3]float32
		tol  float32
	}{
		{"rgba", fill(image.NewRGBA(r)), want, 1.0 / 255},
		{"nrgba", fill(image.NewNRGBA(r)), want, 1.0 / 255},
		{"rgba64", fill(image.NewRGBA64(r)), want, 1.0 / 255},
		{"cmyk", fill(image.NewCMYK(r)), want, 2.0 / 255},
		{"ycbcr", yc, want, 2.0 / 255},
		{"paletted", pal, want, 1.0 / 255},
		{"gray", gray, [3]float32{77.0 / 255, 77.0 / 255, 77.0 / 255}, 1.0 / 255},
		{"transparent onto black", image.NewNRGBA(r), [3]float32{}, 0},
	}
	for _, tt := range tests {
		for _, size := range []int{1, 4, 8, 10, 64} {
			chw := ToCHW(tt.img, size)
			p := size * size
			if len(chw) != 3*p {
				t.Fatalf("%s size %d: %d values", tt.name, size, len(chw))
			}
			for ch := range 3 {
				for _, v := range chw[ch*p : (ch+1)*p] {
					if d := v - tt.want[ch]; d > tt.tol || d < -tt.tol {
						t.Fatalf("%s size %d channel %d: %g, want %g ± %g", tt.name, size, ch, v, tt.want[ch], tt.tol)
					}
				}
			}
		}
	}
}

// TestToCHWRoundTrip checks that an 8-bit image at the target size
// survives ToCHW and CHWToImage exactly.
func TestToCHWRoundTrip(t *testing.T) {
	m := testPattern(16, 16)
	back := CHWToImage(ToCHW(m, 16), 16)
	if !slices.Equal(back.Pix, m.Pix) {
		t.Error("ToCHW then CHWToImage changed the pixels")
	}
}

// TestPreShrink compares the area-then-Catmull-Rom path of ToCHW with
// Catmull-Rom alone on a real photograph, and checks the orientation:
// a gradient stays a gradient.
func TestPreShrink(t *testing.T) {
	path := filepath.Join(sharedData(t, "weizmann_horse_db"), "rgb", "horse001.jpg")
	img, err := DecodeImage(path, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{32, 64} {
		got := ToCHW(img, size)
		ref := image.NewRGBA(image.Rect(0, 0, size, size))
		draw.CatmullRom.Scale(ref, ref.Rect, img, img.Bounds(), draw.Src, nil)
		var sum, worst float64
		for y := range size {
			for x := range size {
				for ch := range 3 {
					d := math.Abs(float64(got[ch*size*size+y*size+x]) - float64(ref.Pix[y*ref.Stride+4*x+ch])/255)
					sum += d
					worst = max(worst, d)
				}
			}
		}
		t.Logf("size %d: mean difference %.4f, worst %.4f", size, sum/float64(3*size*size), worst)
		if mean := sum / float64(3*size*size); mean > 0.003 || worst > 0.03 {
			t.Errorf("size %d: mean difference %.4f, worst %.4f, want ≤ 0.003 and 0.03", size, mean, worst)
		}
	}
}

func TestAreaWeights(t *testing.T) {
	for _, tt := range []struct{ n, m int }{{1, 1}, {3, 7}, {128, 1280}, {128, 590}, {5, 5}, {7, 8}} {
		a := newAreaWeights(tt.n, tt.m)
		total := 0.0
		for i := range tt.n {
			var s float64
			for k := a.off[i]; k < a.off[i+1]; k++ {
				s += float64(a.w[k])
			}
			if math.Abs(s-1) > 1e-5 {
				t.Errorf("n=%d m=%d: weights of cell %d sum to %g", tt.n, tt.m, i, s)
			}
			total += s
		}
		if a.idx[0] != 0 || a.idx[len(a.idx)-1] != tt.m-1 {
			t.Errorf("n=%d m=%d: cells cover %d..%d", tt.n, tt.m, a.idx[0], a.idx[len(a.idx)-1])
		}
	}
}

// TestToMask checks the threshold and nearest-neighbour resizing.
func TestToMask(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 8, 1))
	copy(g.Pix, []uint8{0, 21, 127, 128, 129, 234, 255, 200})
	tests := []struct {
		w, h int
		want []float32
	}{
		{8, 1, []float32{0, 0, 0, 1, 1, 1, 1, 1}},
		{4, 1, []float32{0, 1, 1, 1}}, // reads pixels 1, 3, 5, 7
		{2, 2, []float32{0, 1, 0, 1}}, // reads 2, 6 in both rows
		{16, 1, []float32{0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
	}
	for _, tt := range tests {
		if got := ToMask(g, tt.w, tt.h); !slices.Equal(got, tt.want) {
			t.Errorf("%dx%d: %v, want %v", tt.w, tt.h, got, tt.want)
		}
	}
	// A colour mask thresholds luminance.
	c := image.NewRGBA(image.Rect(0, 0, 2, 1))
	c.Set(0, 0, color.RGBA{255, 0, 0, 255}) // luminance 76
	c.Set(1, 0, color.RGBA{0, 255, 0, 255}) // luminance 150
	if got := ToMask(c, 2, 1); !slices.Equal(got, []float32{0, 1}) {
		t.Errorf("colour mask: %v", got)
	}
}

// TestMaskVia checks that the composed lookup equals resizing onto the
// image and then to the target.
func TestMaskVia(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		mw, mh := 1+rng.IntN(40), 1+rng.IntN(40)
		w, h, size := 1+rng.IntN(40), 1+rng.IntN(40), 1+rng.IntN(20)
		g := image.NewGray(image.Rect(0, 0, mw, mh))
		for i := range g.Pix {
			g.Pix[i] = uint8(rng.IntN(256))
		}
		want := make([]float32, size*size)
		resizeNearest(want, size, size, ToMask(g, w, h), w, h)
		if got := maskVia(g, w, h, size); !slices.Equal(got, want) {
			t.Fatalf("mask %dx%d via %dx%d to %d differs", mw, mh, w, h, size)
		}
	}
}

func TestProbToGray(t *testing.T) {
	p := []float32{0, 0.25, float32(math.NaN()), 1.5, -1, 0.5}
	g := ProbToGray(p, 3, 2, 3, 2)
	if want := []uint8{0, 64, 0, 255, 0, 128}; !slices.Equal(g.Pix, want) {
		t.Errorf("ProbToGray = %v, want %v", g.Pix, want)
	}
	m := MaskToGray(p, 3, 2, 3, 2)
	if want := []uint8{0, 0, 0, 255, 0, 255}; !slices.Equal(m.Pix, want) {
		t.Errorf("MaskToGray = %v, want %v", m.Pix, want)
	}
	// Resized: a left-half mask stays a left-half mask.
	half := []float32{1, 1, 0, 0, 1, 1, 0, 0}
	big := MaskToGray(half, 4, 2, 40, 20)
	if big.Rect.Dx() != 40 || big.Rect.Dy() != 20 || big.GrayAt(5, 10).Y != 255 || big.GrayAt(35, 10).Y != 0 {
		t.Errorf("resized mask %v: left %d right %d", big.Rect, big.GrayAt(5, 10).Y, big.GrayAt(35, 10).Y)
	}
}

func TestOverlay(t *testing.T) {
	img := image.NewGray(image.Rect(10, 10, 14, 12))
	for i := range img.Pix {
		img.Pix[i] = 100
	}
	p := []float32{1, 0, 0.9, 0.1}
	out := Overlay(img, p, 2, 2)
	if out.Rect != image.Rect(0, 0, 4, 2) {
		t.Fatalf("bounds %v", out.Rect)
	}
	tinted, plain := out.RGBAAt(0, 0), out.RGBAAt(3, 0)
	if tinted != (color.RGBA{177, 50, 50, 255}) || plain != (color.RGBA{100, 100, 100, 255}) {
		t.Errorf("tinted %v plain %v", tinted, plain)
	}
}
