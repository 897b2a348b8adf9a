package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
)

// Split sizes of Synthetic, those of the 32x32 Weizmann split.
const (
	SyntheticTrain = 160
	SyntheticVal   = 40
	SyntheticTest  = 128
)

// Synthetic returns a procedural segmentation dataset of size×size images
// named "synthetic": one foreground shape per image (an ellipse, a rotated
// rectangle, a star-shaped polygon, a smooth blob, or a horse-like union of
// ellipses for a body, neck, head, legs and tail) on a textured background
// (flat, linear gradient, stripes, smooth value noise or a checkerboard).
// The foreground has its own texture, its colour differs from the
// background's by a random contrast that can be small, its outline is
// anti-aliased in the image, and up to three background distractors, some
// in the foreground's texture, make colour alone an imperfect cue. Pixel
// noise is added to the image. Sample k is drawn from
// rand.NewPCG(seed, k), so the dataset is a function of (size, seed).
// It panics if size < 1.
func Synthetic(size int, seed uint64) *Splits {
	if size < 1 {
		panic(fmt.Sprintf("data: Synthetic: size %d < 1", size))
	}
	counts := [3]int{SyntheticTrain, SyntheticVal, SyntheticTest}
	total := SyntheticTrain + SyntheticVal + SyntheticTest
	images := make([][]float32, total)
	masks := make([][]float32, total)

	// Samples are independent: render them in parallel.
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for k := w; k < total; k += workers {
				rng := rand.New(rand.NewPCG(seed, uint64(k)))
				images[k], masks[k] = renderSample(rng, size)
			}
		})
	}
	wg.Wait()

	var out [3]*Dataset
	k := 0
	for i, n := range counts {
		d := &Dataset{Name: "synthetic", Split: splitFiles[i].split, Size: size}
		for range n {
			d.Names = append(d.Names, fmt.Sprintf("synth%03d", k))
			d.Images = append(d.Images, images[k])
			d.Masks = append(d.Masks, masks[k])
			k++
		}
		out[i] = d
	}
	return &Splits{Train: out[0], Val: out[1], Test: out[2]}
}

// rgb is a colour with channels in [0,1].
type rgb [3]float64

// renderSample draws one image (CHW) and its mask.
func renderSample(rng *rand.Rand, size int) (img, mask []float32) {
	bg := newTexture(rng, randomColor(rng))
	fg := newTexture(rng, contrastColor(rng, bg.mean()))
	var fgShape shape
	for try := 0; ; try++ {
		fgShape = randomShape(rng)
		// Keep a foreground of 5% to 75% of the image; the draws are
		// deterministic, so the retries are too.
		if f := coverage(fgShape, size); (f >= 0.05 && f <= 0.75) || try == 20 {
			break
		}
	}
	type distractor struct {
		s shape
		t *texture
	}
	var ds []distractor
	for range rng.IntN(4) {
		s := ellipse{cx: rng.Float64(), cy: rng.Float64(),
			rx: 0.03 + 0.07*rng.Float64(), ry: 0.03 + 0.07*rng.Float64(), rot: math.Pi * rng.Float64()}
		t := fg
		if rng.IntN(2) == 0 {
			t = newTexture(rng, randomColor(rng))
		}
		ds = append(ds, distractor{s, t})
	}
	sigma := 0.01 + 0.05*rng.Float64()

	p := size * size
	img = make([]float32, 3*p)
	mask = make([]float32, p)
	for py := range size {
		for px := range size {
			x, y := (float64(px)+0.5)/float64(size), (float64(py)+0.5)/float64(size)
			c := bg.at(x, y)
			for _, d := range ds {
				c = mix(c, d.t.at(x, y), cover(d.s, px, py, size))
			}
			c = mix(c, fg.at(x, y), cover(fgShape, px, py, size))
			i := py*size + px
			for ch := range 3 {
				v := c[ch] + sigma*rng.NormFloat64()
				img[ch*p+i] = float32(clamp(v, 0, 1))
			}
			if fgShape.inside(x, y) {
				mask[i] = 1
			}
		}
	}
	return img, mask
}

// mix returns (1−w)·a + w·b.
func mix(a, b rgb, w float64) rgb {
	return rgb{a[0] + w*(b[0]-a[0]), a[1] + w*(b[1]-a[1]), a[2] + w*(b[2]-a[2])}
}

// randomColor draws a colour uniformly from the RGB cube.
func randomColor(rng *rand.Rand) rgb {
	return rgb{rng.Float64(), rng.Float64(), rng.Float64()}
}

