// Package models defines egan-ort's two networks with package graphs, their
// parameters, and the ONNX training graphs that ONNX Runtime runs for them.
//
// The energy network (DESIGN §3) scores a mask Y for an image X:
//
//	E_θ(X, Y) = Σ_pixels f(concat(X, Y)) − Σ_pixels Y · (U(X) + P)
//
// f is a stack of stride-1 3×3 convolutions with softplus between them and
// one output channel (the pairwise, structured term), by default dilated
// 1, 2, 4 so that it sees 15×15 windows of the mask; U is a small
// convolutional net on X alone with dilations that double per layer (the
// unary term, with a receptive field that covers the image); P is an
// optional learned per-pixel prior. Stride-1 convolutions keep ∂E/∂Y a plain
// Conv with flipped kernels, so inference exports to the portable op set.
//
// The discriminator (DESIGN §4) scores a mask against the truth:
//
//	D_φ(X, Y*, Y) = head(LeakyReLU(conv_s2(… LeakyReLU(conv_s2(concat(X, Y*, Y))))))
//
// with stride-2 4×4 convolutions, no normalisation (the gradient penalty
// needs per-sample gradients) and a linear head to one scalar per sample.
//
// Parameters live in Go-owned float32 buffers (Params). Every training graph
// takes them as inputs after its data inputs, so the optimiser updates them
// in place and a Program feeds ORT tensors built once over those buffers.
//
// The training graphs (DESIGN §5), N the dynamic batch, θ_f the pairwise
// and θ_U the unary parameters:
//
//	energy_unary      X[N,3,H,W], θ_U                    → U[N,1,H,W] = U(X) + P
//	energy_unary_vjp  X, v[N,1,H,W], θ_U                 → vjp θ_U of ⟨U, v⟩
//	energy_grad       X, Y[N,1,H,W], U, θ_f              → gY = ∂E/∂Y
//	energy            X, Y, U, θ_f                       → E[N]
//	energy_hvp        X, Y, v, θ_f                       → vjpY, vjp θ_f of ⟨gY, v⟩
//	disc              X, Ystar[N,1,H,W], Y, φ            → s[N]
//	disc_vjp          X, Ystar, Y, u[N], φ               → vjp φ, vjpY of ⟨s, u⟩
//	disc_gp           X, Ystar, Yhat, w[N], φ            → penalty[N], Σw·penalty's φ-gradient
//
// DESIGN §5 names energy_grad (X, Y, θ → E, g) and energy_hvp (X, Y, θ, v)
// over the whole energy. energy_grad leaves E to its own graph: no step
// needs it, and without it the pairwise net's last layer and softplus values
// drop out of every step. Here the unary field, which does not depend on Y, enters
// energy_grad as an input instead: it is computed once per unroll rather
// than once per step, and its parameters' share of the backward pass is one
// energy_unary_vjp call on the sum of the step cotangents. The results are
// the same to float rounding; at the default sizes the unary net is about
// three quarters of the energy's FLOPs.
//
// vjp θ means one output per parameter, named "d." + the parameter's name.
package models
