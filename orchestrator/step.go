package orchestrator

import (
	"fmt"
	"math"
	"time"

	"github.com/egan-ort/egan-ort/graphs"
	"github.com/egan-ort/egan-ort/losses"
	"github.com/egan-ort/egan-ort/optim"
	"github.com/egan-ort/egan-ort/ort"
)

type graphsGraph = *graphs.Graph

// StepStats are the figures of one training iteration.
type StepStats struct {
	LossD   float64   // L_D of the last D step (0 for ce)
	Penalty float64   // WGAN-GP's mean penalty (without λ)
	LossG   float64   // L_G of the adversarial step (0 for ce)
	LossCE  float64   // CE(Y*, Y_T) of the CE step
	SReal   []float64 // D's scores of the real masks (last D step)
	SFake   []float64 // D's scores of the fake masks (last D step)
}

// workspace holds the per-iteration buffers, grown to the largest batch.
type workspace struct {
	fake, aT, gY, gLogits []float32 // [n·S·S]
	vjpY, yHat            []float32
	sReal, sFake          []float32 // [n]
	gReal, gFake, w       []float32
	penalty               []float32
	dPhi                  [][]float32 // one discriminator VJP's φ-gradient
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

func (t *Trainer) workspace(n int) *workspace {
	w := &t.work
	m := n * t.Config.Size * t.Config.Size
	for _, b := range []*[]float32{&w.fake, &w.aT, &w.gY, &w.gLogits, &w.vjpY, &w.yHat} {
		*b = grow(*b, m)
	}
	for _, b := range []*[]float32{&w.sReal, &w.sFake, &w.gReal, &w.gFake, &w.w, &w.penalty} {
		*b = grow(*b, n)
	}
	if w.dPhi == nil && t.Disc != nil {
		w.dPhi = t.Disc.Params.NewBuffers()
	}
	return w
}

// Step runs one training iteration on the n images x ([n,3,S,S],
// normalised) and masks yStar ([n,1,S,S]).
func (t *Trainer) Step(x, yStar []float32, n int) (StepStats, error) {
	var st StepStats
	w := t.workspace(n)
	m := n * t.Config.Size * t.Config.Size
	x, yStar = x[:3*m], yStar[:m]

	// D step(s) on a detached fake.
	if t.Obj.UsesDiscriminator() {
		for range t.Config.DSteps {
			yT, _, err := t.unroll.Forward(x, n, t.noise)
			if err != nil {
				return st, err
			}
			copy(w.fake, yT)
			if err := t.discStep(&st, x, yStar, n); err != nil {
				return st, err
			}
		}
	}

	// Generator CE step: ∂CE(Y*, Y_T)/∂θ through a fresh unroll.
	_, lT, err := t.unroll.Forward(x, n, t.noise)
	if err != nil {
		return st, err
	}
	t0 := time.Now()
	st.LossCE = losses.CrossEntropyLogits(w.aT, yStar, lT)
	t.since(&t.lossTime, t0)
	if _, err := t.unroll.Backward(t.gradE, w.aT); err != nil {
		return st, err
	}
	if err := t.applyGenerator(t.adamCE); err != nil {
		return st, err
	}

	// Generator adversarial step through D.
	if t.Obj.UsesDiscriminator() {
		if st.LossG, err = t.adversarialStep(x, yStar, n); err != nil {
			return st, err
		}
	}
	if t.avg != nil {
		t0 := time.Now()
		t.avg.update(t.Energy.Params, t.adamCE.Step)
		t.since(&t.optTime, t0)
	}
	return st, nil
}

// applyGenerator takes an Adam step on θ with the gradient in t.gradE.
func (t *Trainer) applyGenerator(adam *optim.Adam) error {
	defer t.since(&t.optTime, time.Now())
	if ok, i := optim.AllFinite(t.gradE); !ok {
		return fmt.Errorf("%w: gradient of %s", ErrNonFinite, t.Energy.Params.List[i].Name)
	}
	adam.Update(t.Energy.Params.Buffers(), t.gradE)
	return nil
}

// discStep takes one Adam step on φ against the fake in the workspace.
func (t *Trainer) discStep(st *StepStats, x, yStar []float32, n int) error {
	w := &t.work
	if err := t.scores(w.sReal, x, yStar, yStar, n); err != nil {
		return err
	}
	if err := t.scores(w.sFake, x, yStar, w.fake, n); err != nil {
		return err
	}
	t0 := time.Now()
	st.LossD = t.Obj.DiscLoss(w.gReal, w.gFake, w.sReal, w.sFake, yStar, w.fake)
	t.since(&t.lossTime, t0)
	st.SReal, st.SFake = to64(w.sReal), to64(w.sFake)

	// ∂L_D/∂φ = vjp_φ(D(real), ∂L_D/∂s_r) + vjp_φ(D(fake), ∂L_D/∂s_f).
	if err := t.vjp(x, yStar, yStar, w.gReal, n); err != nil {
		return err
	}
	copyBufs(t.gradD, w.dPhi)
	if err := t.vjp(x, yStar, w.fake, w.gFake, n); err != nil {
		return err
	}
	addBufs(t.gradD, w.dPhi)

	// WGAN-GP: + λ·mean(penalty) at Ŷ = εY* + (1−ε)Y_T, ε ~ U(0,1) per sample.
	if t.Obj.UsesGradientPenalty() {
		p := t.Config.Size * t.Config.Size
		for i := range n {
			eps := float32(t.noise.Float64())
			for j := i * p; j < (i+1)*p; j++ {
				w.yHat[j] = eps*yStar[j] + (1-eps)*w.fake[j]
			}
			w.w[i] = float32(t.Config.Loss.Lambda / float64(n))
		}
		if err := t.penalty(x, yStar, w.yHat, w.w, n); err != nil {
			return err
		}
		mean := 0.0
		for _, v := range w.penalty[:n] {
			mean += float64(v) / float64(n)
		}
		st.Penalty = mean
		st.LossD += t.Config.Loss.Lambda * mean
		addBufs(t.gradD, w.dPhi)
	}
	defer t.since(&t.optTime, time.Now())
	if ok, i := optim.AllFinite(t.gradD); !ok {
		return fmt.Errorf("%w: gradient of %s", ErrNonFinite, t.Disc.Params.List[i].Name)
	}
	t.adamD.Update(t.Disc.Params.Buffers(), t.gradD)
	return nil
}

// adversarialStep takes one Adam step on θ at the adversarial rate against
// L_G through D, and returns L_G.
func (t *Trainer) adversarialStep(x, yStar []float32, n int) (float64, error) {
	lossG, err := t.adversarialGrad(x, yStar, n)
	if err != nil {
		return 0, err
	}
	return lossG, t.applyGenerator(t.adamAdv)
}

// adversarialGrad runs a fresh unroll and leaves ∂L_G/∂θ in t.gradE.
func (t *Trainer) adversarialGrad(x, yStar []float32, n int) (float64, error) {
	w := t.workspace(n)
	yT, lT, err := t.unroll.Forward(x, n, t.noise)
	if err != nil {
		return 0, err
	}
	if err := t.scores(w.sFake, x, yStar, yT, n); err != nil {
		return 0, err
	}
	t0 := time.Now()
	lossG := t.Obj.GenLoss(w.gFake, w.gY, w.gLogits, w.sFake, yStar, yT, lT)
	t.since(&t.lossTime, t0)
	if err := t.vjp(x, yStar, yT, w.gFake, n); err != nil {
		return 0, err
	}
	// a_T = ∂L_G/∂L_T = gLogits + σ'(L_T)·(gY + vjp_Y(D, ∂L_G/∂s_f)).
	for i, y := range yT {
		w.aT[i] = w.gLogits[i] + y*(1-y)*(w.gY[i]+w.vjpY[i])
	}
	_, err = t.unroll.Backward(t.gradE, w.aT)
	return lossG, err
}

// scores runs disc into s[:n].
func (t *Trainer) scores(s, x, yStar, y []float32, n int) error {
	ins, done, err := t.tensors(n, x, yStar, y)
	if err != nil {
		return err
	}
	defer done()
	out, err := ort.NewTensor(s[:n], int64(n))
	if err != nil {
		return err
	}
	defer out.Destroy()
	return t.runD(t.disc, ins, []ort.Value{out})
}

// vjp runs disc_vjp with cotangent u: ∂⟨s,u⟩/∂φ into work.dPhi and
// ∂⟨s,u⟩/∂Y into work.vjpY.
func (t *Trainer) vjp(x, yStar, y, u []float32, n int) error {
	ins, done, err := t.tensors(n, x, yStar, y, u)
	if err != nil {
		return err
	}
	defer done()
	outs, doneOut, err := t.gradTensors(n, t.work.vjpY)
	if err != nil {
		return err
	}
	defer doneOut()
	return t.runD(t.discVJP, ins, outs)
}

// penalty runs disc_gp: the per-sample penalty into work.penalty and
// ∂(Σ w·penalty)/∂φ into work.dPhi.
func (t *Trainer) penalty(x, yStar, yHat, wts []float32, n int) error {
	ins, done, err := t.tensors(n, x, yStar, yHat, wts)
	if err != nil {
		return err
	}
	defer done()
	outs, doneOut, err := t.gradTensors(n, t.work.penalty)
	if err != nil {
		return err
	}
	defer doneOut()
	// disc_gp lists the penalty first, then the φ-gradients.
	outs = append(outs[len(outs)-1:], outs[:len(outs)-1]...)
	return t.runD(t.discGP, ins, outs)
}

func (t *Trainer) runD(p interface {
	Run(in, out []ort.Value) error
}, ins, outs []ort.Value) error {
	t0 := time.Now()
	err := p.Run(ins, outs)
	t.ortTime += time.Since(t0)
	return err
}

// tensors wraps the data inputs of a discriminator graph: X, then masks,
// then an optional per-sample vector.
func (t *Trainer) tensors(n int, bufs ...[]float32) ([]ort.Value, func(), error) {
	s := int64(t.Config.Size)
	N := int64(n)
	var out []ort.Value
	done := func() {
		for _, v := range out {
			v.Destroy()
		}
	}
	for i, b := range bufs {
		shape := []int64{N, 1, s, s}
		switch {
		case i == 0:
			shape[1] = 3
		case len(b) == n:
			shape = []int64{N}
		}
		v, err := ort.NewTensor(b, shape...)
		if err != nil {
			done()
			return nil, nil, err
		}
		out = append(out, v)
	}
	return out, done, nil
}

// gradTensors wraps work.dPhi (one tensor per φ) followed by last, which is
// either an [n,1,S,S] mask or an [n] vector.
func (t *Trainer) gradTensors(n int, last []float32) ([]ort.Value, func(), error) {
	var out []ort.Value
	done := func() {
		for _, v := range out {
			v.Destroy()
		}
	}
	for k, p := range t.Disc.Params.List {
		shape := make([]int64, len(p.Shape))
		for i, d := range p.Shape {
			shape[i] = int64(d)
		}
		v, err := ort.NewTensor(t.work.dPhi[k], shape...)
		if err != nil {
			done()
			return nil, nil, err
		}
		out = append(out, v)
	}
	s, N := int64(t.Config.Size), int64(n)
	shape := []int64{N, 1, s, s}
	if len(last) == n {
		shape = []int64{N}
	}
	v, err := ort.NewTensor(last, shape...)
	if err != nil {
		done()
		return nil, nil, err
	}
	return append(out, v), done, nil
}

// since adds the time since t0 to *acc.
func (t *Trainer) since(acc *time.Duration, t0 time.Time) { *acc += time.Since(t0) }

func copyBufs(dst, src [][]float32) {
	for i := range dst {
		copy(dst[i], src[i])
	}
}

func addBufs(dst, src [][]float32) {
	for i := range dst {
		for j, v := range src[i] {
			dst[i][j] += v
		}
	}
}

func to64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
