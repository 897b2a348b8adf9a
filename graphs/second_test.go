package graphs

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/egan-ort/egan-ort/onnxpb"
)

// hvp returns ⟨∇ₓf, v⟩ reduced to [1] for a fixed random v, whose gradient
// is the Hessian-vector product Hv (and its cross terms).
func hvp(g *Graph, f, x *Value) *Value {
	gx := g.Grad("dF_dx", f, nil, x)[0]
	return scalar(g, gx)
}

// TestSecondDerivatives checks ∂⟨∇ₓf, v⟩/∂(x, θ) against finite differences
// of ∇ₓf, for the ops that the energy network and the discriminator use.
func TestSecondDerivatives(t *testing.T) {
	const tol32, tol64 = 3e-3, 1e-6
	un := func(name string, f func(g *Graph, x *Value) *Value, f64 bool) gradCase {
		tol := tol32
		if f64 {
			tol = tol64
		}
		return gradCase{name: name, shapes: [][]int{{Batch, 3, 4}}, f64: f64, tol: tol, init: awayFromZero,
			build: func(g *Graph, in []*Value) *Value { return hvp(g, scalar(g, f(g, in[0])), in[0]) }}
	}
	pad1 := ConvOpts{Pads: [4]int{1, 1, 1, 1}}
	cases := []gradCase{
		un("Sigmoid", (*Graph).Sigmoid, true),
		un("Tanh", (*Graph).Tanh, true),
		un("Exp", (*Graph).Exp, true),
		un("Pow3", func(g *Graph, x *Value) *Value { return g.Pow(x, 3) }, true),
		un("Sqrt", func(g *Graph, x *Value) *Value { return g.Sqrt(g.Add(g.Mul(x, x), g.Scalar(0.1))) }, true),
		un("Div", func(g *Graph, x *Value) *Value { return g.Div(g.Scalar(1), g.Add(g.Mul(x, x), g.Scalar(1))) }, true),
		un("Softplus", (*Graph).Softplus, false),
		un("LeakyReluSquared", func(g *Graph, x *Value) *Value {
			y := g.LeakyRelu(x, 0.2)
			return g.Mul(y, y)
		}, false),
		{name: "MulReduce", shapes: [][]int{{Batch, 3, 4}, {3, 1}}, f64: true, tol: tol64,
			build: func(g *Graph, in []*Value) *Value {
				f := g.ReduceSum(g.Mul(g.Mul(in[0], in[0]), in[1]), []int{1, 2}, false)
				return hvp(g, scalar(g, f), in[0])
			}},
		{name: "MatMulTanh", shapes: [][]int{{Batch, 5}, {5, 3}}, f64: true, tol: tol64,
			build: func(g *Graph, in []*Value) *Value {
				return hvp(g, scalar(g, g.Tanh(g.MatMul(in[0], in[1]))), in[0])
			}},
		{name: "ConvSoftplus", shapes: [][]int{{Batch, 2, 5, 5}, {3, 2, 3, 3}, {3}}, tol: tol32,
			build: func(g *Graph, in []*Value) *Value {
				return hvp(g, scalar(g, g.Softplus(g.Conv(in[0], in[1], in[2], pad1))), in[0])
			}},
		{name: "ConvStride2Tanh", shapes: [][]int{{Batch, 2, 7, 6}, {3, 2, 3, 3}}, tol: tol32,
			build: func(g *Graph, in []*Value) *Value {
				o := ConvOpts{Strides: [2]int{2, 2}, Pads: [4]int{1, 0, 1, 1}}
				return hvp(g, scalar(g, g.Tanh(g.Conv(in[0], in[1], nil, o))), in[0])
			}},
		{name: "ConvTransposeSigmoid", shapes: [][]int{{Batch, 3, 4, 4}, {3, 2, 3, 3}}, tol: tol32,
			build: func(g *Graph, in []*Value) *Value {
				o := ConvOpts{Strides: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}}
				return hvp(g, scalar(g, g.Sigmoid(g.ConvTranspose(in[0], in[1], o, [2]int{1, 1}))), in[0])
			}},
	}
	worst := map[bool]float64{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			worst[c.f64] = math.Max(worst[c.f64], checkGrad(t, c))
		})
	}
	t.Logf("worst relative error: float64 %.2e, float32 %.2e", worst[true], worst[false])
}

// smallEnergy is E(X, Y) = Σ_pixels w2 ⊛ softplus(w1 ⊛ concat(X, Y) + b1),
// the shape of the default energy network at a tiny size.
func smallEnergy(g *Graph, x, y, w1, b1, w2 *Value) *Value {
	pad := ConvOpts{Pads: [4]int{1, 1, 1, 1}}
	h := g.Softplus(g.Conv(g.Concat(1, x, y), w1, b1, pad))
	return g.ReduceSum(g.Conv(h, w2, nil, pad), []int{1, 2, 3}, false) // [N]
}

