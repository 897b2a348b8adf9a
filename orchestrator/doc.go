// Package orchestrator trains an energy-based GAN for segmentation: the
// training iteration of DESIGN §4, evaluation by IoU, the run directory's
// metrics and checkpoints, and resuming.
//
// One iteration on a batch (X, Y*), for an objective with a discriminator:
//
//  1. unroll the Langevin steps with noise → Y_T, detached;
//  2. D step(s): s_r = D(X,Y*,Y*), s_f = D(X,Y*,Y_T); L_D from the objective,
//     plus λ·mean((‖∇_Ŷ D‖₂−1)²) for WGAN-GP; Adam on φ at the D rate;
//  3. generator CE step: a fresh unroll, ∂CE(Y*, Y_T)/∂θ through it; Adam on θ
//     at the CE rate;
//  4. generator adversarial step: a fresh unroll, L_G from the objective,
//     backpropagated through D into Y_T and through the unroll; Adam on θ at
//     the adversarial rate (its own moments).
//
// The ce objective runs step 3 only: the baseline every GAN variant is
// compared against. Through D the generator's logit cotangent is
//
//	a_T = ∂L_G/∂L_T = ∂(α·CE)/∂L_T + σ'(L_T) ⊙ (∂L_G/∂Y_T + vjp_Y(D, ∂L_G/∂s_f))
//
// A run is deterministic for a seed and a thread count: every random draw
// (initialisation, batch order, augmentation, Langevin noise, WGAN-GP's ε)
// comes from PCG generators whose state is saved in each checkpoint, so a
// resumed run continues exactly as an uninterrupted one.
//
// Left out on purpose: multi-GPU or data-parallel training, learning-rate
// schedules, and mixed precision.
package orchestrator
