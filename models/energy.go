package models

import (
	"fmt"
	"math/bits"
	"math/rand/v2"

	"github.com/egan-ort/egan-ort/graphs"
)

// EnergyConfig sets the energy network's architecture.
type EnergyConfig struct {
	Channels      int  `json:"channels"`       // hidden channels of the pairwise net f
	Depth         int  `json:"depth"`          // 3×3 convolutions in f (≥ 2)
	Dilate        bool `json:"dilate"`         // f's dilations double per layer (1, 2, 4, …) instead of all 1
	UnaryChannels int  `json:"unary_channels"` // hidden channels of the unary net U; 0 turns the unary term off
	UnaryDepth    int  `json:"unary_depth"`    // convolutions in U (≥ 2); dilations 1, 2, 4, … then 1
	Prior         bool `json:"prior"`          // learned per-pixel prior P in the unary term
}

// DefaultEnergyConfig is the default energy network: a pairwise net of three
// 3×3 convolutions with 32 hidden channels and dilations 1, 2, 4 (an energy
// over 15×15 windows of image and mask, wide enough to see a leg or a head
// of a 32×32 horse whole), and a 5-layer dilated unary net of 64 channels
// whose receptive field (33 pixels) covers a 32×32 image. On the val split
// of the 32×32 Weizmann data each of the two changes from the first defaults
// (two undilated pairwise layers, a 32-channel unary net) gained about a
// point of mean IoU, at 1.6× and 2× the time per epoch (docs/results/TUNING.md).
func DefaultEnergyConfig() EnergyConfig {
	return EnergyConfig{Channels: 32, Depth: 3, Dilate: true, UnaryChannels: 64, UnaryDepth: 5, Prior: true}
}

// Limits of the networks' widths and depths: generous for real use, they
// refuse a mistyped value before it exhausts memory.
const (
	MaxChannels = 1024 // hidden channels of any net
	MaxDepth    = 16   // convolutions of the pairwise or the unary net
)

// MaxPairDepth is the deepest pairwise net for size×size images: MaxDepth,
// or with dilate the depth whose largest dilation 2^(depth−1) is the last
// below size (a larger one would see only padding).
func MaxPairDepth(size int, dilate bool) int {
	if !dilate || size < 2 {
		return MaxDepth
	}
	return min(MaxDepth, bits.Len(uint(size-1)))
}

// MaxUnaryDepth is the deepest unary net for size×size images: MaxDepth,
// or the depth whose largest dilation 2^(depth−2) is the last at most size.
func MaxUnaryDepth(size int) int {
	if size < 1 {
		return 2
	}
	return min(MaxDepth, bits.Len(uint(size))+1)
}

// Validate reports a configuration that cannot be built for size×size
// images, or whose widths, depths or dilations exceed the limits above.
func (c EnergyConfig) Validate(size int) error {
	switch {
	case c.Channels < 1 || c.Channels > MaxChannels || c.Depth < 2 || c.Depth > MaxPairDepth(size, c.Dilate):
		return fmt.Errorf("models: energy: need channels 1 to %d and depth 2 to %d, got %d and %d",
			MaxChannels, MaxPairDepth(size, c.Dilate), c.Channels, c.Depth)
	case c.UnaryChannels < 0 || c.UnaryChannels > MaxChannels ||
		(c.UnaryChannels > 0 && (c.UnaryDepth < 2 || c.UnaryDepth > MaxUnaryDepth(size))):
		return fmt.Errorf("models: energy: need unary channels 0 to %d and unary depth 2 to %d, got %d and %d",
			MaxChannels, MaxUnaryDepth(size), c.UnaryChannels, c.UnaryDepth)
	}
	return nil
}

// Energy is the energy network E_θ(X, Y) for images of Size×Size pixels.
//
// Params holds every parameter; Pair (θ_f, the pairwise net f) and Unary
// (θ_U, the unary net U and the prior P) partition it and share its
// buffers. The split lets training compute U(X) + P once per unroll: it does
// not depend on Y.
type Energy struct {
	Config EnergyConfig
	Size   int
	Params *Params
	Pair   *Params
	Unary  *Params
}

