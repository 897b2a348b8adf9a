package graphs

import (
	"math"
	"math/rand/v2"
	"testing"
)

// positive draws inputs in [0.5, 2] (for Log, Sqrt, Div's denominator).
func positive(r *rand.Rand, _, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = 0.5 + 1.5*r.Float64()
	}
	return out
}

// awayFromZero draws inputs with |x| in [0.2, 2], so that Relu's kink is
// never inside a finite-difference step.
func awayFromZero(r *rand.Rand, _, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = (0.2 + 1.8*r.Float64()) * float64(1-2*r.IntN(2))
	}
	return out
}

func unaryCase(name string, f func(g *Graph, x *Value) *Value, init func(*rand.Rand, int, int) []float64, f64 bool) gradCase {
	tol := 2e-3
	if f64 {
		tol = 1e-7
	}
	return gradCase{name: name, shapes: [][]int{{Batch, 3, 4}}, init: init, f64: f64, tol: tol,
		build: func(g *Graph, in []*Value) *Value { return scalar(g, f(g, in[0])) }}
}

func TestFirstDerivatives(t *testing.T) {
	const tol32, tol64 = 2e-3, 1e-7
	cases := []gradCase{
		unaryCase("Neg", (*Graph).Neg, nil, true),
		unaryCase("Exp", (*Graph).Exp, nil, true),
		unaryCase("Log", (*Graph).Log, positive, true),
		unaryCase("Sqrt", (*Graph).Sqrt, positive, true),
		unaryCase("Pow3", func(g *Graph, x *Value) *Value { return g.Pow(x, 3) }, nil, true),
		unaryCase("Pow2", func(g *Graph, x *Value) *Value { return g.Pow(x, 2) }, nil, true),
		unaryCase("PowHalf", func(g *Graph, x *Value) *Value { return g.Pow(x, 0.5) }, positive, true),
		unaryCase("Sigmoid", (*Graph).Sigmoid, nil, true),
		unaryCase("Tanh", (*Graph).Tanh, nil, true),
		unaryCase("Relu", (*Graph).Relu, awayFromZero, true),
		unaryCase("Softplus", (*Graph).Softplus, nil, false),
		unaryCase("LeakyRelu", func(g *Graph, x *Value) *Value { return g.LeakyRelu(x, 0.2) }, awayFromZero, false),
		unaryCase("Clip", func(g *Graph, x *Value) *Value { return g.Clip(x, -1, 1.5) }, awayFromZero, true),
		unaryCase("Where", func(g *Graph, x *Value) *Value {
			return g.Where(g.Greater(x, g.Scalar(0)), g.Mul(x, x), g.Neg(x))
		}, awayFromZero, true),
		{name: "AddBroadcast", shapes: [][]int{{Batch, 3, 4}, {3, 1}}, f64: true, tol: tol64,
			build: func(g *Graph, in []*Value) *Value { return scalar(g, g.Add(in[0], in[1])) }},
		{name: "SubBroadcastBoth", shapes: [][]int{{Batch, 1, 4}, {1, 3, 1}}, f64: true, tol: tol64,
			build: func(g *Graph, in []*Value) *Value { return scalar(g, g.Sub(in[0], in[1])) }},
		{name: "MulBroadcastBatch", shapes: [][]int{{Batch, 3, 4}, {Batch, 1, 1}}, f64: true, tol: tol64,
			build: func(g *Graph, in []*Value) *Value { return scalar(g, g.Mul(in[0], in[1])) }},
		{name: "MulScalar", shapes: [][]int{{Batch, 3}, {1}}, f64: true, tol: tol64,
			build: func(g *Graph, in []*Value) *Value { return scalar(g, g.Mul(in[0], in[1])) }},
		{name: "DivBroadcast", shapes: [][]int{{Batch, 3, 4}, {4}}, f64: true, tol: tol64,
			init:  positive,
			build: func(g *Graph, in []*Value) *Value { return scalar(g, g.Div(in[0], in[1])) }},
		{name: "ReduceSumKeep", shapes: [][]int{{Batch, 3, 4}}, f64: true, tol: tol64,
			build: func(g *Graph, in []*Value) *Value { return scalar(g, g.ReduceSum(in[0], []int{1}, true)) }},
		{name: "ReduceSumDrop", shapes: [][]int{{Batch, 3, 4}}, f64: true, tol: tol64,
			build: func(g *Graph, in []*Value) *Value { return scalar(g, g.ReduceSum(in[0], []int{0, 2}, false)) }},
		{name: "ReduceMean", shapes: [][]int{{Batch, 3, 4}}, f64: true, tol: tol64,
			build: func(g *Graph, in []*Value) *Value { return scalar(g, g.ReduceMean(in[0], []int{1, 2}, false)) }},
		{name: "Reshape", shapes: [][]int{{Batch, 3, 4}}, f64: true, tol: tol64,
			build: func(g *Graph, in []*Value) *Value { return scalar(g, g.Reshape(in[0], Batch, 2, 6)) }},
		{name: "Flatten", shapes: [][]int{{Batch, 3, 4}}, f64: true, tol: tol64,
			build: func(g *Graph, in []*Value) *Value { return scalar(g, g.Flatten(in[0], 1)) }},
		{name: "Transpose", shapes: [][]int{{Batch, 3, 4}}, f64: true, tol: tol64,
			build: func(g *Graph, in []*Value) *Value { return scalar(g, g.Transpose(in[0], 2, 0, 1)) }},
		{name: "Concat", shapes: [][]int{{Batch, 3, 4}, {Batch, 2, 4}}, f64: true, tol: tol64,
			build: func(g *Graph, in []*Value) *Value { return scalar(g, g.Concat(1, in[0], in[1])) }},
		{name: "Reverse", shapes: [][]int{{Batch, 5, 4}}, f64: true, tol: tol64,
			build: func(g *Graph, in []*Value) *Value { return scalar(g, g.Reverse(in[0], 2)) }},
		{name: "Slice", shapes: [][]int{{Batch, 5, 4}}, f64: true, tol: tol64,
			build: func(g *Graph, in []*Value) *Value { return scalar(g, g.Slice(in[0], 1, 1, 4)) }},
		{name: "Pad", shapes: [][]int{{Batch, 3, 4}}, f64: true, tol: tol64,
			build: func(g *Graph, in []*Value) *Value {
				return scalar(g, g.Pad(in[0], []int{0, 1, 0}, []int{0, 2, 1}))
			}},
		{name: "MatMul", shapes: [][]int{{Batch, 5}, {5, 3}}, f64: true, tol: tol64,
			build: func(g *Graph, in []*Value) *Value { return scalar(g, g.MatMul(in[0], in[1])) }},
		{name: "Gemm", shapes: [][]int{{Batch, 5}, {5, 3}, {3}}, f64: true, tol: tol64,
			build: func(g *Graph, in []*Value) *Value { return scalar(g, g.Gemm(in[0], in[1], in[2])) }},
		{name: "Expand", shapes: [][]int{{Batch, 3, 4}, {3, 1}}, f64: true, tol: tol64,
			build: func(g *Graph, in []*Value) *Value { return scalar(g, g.ExpandAs(in[1], in[0])) }},
	}
	for _, cv := range convCases(tol32) {
		cases = append(cases, cv)
	}
	worst := map[bool]float64{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := checkGrad(t, c)
			worst[c.f64] = math.Max(worst[c.f64], e)
		})
	}
	t.Logf("worst relative error: float64 %.2e, float32 %.2e", worst[true], worst[false])
}