var energyShapes = [][]int{{Batch, 3, 6, 6}, {Batch, 1, 6, 6}, {4, 4, 3, 3}, {4}, {1, 4, 3, 3}}

func TestEnergyGradients(t *testing.T) {
	cases := []gradCase{
		{name: "dE_dY", shapes: energyShapes, wrt: []int{1}, tol: 2e-3,
			build: func(g *Graph, in []*Value) *Value {
				return scalar(g, smallEnergy(g, in[0], in[1], in[2], in[3], in[4]))
			}},
		// ⟨∂E/∂Y, v⟩ differentiated with respect to Y and every weight: the
		// two Hessian-vector products that training through the unroll needs.
		// The step balances float32 rounding (worse below 5e-3) against the
		// stencil's truncation (worse above it, along all weights at once).
		{name: "HVP_Y_theta", shapes: energyShapes, wrt: []int{1, 2, 3, 4}, tol: 5e-3, eps: 5e-3,
			build: func(g *Graph, in []*Value) *Value {
				e := smallEnergy(g, in[0], in[1], in[2], in[3], in[4])
				gy := g.Grad("dE_dY", e, nil, in[1])[0]
				return scalar(g, gy)
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { t.Logf("worst relative error %.2e", checkGrad(t, c)) })
	}
}

// gpCritic is mean((‖∇ₓD‖₂ − 1)²) for a small strided critic with a linear
// head, D = Gemm(Flatten(act(Conv(x, w, b))), wh, bh).
func gpCritic(act func(g *Graph, x *Value) *Value) func(g *Graph, in []*Value) *Value {
	return func(g *Graph, in []*Value) *Value {
		o := ConvOpts{Strides: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}}
		h := act(g, g.Conv(in[0], in[1], in[2], o))
		s := g.Gemm(g.Flatten(h, 1), in[3], in[4]) // [N,1]
		gx := g.Grad("dD_dx", s, nil, in[0])[0]
		norm := g.Sqrt(g.Add(g.ReduceSum(g.Mul(gx, gx), []int{1, 2, 3}, false), g.Scalar(1e-12)))
		pen := g.Pow(g.Sub(norm, g.Scalar(1)), 2)
		return g.Reshape(g.ReduceSum(pen, nil, false), 1)
	}
}

// TestGradientPenalty checks the φ-gradient of a gradient penalty. With a
// smooth critic every weight is checked. With LeakyReLU the penalty jumps
// wherever a pre-activation changes sign, which a finite difference along
// the conv weights would straddle, so there only the head's weights (which
// move no pre-activation) are checked; LeakyReLU's own second derivative is
// checked in TestSecondDerivatives.
func TestGradientPenalty(t *testing.T) {
	shapes := [][]int{{Batch, 2, 6, 6}, {3, 2, 3, 3}, {3}, {27, 1}, {1}}
	cases := []gradCase{
		{name: "GP_Tanh", tol: 3e-3, wrt: []int{1, 2, 3, 4}, shapes: shapes, build: gpCritic((*Graph).Tanh)},
		{name: "GP_LeakyRelu", tol: 3e-3, wrt: []int{3, 4}, shapes: shapes,
			build: gpCritic(func(g *Graph, x *Value) *Value { return g.LeakyRelu(x, 0.2) })},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { t.Logf("worst relative error %.2e", checkGrad(t, c)) })
	}
}

func buildSecondOrder(layers int) *Graph {
	g := New("bench")
	x := g.Input("X", Batch, 3, 32, 32)
	y := g.Input("Y", Batch, 1, 32, 32)
	h := g.Concat(1, x, y)
	var params []*Value
	c := 4
	for i := range layers {
		cout := 32
		if i == layers-1 {
			cout = 1
		}
		w := g.Input("w"+string(rune('0'+i)), cout, c, 3, 3)
		b := g.Input("b"+string(rune('0'+i)), cout)
		params = append(params, w, b)
		h = g.Conv(h, w, b, ConvOpts{Pads: [4]int{1, 1, 1, 1}})
		if i < layers-1 {
			h = g.Softplus(h)
		}
		c = cout
	}
	e := g.ReduceSum(h, []int{1, 2, 3}, false)
	gy := g.Grad("dE_dY", e, nil, y)[0]
	v := g.Input("v", Batch, 1, 32, 32)
	hv := g.Grad("hvp", gy, v, append([]*Value{y}, params...)...)
	g.Output("E", e)
	g.Output("gY", gy)
	for i, h := range hv {
		g.Output("hvp"+string(rune('a'+i)), h)
	}
	return g
}

