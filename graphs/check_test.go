package graphs

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/egan-ort/egan-ort/ort"
)

// TestMain loads ONNX Runtime. The tests fail, never skip, without it.
func TestMain(m *testing.M) {
	if _, err := ort.Init(""); err != nil {
		fmt.Fprintln(os.Stderr, "graphs tests need ONNX Runtime:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// concrete replaces the dynamic dimension by batch.
func concrete(shape []int, batch int) []int64 {
	out := make([]int64, len(shape))
	for i, d := range shape {
		if d == Batch {
			d = batch
		}
		out[i] = int64(d)
	}
	return out
}

// runGraph runs g's model in ORT with the given inputs (in declaration order)
// and returns its outputs as float64.
func runGraph(t testing.TB, g *Graph, batch int, inputs [][]float64) [][]float64 {
	t.Helper()
	sess, err := ort.NewSession(g.Bytes(), g.InputNames(), g.OutputNames(), ort.Options{Threads: 1})
	if err != nil {
		t.Fatalf("%s: %v", g.name, err)
	}
	defer sess.Destroy()
	return runSession(t, sess, g, batch, inputs)
}

func runSession(t testing.TB, sess *ort.Session, g *Graph, batch int, inputs [][]float64) [][]float64 {
	t.Helper()
	ins := make([]ort.Value, len(inputs))
	for i, v := range g.inputs {
		shape := concrete(v.Shape, batch)
		var err error
		if g.float == Float64 {
			ins[i], err = ort.NewTensor64(inputs[i], shape...)
		} else {
			ins[i], err = ort.NewTensor(to32(inputs[i]), shape...)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer ins[i].Destroy()
	}
	outs := make([]ort.Value, len(g.outputs))
	if err := sess.Run(ins, outs); err != nil {
		t.Fatalf("%s: %v", g.name, err)
	}
	res := make([][]float64, len(outs))
	for i, o := range outs {
		defer o.Destroy()
		res[i] = valueData(t, o)
	}
	return res
}

func valueData(t testing.TB, v ort.Value) []float64 {
	switch x := v.(type) {
	case *ort.Tensor:
		return to64(x.GetData())
	default:
		if d, ok := v.(interface{ GetData() []float64 }); ok {
			return append([]float64(nil), d.GetData()...)
		}
	}
	t.Fatalf("unexpected output %T", v)
	return nil
}

func to32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

func to64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

func randn(r *rand.Rand, n int, scale float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = r.NormFloat64() * scale
	}
	return out
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// gradCase is one derivative check: build returns a scalar (shape [1]) of
// the inputs; its gradient with respect to the inputs listed in wrt is
// checked against a finite-difference directional derivative.
type gradCase struct {
	name   string
	shapes [][]int
	build  func(g *Graph, in []*Value) *Value
	wrt    []int                                  // inputs to differentiate (all when nil)
	init   func(r *rand.Rand, i, n int) []float64 // input values (N(0,1) when nil)
	f64    bool                                   // build a float64 graph
	tol    float64                                // relative tolerance
	eps    float64                                // step (1e-2 in float32, 1e-4 in float64 when 0)
}

// checkGrad compares ⟨∇S, d⟩ from Grad with the fourth-order central
// difference (−S(2ε) + 8S(ε) − 8S(−ε) + S(−2ε)) / 12ε along random
// directions d, and returns the worst relative error seen.
func checkGrad(t *testing.T, c gradCase) float64 {
	t.Helper()
	const batch = 2
	newG := New
	if c.f64 {
		newG = New64
	}
	g := newG(c.name)
	in := make([]*Value, len(c.shapes))
	for i, s := range c.shapes {
		in[i] = g.Input(fmt.Sprintf("in%d", i), s...)
	}
	s := c.build(g, in)
	g.Output("S", s)
	wrt := c.wrt
	if wrt == nil {
		for i := range in {
			wrt = append(wrt, i)
		}
	}
	var vals []*Value
	for _, i := range wrt {
		vals = append(vals, in[i])
	}
	for i, gv := range g.Grad("grad", s, nil, vals...) {
		g.Output(fmt.Sprintf("grad%d", wrt[i]), gv)
	}
	sess, err := ort.NewSession(g.Bytes(), g.InputNames(), g.OutputNames(), ort.Options{Threads: 1})
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	defer sess.Destroy()

	r := rand.New(rand.NewPCG(1, uint64(len(c.name))))
	x := make([][]float64, len(in))
	for i, v := range in {
		n := int(numel64(concrete(v.Shape, batch)))
		if c.init != nil {
			x[i] = c.init(r, i, n)
		} else {
			x[i] = randn(r, n, 1)
		}
	}
	out := runSession(t, sess, g, batch, x)
	eps := 1e-2
	if c.f64 {
		eps = 1e-4
	}
	if c.eps != 0 {
		eps = c.eps
	}
	worst := 0.0
	for trial := range 3 {
		d := make([][]float64, len(in))
		analytic := 0.0
		for k, i := range wrt {
			d[i] = randn(r, len(x[i]), 1)
			analytic += dot(out[1+k], d[i])
		}
		at := func(h float64) float64 {
			xs := make([][]float64, len(x))
			for i := range x {
				xs[i] = append([]float64(nil), x[i]...)
				for j := range xs[i] {
					if d[i] != nil {
						xs[i][j] += h * d[i][j]
					}
				}
			}
			return runSession(t, sess, g, batch, xs)[0][0]
		}
		numeric := (-at(2*eps) + 8*at(eps) - 8*at(-eps) + at(-2*eps)) / (12 * eps)
		rel := math.Abs(analytic-numeric) / math.Max(math.Max(math.Abs(analytic), math.Abs(numeric)), 1e-3)
		worst = math.Max(worst, rel)
		if rel > c.tol || math.IsNaN(rel) {
			t.Errorf("%s: trial %d: analytic %.8g, finite difference %.8g, relative error %.2e > %.0e",
				c.name, trial, analytic, numeric, rel, c.tol)
		}
	}
	return worst
}

func numel64(s []int64) int64 {
	n := int64(1)
	for _, d := range s {
		n *= d
	}
	return n
}

// scalar reduces v to a [1] tensor weighted by a fixed random tensor, so
// that every element of v gets a distinct cotangent.
func scalar(g *Graph, v *Value) *Value {
	shape := make([]int, len(v.Shape))
	for i, d := range v.Shape {
		if d == Batch {
			d = 1
		}
		shape[i] = d
	}
	r := rand.New(rand.NewPCG(7, uint64(numel(shape))))
	w := g.Const(shape, randn(r, numel(shape), 1))
	return g.Reshape(g.ReduceSum(g.Mul(v, w), nil, false), 1)
}
