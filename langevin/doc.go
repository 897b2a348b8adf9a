// Package langevin runs the generator's inference: T unrolled
// exponentiated-gradient Langevin steps on the mask (report Eq. 6–7,
// DESIGN §3), and the backward pass that trains the energy network through
// them.
//
// Forward, with Y = σ(L) and the energy gradient taken with respect to the
// probabilities:
//
//	L_0     = σ0 · Z,                              Z ~ N(0, I)
//	Y_t     = σ(L_t)
//	g_t     = clip_c(∂E_θ(X, Y_t)/∂Y_t)
//	L_{t+1} = L_t − (δ/2) · g_t + √(δτ) · ξ_t,      ξ_t ~ N(0, I)
//	G(X, Z) = Y_T = σ(L_T)
//
// clip_c clamps each element to [−c, c] (c = 0: no clipping). Evaluation
// uses σ0 = τ = 0.
//
// Backward, given a_T = ∂ℓ/∂L_T, with m_t the 0/1 mask of the elements that
// clipping left alone and D_t = diag(σ'(L_t)) = diag(Y_t(1 − Y_t)):
//
//	v_t    = m_t ⊙ a_{t+1}
//	∂ℓ/∂θ  = Σ_t −(δ/2) · ∂⟨g_t, v_t⟩/∂θ
//	a_t    = a_{t+1} − (δ/2) · D_t · ∂⟨g_t, v_t⟩/∂Y_t
//
// The noise enters additively, so the tape of L_t holds all the backward
// pass needs of it. With the energy split as package models does it,
// g_t = ∂(Σf)/∂Y_t − U with U = U(X) + P independent of Y: the pairwise
// share of ∂ℓ/∂θ comes from energy_hvp at each step, and the unary share is
// one call, (δ/2) · ∂⟨U, Σ_t v_t⟩/∂θ_U.
//
// An Unroller owns its ORT programs and every buffer and tensor, allocated
// once per batch size and reused by every step.
package langevin
