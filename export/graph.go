package export

import (
	"fmt"

	"github.com/egan-ort/egan-ort/data"
	"github.com/egan-ort/egan-ort/graphs"
	"github.com/egan-ort/egan-ort/langevin"
	"github.com/egan-ort/egan-ort/models"
)

// builder writes one inference graph.
type builder struct {
	g      *graphs.Graph
	e      *models.Energy
	o      Options
	half   float64 // δ/2
	size   int
	consts map[string]*graphs.Value
}

// once returns the constant called name, making it with mk the first time:
// the steps share their constants.
func (b *builder) once(name string, mk func(name string) *graphs.Value) *graphs.Value {
	if v, ok := b.consts[name]; ok {
		return v
	}
	if b.consts == nil {
		b.consts = map[string]*graphs.Value{}
	}
	v := mk(name)
	b.consts[name] = v
	return v
}

// batch returns the graph's batch dimension: dynamic, or fixed when
// portable.
func (b *builder) batch() int {
	if b.o.Portable {
		return b.o.Batch
	}
	return graphs.Batch
}

// field returns a constant of c channels given per pixel (data [c,S,S]):
// [1,c,S,S] to broadcast in a plain graph, repeated to [B,c,S,S] in a
// portable one, whose Add, Sub and Mul take same-shaped tensors only.
func (b *builder) field(name string, c int, chw []float64) *graphs.Value {
	s := b.size
	if !b.o.Portable {
		return b.g.Initializer(name, []int{1, c, s, s}, chw)
	}
	rep := make([]float64, 0, b.o.Batch*len(chw))
	for range b.o.Batch {
		rep = append(rep, chw...)
	}
	return b.g.Initializer(name, []int{b.o.Batch, c, s, s}, rep)
}

// perChannel returns a constant holding vals[ch] at every pixel of channel
// ch: [1,c,1,1] in a plain graph, [B,c,S,S] in a portable one.
func (b *builder) perChannel(name string, vals []float64) *graphs.Value {
	if !b.o.Portable {
		return b.g.Initializer(name, []int{1, len(vals), 1, 1}, vals)
	}
	p := b.size * b.size
	chw := make([]float64, 0, len(vals)*p)
	for _, v := range vals {
		for range p {
			chw = append(chw, v)
		}
	}
	return b.field(name, len(vals), chw)
}

func float64s(x []float32, scale float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v) * scale
	}
	return out
}

// build writes, with U' = (δ/2)·(U(x) + P) and G(Y) = (δ/2)·∂(Σf)/∂Y,
//
//	x       = image·(1/std) + (−mean/std)
//	L_1     = U' − G(½)
//	L_{t+1} = L_t − G(σ(L_t)) + U'
//	mask    = σ(L_T)
//
// which is the unroll of package langevin with σ0 = τ = 0, the factor δ/2
// folded into the weights. With clipping (plain graphs only) the step is
// L_{t+1} = L_t − clip(G − U', (δ/2)·c).
func (b *builder) build(stats data.Stats, lc langevin.Config) {
	g, e, s := b.g, b.e, b.size
	image := g.Input(Input, b.batch(), 3, s, s)
	var scale, shift [3]float64
	for c := range 3 {
		scale[c] = 1 / float64(stats.Std[c])
		shift[c] = -float64(stats.Mean[c]) / float64(stats.Std[c])
	}
	x := g.Add(g.Mul(image, b.perChannel("normalize.scale", scale[:])), b.perChannel("normalize.shift", shift[:]))

	// U' = (δ/2)·(U(x) + P): the last unary layer and the prior scaled.
	var u *graphs.Value
	if e.HasUnary() {
		var theta []*graphs.Value
		last := len(e.Unary.List) - 1
		if e.Config.Prior {
			last--
		}
		for i, p := range e.Unary.List {
			k := 1.0
			if i >= last-1 {
				k = b.half // the last layer's weight and bias, and the prior
			}
			switch {
			case p.Name == "energy.prior":
				theta = append(theta, b.field(p.Name+".scaled", 1, float64s(p.Data, k)))
			default:
				theta = append(theta, g.Initializer(p.Name+scaledSuffix(k), p.Shape, float64s(p.Data, k)))
			}
		}
		u = e.BuildUnary(g, x, theta)
	}

	pair := make([]*graphs.Value, len(e.Pair.List))
	for i, p := range e.Pair.List {
		pair[i] = g.Initializer(p.Name, p.Shape, float64s(p.Data, 1))
	}
	half := b.field("y0", 1, constant(s*s, 0.5))
	var l *graphs.Value
	for t := range lc.Steps {
		y := half
		if t > 0 {
			y = g.Sigmoid(l)
		}
		if !b.o.Portable && y == half && u != nil {
			y = g.ExpandAs(half, u) // the batch of the image
		} else if !b.o.Portable && y == half {
			y = g.ExpandAs(half, g.Slice(x, 1, 0, 1))
		}
		step := b.pairGrad(x, y, pair)
		if u != nil {
			step = g.Sub(step, u)
		}
		if lc.Clip > 0 {
			c := b.half * lc.Clip
			step = g.Clip(step, -c, c)
		}
		if l == nil {
			l = b.negate(step)
		} else {
			l = g.Sub(l, step)
		}
	}
	g.Output(Output, g.Sigmoid(l))
}