// convCases covers stride, padding (asymmetric too), dilation and bias.
func convCases(tol float64) []gradCase {
	type cfg struct {
		name       string
		cin, cout  int
		h, w, k    int
		o          ConvOpts
		bias       bool
		constantWt bool
	}
	cfgs := []cfg{
		{name: "Conv3x3Pad1", cin: 2, cout: 3, h: 6, w: 5, k: 3, o: ConvOpts{Pads: [4]int{1, 1, 1, 1}}, bias: true},
		{name: "Conv3x3NoPad", cin: 2, cout: 3, h: 6, w: 6, k: 3},
		{name: "ConvStride2", cin: 2, cout: 3, h: 7, w: 6, k: 3, o: ConvOpts{Strides: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}}},
		{name: "ConvStride3Asym", cin: 2, cout: 2, h: 8, w: 7, k: 3,
			o: ConvOpts{Strides: [2]int{3, 2}, Pads: [4]int{0, 1, 2, 0}}},
		{name: "ConvDilation2", cin: 2, cout: 2, h: 7, w: 7, k: 3,
			o: ConvOpts{Dilations: [2]int{2, 2}, Pads: [4]int{2, 1, 2, 1}}},
		{name: "Conv4x4Stride2", cin: 3, cout: 2, h: 8, w: 8, k: 4, o: ConvOpts{Strides: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}}},
		{name: "Conv5x5BigPad", cin: 1, cout: 2, h: 5, w: 5, k: 3, o: ConvOpts{Pads: [4]int{3, 3, 3, 3}}},
		{name: "ConvConstWeight", cin: 2, cout: 3, h: 5, w: 5, k: 3, o: ConvOpts{Pads: [4]int{1, 1, 1, 1}}, constantWt: true},
	}
	var cases []gradCase
	for _, c := range cfgs {
		shapes := [][]int{{Batch, c.cin, c.h, c.w}, {c.cout, c.cin, c.k, c.k}}
		if c.bias {
			shapes = append(shapes, []int{c.cout})
		}
		var wrt []int
		if c.constantWt {
			shapes = shapes[:1]
			wrt = []int{0}
		}
		cases = append(cases, gradCase{name: c.name, shapes: shapes, tol: tol, wrt: wrt,
			build: func(g *Graph, in []*Value) *Value {
				w := (*Value)(nil)
				if c.constantWt {
					r := rand.New(rand.NewPCG(3, 4))
					w = g.Initializer("w", []int{c.cout, c.cin, c.k, c.k}, randn(r, c.cout*c.cin*c.k*c.k, 1))
				} else {
					w = in[1]
				}
				var b *Value
				if c.bias {
					b = in[2]
				}
				return scalar(g, g.Conv(in[0], w, b, c.o))
			}})
	}
	cases = append(cases, gradCase{name: "ConvTransposeStride2", tol: tol,
		shapes: [][]int{{Batch, 3, 4, 4}, {3, 2, 3, 3}},
		build: func(g *Graph, in []*Value) *Value {
			o := ConvOpts{Strides: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}}
			return scalar(g, g.ConvTranspose(in[0], in[1], o, [2]int{1, 1}))
		}})
	return cases
}

// TestReverse checks Reverse's values: the gradient checks hold for any
// permutation, so they cannot tell a mirror from another shuffle.
func TestReverse(t *testing.T) {
	g := New("reverse")
	x := g.Input("x", Batch, 2, 3)
	g.Output("y", g.Reverse(x, 2))
	g.Output("z", g.Reverse(x, 1))
	in := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	out := runGraph(t, g, 2, [][]float64{in})
	wantY := []float64{3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10}
	wantZ := []float64{4, 5, 6, 1, 2, 3, 10, 11, 12, 7, 8, 9}
	for i := range in {
		if out[0][i] != wantY[i] || out[1][i] != wantZ[i] {
			t.Fatalf("Reverse: got %v and %v, want %v and %v", out[0], out[1], wantY, wantZ)
		}
	}
}
