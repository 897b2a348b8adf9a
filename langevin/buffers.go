package langevin

import (
	"fmt"

	"github.com/egan-ort/egan-ort/graphs"
	"github.com/egan-ort/egan-ort/ort"
)

type graphsGraph = *graphs.Graph

// buffers are the Go slices of one batch size and the ORT tensors over them,
// created once and reused by every step and every call.
type buffers struct {
	n      int
	x, u   []float32   // X [n,3,S,S]; U [n,1,S,S] (zeros without a unary term)
	l, y   [][]float32 // tape: L_t and Y_t = σ(L_t), t = 0…T
	g      []float32   // g_t [n,1,S,S]
	keep   [][]bool    // per step, elements clipping left alone (nil without clipping)
	a, v   []float32   // a_{t+1}, v_t
	vSum   []float32   // Σ_t v_t
	vjpY   []float32   // ∂⟨g_t, v_t⟩/∂Y_t
	dTheta [][]float32 // per energy parameter: ∂⟨·,·⟩/∂θ of one call

	xT, uT, gT, vT, vSumT, vjpYT ort.Value
	yT                           []ort.Value
	hvpOut, unaryOut             []ort.Value // outputs of energy_hvp and energy_unary_vjp
	all                          []ort.Value // every tensor, for destroy
}

func (u *Unroller) buffersFor(n int) (*buffers, error) {
	if b := u.bufs[n]; b != nil {
		return b, nil
	}
	if n < 1 {
		return nil, fmt.Errorf("langevin: batch of %d images", n)
	}
	e, T, s := u.Energy, u.Config.Steps, int64(u.Energy.Size)
	m := n * e.Size * e.Size
	b := &buffers{n: n, x: make([]float32, 3*m), u: make([]float32, m), g: make([]float32, m),
		a: make([]float32, m), v: make([]float32, m),
		vSum: make([]float32, m), vjpY: make([]float32, m)}
	for range T + 1 {
		b.l = append(b.l, make([]float32, m))
		b.y = append(b.y, make([]float32, m))
	}
	if u.Config.Clip > 0 {
		for range T {
			b.keep = append(b.keep, make([]bool, m))
		}
	} else {
		b.keep = make([][]bool, T)
	}
	for _, p := range e.Params.List {
		b.dTheta = append(b.dTheta, make([]float32, p.Size()))
	}

	var err error
	tensor := func(data []float32, shape ...int64) ort.Value {
		if err != nil {
			return nil
		}
		var t *ort.Tensor
		t, err = ort.NewTensor(data, shape...)
		if err != nil {
			return nil
		}
		b.all = append(b.all, t)
		return t
	}
	N := int64(n)
	mask := func(data []float32) ort.Value { return tensor(data, N, 1, s, s) }
	b.xT = tensor(b.x, N, 3, s, s)
	b.uT, b.gT, b.vT, b.vSumT, b.vjpYT = mask(b.u), mask(b.g), mask(b.v), mask(b.vSum), mask(b.vjpY)
	for t := range T + 1 {
		b.yT = append(b.yT, mask(b.y[t]))
	}
	nPair := len(e.Pair.List)
	b.hvpOut = []ort.Value{b.vjpYT}
	for k, p := range e.Params.List {
		shape := make([]int64, len(p.Shape))
		for i, d := range p.Shape {
			shape[i] = int64(d)
		}
		t := tensor(b.dTheta[k], shape...)
		if k < nPair {
			b.hvpOut = append(b.hvpOut, t)
		} else {
			b.unaryOut = append(b.unaryOut, t)
		}
	}
	if err != nil {
		b.destroy()
		return nil, fmt.Errorf("langevin: buffers for batch %d: %w", n, err)
	}
	u.bufs[n] = b
	return b, nil
}

func (b *buffers) destroy() {
	for _, t := range b.all {
		t.Destroy()
	}
	b.all = nil
}
