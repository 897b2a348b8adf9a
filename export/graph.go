package export

import (
	"fmt"
	"slices"

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

// build writes, with U = U(x) + P and G(Y) = ∂(Σf)/∂Y,
//
//	x       = image·(1/std) + (−mean/std)
//	g_t     = clip_c(G(σ(L_t)) − U)             (clipping in plain graphs only)
//	L_{t+1} = L_t − (δ/2)·g_t,   L_0 = 0
//	mask    = σ(L_T)
//
// which is the unroll of package langevin with σ0 = τ = 0, in the same
// order of float operations. With Options.Mirror the mask is the mean of
// that unroll and the unroll of the mirrored network (see mirrored).
func (b *builder) build(stats data.Stats, lc langevin.Config) {
	g, s := b.g, b.size
	image := g.Input(Input, b.batch(), 3, s, s)
	var scale, shift [3]float64
	for c := range 3 {
		scale[c] = 1 / float64(stats.Std[c])
		shift[c] = -float64(stats.Mean[c]) / float64(stats.Std[c])
	}
	x := g.Add(g.Mul(image, b.perChannel("normalize.scale", scale[:])), b.perChannel("normalize.shift", shift[:]))
	mask := b.unroll(x, lc, false)
	if b.o.Mirror {
		mask = g.Mul(g.Add(mask, b.unroll(x, lc, true)), b.field("mirror.half", 1, constant(s*s, 0.5)))
	}
	g.Output(Output, mask)
}

// unroll writes the T steps from x to σ(L_T), with the network's own
// parameters or, with mirror, their mirror images.
func (b *builder) unroll(x *graphs.Value, lc langevin.Config, mirror bool) *graphs.Value {
	g, e, s := b.g, b.e, b.size
	// U = U(x) + P, the prior held at the batch's shape when portable.
	var u *graphs.Value
	if e.HasUnary() {
		theta := make([]*graphs.Value, len(e.Unary.List))
		for i, p := range e.Unary.List {
			theta[i] = b.param(p, p.Name == "energy.prior", mirror)
		}
		u = e.BuildUnary(g, x, theta)
	}

	pair := make([]*graphs.Value, len(e.Pair.List))
	for i, p := range e.Pair.List {
		pair[i] = b.param(p, false, mirror)
	}
	half := b.once("half", func(name string) *graphs.Value { return b.field(name, 1, constant(s*s, b.half)) })
	var l *graphs.Value
	for t := range lc.Steps {
		var y *graphs.Value
		switch {
		case t > 0:
			y = g.Sigmoid(l)
		case b.o.Portable:
			y = b.once("y0", func(name string) *graphs.Value { return b.field(name, 1, constant(s*s, 0.5)) })
		default: // ½ at the batch of the image
			y = g.ExpandAs(g.Scalar(0.5), g.Slice(x, 1, 0, 1))
		}
		step := b.pairGrad(x, y, pair, mirror)
		if u != nil {
			step = g.Sub(step, u)
		}
		if lc.Clip > 0 {
			step = g.Clip(step, -lc.Clip, lc.Clip)
		}
		step = g.Mul(step, half)
		if l == nil {
			l = b.negate(step)
		} else {
			l = g.Sub(l, step)
		}
	}
	return g.Sigmoid(l)
}

// param returns parameter p as the graph holds it: an initializer (a field
// at the batch's shape when portable, for the prior); with mirror, its
// mirror image, by a Reverse of the same initializer in a plain graph
// (so the file holds the weights once) and as mirrored data in a portable
// one (whose op set has no Slice).
//
// Mirroring every kernel and the prior left to right (biases stay) gives the network
// whose unroll on an image is the mirror of the original's unroll on the
// mirrored image, as every convolution is padded symmetrically.
func (b *builder) param(p *models.Param, isField, mirror bool) *graphs.Value {
	mk := func(name string, data []float32) *graphs.Value {
		if isField {
			return b.field(name, 1, float64s(data, 1))
		}
		return b.g.Initializer(name, p.Shape, float64s(data, 1))
	}
	v := b.once(p.Name, func(name string) *graphs.Value { return mk(name, p.Data) })
	if !mirror || len(p.Shape) != 4 { // biases have no width
		return v
	}
	if !b.o.Portable {
		return b.once(p.Name+".mirrored", func(string) *graphs.Value { return b.g.Reverse(v, -1) })
	}
	return b.once(p.Name+".mirrored", func(name string) *graphs.Value {
		data := slices.Clone(p.Data)
		langevin.Mirror(data, p.Shape[len(p.Shape)-1])
		return mk(name, data)
	})
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

// pairGrad returns G(Y) = ∂(Σ_pixels f(concat(x, Y)))/∂Y, written by
// hand so that it needs no Expand, Slice or ReduceSum. With z_i the hidden
// pre-activations and W_i the weights of layer i of D:
//
//	∂h_{D−1}   = Cᵀ(1, W_D)                       (a constant: no input enters it)
//	∂z_i       = ∂h_i ⊙ σ(z_i)
//	∂h_{i−1}   = Cᵀ(∂z_i, W_i)                    (i > 1)
//	G(Y)       = Cᵀ(∂z_1, w_y)
//
// where Cᵀ is the convolution's input gradient (a Conv with the kernel
// flipped), and w_y is the first layer's kernel for the mask.
func (b *builder) pairGrad(x, y *graphs.Value, theta []*graphs.Value, mirror bool) *graphs.Value {
	g, e := b.g, b.e
	_, zs := e.PairForward(g, x, y, theta)
	depth := e.Config.Depth
	last := e.Pair.List[len(e.Pair.List)-1]
	if !b.o.Portable {
		// In the plain graph the constant is the input gradient of ones,
		// which runtimes fold at load: 1·S·S floats stored instead of c·S·S.
		key := "pair.dh_last"
		if mirror {
			key += ".mirrored"
		}
		ones := b.once("ones1", func(name string) *graphs.Value { return b.field(name, 1, constant(b.size*b.size, 1)) })
		return b.pairBackward(theta, zs, b.once(key, func(string) *graphs.Value {
			return g.ConvTranspose(ones, theta[len(theta)-1], e.Config.PairConv(depth-1), [2]int{})
		}))
	}
	dh := b.once("pair.dh_last", func(name string) *graphs.Value {
		d := e.Config.PairConv(depth - 1).Dilations[0]
		return b.field(name, last.Shape[1], onesInputGrad(last.Data, last.Shape[1], b.size, d))
	})
	if mirror {
		// The mirrored kernel's constant is the mirror image of the original's.
		dh = b.once("pair.dh_last.mirrored", func(name string) *graphs.Value {
			if !b.o.Portable {
				return g.Reverse(dh, -1)
			}
			d := e.Config.PairConv(depth - 1).Dilations[0]
			w := slices.Clone(last.Data)
			langevin.Mirror(w, 3)
			return b.field(name, last.Shape[1], onesInputGrad(w, last.Shape[1], b.size, d))
		})
	}
	return b.pairBackward(theta, zs, dh)
}

// pairBackward runs G(Y)'s chain from ∂h_{D−1} = dh down to the mask.
func (b *builder) pairBackward(theta, zs []*graphs.Value, dh *graphs.Value) *graphs.Value {
	g, e := b.g, b.e
	depth := e.Config.Depth
	for i := depth - 1; i >= 1; i-- {
		dz := g.Mul(dh, g.Sigmoid(zs[i-1]))
		if i > 1 {
			// Layer i's weight: theta holds wx, wy, b, then w, b per layer.
			dh = g.ConvTranspose(dz, theta[3+2*(i-2)], e.Config.PairConv(i-1), [2]int{})
			continue
		}
		// The first layer's kernel for the mask.
		return g.ConvTranspose(dz, theta[1], e.Config.PairConv(0), [2]int{})
	}
	panic("export: pairwise net of depth < 2")
}

// onesInputGrad returns ∂(Σ_pixels conv(h, w))/∂h for the last pairwise layer
// (w [1,c,3,3], dilation and padding d) on s×s: Σ over the kernel taps that
// stay inside the image, per channel and pixel ([c,s,s]).
func onesInputGrad(w []float32, c, s, d int) []float64 {
	out := make([]float64, c*s*s)
	for ch := range c {
		for p := range s {
			for q := range s {
				sum := 0.0
				for a := range 3 {
					for bb := range 3 {
						// Output pixel (p−(a−1)d, q−(b−1)d) reads h[p, q] through tap (a, b).
						if i, j := p-(a-1)*d, q-(bb-1)*d; i >= 0 && i < s && j >= 0 && j < s {
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
