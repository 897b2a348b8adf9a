package models

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/egan-ort/egan-ort/graphs"
)

// Param is one named parameter tensor in a Go-owned buffer.
type Param struct {
	Name  string
	Shape []int
	Data  []float32
}

// Size returns the number of elements.
func (p *Param) Size() int { return len(p.Data) }

// Params is an ordered set of parameters. The order is the order in which
// the parameters enter every graph.
type Params struct {
	List []*Param
}

func (ps *Params) add(name string, shape ...int) *Param {
	n := 1
	for _, d := range shape {
		n *= d
	}
	p := &Param{Name: name, Shape: shape, Data: make([]float32, n)}
	ps.List = append(ps.List, p)
	return p
}

// Count returns the total number of scalars.
func (ps *Params) Count() int {
	n := 0
	for _, p := range ps.List {
		n += p.Size()
	}
	return n
}

// Buffers returns the data buffers in order (shared, not copied).
func (ps *Params) Buffers() [][]float32 {
	out := make([][]float32, len(ps.List))
	for i, p := range ps.List {
		out[i] = p.Data
	}
	return out
}

// Sizes returns the buffer lengths in order.
func (ps *Params) Sizes() []int {
	out := make([]int, len(ps.List))
	for i, p := range ps.List {
		out[i] = p.Size()
	}
	return out
}

// NewBuffers returns zeroed buffers shaped like the parameters (for
// gradients).
func (ps *Params) NewBuffers() [][]float32 {
	out := make([][]float32, len(ps.List))
	for i, p := range ps.List {
		out[i] = make([]float32, p.Size())
	}
	return out
}

// CopyFrom copies the values of src, which must have the same layout.
func (ps *Params) CopyFrom(src *Params) {
	for i, p := range ps.List {
		copy(p.Data, src.List[i].Data)
	}
}

// Inputs declares every parameter as an input of g, in order.
func (ps *Params) Inputs(g *graphs.Graph) []*graphs.Value {
	out := make([]*graphs.Value, len(ps.List))
	for i, p := range ps.List {
		out[i] = g.Input(p.Name, p.Shape...)
	}
	return out
}

// Initializers adds every parameter to g as a named constant with its
// current values (for export).
func (ps *Params) Initializers(g *graphs.Graph) []*graphs.Value {
	out := make([]*graphs.Value, len(ps.List))
	for i, p := range ps.List {
		data := make([]float64, len(p.Data))
		for j, x := range p.Data {
			data[j] = float64(x)
		}
		out[i] = g.Initializer(p.Name, p.Shape, data)
	}
	return out
}

// normal fills p with N(0, std²) draws.
func normal(p *Param, r *rand.Rand, std float64) {
	for i := range p.Data {
		p.Data[i] = float32(r.NormFloat64() * std)
	}
}

// heStd is He et al.'s (2015) standard deviation for a layer of fan-in fanIn
// followed by a (leaky) rectifier of negative slope alpha.
func heStd(fanIn int, alpha float64) float64 {
	return math.Sqrt(2 / ((1 + alpha*alpha) * float64(fanIn)))
}

// glorotStd is Glorot and Bengio's (2010) standard deviation for a linear
// layer.
func glorotStd(fanIn, fanOut int) float64 {
	return math.Sqrt(2 / float64(fanIn+fanOut))
}

// Layout describes the parameters for error messages and the summary logged
// at start: "name [shape]" per parameter.
func (ps *Params) Layout() string {
	s := ""
	for _, p := range ps.List {
		s += fmt.Sprintf("%s %v\n", p.Name, p.Shape)
	}
	return s
}