func TestDeterministicBytes(t *testing.T) {
	a, b := buildSecondOrder(3).Bytes(), buildSecondOrder(3).Bytes()
	if !bytes.Equal(a, b) {
		t.Fatal("two builds of the same graph serialise differently")
	}
	if Hash(a) != Hash(b) || len(Hash(a)) != 64 {
		t.Fatalf("hash %q", Hash(a))
	}
	// Node names carry their scope.
	m := buildSecondOrder(2).Model()
	scopes := map[string]bool{}
	for _, n := range m.Graph.Node {
		scopes[strings.SplitN(n.GetName(), "/", 2)[0]] = true
	}
	for _, s := range []string{"fwd", "dE_dY", "hvp"} {
		if !scopes[s] {
			t.Errorf("no node in scope %q (scopes %v)", s, scopes)
		}
	}
}

func TestPruning(t *testing.T) {
	g := New("prune")
	x := g.Input("x", Batch, 3)
	g.Exp(x) // unused
	g.Output("y", g.Tanh(x))
	if n := len(g.Model().Graph.Node); n != 1 {
		t.Fatalf("pruned graph has %d nodes, want 1", n)
	}
}

func TestShapeErrorsPanic(t *testing.T) {
	cases := []struct {
		name string
		f    func(g *Graph)
		want string
	}{
		{"Add", func(g *Graph) { g.Add(g.Input("a", Batch, 3), g.Input("b", 4)) }, "Add: shapes [N,3] and [4]"},
		{"Conv", func(g *Graph) {
			g.Conv(g.Input("x", Batch, 3, 8, 8), g.Input("w", 4, 2, 3, 3), nil, ConvOpts{})
		}, "Conv: input [N,3,8,8] and weight [4,2,3,3]"},
		{"MatMul", func(g *Graph) { g.MatMul(g.Input("a", Batch, 3), g.Input("b", 4, 2)) }, "MatMul: shapes [N,3] and [4,2]"},
		{"Reshape", func(g *Graph) { g.Reshape(g.Input("a", Batch, 3), Batch, 4) }, "Reshape: cannot reshape [N,3] to [N,4]"},
		{"Concat", func(g *Graph) { g.Concat(1, g.Input("a", Batch, 3), g.Input("b", Batch, 3, 1)) }, "Concat on axis 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(r.(string), c.want) {
					t.Fatalf("panic %v, want one containing %q", r, c.want)
				}
			}()
			c.f(New("bad"))
		})
	}
}

// TestConvLoweringExact compares the three convolution ops, lowered to ONNX,
// with a float64 Go reference of the convolution and its adjoints.
func TestConvLoweringExact(t *testing.T) {
	for _, mode := range []WeightGradLowering{WeightGradMatMul, WeightGradConv} {
		for _, o := range []ConvOpts{
			{Strides: [2]int{2, 1}, Pads: [4]int{1, 0, 2, 1}, Dilations: [2]int{1, 2}},
			{Strides: [2]int{1, 1}, Pads: [4]int{2, 2, 2, 2}, Dilations: [2]int{2, 2}},
			{Strides: [2]int{3, 2}, Pads: [4]int{0, 1, 1, 0}},
		} {
			t.Run(fmt.Sprintf("mode%d_%v", mode, o), func(t *testing.T) { checkConvLowering(t, mode, o) })
		}
	}
}

func checkConvLowering(t *testing.T, mode WeightGradLowering, o ConvOpts) {
	g := New("lowering")
	g.WeightGrad = mode
	x := g.Input("x", Batch, 2, 7, 6)
	w := g.Input("w", 3, 2, 3, 2)
	y := g.Conv(x, w, nil, o)
	ho, wo := y.Shape[2], y.Shape[3]
	u := g.Input("u", Batch, 3, ho, wo)
	p := y.node.conv
	g.Output("y", y)
	g.Output("cig", g.convGradInput(p, u, w))
	g.Output("cwg", g.convGradWeight(p, x, u))
	r := rand.New(rand.NewPCG(5, 6))
	const n = 2
	xv, wv, uv := randn(r, n*2*7*6, 1), randn(r, 3*2*3*2, 1), randn(r, n*3*ho*wo, 1)
	out := runGraph(t, g, n, [][]float64{xv, wv, uv})
	want := refConv(xv, wv, n, 2, 3, 7, 6, 3, 2, o)
	// The adjoints by their definition ⟨u, C(x, w)⟩ = ⟨CIG(u,w), x⟩ = ⟨CWG(x,u), w⟩,
	// checked element by element through unit vectors.
	wantCIG := make([]float64, len(xv))
	for i := range xv {
		e := make([]float64, len(xv))
		e[i] = 1
		wantCIG[i] = dot(uv, refConv(e, wv, n, 2, 3, 7, 6, 3, 2, o))
	}
	wantCWG := make([]float64, len(wv))
	for i := range wv {
		e := make([]float64, len(wv))
		e[i] = 1
		wantCWG[i] = dot(uv, refConv(xv, e, n, 2, 3, 7, 6, 3, 2, o))
	}
	for k, ref := range [][]float64{want, wantCIG, wantCWG} {
		for i := range ref {
			if d := math.Abs(out[k][i] - ref[i]); d > 1e-4*(1+math.Abs(ref[i])) {
				t.Fatalf("output %d element %d: ORT %.7g, reference %.7g", k, i, out[k][i], ref[i])
			}
		}
	}
}

