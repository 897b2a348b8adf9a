// Package models defines egan-ort's two networks with package graphs, their
// parameters, and the ONNX training graphs that ONNX Runtime runs for them.
//
// The energy network (DESIGN §3) scores a mask Y for an image X:
//
//	E_θ(X, Y) = Σ_pixels f(concat(X, Y)) − Σ_pixels Y · (U(X) + P)
//
// f is a stack of stride-1 3×3 convolutions with softplus between them and
// one output channel (the pairwise, structured term); U is a small
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
// The training graphs (DESIGN §5), N the dynamic batch:
//
//	energy_grad  X[N,3,H,W], Y[N,1,H,W], θ                 → E[N], gY[N,1,H,W]
//	energy_hvp   X, Y, v[N,1,H,W], θ                        → vjpY[N,1,H,W], vjp θ
//	disc         X, Ystar[N,1,H,W], Y, φ                    → s[N]
//	disc_vjp     X, Ystar, Y, u[N], φ                       → vjp φ, vjpY[N,1,H,W]
//	disc_gp      X, Ystar, Yhat, w[N], φ                    → penalty[N], Σw·penalty's φ-gradient
//
// vjp θ means one output per parameter, named "d." + the parameter's name.
package models
