// Package optim implements the optimiser egan-ort applies in Go to its
// parameter buffers: Adam (Kingma & Ba 2015, Algorithm 1) with optional
// decoupled weight decay (AdamW, Loshchilov & Hutter 2019), plus the
// gradient-norm, clipping and finiteness helpers a training loop runs
// before each step.
//
// Parameters are the flat float32 buffers that also enter the ONNX graphs
// as inputs, one buffer per tensor; Update changes them in place, so the
// next session call sees the new values without a copy. For step t with
// gradient g, each element follows
//
//	m ← β1·m + (1 − β1)·g
//	v ← β2·v + (1 − β2)·g²
//	θ ← θ − η·λ·θ − η·(m/(1 − β1ᵗ)) / (sqrt(v/(1 − β2ᵗ)) + ε)
//
// with learning rate η and weight decay λ (0 gives plain Adam). The
// arithmetic is float64; the moments m and v are stored as float32.
//
// One Adam per set of parameters and learning rate: the generator's CE step
// and adversarial step each own an Adam over the same energy parameters,
// with separate moments and step counters, and the discriminator has a
// third.
//
// Programmer errors — buffer lists whose lengths disagree — panic with an
// "optim:" prefix. A bad configuration or a checkpoint state that does not
// fit is an error.
//
// Left out on purpose: AMSGrad, learning-rate schedules (the caller sets
// Adam.LR before any step) and per-buffer weight-decay masks (use a
// separate Adam, or WeightDecay = 0, for buffers that should not decay).
package optim
