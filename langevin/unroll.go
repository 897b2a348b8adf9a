package langevin

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/egan-ort/egan-ort/models"
	"github.com/egan-ort/egan-ort/ort"
)

// Config holds the inference hyper-parameters.
type Config struct {
	Steps     int     `json:"steps"`      // T, unrolled steps
	Rate      float64 `json:"rate"`       // δ, the Langevin inference rate
	Temp      float64 `json:"temp"`       // τ, the temperature of the step noise (training only)
	InitNoise float64 `json:"init_noise"` // σ0, the scale of the initial logits' noise (training only)
	Clip      float64 `json:"clip"`       // c, element-wise clipping of the energy gradient; 0 = off
}

// DefaultConfig is DESIGN §3's default: T = 5, δ = 2, τ = 0.01, σ0 = 1, no
// clipping.
func DefaultConfig() Config { return Config{Steps: 5, Rate: 2, Temp: 0.01, InitNoise: 1} }

// MaxSteps is the most unrolled steps Validate accepts: training keeps
// every step's state for the backward pass, so memory grows with them.
const MaxSteps = 1000

// Validate reports hyper-parameters that make no sense.
func (c Config) Validate() error {
	var errs []error
	if c.Steps < 1 || c.Steps > MaxSteps {
		errs = append(errs, fmt.Errorf("steps %d: want 1 to %d", c.Steps, MaxSteps))
	}
	if !(c.Rate > 0) {
		errs = append(errs, fmt.Errorf("rate %g: want > 0", c.Rate))
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"temp", c.Temp}, {"init noise", c.InitNoise}, {"clip", c.Clip}} {
		if !(f.v >= 0) {
			errs = append(errs, fmt.Errorf("%s %g: want ≥ 0", f.name, f.v))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("langevin: %w", err)
	}
	return nil
}

// Unroller runs the forward unroll and its backward pass for one energy
// network. It is not safe for concurrent use.
type Unroller struct {
	Config Config
	Energy *models.Energy

	unary, unaryVJP, grad, hvp *models.Program
	bufs                       map[int]*buffers
	cur                        *buffers
	ortTime                    time.Duration

	mean, mirrored []float32 // Infer's buffers
}

// New creates the ORT programs of e's inference graphs. Destroy releases
// them.
func New(e *models.Energy, c Config, o ort.Options) (*Unroller, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	u := &Unroller{Config: c, Energy: e, bufs: map[int]*buffers{}}
	var err error
	mk := func(p **models.Program, build func(*models.Energy) graphsGraph, nData int, ps *models.Params) {
		if err == nil {
			*p, err = models.NewProgram(build(e), nData, ps, o, "")
		}
	}
	if e.HasUnary() {
		mk(&u.unary, models.EnergyUnaryGraph, 1, e.Unary)
		mk(&u.unaryVJP, models.EnergyUnaryVJPGraph, 2, e.Unary)
	}
	mk(&u.grad, models.EnergyGradGraph, 3, e.Pair)
	mk(&u.hvp, models.EnergyHVPGraph, 3, e.Pair)
	if err != nil {
		u.Destroy()
		return nil, fmt.Errorf("langevin: %w", err)
	}
	return u, nil
}

// Destroy releases the programs and every tensor.
func (u *Unroller) Destroy() {
	for _, p := range []*models.Program{u.unary, u.unaryVJP, u.grad, u.hvp} {
		p.Destroy()
	}
	for _, b := range u.bufs {
		b.destroy()
	}
	u.bufs = map[int]*buffers{}
	u.cur = nil
}

// FLOPs returns the FLOPs of every ORT call so far (see graphs.FLOPs).
func (u *Unroller) FLOPs() float64 {
	total := 0.0
	for _, p := range []*models.Program{u.unary, u.unaryVJP, u.grad, u.hvp} {
		if p != nil {
			total += p.FLOPs
		}
	}
	return total
}

// ORTTime returns the wall time spent inside ORT calls so far.
func (u *Unroller) ORTTime() time.Duration { return u.ortTime }

func (u *Unroller) run(p *models.Program, in, out []ort.Value) error {
	t0 := time.Now()
	err := p.Run(in, out)
	u.ortTime += time.Since(t0)
	return err
}

// ErrNoForward is returned by Backward when no forward unroll was run for
// the batch.
var ErrNoForward = errors.New("langevin: backward without a forward unroll")