// NewEnergy returns an energy network with parameters drawn from seed: He
// initialisation for the hidden convolutions, zero biases and a zero prior.
// The last convolution of f starts at a tenth of He's scale and that of U
// at zero, so the first unrolls move the logits gently: large initial
// energy gradients saturate σ and starve the backward pass, whose every
// step is scaled by σ'(L_t).
func NewEnergy(c EnergyConfig, size int, seed uint64) (*Energy, error) {
	if err := c.Validate(size); err != nil {
		return nil, err
	}
	if size < 4 {
		return nil, fmt.Errorf("models: energy: image size %d too small", size)
	}
	r := rand.New(rand.NewPCG(seed, 0x656e65726779)) // "energy"
	ps := &Params{}
	pair, unary := &Params{}, &Params{}
	// The first pairwise layer convolves concat(X, Y) as two parameters:
	// wx for the image's channels, wy for the mask's.
	normal(ps.add("energy.pair0.wx", c.Channels, 3, 3, 3), r, heStd(4*9, 0))
	normal(ps.add("energy.pair0.wy", c.Channels, 1, 3, 3), r, heStd(4*9, 0))
	ps.add("energy.pair0.b", c.Channels)
	cin := c.Channels
	for i := 1; i < c.Depth; i++ {
		cout := c.Channels
		std := heStd(cin*9, 0)
		if i == c.Depth-1 {
			cout, std = 1, std/10
		}
		normal(ps.add(fmt.Sprintf("energy.pair%d.w", i), cout, cin, 3, 3), r, std)
		if i < c.Depth-1 {
			ps.add(fmt.Sprintf("energy.pair%d.b", i), cout)
		}
		cin = cout
	}
	pair.List = ps.List
	if c.UnaryChannels > 0 {
		cin = 3
		for i := range c.UnaryDepth {
			cout := c.UnaryChannels
			if i == c.UnaryDepth-1 {
				cout = 1
			}
			w := ps.add(fmt.Sprintf("energy.unary%d.w", i), cout, cin, 3, 3)
			if i < c.UnaryDepth-1 {
				normal(w, r, heStd(cin*9, 0))
			}
			ps.add(fmt.Sprintf("energy.unary%d.b", i), cout)
			cin = cout
		}
	}
	if c.Prior {
		ps.add("energy.prior", 1, 1, size, size)
	}
	unary.List = ps.List[len(pair.List):]
	return &Energy{Config: c, Size: size, Params: ps, Pair: pair, Unary: unary}, nil
}

// HasUnary reports whether the energy has a unary term U(X) + P.
func (e *Energy) HasUnary() bool { return len(e.Unary.List) > 0 }

// unaryDilation is the dilation of unary layer i of depth layers.
func unaryDilation(i, depth int) int {
	if i == depth-1 {
		return 1
	}
	return 1 << i
}

// Build adds E_θ(X, Y) = Σ_pixels f(concat(X, Y)) − Σ_pixels Y·(U(X) + P)
// [N] to g for X [N,3,S,S], Y [N,1,S,S] and the parameter values theta
// (graph inputs, or initializers for export) in the order of e.Params.
func (e *Energy) Build(g *graphs.Graph, x, y *graphs.Value, theta []*graphs.Value) *graphs.Value {
	if len(theta) != len(e.Params.List) {
		panic(fmt.Sprintf("models: energy: %d parameter values for %d parameters", len(theta), len(e.Params.List)))
	}
	nPair := len(e.Pair.List)
	var u *graphs.Value
	if e.HasUnary() {
		u = e.BuildUnary(g, x, theta[nPair:])
	}
	return e.BuildPair(g, x, y, u, theta[:nPair])
}

