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
	InU       = "U"       // unary field U(X) + P [N,1,S,S]
	InUS      = "u"       // cotangent of s [N]
	InW       = "w"       // per-sample weights of the penalty [N]
	OutE      = "E"       // energy [N]
	OutU      = "U"       // unary field U(X) + P [N,1,S,S]
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

// EnergyUnaryGraph builds energy_unary: (X, θ_U) → U(X) + P, the unary
// field, computed once per unroll because it does not depend on Y.
func EnergyUnaryGraph(e *Energy) *graphs.Graph {
	g := graphs.New("energy_unary")
	x := imageInputs(g, e.Size)
	g.Output(OutU, e.BuildUnary(g, x, e.Unary.Inputs(g)))
	return g
}

// EnergyUnaryVJPGraph builds energy_unary_vjp: (X, v, θ_U) →
// d.θ_U = ∂⟨U(X) + P, v⟩/∂θ_U.
func EnergyUnaryVJPGraph(e *Energy) *graphs.Graph {
	g := graphs.New("energy_unary_vjp")
	x, v := imageInputs(g, e.Size), maskInput(g, InV, e.Size)
	theta := e.Unary.Inputs(g)
	u := e.BuildUnary(g, x, theta)
	outputGrads(g, e.Unary, g.Grad("dU", u, v, theta...))
	return g
}

// EnergyGradGraph builds energy_grad: (X, Y, U, θ_f) → gY = ∂E/∂Y, the graph
// each Langevin step runs. U is energy_unary's output (zeros for an energy
// without a unary term), so gY = ∂(Σf)/∂Y − U. The energy's value is not an
// output: no step needs it, and leaving it out prunes the last layer and the
// softplus values from the graph (EnergyGraph gives E).
func EnergyGradGraph(e *Energy) *graphs.Graph {
	g := graphs.New("energy_grad")
	x, y, u := imageInputs(g, e.Size), maskInput(g, InY, e.Size), maskInput(g, InU, e.Size)
	en := e.BuildPair(g, x, y, u, e.Pair.Inputs(g))
	g.Output(OutGradY, g.Grad("dE_dY", en, nil, y)[0])
	return g
}

// EnergyGraph builds energy: (X, Y, U, θ_f) → E, the energy itself.
func EnergyGraph(e *Energy) *graphs.Graph {
	g := graphs.New("energy")
	x, y, u := imageInputs(g, e.Size), maskInput(g, InY, e.Size), maskInput(g, InU, e.Size)
	g.Output(OutE, e.BuildPair(g, x, y, u, e.Pair.Inputs(g)))
	return g
}

// EnergyHVPGraph builds energy_hvp: (X, Y, v, θ_f) → (vjpY = ∂⟨gY, v⟩/∂Y,
// d.θ_f = ∂⟨gY, v⟩/∂θ_f), the Hessian-vector products of the backward pass
// through the unrolled steps. The unary term is linear in Y, so it adds
// nothing to vjpY, and its share of ∂⟨gY, v⟩/∂θ_U is −∂⟨U, v⟩/∂θ_U, which
// energy_unary_vjp gives for the sum over steps in one call.
func EnergyHVPGraph(e *Energy) *graphs.Graph {
	g := graphs.New("energy_hvp")
	x, y := imageInputs(g, e.Size), maskInput(g, InY, e.Size)
	v := maskInput(g, InV, e.Size)
	theta := e.Pair.Inputs(g)
	en := e.BuildPair(g, x, y, nil, theta)
	gy := g.Grad("dE_dY", en, nil, y)[0]
	hv := g.Grad("hvp", gy, v, append([]*graphs.Value{y}, theta...)...)
	g.Output(OutVJPY, hv[0])
	outputGrads(g, e.Pair, hv[1:])
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
	u := g.Input(InUS, graphs.Batch)
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
