package langevin

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/egan-ort/egan-ort/losses"
	"github.com/egan-ort/egan-ort/models"
	"github.com/egan-ort/egan-ort/ort"
)

func TestMain(m *testing.M) {
	if _, err := ort.Init(""); err != nil {
		fmt.Fprintln(os.Stderr, "langevin tests need ONNX Runtime:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

const (
	tinySize  = 8
	tinyBatch = 2
)

func tinyEnergy(t testing.TB, seed uint64) *models.Energy {
	e, err := models.NewEnergy(models.EnergyConfig{Channels: 4, Depth: 2, UnaryChannels: 4, UnaryDepth: 2, Prior: true},
		tinySize, seed)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 1))
	for _, p := range e.Params.List {
		if len(p.Shape) == 1 || p.Name == "energy.prior" {
			for i := range p.Data {
				p.Data[i] = float32(0.3 * r.NormFloat64())
			}
		}
	}
	return e
}

func tinyData(seed uint64) (x, yStar []float32) {
	r := rand.New(rand.NewPCG(seed, 2))
	m := tinyBatch * tinySize * tinySize
	x, yStar = make([]float32, 3*m), make([]float32, m)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	for i := range yStar {
		yStar[i] = float32(r.IntN(2))
	}
	return x, yStar
}

// ceLoss runs the unroll with noise from a fixed seed and returns
// CE(Y*, L_T), and ∂CE/∂L_T in aT when it is not nil.
func ceLoss(t *testing.T, u *Unroller, x, yStar, aT []float32) float64 {
	_, lT, err := u.Forward(x, tinyBatch, rand.New(rand.NewPCG(42, 43)))
	if err != nil {
		t.Fatal(err)
	}
	return losses.CrossEntropyLogits(aT, yStar, lT)
}

// TestCEGradientThroughUnroll checks ∂CE(Y*, Y_T)/∂θ for every parameter,
// through a T = 3 unroll with fixed noise, against a fourth-order central
// difference of the whole unroll along random directions.
func TestCEGradientThroughUnroll(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"noise", Config{Steps: 3, Rate: 2, Temp: 0.01, InitNoise: 1}},
		{"deterministic", Config{Steps: 3, Rate: 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := tinyEnergy(t, 1)
			u, err := New(e, c.cfg, ort.Options{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer u.Destroy()
			x, yStar := tinyData(3)
			aT := make([]float32, len(yStar))
			ceLoss(t, u, x, yStar, aT)
			grads := e.Params.NewBuffers()
			if _, err := u.Backward(grads, aT); err != nil {
				t.Fatal(err)
			}
			worst := checkDirections(t, e.Params, grads, func() float64 { return ceLoss(t, u, x, yStar, nil) }, 5e-3)
			t.Logf("worst relative error %.2e over every parameter", worst)
		})
	}
}

// checkDirections compares ⟨grads, d⟩ with finite differences of loss along
// three random parameter directions d, per parameter tensor and for all at
// once, and returns the worst relative error.
func checkDirections(t *testing.T, ps *models.Params, grads [][]float32, loss func() float64, tol float64) float64 {
	t.Helper()
	r := rand.New(rand.NewPCG(7, 8))
	const eps = 1e-2
	worst := 0.0
	check := func(name string, only int) {
		d := make([][]float32, len(ps.List))
		dir, scale := 0.0, 0.0
		for k, p := range ps.List {
			d[k] = make([]float32, p.Size())
			if only >= 0 && k != only {
				continue
			}
			for i := range d[k] {
				d[k][i] = float32(0.5 * r.NormFloat64())
				dir += float64(grads[k][i]) * float64(d[k][i])
				scale += math.Abs(float64(grads[k][i]) * float64(d[k][i]))
			}
		}
		at := func(h float64) float64 {
			saved := make([][]float32, len(ps.List))
			for k, p := range ps.List {
				saved[k] = slices.Clone(p.Data)
				for i := range p.Data {
					p.Data[i] += float32(h) * d[k][i]
				}
			}
			v := loss()
			for k, p := range ps.List {
				copy(p.Data, saved[k])
			}
			return v
		}
		fd := (-at(2*eps) + 8*at(eps) - 8*at(-eps) + at(-2*eps)) / (12 * eps)
		rel := math.Abs(dir-fd) / math.Max(math.Max(math.Abs(dir), math.Abs(fd)), math.Max(scale/100, 1e-7))
		worst = math.Max(worst, rel)
		if rel > tol || math.IsNaN(rel) {
			t.Errorf("%s: analytic %.7g, finite difference %.7g, relative error %.2e > %.0e", name, dir, fd, rel, tol)
		}
	}
	for k, p := range ps.List {
		check(p.Name, k)
	}
	for range 2 {
		check("all parameters", -1)
	}
	return worst
}

func TestDeterministic(t *testing.T) {
	e := tinyEnergy(t, 2)
	u, err := New(e, DefaultConfig(), ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Destroy()
	x, _ := tinyData(4)
	run := func(noise *rand.Rand) []float32 {
		y, _, err := u.Forward(x, tinyBatch, noise)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Clone(y)
	}
	if a, b := run(rand.New(rand.NewPCG(1, 1))), run(rand.New(rand.NewPCG(1, 1))); !slices.Equal(a, b) {
		t.Error("same seed, different masks")
	}
	if a, b := run(rand.New(rand.NewPCG(1, 1))), run(rand.New(rand.NewPCG(2, 1))); slices.Equal(a, b) {
		t.Error("different seeds, same masks")
	}
	if a, b := run(nil), run(nil); !slices.Equal(a, b) {
		t.Error("evaluation unroll is not deterministic")
	}
	// A batch of one image gives that image's mask of the batch of two.
	y2 := run(nil)
	y1, _, err := u.Forward(x[:3*tinySize*tinySize], 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range y1 {
		if math.Abs(float64(y1[i]-y2[i])) > 1e-6 {
			t.Fatalf("pixel %d: batch of one %.7g, batch of two %.7g", i, y1[i], y2[i])
		}
	}
}

func TestClipping(t *testing.T) {
	e := tinyEnergy(t, 3)
	cfg := Config{Steps: 2, Rate: 2, Clip: 0.05}
	u, err := New(e, cfg, ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Destroy()
	x, _ := tinyData(5)
	if _, _, err := u.Forward(x, tinyBatch, nil); err != nil {
		t.Fatal(err)
	}
	// With every gradient clipped, each step moves a logit by at most δ/2·c.
	tape := u.Tape()
	for s := 1; s < len(tape); s++ {
		for i := range tape[s] {
			if d := math.Abs(float64(tape[s][i] - tape[s-1][i])); d > cfg.Rate/2*cfg.Clip+1e-6 {
				t.Fatalf("step %d moved logit %d by %.4g > δ/2·c", s, i, d)
			}
		}
	}
}

func TestBackwardWithoutForward(t *testing.T) {
	e := tinyEnergy(t, 4)
	u, err := New(e, DefaultConfig(), ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Destroy()
	if _, err := u.Backward(e.Params.NewBuffers(), nil); err != ErrNoForward {
		t.Fatalf("got %v, want ErrNoForward", err)
	}
	if _, err := New(e, Config{Steps: 0, Rate: 2}, ort.Options{}); err == nil {
		t.Fatal("zero steps accepted")
	}
}

// BenchmarkUnroll reports one forward and backward unroll at batch 10,
// 32×32, T = 5 with the default energy network, and the share of wall time
// spent outside ORT calls.
func BenchmarkUnroll(b *testing.B) {
	const batch, size = 10, 32
	e, err := models.NewEnergy(models.DefaultEnergyConfig(), size, 1)
	if err != nil {
		b.Fatal(err)
	}
	u, err := New(e, DefaultConfig(), ort.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer u.Destroy()
	r := rand.New(rand.NewPCG(1, 1))
	m := batch * size * size
	x, yStar, aT := make([]float32, 3*m), make([]float32, m), make([]float32, m)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	for i := range yStar {
		yStar[i] = float32(r.IntN(2))
	}
	grads := e.Params.NewBuffers()
	step := func() {
		_, lT, err := u.Forward(x, batch, r)
		if err != nil {
			b.Fatal(err)
		}
		losses.CrossEntropyLogits(aT, yStar, lT)
		if _, err := u.Backward(grads, aT); err != nil {
			b.Fatal(err)
		}
	}
	step()
	ort0 := u.ORTTime()
	b.ResetTimer()
	for b.Loop() {
		step()
	}
	wall := b.Elapsed()
	ortT := u.ORTTime() - ort0
	b.ReportMetric(float64(wall.Milliseconds())/float64(b.N), "ms/unroll")
	b.ReportMetric(100*(1-ortT.Seconds()/wall.Seconds()), "%outside-ORT")
}

// TestInferMirror: with every kernel and the prior made mirror-symmetric,
// the network's unroll commutes with mirroring, so the flip average equals
// the plain inference; on the asymmetric network it differs. Infer leaves
// its input alone either way.
func TestInferMirror(t *testing.T) {
	e := tinyEnergy(t, 3)
	x, _ := tinyData(3)
	x0 := slices.Clone(x)
	u, err := New(e, DefaultConfig(), ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Destroy()
	diff := func() float64 {
		y, err := u.Infer(x, tinyBatch, false)
		if err != nil {
			t.Fatal(err)
		}
		plain := slices.Clone(y)
		avg, err := u.Infer(x, tinyBatch, true)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(x, x0) {
			t.Fatal("Infer changed its input")
		}
		d := 0.0
		for i := range plain {
			d = math.Max(d, math.Abs(float64(plain[i]-avg[i])))
		}
		return d
	}
	if d := diff(); d < 1e-3 {
		t.Errorf("asymmetric network: flip average within %.2g of the plain mask", d)
	}
	for _, p := range e.Params.List {
		if len(p.Shape) == 4 {
			m := slices.Clone(p.Data)
			Mirror(m, p.Shape[3])
			for i := range p.Data {
				p.Data[i] = (p.Data[i] + m[i]) / 2
			}
		}
	}
	// Symmetric input too: otherwise the image breaks the symmetry.
	m := slices.Clone(x)
	Mirror(m, tinySize)
	for i := range x {
		x[i] = (x[i] + m[i]) / 2
	}
	x0 = slices.Clone(x)
	if d := diff(); d > 1e-6 {
		t.Errorf("symmetric network and image: flip average differs from the plain mask by %.2g", d)
	}
}