// Forward runs the unroll for the n images in x ([n,3,S,S], normalised) and
// returns Y_T and L_T ([n,1,S,S]); the slices belong to the Unroller and
// stay valid until the next Forward with the same n. With noise nil the
// unroll is deterministic (σ0 = τ = 0, evaluation); otherwise the initial and
// step noise are drawn from it.
func (u *Unroller) Forward(x []float32, n int, noise *rand.Rand) (yT, lT []float32, err error) {
	b, err := u.buffersFor(n)
	if err != nil {
		return nil, nil, err
	}
	u.cur = b
	copy(b.x, x[:len(b.x)])
	c := u.Config
	T := c.Steps

	// The unary field, once per unroll.
	if u.unary != nil {
		if err := u.run(u.unary, []ort.Value{b.xT}, []ort.Value{b.uT}); err != nil {
			return nil, nil, fmt.Errorf("langevin: unary field: %w", err)
		}
	}

	// L_0 = σ0·Z.
	if noise != nil && c.InitNoise > 0 {
		for i := range b.l[0] {
			b.l[0][i] = float32(c.InitNoise * noise.NormFloat64())
		}
	} else {
		clear(b.l[0])
	}

	half := float32(c.Rate / 2)
	sd := 0.0
	if noise != nil {
		sd = math.Sqrt(c.Rate * c.Temp)
	}
	for t := range T {
		// Y_t = σ(L_t); g_t = ∂E/∂Y_t.
		sigmoid(b.y[t], b.l[t])
		if err := u.run(u.grad, []ort.Value{b.xT, b.yT[t], b.uT}, []ort.Value{b.gT}); err != nil {
			return nil, nil, fmt.Errorf("langevin: step %d: %w", t, err)
		}
		clipInto(b.g, b.keep[t], c.Clip)
		// L_{t+1} = L_t − (δ/2)·g_t + √(δτ)·ξ_t.
		lt, next := b.l[t], b.l[t+1]
		for i := range next {
			next[i] = lt[i] - half*b.g[i]
		}
		if sd > 0 {
			for i := range next {
				next[i] += float32(sd * noise.NormFloat64())
			}
		}
	}
	sigmoid(b.y[T], b.l[T])
	return b.y[T], b.l[T], nil
}

// Backward takes a_T = ∂ℓ/∂L_T for the last Forward's batch and writes
// ∂ℓ/∂θ into grads (one buffer per parameter of the energy, in order,
// overwritten). It returns ∂ℓ/∂L_0 in a slice owned by the Unroller.
func (u *Unroller) Backward(grads [][]float32, aT []float32) ([]float32, error) {
	b := u.cur
	if b == nil {
		return nil, ErrNoForward
	}
	c := u.Config
	half := float32(c.Rate / 2)
	nPair := len(u.Energy.Pair.List)
	for _, g := range grads {
		clear(g)
	}
	copy(b.a, aT)
	clear(b.vSum)

	for t := c.Steps - 1; t >= 0; t-- {
		// v_t = m_t ⊙ a_{t+1}; accumulate Σ v_t for the unary share.
		for i, a := range b.a {
			if b.keep[t] != nil && !b.keep[t][i] {
				a = 0
			}
			b.v[i] = a
			b.vSum[i] += a
		}
		if err := u.run(u.hvp, []ort.Value{b.xT, b.yT[t], b.vT}, b.hvpOut); err != nil {
			return nil, fmt.Errorf("langevin: backward step %d: %w", t, err)
		}
		// ∂ℓ/∂θ_f += −(δ/2)·∂⟨g_t, v_t⟩/∂θ_f.
		for k := range nPair {
			axpy(grads[k], -half, b.dTheta[k])
		}
		// a_t = a_{t+1} − (δ/2)·σ'(L_t)·∂⟨g_t, v_t⟩/∂Y_t.
		for i, y := range b.y[t] {
			b.a[i] -= half * y * (1 - y) * b.vjpY[i]
		}
	}

	// ∂ℓ/∂θ_U = (δ/2)·∂⟨U, Σ_t v_t⟩/∂θ_U.
	if u.unaryVJP != nil {
		if err := u.run(u.unaryVJP, []ort.Value{b.xT, b.vSumT}, b.unaryOut); err != nil {
			return nil, fmt.Errorf("langevin: backward unary: %w", err)
		}
		for k := range u.Energy.Unary.List {
			axpy(grads[nPair+k], half, b.dTheta[nPair+k])
		}
	}
	return b.a, nil
}

// Tape returns the logits L_0 … L_T of the last Forward (owned by the
// Unroller).
func (u *Unroller) Tape() [][]float32 {
	if u.cur == nil {
		return nil
	}
	return u.cur.l
}

func sigmoid(dst, l []float32) {
	for i, x := range l {
		dst[i] = float32(1 / (1 + math.Exp(-float64(x))))
	}
}

// clipInto clamps g to [−c, c] in place and records in keep which elements
// were left alone (keep is nil when c = 0).
func clipInto(g []float32, keep []bool, c float64) {
	if c <= 0 {
		return
	}
	cf := float32(c)
	for i, x := range g {
		switch {
		case x > cf:
			g[i], keep[i] = cf, false
		case x < -cf:
			g[i], keep[i] = -cf, false
		default:
			keep[i] = true
		}
	}
}

func axpy(dst []float32, a float32, x []float32) {
	for i, v := range x {
		dst[i] += a * v
	}
}