// contrastColor draws a colour at distance 0.12 to 0.5 from c in a random
// direction, clamped to the cube.
func contrastColor(rng *rand.Rand, c rgb) rgb {
	d := rgb{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
	n := math.Sqrt(d[0]*d[0]+d[1]*d[1]+d[2]*d[2]) + 1e-9
	r := 0.12 + 0.38*rng.Float64()
	for i := range d {
		c[i] = clamp(c[i]+r*d[i]/n, 0, 1)
	}
	return c
}

// cover returns the fraction of the 2×2 subsamples of pixel (px, py) that
// lie inside s, for anti-aliased outlines.
func cover(s shape, px, py, size int) float64 {
	n := 0
	for _, oy := range [2]float64{0.25, 0.75} {
		for _, ox := range [2]float64{0.25, 0.75} {
			if s.inside((float64(px)+ox)/float64(size), (float64(py)+oy)/float64(size)) {
				n++
			}
		}
	}
	return float64(n) / 4
}

// coverage returns the fraction of pixel centres inside s.
func coverage(s shape, size int) float64 {
	n := 0
	for py := range size {
		for px := range size {
			if s.inside((float64(px)+0.5)/float64(size), (float64(py)+0.5)/float64(size)) {
				n++
			}
		}
	}
	return float64(n) / float64(size*size)
}

// texture is a blend of two colours whose weight varies over the image.
type texture struct {
	kind   int // 0 flat, 1 gradient, 2 stripes, 3 value noise, 4 checker
	c0, c1 rgb
	dx, dy float64 // unit direction of gradient and stripes
	freq   float64 // stripes per image, or checker cells per side
	phase  float64
	grid   [6][6]float64 // value-noise lattice
}

// newTexture draws a texture around the colour c.
func newTexture(rng *rand.Rand, c rgb) *texture {
	t := &texture{kind: rng.IntN(5), c0: c}
	t.c1 = contrastColor(rng, c)
	a := 2 * math.Pi * rng.Float64()
	t.dx, t.dy = math.Cos(a), math.Sin(a)
	t.freq = 2 + 6*rng.Float64()
	t.phase = 2 * math.Pi * rng.Float64()
	for i := range t.grid {
		for j := range t.grid[i] {
			t.grid[i][j] = rng.Float64()
		}
	}
	return t
}

// mean returns the mean colour of t, approximately.
func (t *texture) mean() rgb {
	if t.kind == 0 {
		return t.c0
	}
	return mix(t.c0, t.c1, 0.5)
}

// at returns the colour of t at (x, y) in [0,1]².
func (t *texture) at(x, y float64) rgb {
	var w float64
	switch t.kind {
	case 1:
		w = clamp(0.5+0.7*((x-0.5)*t.dx+(y-0.5)*t.dy), 0, 1)
	case 2:
		w = 0.5 + 0.5*math.Sin(2*math.Pi*t.freq*(x*t.dx+y*t.dy)+t.phase)
	case 3:
		w = t.noise(x, y)
	case 4:
		if (int(math.Floor(x*t.freq))+int(math.Floor(y*t.freq)))%2 != 0 {
			w = 1
		}
	}
	return mix(t.c0, t.c1, w)
}

// noise interpolates the lattice smoothly (smoothstep weights).
func (t *texture) noise(x, y float64) float64 {
	n := float64(len(t.grid) - 1)
	gx, gy := clamp(x*n, 0, n-1e-9), clamp(y*n, 0, n-1e-9)
	i, j := int(gx), int(gy)
	fx, fy := gx-float64(i), gy-float64(j)
	fx, fy = fx*fx*(3-2*fx), fy*fy*(3-2*fy)
	top := t.grid[j][i]*(1-fx) + t.grid[j][i+1]*fx
	bottom := t.grid[j+1][i]*(1-fx) + t.grid[j+1][i+1]*fx
	return top*(1-fy) + bottom*fy
}

// shape is a region of [0,1]².
type shape interface {
	inside(x, y float64) bool
}

// randomShape draws one of the five kinds of foreground.
func randomShape(rng *rand.Rand) shape {
	cx, cy := 0.3+0.4*rng.Float64(), 0.3+0.4*rng.Float64()
	switch rng.IntN(5) {
	case 0:
		return ellipse{cx: cx, cy: cy, rx: 0.12 + 0.25*rng.Float64(),
			ry: 0.12 + 0.25*rng.Float64(), rot: math.Pi * rng.Float64()}
	case 1:
		return rect{cx: cx, cy: cy, hw: 0.1 + 0.22*rng.Float64(),
			hh: 0.1 + 0.22*rng.Float64(), rot: math.Pi * rng.Float64()}
	case 2:
		return newPolygon(rng, cx, cy)
	case 3:
		b := blob{cx: cx, cy: cy, r0: 0.15 + 0.15*rng.Float64()}
		for k := range b.amp {
			b.amp[k] = 0.25 * rng.Float64() / float64(k+1)
			b.phase[k] = 2 * math.Pi * rng.Float64()
		}
		return b
	}
	return newHorse(rng, cx, cy)
}

// ellipse has centre (cx, cy), semi-axes rx, ry, and is rotated by rot.
type ellipse struct{ cx, cy, rx, ry, rot float64 }

func (e ellipse) inside(x, y float64) bool {
	u, v := rotate(x-e.cx, y-e.cy, -e.rot)
	return (u/e.rx)*(u/e.rx)+(v/e.ry)*(v/e.ry) <= 1
}

// rect has centre (cx, cy), half sides hw, hh, and is rotated by rot.
type rect struct{ cx, cy, hw, hh, rot float64 }

func (r rect) inside(x, y float64) bool {
	u, v := rotate(x-r.cx, y-r.cy, -r.rot)
	return math.Abs(u) <= r.hw && math.Abs(v) <= r.hh
}

// rotate turns (x, y) by the angle a.
func rotate(x, y, a float64) (float64, float64) {
	s, c := math.Sincos(a)
	return c*x - s*y, s*x + c*y
}

// blob is star-shaped about (cx, cy) with radius
// r(θ) = r0·(1 + Σ_k amp_k·cos((k+2)θ + phase_k)).
type blob struct {
	cx, cy, r0 float64
	amp, phase [3]float64
}

func (b blob) inside(x, y float64) bool {
	dx, dy := x-b.cx, y-b.cy
	theta := math.Atan2(dy, dx)
	r := 1.0
	for k := range b.amp {
		r += b.amp[k] * math.Cos(float64(k+2)*theta+b.phase[k])
	}
	return math.Hypot(dx, dy) <= b.r0*r
}

// polygon is a closed polygon, tested by the crossing number.
type polygon struct{ x, y []float64 }

// newPolygon draws a star-shaped polygon of 3 to 8 vertices about (cx, cy).
func newPolygon(rng *rand.Rand, cx, cy float64) polygon {
	n := 3 + rng.IntN(6)
	r := 0.15 + 0.2*rng.Float64()
	start := 2 * math.Pi * rng.Float64()
	var p polygon
	for i := range n {
		a := start + 2*math.Pi*(float64(i)+0.6*rng.Float64())/float64(n)
		ri := r * (0.6 + 0.4*rng.Float64())
		p.x = append(p.x, cx+ri*math.Cos(a))
		p.y = append(p.y, cy+ri*math.Sin(a))
	}
	return p
}

func (p polygon) inside(x, y float64) bool {
	in := false
	for i, j := 0, len(p.x)-1; i < len(p.x); j, i = i, i+1 {
		if (p.y[i] > y) != (p.y[j] > y) &&
			x < p.x[j]+(y-p.y[j])*(p.x[i]-p.x[j])/(p.y[i]-p.y[j]) {
			in = !in
		}
	}
	return in
}

// union is the union of its parts.
type union []shape

func (u union) inside(x, y float64) bool {
	for _, s := range u {
		if s.inside(x, y) {
			return true
		}
	}
	return false
}

// newHorse draws a horse-like union of ellipses centred near (cx, cy),
// facing left or right, at a random scale.
func newHorse(rng *rand.Rand, cx, cy float64) union {
	s := 0.8 + 0.5*rng.Float64()
	dir := 1.0
	if rng.IntN(2) == 0 {
		dir = -1
	}
	at := func(x, y float64) (float64, float64) { return cx + dir*s*x, cy + s*y }
	part := func(x, y, rx, ry, rot float64) ellipse {
		ex, ey := at(x, y)
		return ellipse{cx: ex, cy: ey, rx: s * rx, ry: s * ry, rot: dir * rot}
	}
	u := union{
		part(0, -0.02, 0.2, 0.09, 0),         // body
		part(0.19, -0.12, 0.05, 0.12, 0.6),   // neck
		part(0.27, -0.21, 0.08, 0.04, 0.5),   // head
		part(-0.22, -0.01, 0.07, 0.02, -0.9), // tail
	}
	// Two hind and two front legs, each swung by up to ±0.3 rad.
	for _, x := range [4]float64{-0.13, -0.07, 0.11, 0.16} {
		u = append(u, part(x, 0.14, 0.025, 0.1, 0.6*rng.Float64()-0.3))
	}
	return u
}
