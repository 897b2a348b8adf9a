package models

import (
	"fmt"
	"math/rand/v2"

	"github.com/egan-ort/egan-ort/graphs"
)

// DiscConfig sets the discriminator's architecture.
type DiscConfig struct {
	Channels int     `json:"channels"` // channels of the first convolution; doubled once, at the second
	Depth    int     `json:"depth"`    // stride-2 4×4 convolutions (≥ 1)
	Slope    float64 `json:"slope"`    // LeakyReLU negative slope
}

// DefaultDiscConfig is the default discriminator: three stride-2
// convolutions of 32, 64 and 64 channels and a linear head.
func DefaultDiscConfig() DiscConfig { return DiscConfig{Channels: 32, Depth: 3, Slope: 0.2} }

// Validate reports a configuration that cannot be built for size×size.
func (c DiscConfig) Validate(size int) error {
	if c.Channels < 1 || c.Channels > MaxChannels || c.Depth < 1 || !(c.Slope >= 0 && c.Slope <= 1) {
		return fmt.Errorf("models: discriminator: need channels 1 to %d, depth ≥ 1, slope in [0,1], got %d, %d, %g",
			MaxChannels, c.Channels, c.Depth, c.Slope)
	}
	if size>>c.Depth < 1 {
		return fmt.Errorf("models: discriminator: %d stride-2 layers do not fit a %d-pixel image", c.Depth, size)
	}
	return nil
}

// Disc is the discriminator D_φ(X, Y*, Y) for Size×Size images.
type Disc struct {
	Config DiscConfig
	Size   int
	Params *Params
}

func (c DiscConfig) channels(i int) int {
	if i == 0 {
		return c.Channels
	}
	return 2 * c.Channels
}

// NewDisc returns a discriminator with parameters drawn from seed: He
// initialisation for the LeakyReLU convolutions, Glorot for the head, zero
// biases.
func NewDisc(c DiscConfig, size int, seed uint64) (*Disc, error) {
	if err := c.Validate(size); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(seed, 0x64697363)) // "disc"
	ps := &Params{}
	cin, s := 5, size
	for i := range c.Depth {
		cout := c.channels(i)
		normal(ps.add(fmt.Sprintf("disc.conv%d.w", i), cout, cin, 4, 4), r, heStd(cin*16, c.Slope))
		ps.add(fmt.Sprintf("disc.conv%d.b", i), cout)
		cin, s = cout, (s+2-4)/2+1
	}
	feat := cin * s * s
	normal(ps.add("disc.head.w", feat, 1), r, glorotStd(feat, 1))
	ps.add("disc.head.b", 1)
	return &Disc{Config: c, Size: size, Params: ps}, nil
}

// Build adds D_φ(X, Y*, Y) [N] to g for X [N,3,S,S], Y* and Y [N,1,S,S] and
// the parameter values phi in the order of d.Params.
func (d *Disc) Build(g *graphs.Graph, x, yStar, y *graphs.Value, phi []*graphs.Value) *graphs.Value {
	if len(phi) != len(d.Params.List) {
		panic(fmt.Sprintf("models: discriminator: %d parameter values for %d parameters", len(phi), len(d.Params.List)))
	}
	o := graphs.ConvOpts{Strides: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}}
	h := g.Concat(1, x, yStar, y)
	for i := range d.Config.Depth {
		h = g.LeakyRelu(g.Conv(h, phi[2*i], phi[2*i+1], o), d.Config.Slope)
	}
	k := 2 * d.Config.Depth
	s := g.Gemm(g.Flatten(h, 1), phi[k], phi[k+1]) // [N,1]
	return g.Reshape(s, graphs.Batch)
}
