package models

import (
	"github.com/egan-ort/egan-ort/graphs"
)

// Names of the training graphs' data inputs and outputs. The parameters
// follow the data inputs under their own names; their gradients are the
// outputs named GradName(parameter).
const (
	InX       = "X"       // image [N,3,S,S], normalised
	InY       = "Y"       // mask [N,1,S,S] in [0,1]
	InYStar   = "Ystar"   // ground-truth mask [N,1,S,S]
	InYHat    = "Yhat"    // interpolated mask for the gradient penalty
	InV       = "v"       // cotangent of gY [N,1,S,S]
	InU       = "u"       // cotangent of s [N]
	InW       = "w"       // per-sample weights of the penalty [N]
	OutE      = "E"       // energy [N]
	OutGradY  = "gY"      // ∂E/∂Y [N,1,S,S]
	OutVJPY   = "vjpY"    // a vector-Jacobian product with respect to Y
	OutScore  = "s"       // discriminator score [N]
	OutGP     = "penalty" // (‖∇_Ŷ D‖₂ − 1)² [N]
	gradScope = "d."
)

// GradName is the output name of the gradient for parameter name.
func GradName(name string) string { return gradScope + name }

// gpEps keeps the norm's gradient finite where ∇_Ŷ D vanishes.
const gpEps = 1e-12

func imageInputs(g *graphs.Graph, size int) (x *graphs.Value) {
	return g.Input(InX, graphs.Batch, 3, size, size)
}

func maskInput(g *graphs.Graph, name string, size int) *graphs.Value {
	return g.Input(name, graphs.Batch, 1, size, size)
}

func outputGrads(g *graphs.Graph, ps *Params, grads []*graphs.Value) {
	for i, p := range ps.List {
		g.Output(GradName(p.Name), grads[i])
	}
}

// EnergyGradGraph builds energy_grad: (X, Y, θ) → (E, gY = ∂E/∂Y), the
// graph each Langevin step runs.
func EnergyGradGraph(e *Energy) *graphs.Graph {
	g := graphs.New("energy_grad")
	x, y := imageInputs(g, e.Size), maskInput(g, InY, e.Size)
	theta := e.Params.Inputs(g)
	en := e.Build(g, x, y, theta)
	g.Output(OutE, en)
	g.Output(OutGradY, g.Grad("dE_dY", en, nil, y)[0])
	return g
}

// EnergyHVPGraph builds energy_hvp: (X, Y, v, θ) → (vjpY = ∂⟨gY, v⟩/∂Y,
// d.θ = ∂⟨gY, v⟩/∂θ), the Hessian-vector products of the backward pass
// through the unrolled steps.
func EnergyHVPGraph(e *Energy) *graphs.Graph {
	g := graphs.New("energy_hvp")
	x, y := imageInputs(g, e.Size), maskInput(g, InY, e.Size)
	v := maskInput(g, InV, e.Size)
	theta := e.Params.Inputs(g)
	en := e.Build(g, x, y, theta)
	gy := g.Grad("dE_dY", en, nil, y)[0]
	hv := g.Grad("hvp", gy, v, append([]*graphs.Value{y}, theta...)...)
	g.Output(OutVJPY, hv[0])
	outputGrads(g, e.Params, hv[1:])
	return g
}

// DiscGraph builds disc: (X, Y*, Y, φ) → s.
func DiscGraph(d *Disc) *graphs.Graph {
	g := graphs.New("disc")
	x, ys, y := imageInputs(g, d.Size), maskInput(g, InYStar, d.Size), maskInput(g, InY, d.Size)
	g.Output(OutScore, d.Build(g, x, ys, y, d.Params.Inputs(g)))
	return g
}

// DiscVJPGraph builds disc_vjp: (X, Y*, Y, u, φ) → (d.φ = ∂⟨s, u⟩/∂φ,
// vjpY = ∂⟨s, u⟩/∂Y), the gradients of both D's and G's losses through D.
func DiscVJPGraph(d *Disc) *graphs.Graph {
	g := graphs.New("disc_vjp")
	x, ys, y := imageInputs(g, d.Size), maskInput(g, InYStar, d.Size), maskInput(g, InY, d.Size)
	u := g.Input(InU, graphs.Batch)
	phi := d.Params.Inputs(g)
	s := d.Build(g, x, ys, y, phi)
	grads := g.Grad("ds", s, u, append(phi, y)...)
	outputGrads(g, d.Params, grads[:len(phi)])
	g.Output(OutVJPY, grads[len(phi)])
	return g
}

// DiscGPGraph builds disc_gp: (X, Y*, Ŷ, w, φ) → (penalty = (‖∇_Ŷ D‖₂ − 1)²
// per sample, d.φ = ∂(Σ w·penalty)/∂φ), WGAN-GP's penalty (Gulrajani et al.
// 2017) on the mask channel, and its gradient: a gradient of a gradient.
func DiscGPGraph(d *Disc) *graphs.Graph {
	g := graphs.New("disc_gp")
	x, ys, yh := imageInputs(g, d.Size), maskInput(g, InYStar, d.Size), maskInput(g, InYHat, d.Size)
	w := g.Input(InW, graphs.Batch)
	phi := d.Params.Inputs(g)
	s := d.Build(g, x, ys, yh, phi)
	gy := g.Grad("dD_dYhat", s, nil, yh)[0]
	sq := g.ReduceSum(g.Mul(gy, gy), []int{1, 2, 3}, false)
	norm := g.Sqrt(g.Add(sq, g.Scalar(gpEps)))
	pen := g.Pow(g.Sub(norm, g.Scalar(1)), 2)
	g.Output(OutGP, pen)
	outputGrads(g, d.Params, g.Grad("dpenalty", pen, w, phi...))
	return g
}
