package models

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/egan-ort/egan-ort/graphs"
	"github.com/egan-ort/egan-ort/ort"
)

func TestMain(m *testing.M) {
	if _, err := ort.Init(""); err != nil {
		fmt.Fprintln(os.Stderr, "models tests need ONNX Runtime:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

const (
	testBatch = 2
	testSize  = 16
)

// runner runs one program on float32 slices, allocating outputs with ORT.
type runner struct {
	t *testing.T
	p *Program
	g *graphs.Graph
}

func newRunner(t *testing.T, g *graphs.Graph, nData int, ps *Params) *runner {
	t.Helper()
	p, err := NewProgram(g, nData, ps, ort.Options{Threads: 2}, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Destroy)
	return &runner{t: t, p: p, g: g}
}

// run feeds data (per data input) at batch testBatch and returns every
// output by name.
func (r *runner) run(data ...[]float32) map[string][]float32 {
	r.t.Helper()
	ins := make([]ort.Value, len(data))
	for i, v := range r.g.Inputs()[:len(data)] {
		shape := make([]int64, len(v.Shape))
		for j, d := range v.Shape {
			if d == graphs.Batch {
				d = testBatch
			}
			shape[j] = int64(d)
		}
		t, err := ort.NewTensor(data[i], shape...)
		if err != nil {
			r.t.Fatal(err)
		}
		defer t.Destroy()
		ins[i] = t
	}
	outs := make([]ort.Value, len(r.p.Outputs))
	if err := r.p.Run(ins, outs); err != nil {
		r.t.Fatal(err)
	}
	res := map[string][]float32{}
	for i, o := range outs {
		d, _, err := ort.Float32s(o)
		if err != nil {
			r.t.Fatal(err)
		}
		res[r.p.Outputs[i]] = append([]float32(nil), d...)
		o.Destroy()
	}
	return res
}

func randSlice(r *rand.Rand, n int, lo, hi float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(lo + (hi-lo)*r.Float64())
	}
	return out
}

func dot32(a, b []float32) float64 {
	s := 0.0
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// direction is a random perturbation of the data inputs listed and of every
// parameter.
type direction struct {
	data   map[int][]float32
	params [][]float32
}

func randomDirection(r *rand.Rand, data [][]float32, which []int, ps *Params, scale float64) direction {
	d := direction{data: map[int][]float32{}}
	for _, i := range which {
		d.data[i] = randSlice(r, len(data[i]), -1, 1)
	}
	for _, p := range ps.List {
		v := make([]float32, p.Size())
		for j := range v {
			v[j] = float32(r.NormFloat64() * scale)
		}
		d.params = append(d.params, v)
	}
	return d
}

// along evaluates f at data + h·d and params + h·d (restoring the params).
func along(ps *Params, data [][]float32, d direction, h float64, f func(data [][]float32) float64) float64 {
	saved := make([][]float32, len(ps.List))
	for i, p := range ps.List {
		saved[i] = append([]float32(nil), p.Data...)
		for j := range p.Data {
			p.Data[j] += float32(h) * d.params[i][j]
		}
	}
	moved := make([][]float32, len(data))
	for i := range data {
		moved[i] = append([]float32(nil), data[i]...)
		if dd, ok := d.data[i]; ok {
			for j := range moved[i] {
				moved[i][j] += float32(h) * dd[j]
			}
		}
	}
	v := f(moved)
	for i, p := range ps.List {
		copy(p.Data, saved[i])
	}
	return v
}

// fd is the fourth-order central difference of f along d.
func fd(ps *Params, data [][]float32, d direction, eps float64, f func([][]float32) float64) float64 {
	at := func(h float64) float64 { return along(ps, data, d, h, f) }
	return (-at(2*eps) + 8*at(eps) - 8*at(-eps) + at(-2*eps)) / (12 * eps)
}

// relErr is |a−b| relative to the larger of |a|, |b| and scale/100, where
// scale is Σ|gᵢ·dᵢ|: a directional derivative can cancel to near zero while
// its float32 finite difference keeps the rounding of every term.
func relErr(a, b, scale float64) float64 {
	return math.Abs(a-b) / math.Max(math.Max(math.Abs(a), math.Abs(b)), math.Max(scale/100, 1e-6))
}

func absDot32(a, b []float32) float64 {
	s := 0.0
	for i := range a {
		s += math.Abs(float64(a[i]) * float64(b[i]))
	}
	return s
}

// analytic is ⟨gradient outputs, d⟩ over the listed data outputs and every
// parameter gradient.
func analytic(out map[string][]float32, ps *Params, d direction, dataGrads map[int]string) (dir, scale float64) {
	for i, name := range dataGrads {
		dir += dot32(out[name], d.data[i])
		scale += absDot32(out[name], d.data[i])
	}
	for i, p := range ps.List {
		dir += dot32(out[GradName(p.Name)], d.params[i])
		scale += absDot32(out[GradName(p.Name)], d.params[i])
	}
	return dir, scale
}

func testNets(t *testing.T, slope float64) (*Energy, *Disc) {
	e, err := NewEnergy(DefaultEnergyConfig(), testSize, 1)
	if err != nil {
		t.Fatal(err)
	}
	dc := DefaultDiscConfig()
	dc.Slope = slope
	d, err := NewDisc(dc, testSize, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Non-zero biases and prior, so that their gradients are exercised.
	r := rand.New(rand.NewPCG(9, 9))
	for _, ps := range []*Params{e.Params, d.Params} {
		for _, p := range ps.List {
			if p.Shape[0] == 1 || len(p.Shape) == 1 {
				for j := range p.Data {
					p.Data[j] += float32(0.1 * r.NormFloat64())
				}
			}
		}
	}
	return e, d
}

func testData(r *rand.Rand) (x, ys, y, v []float32) {
	n := testBatch * testSize * testSize
	return randSlice(r, 3*n, -1, 1), randSlice(r, n, 0, 1), randSlice(r, n, 0.05, 0.95), randSlice(r, n, -1, 1)
}

// TestTrainingGraphs checks every training graph of the default networks
// (whose pairwise net is dilated 1, 2, 4)
// against finite differences of the graph it differentiates.
func TestTrainingGraphs(t *testing.T) {
	e, d := testNets(t, DefaultDiscConfig().Slope)
	r := rand.New(rand.NewPCG(1, 2))
	x, ys, y, v := testData(r)
	u := randSlice(r, testBatch, -1, 1)
	const eps = 5e-3

	eg := newRunner(t, EnergyGradGraph(e), 3, e.Pair)
	en := newRunner(t, EnergyGraph(e), 3, e.Pair)
	eh := newRunner(t, EnergyHVPGraph(e), 3, e.Pair)
	eu := newRunner(t, EnergyUnaryGraph(e), 1, e.Unary)
	euv := newRunner(t, EnergyUnaryVJPGraph(e), 2, e.Unary)
	uField := randSlice(r, len(y), -1, 1)
	dg := newRunner(t, DiscGraph(d), 3, d.Params)
	dv := newRunner(t, DiscVJPGraph(d), 4, d.Params)

	sumE := func(data [][]float32) float64 {
		s := 0.0
		for _, x := range en.run(data[0], data[1], uField)[OutE] {
			s += float64(x)
		}
		return s
	}
	gyDotV := func(data [][]float32) float64 { return dot32(eg.run(data[0], data[1], uField)[OutGradY], v) }
	uDotV := func(data [][]float32) float64 { return dot32(eu.run(data[0])[OutU], v) }
	sDotU := func(data [][]float32) float64 { return dot32(dg.run(data[0], data[1], data[2])[OutScore], u) }
	_, ds := testNets(t, 1)
	dgs := newRunner(t, DiscGraph(ds), 3, ds.Params)
	dvs := newRunner(t, DiscVJPGraph(ds), 4, ds.Params)
	sDotUSmooth := func(data [][]float32) float64 { return dot32(dgs.run(data[0], data[1], data[2])[OutScore], u) }

	cases := []struct {
		name   string
		tol    float64
		check  func(d direction) (a, n, scale float64)
		data   [][]float32
		dirs   []int
		params *Params
		// kinks: a finite difference that crosses a LeakyReLU kink is off
		// by design, so the median error of the trials is checked.
		kinks bool
	}{
		{"energy_grad", 3e-3, func(dir direction) (float64, float64, float64) {
			out := eg.run(x, y, uField)
			dir.params = zeroLike(e.Pair) // gY is the gradient in Y only
			a, scale := analytic(out, &Params{}, dir, map[int]string{1: OutGradY})
			return a, fd(e.Pair, [][]float32{x, y}, dir, eps, sumE), scale
		}, [][]float32{x, y}, []int{1}, e.Pair, false},
		{"energy_hvp", 5e-3, func(dir direction) (float64, float64, float64) {
			out := eh.run(x, y, v)
			a, scale := analytic(out, e.Pair, dir, map[int]string{1: OutVJPY})
			return a, fd(e.Pair, [][]float32{x, y}, dir, eps, gyDotV), scale
		}, [][]float32{x, y}, []int{1}, e.Pair, false},
		{"energy_unary_vjp", 3e-3, func(dir direction) (float64, float64, float64) {
			out := euv.run(x, v)
			a, scale := analytic(out, e.Unary, dir, nil)
			return a, fd(e.Unary, [][]float32{x}, dir, eps, uDotV), scale
		}, [][]float32{x}, nil, e.Unary, false},
		// A smooth discriminator (slope 1) checks every weight; see
		// TestGradientPenaltyGraph for why LeakyReLU's kinks get their own case.
		{"disc_vjp_smooth", 5e-3, func(dir direction) (float64, float64, float64) {
			out := dvs.run(x, ys, y, u)
			a, scale := analytic(out, ds.Params, dir, map[int]string{2: OutVJPY})
			return a, fd(ds.Params, [][]float32{x, ys, y}, dir, eps, sDotUSmooth), scale
		}, [][]float32{x, ys, y}, []int{2}, ds.Params, false},
		// Short steps straddle few kinks of the default LeakyReLU critic.
		{"disc_vjp", 1e-2, func(dir direction) (float64, float64, float64) {
			out := dv.run(x, ys, y, u)
			a, scale := analytic(out, d.Params, dir, map[int]string{2: OutVJPY})
			return a, fd(d.Params, [][]float32{x, ys, y}, dir, 2e-4, sDotU), scale
		}, [][]float32{x, ys, y}, []int{2}, d.Params, true},
	}
	for i, c := range cases {
		// Each case draws its own directions, so that the networks' sizes
		// do not change which directions another case is checked along.
		r := rand.New(rand.NewPCG(5, uint64(i)))
		t.Run(c.name, func(t *testing.T) {
			worst, errs := 0.0, []float64{}
			for trial := range 5 {
				dir := randomDirection(r, c.data, c.dirs, c.params, 0.1)
				a, n, scale := c.check(dir)
				e := relErr(a, n, scale)
				worst, errs = math.Max(worst, e), append(errs, e)
				if e > c.tol && !c.kinks {
					t.Errorf("trial %d: analytic %.7g, finite difference %.7g, relative error %.2e > %.0e",
						trial, a, n, e, c.tol)
				}
			}
			slices.Sort(errs)
			if med := errs[len(errs)/2]; c.kinks && med > c.tol {
				t.Errorf("median relative error %.2e > %.0e (errors %.2e)", med, c.tol, errs)
			}
			t.Logf("worst relative error %.2e, median %.2e", worst, errs[len(errs)/2])
		})
	}
}

func zeroLike(ps *Params) [][]float32 { return ps.NewBuffers() }

// TestEnergySplit checks that energy_grad fed by energy_unary gives the
// gradient of the whole energy E_θ(X, Y) as Build writes it.
func TestEnergySplit(t *testing.T) {
	e, _ := testNets(t, 0.2)
	r := rand.New(rand.NewPCG(5, 6))
	x, _, y, _ := testData(r)
	g := graphs.New("energy_full")
	gx, gyIn := imageInputs(g, e.Size), maskInput(g, InY, e.Size)
	en := e.Build(g, gx, gyIn, e.Params.Inputs(g))
	g.Output(OutE, en)
	g.Output(OutGradY, g.Grad("dE_dY", en, nil, gyIn)[0])
	full := newRunner(t, g, 2, e.Params).run(x, y)
	u := newRunner(t, EnergyUnaryGraph(e), 1, e.Unary).run(x)[OutU]
	split := newRunner(t, EnergyGradGraph(e), 3, e.Pair).run(x, y, u)
	split[OutE] = newRunner(t, EnergyGraph(e), 3, e.Pair).run(x, y, u)[OutE]
	for _, name := range []string{OutE, OutGradY} {
		for i := range full[name] {
			a, b := float64(full[name][i]), float64(split[name][i])
			if math.Abs(a-b) > 1e-4*(1+math.Abs(a)) {
				t.Fatalf("%s[%d]: whole energy %.7g, split %.7g", name, i, a, b)
			}
		}
	}
}

// TestGradientPenaltyGraph checks disc_gp's φ-gradient against finite
// differences of its penalty. LeakyReLU makes ∇_Ŷ D jump wherever a
// pre-activation changes sign, so a finite difference along the conv
// weights straddles jumps; the check runs the default architecture with a
// slope of 1 (smooth, every weight checked) and with the default slope
// along the head's weights only (which move no pre-activation).
func TestGradientPenaltyGraph(t *testing.T) {
	for _, c := range []struct {
		name     string
		slope    float64
		headOnly bool
	}{{"smooth", 1, false}, {"leaky_head", DefaultDiscConfig().Slope, true}} {
		t.Run(c.name, func(t *testing.T) {
			_, d := testNets(t, c.slope)
			r := rand.New(rand.NewPCG(3, 4))
			x, ys, y, _ := testData(r)
			w := randSlice(r, testBatch, 0.5, 1.5)
			gp := newRunner(t, DiscGPGraph(d), 4, d.Params)
			penalty := func(data [][]float32) float64 { return dot32(gp.run(data[0], data[1], data[2], w)[OutGP], w) }
			worst := 0.0
			for trial := range 3 {
				dir := randomDirection(r, nil, nil, d.Params, 0.05)
				if c.headOnly {
					for i, p := range d.Params.List {
						if p.Name != "disc.head.w" && p.Name != "disc.head.b" {
							clear(dir.params[i])
						}
					}
				}
				a, scale := analytic(gp.run(x, ys, y, w), d.Params, dir, nil)
				n := fd(d.Params, [][]float32{x, ys, y}, dir, 5e-3, penalty)
				worst = math.Max(worst, relErr(a, n, scale))
				if relErr(a, n, scale) > 5e-3 {
					t.Errorf("trial %d: analytic %.7g, finite difference %.7g", trial, a, n)
				}
			}
			t.Logf("worst relative error %.2e", worst)
		})
	}
}

func TestParamCounts(t *testing.T) {
	e, err := NewEnergy(DefaultEnergyConfig(), 32, 1)
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDisc(DefaultDiscConfig(), 32, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("default energy network: %d parameters; default discriminator: %d parameters",
		e.Params.Count(), d.Params.Count())
	if e.Params.Count() == 0 || d.Params.Count() == 0 {
		t.Fatal("empty network")
	}
	// Same seed, same parameters; another seed, others.
	e2, _ := NewEnergy(DefaultEnergyConfig(), 32, 1)
	e3, _ := NewEnergy(DefaultEnergyConfig(), 32, 2)
	if dot32(e.Params.List[0].Data, e2.Params.List[0].Data) != dot32(e.Params.List[0].Data, e.Params.List[0].Data) {
		t.Fatal("initialisation is not deterministic")
	}
	if e.Params.List[0].Data[0] == e3.Params.List[0].Data[0] {
		t.Fatal("seed does not change the initialisation")
	}
}

func TestConfigErrors(t *testing.T) {
	if _, err := NewEnergy(EnergyConfig{Channels: 0, Depth: 3}, 32, 1); err == nil {
		t.Error("zero channels accepted")
	}
	if _, err := NewDisc(DiscConfig{Channels: 8, Depth: 6, Slope: 0.2}, 32, 1); err == nil {
		t.Error("six stride-2 layers accepted on 32 pixels")
	}
}

// benchThreads sets the intra-op threads of the benchmarks' sessions:
// go test -bench TrainingGraphs ./models -args -ort-threads 1.
var benchThreads = flag.Int("ort-threads", 0, "intra-op threads of the benchmarks' ORT sessions (0: one per core)")

// BenchmarkTrainingGraphs reports ms per call of each training graph at
// batch 10, 32×32 and 64×64, with the default networks and each lowering of
// the weight gradients.
func BenchmarkTrainingGraphs(b *testing.B) {
	for _, size := range []int{32, 64} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) { benchTrainingGraphs(b, 10, size) })
	}
}

func benchTrainingGraphs(b *testing.B, batch, size int) {
	e, _ := NewEnergy(DefaultEnergyConfig(), size, 1)
	d, _ := NewDisc(DefaultDiscConfig(), size, 1)
	r := rand.New(rand.NewPCG(1, 1))
	n := batch * size * size
	x, m, sc := randSlice(r, 3*n, -1, 1), randSlice(r, n, 0, 1), randSlice(r, batch, 0, 1)
	mk := func(data []float32, shape ...int64) ort.Value {
		t, err := ort.NewTensor(data, shape...)
		if err != nil {
			b.Fatal(err)
		}
		return t
	}
	X, M, S := mk(x, int64(batch), 3, int64(size), int64(size)), mk(m, int64(batch), 1, int64(size), int64(size)), mk(sc, int64(batch))
	defer func() {
		for _, v := range []ort.Value{X, M, S} {
			v.Destroy()
		}
	}()
	for _, c := range []struct {
		g    *graphs.Graph
		ps   *Params
		data []ort.Value
	}{
		{EnergyUnaryGraph(e), e.Unary, []ort.Value{X}},
		{EnergyUnaryVJPGraph(e), e.Unary, []ort.Value{X, M}},
		{EnergyGradGraph(e), e.Pair, []ort.Value{X, M, M}},
		{EnergyHVPGraph(e), e.Pair, []ort.Value{X, M, M}},
		{DiscGraph(d), d.Params, []ort.Value{X, M, M}},
		{DiscVJPGraph(d), d.Params, []ort.Value{X, M, M, S}},
		{DiscGPGraph(d), d.Params, []ort.Value{X, M, M, S}},
	} {
		for _, mode := range []graphs.WeightGradLowering{graphs.WeightGradAuto, graphs.WeightGradMatMul,
			graphs.WeightGradConv} {
			c.g.WeightGrad = mode
			name := c.g.Name() + []string{"", "/matmul_weight_grad", "/conv_weight_grad"}[mode]
			benchProgram(b, name, c.g, c.ps, c.data, batch)
		}
	}
}

func benchProgram(b *testing.B, name string, g *graphs.Graph, ps *Params, data []ort.Value, batch int) {
	{
		c := struct {
			g    *graphs.Graph
			ps   *Params
			data []ort.Value
		}{g, ps, data}
		b.Run(name, func(b *testing.B) {
			p, err := NewProgram(c.g, len(c.data), c.ps, ort.Options{Threads: *benchThreads}, "")
			if err != nil {
				b.Fatal(err)
			}
			defer p.Destroy()
			outs := make([]ort.Value, len(p.Outputs))
			run := func() {
				clear(outs)
				if err := p.Run(c.data, outs); err != nil {
					b.Fatal(err)
				}
				for _, o := range outs {
					o.Destroy()
				}
			}
			run()
			b.ResetTimer()
			for b.Loop() {
				run()
			}
			sec := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(sec*1e3, "ms/call")
			if f := c.g.FLOPs(batch); f > 0 {
				b.ReportMetric(f/sec/1e9, "GFLOP/s")
			}
		})
	}
}

// BenchmarkLayers times, one op at a time at batch 10 and 64×64, the layer
// shapes the default networks are made of: the 64→64 and 32→32 convolutions
// (at the dilations the nets use), the narrow ones at either end (3→C, 1→C,
// C→1) and the softplus between them. Their GFLOP/s against the dense
// convolution's say where a training step's rate goes.
func BenchmarkLayers(b *testing.B) {
	const n, s = 10, 64
	r := rand.New(rand.NewPCG(1, 1))
	weights := func(cout, cin int) []float64 {
		w := make([]float64, cout*cin*9)
		for i := range w {
			w[i] = r.NormFloat64() * 0.05
		}
		return w
	}
	type layer struct {
		name string
		cin  int
		g    *graphs.Graph
	}
	var layers []layer
	for _, c := range []struct{ cin, cout, d int }{
		{64, 64, 1}, {64, 64, 4}, {32, 32, 1}, {32, 32, 2},
		{3, 64, 1}, {3, 32, 1}, {1, 32, 1}, {64, 1, 1}, {32, 1, 4},
	} {
		g := graphs.New("conv")
		x := g.Input("x", graphs.Batch, c.cin, s, s)
		w := g.Initializer("w", []int{c.cout, c.cin, 3, 3}, weights(c.cout, c.cin))
		g.Output("y", g.Conv(x, w, nil, graphs.ConvOpts{Pads: [4]int{c.d, c.d, c.d, c.d}, Dilations: [2]int{c.d, c.d}}))
		layers = append(layers, layer{fmt.Sprintf("conv%dto%d_dilation%d", c.cin, c.cout, c.d), c.cin, g})
	}
	for _, c := range []int{64, 32} {
		g := graphs.New("softplus")
		g.Output("y", g.Softplus(g.Input("x", graphs.Batch, c, s, s)))
		layers = append(layers, layer{fmt.Sprintf("softplus%d", c), c, g})
	}
	for _, l := range layers {
		x, err := ort.NewTensor(randSlice(r, n*l.cin*s*s, -2, 2), n, int64(l.cin), s, s)
		if err != nil {
			b.Fatal(err)
		}
		benchProgram(b, l.name, l.g, &Params{}, []ort.Value{x}, n)
		x.Destroy()
	}
}