// BuildPair adds Σ_pixels f(concat(X, Y)) − Σ_pixels Y·u [N], where u
// [N,1,S,S] is U(X) + P computed elsewhere, or nil for no unary term. theta
// are the values of e.Pair.
func (e *Energy) BuildPair(g *graphs.Graph, x, y, u *graphs.Value, theta []*graphs.Value) *graphs.Value {
	if len(theta) != len(e.Pair.List) {
		panic(fmt.Sprintf("models: energy: %d pairwise values for %d parameters", len(theta), len(e.Pair.List)))
	}
	h, _ := e.PairForward(g, x, y, theta)
	if u != nil {
		h = g.Sub(h, g.Mul(y, u))
	}
	return g.ReduceSum(h, []int{1, 2, 3}, false)
}

// PairForward adds the pairwise net f(concat(X, Y)) [N,1,S,S] to g and also
// returns its hidden pre-activations z_1 … z_{D−1} (h_i = softplus(z_i)),
// which a hand-written backward pass needs. theta are the values of e.Pair.
//
// The first layer's convolution of concat(X, Y) is written as
// conv(X, wx) + conv(Y, wy): the same sum, without a Concat (which some
// ONNX runtimes mishandle along the channel axis), and with a gradient in Y
// that is one 1-channel convolution instead of four channels and a slice.
func (e *Energy) PairForward(g *graphs.Graph, x, y *graphs.Value, theta []*graphs.Value) (*graphs.Value, []*graphs.Value) {
	c := e.Config
	z := g.Add(g.Conv(x, theta[0], theta[2], c.PairConv(0)), g.Conv(y, theta[1], nil, c.PairConv(0)))
	zs := []*graphs.Value{z}
	h := g.Softplus(z)
	p := theta[3:]
	for i := 1; i < c.Depth; i++ {
		if i < c.Depth-1 {
			z := g.Conv(h, p[0], p[1], c.PairConv(i))
			zs = append(zs, z)
			h = g.Softplus(z)
			p = p[2:]
		} else {
			h = g.Conv(h, p[0], nil, c.PairConv(i))
			p = p[1:]
		}
	}
	return h, zs
}

// PairConv is the convolution of layer i (0-based) of the pairwise net: 3×3,
// stride 1, dilation and padding 1, or 2^i with Dilate (a receptive field
// of 2^(Depth+1) − 1 pixels instead of 2·Depth + 1). Any dilation keeps
// ∂E/∂Y a chain of stride-1 convolutions with flipped kernels.
func (c EnergyConfig) PairConv(i int) graphs.ConvOpts {
	d := 1
	if c.Dilate {
		d = 1 << i
	}
	return graphs.ConvOpts{Pads: [4]int{d, d, d, d}, Dilations: [2]int{d, d}}
}

// BuildUnary adds U(X) + P [N,1,S,S] to g; theta are the values of e.Unary.
func (e *Energy) BuildUnary(g *graphs.Graph, x *graphs.Value, theta []*graphs.Value) *graphs.Value {
	if len(theta) != len(e.Unary.List) || !e.HasUnary() {
		panic(fmt.Sprintf("models: energy: %d unary values for %d parameters", len(theta), len(e.Unary.List)))
	}
	p := theta
	var u *graphs.Value
	if e.Config.UnaryChannels > 0 {
		u = x
		for i := range e.Config.UnaryDepth {
			d := unaryDilation(i, e.Config.UnaryDepth)
			o := graphs.ConvOpts{Pads: [4]int{d, d, d, d}, Dilations: [2]int{d, d}}
			u = g.Conv(u, p[0], p[1], o)
			if i < e.Config.UnaryDepth-1 {
				u = g.Softplus(u)
			}
			p = p[2:]
		}
	}
	if e.Config.Prior {
		if u == nil {
			u = g.ExpandAs(p[0], g.Slice(x, 1, 0, 1))
		} else {
			u = g.Add(u, p[0])
		}
	}
	return u
}
