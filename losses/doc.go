// Package losses implements the scalar losses of egan-ort and their
// gradients: binary cross entropy from logits, the soft IoU reward, the
// pull-away term, and the four GAN objectives of DESIGN.md §4 together with
// the supervised baseline "ce".
//
// ONNX Runtime evaluates the networks; this package sees only their outputs.
// For a batch of B samples with P pixels each, sReal = D(X, Y*, Y*) and
// sFake = D(X, Y*, Y_T) hold one discriminator score per sample, and masks
// (yTrue = Y*, yFake = Y_T, logits = L_T) are flat slices of length B·P,
// sample-major. Every loss is a mean over the batch:
//
//	wgan-gp  L_D = mean(sFake) − mean(sReal)                 (+ λ·GP, see below)
//	         L_G = −mean(sFake) + α·CE
//	ebgan    L_D = mean(e(sReal)) + mean(max(0, m − e(sFake)))
//	         L_G = mean(e(sFake)) + ω·PT(yFake) + α·CE,   e = softplus
//	mse      L_D = mean((sFake − R)²) + mean((sReal − 1)²)
//	         L_G = −mean(sFake) + α·CE
//	logloss  L_D = −mean(log σ(sReal)) − mean(log(1 − σ(sFake)))
//	         L_G = −mean(log σ(sFake)) + α·CE
//	ce       L_G = CE                                     (no discriminator)
//
// with
//
//	CE(yTrue, logits) = 1/(B·P) Σ_k max(l_k, 0) − l_k·y_k + log(1 + exp(−|l_k|))
//	R_i   = Σ_p min(Y*_ip, Y_ip) / Σ_p max(Y*_ip, Y_ip)   (soft IoU; 1 when Σ max = 0)
//	PT(Y) = 1/(B(B−1)) Σ_{i≠j} cos(Y_i, Y_j)²             (pull-away; 0 when B = 1)
//
// Signs: the discriminator minimises L_D and the generator minimises L_G.
// For wgan-gp, mse and logloss a high score means "real"; for ebgan the score
// gives an energy e(s) = softplus(s) ≥ 0 and a low energy means "real" (the
// softplus is ours: see ebgan.go). In mse the fake target R is
// computed from yFake with yFake detached: L_D sends no gradient to the mask.
//
// Gradients. Each loss fills caller-owned output slices (first in the
// argument list) with the partial derivatives of the returned value and
// allocates nothing. GenLoss splits ∂L_G into the parts a training loop needs:
// ∂L_G/∂sFake (to be pushed back through D into Y_T by a vector-Jacobian
// product), ∂L_G/∂Y_T through the terms that read Y_T directly (only the
// pull-away term), and ∂L_G/∂L_T through the CE term. The caller sums
//
//	∂L_G/∂L_T = gLogits + σ'(L_T) ⊙ (gY + vjp_Y(D, gFake))
//
// before running the unrolled backward pass of package langevin.
//
// The math is written once, generically over Float, and accumulated in
// float64; production calls use float32 and the tests check the same code in
// float64 against central finite differences.
//
// Programmer errors — slices whose lengths disagree with the batch — panic
// with a "losses:" prefix; each function's doc says which lengths it expects.
// A bad objective name or configuration is an error.
//
// Left out on purpose: the WGAN-GP gradient penalty
// λ·mean((‖∇_Ŷ D(X, Y*, Ŷ)‖₂ − 1)²) needs the gradient of D with respect to
// its input and its φ-gradient is a gradient of a gradient, so an ONNX graph
// (disc_gp) computes it and the caller adds Lambda times its value to L_D.
package losses