func scaledSuffix(k float64) string {
	if k == 1 {
		return ""
	}
	return ".scaled"
}

func constant(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// negate returns −v with portable ops: 0 − v on a same-shaped zero.
func (b *builder) negate(v *graphs.Value) *graphs.Value {
	if !b.o.Portable {
		return b.g.Neg(v)
	}
	c := v.Shape[1]
	zeros := b.once(fmt.Sprintf("zeros%d", c), func(name string) *graphs.Value {
		return b.field(name, c, constant(c*b.size*b.size, 0))
	})
	return b.g.Sub(zeros, v)
}

// pairGrad returns G(Y) = (δ/2)·∂(Σ_pixels f(concat(x, Y)))/∂Y, written by
// hand so that it needs no Expand, Slice or ReduceSum. With z_i the hidden
// pre-activations and W_i the weights of layer i of D:
//
//	∂h_{D−1}   = Cᵀ(1, W_D)                       (a constant: no input enters it)
//	∂z_i       = ∂h_i ⊙ σ(z_i)
//	∂h_{i−1}   = Cᵀ(∂z_i, W_i)                    (i > 1)
//	G(Y)       = Cᵀ(∂z_1, (δ/2)·W_1[:, Y])
//
// where Cᵀ is the convolution's input gradient (a Conv with the kernel
// flipped), and W_1[:, Y] is the first layer's kernel for the mask channel.
func (b *builder) pairGrad(x, y *graphs.Value, theta []*graphs.Value) *graphs.Value {
	g, e := b.g, b.e
	_, zs := e.PairForward(g, x, y, theta)
	depth := e.Config.Depth
	last := e.Pair.List[len(e.Pair.List)-1]
	dh := b.once("pair.dh_last", func(name string) *graphs.Value {
		return b.field(name, last.Shape[1], onesInputGrad(last.Data, last.Shape[1], b.size))
	})
	for i := depth - 1; i >= 1; i-- {
		dz := g.Mul(dh, g.Sigmoid(zs[i-1]))
		w := theta[2*(i-1)]
		if i > 1 {
			dh = g.ConvTranspose(dz, w, models.PairConv, [2]int{})
			continue
		}
		// Layer 1's kernel for the mask channel (the last input channel), scaled.
		wY := b.once("pair.w0_dY.scaled", func(name string) *graphs.Value {
			p := e.Pair.List[0]
			cout, cin := p.Shape[0], p.Shape[1]
			wy := make([]float64, 0, cout*9)
			for o := range cout {
				for k := range 9 {
					wy = append(wy, b.half*float64(p.Data[(o*cin+cin-1)*9+k]))
				}
			}
			return g.Initializer(name, []int{cout, 1, 3, 3}, wy)
		})
		return g.ConvTranspose(dz, wY, models.PairConv, [2]int{})
	}
	panic("export: pairwise net of depth < 2")
}

// onesInputGrad returns ∂(Σ_pixels conv(h, w))/∂h for the last pairwise layer
// (w [1,c,3,3], padding 1) on s×s: Σ over the kernel taps that stay inside
// the image, per channel and pixel ([c,s,s]).
func onesInputGrad(w []float32, c, s int) []float64 {
	out := make([]float64, c*s*s)
	for ch := range c {
		for p := range s {
			for q := range s {
				sum := 0.0
				for a := range 3 {
					for bb := range 3 {
						// Output pixel (p−a+1, q−b+1) reads h[p, q] through tap (a, b).
						if i, j := p-a+1, q-bb+1; i >= 0 && i < s && j >= 0 && j < s {
							sum += float64(w[(ch*3+a)*3+bb])
						}
					}
				}
				out[(ch*s+p)*s+q] = sum
			}
		}
	}
	return out
}