// refConv is a direct float64 convolution x [n,cin,h,w] ⊛ k [cout,cin,kh,kw].
func refConv(x, k []float64, n, cin, cout, h, w, kh, kw int, o ConvOpts) []float64 {
	o = o.norm()
	ho := (h+o.Pads[0]+o.Pads[2]-o.Dilations[0]*(kh-1)-1)/o.Strides[0] + 1
	wo := (w+o.Pads[1]+o.Pads[3]-o.Dilations[1]*(kw-1)-1)/o.Strides[1] + 1
	y := make([]float64, n*cout*ho*wo)
	for b := range n {
		for co := range cout {
			for i := range ho {
				for j := range wo {
					s := 0.0
					for ci := range cin {
						for a := range kh {
							for c := range kw {
								ii := i*o.Strides[0] + a*o.Dilations[0] - o.Pads[0]
								jj := j*o.Strides[1] + c*o.Dilations[1] - o.Pads[1]
								if ii >= 0 && ii < h && jj >= 0 && jj < w {
									s += x[((b*cin+ci)*h+ii)*w+jj] * k[((co*cin+ci)*kh+a)*kw+c]
								}
							}
						}
					}
					y[((b*cout+co)*ho+i)*wo+j] = s
				}
			}
		}
	}
	return y
}

func BenchmarkBuildSecondOrder(b *testing.B) {
	for b.Loop() {
		buildSecondOrder(4).Bytes()
	}
}

func TestFLOPs(t *testing.T) {
	g := New("flops")
	x := g.Input("x", Batch, 3, 8, 8)
	w := g.Input("w", 4, 3, 3, 3)
	y := g.Conv(x, w, nil, ConvOpts{Pads: [4]int{1, 1, 1, 1}})
	gw := g.Grad("d", y, nil, w)[0]
	g.Output("y", y)
	g.Output("gw", gw)
	conv := 2.0 * 5 * 4 * 8 * 8 * 3 * 9 // batch 5
	if got := g.FLOPs(5); got != 2*conv {
		t.Fatalf("FLOPs %g, want %g (the convolution and its weight gradient)", got, 2*conv)
	}
}

// TestFlippedKernelStoredOnce: the input gradients of one constant kernel,
// taken at several nodes (as an unrolled export does at every step), share
// one flipped copy of it, and each still equals the gradient through it.
func TestFlippedKernelStoredOnce(t *testing.T) {
	g := New("flip_once")
	r := rand.New(rand.NewPCG(7, 8))
	wv := randn(r, 3*2*3*3, 1)
	w := g.Initializer("w", []int{3, 2, 3, 3}, wv)
	o := ConvOpts{Pads: [4]int{1, 1, 1, 1}}
	x := g.Input("x", Batch, 2, 5, 5)
	p := g.Conv(x, w, nil, o).node.conv
	u := g.Input("u", Batch, 3, 5, 5)
	g.Output("a", g.convGradInput(p, u, w))
	g.Output("b", g.convGradInput(p, g.Mul(u, g.Scalar(2)), w))
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(g.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	flipped := 0
	for _, init := range m.GetGraph().GetInitializer() {
		if strings.HasSuffix(init.GetName(), "/flipped_weight") {
			flipped++
		}
	}
	if flipped != 1 {
		t.Fatalf("%d flipped copies of the kernel stored, want 1", flipped)
	}
	const n = 2
	xv, uv := randn(r, n*2*5*5, 1), randn(r, n*3*5*5, 1)
	out := runGraph(t, g, n, [][]float64{xv, uv})
	for i := range xv {
		e := make([]float64, len(xv))
		e[i] = 1
		want := dot(uv, refConv(e, wv, n, 2, 3, 5, 5, 3, 3, o))
		if math.Abs(out[0][i]-want) > 1e-4*(1+math.Abs(want)) || math.Abs(out[1][i]-2*want) > 2e-4*(1+math.Abs(want)) {
			t.Fatalf("element %d: %.7g and %.7g, want %.7g and twice it", i, out[0][i], out[1][i], want)
		}
	}
}
