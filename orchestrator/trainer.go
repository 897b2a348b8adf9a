package orchestrator

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/egan-ort/egan-ort/langevin"
	"github.com/egan-ort/egan-ort/losses"
	"github.com/egan-ort/egan-ort/models"
	"github.com/egan-ort/egan-ort/optim"
	"github.com/egan-ort/egan-ort/ort"
)

// Trainer holds the networks, their ORT programs, the optimisers and the
// random generators of one run. It is not safe for concurrent use.
type Trainer struct {
	Config Config
	Energy *models.Energy
	Disc   *models.Disc // nil for the ce objective
	Obj    losses.Objective

	unroll          *langevin.Unroller
	disc, discVJP   *models.Program
	discGP          *models.Program
	adamCE, adamAdv *optim.Adam
	adamD           *optim.Adam
	avg             *average // of the energy's parameters; nil when Config.EMA is 0

	// Random generators: Langevin noise and WGAN-GP's ε. Their PCG states
	// are saved in checkpoints.
	noisePCG *rand.PCG
	noise    *rand.Rand

	gradE, gradD [][]float32 // gradient buffers, one per parameter
	work         workspace
	ortTime      time.Duration // inside discriminator ORT calls
	optTime      time.Duration // Adam updates and their finiteness checks
	lossTime     time.Duration // losses computed in Go
}

// Timing splits the wall time of the steps so far.
type Timing struct {
	ORT   time.Duration // inside ORT calls
	Optim time.Duration // Adam updates and finiteness checks
	Loss  time.Duration // the losses, in Go
}

// Timing returns where the steps' time went so far; the rest of a step's
// wall time is Go-side tensor preparation and the unroll's own arithmetic.
func (t *Trainer) Timing() Timing {
	return Timing{ORT: t.ORTTime(), Optim: t.optTime, Loss: t.lossTime}
}

// NewTrainer builds the networks from the config (initialised from its
// seed) and their ORT programs. Destroy releases them.
func NewTrainer(c Config, o ort.Options) (*Trainer, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	obj, err := losses.New(c.Objective, c.Loss)
	if err != nil {
		return nil, fmt.Errorf("orchestrator: %w", err)
	}
	t := &Trainer{Config: c, Obj: obj}
	t.noisePCG = rand.NewPCG(c.Seed, 0x6e6f697365) // "noise"
	t.noise = rand.New(t.noisePCG)
	if t.Energy, err = models.NewEnergy(c.Energy, c.Size, c.Seed); err != nil {
		return nil, err
	}
	if t.unroll, err = langevin.New(t.Energy, c.Langevin, o); err != nil {
		return nil, err
	}
	adam := func(ps *models.Params, lr, wd float64) *optim.Adam {
		cfg := optim.DefaultAdamConfig(lr)
		cfg.Beta1, cfg.Beta2, cfg.WeightDecay = c.Beta1, c.Beta2, wd
		a, aerr := optim.NewAdam(ps.Sizes(), cfg)
		if aerr != nil && err == nil {
			err = aerr
		}
		return a
	}
	t.adamCE = adam(t.Energy.Params, c.LRCE, c.WeightDecay)
	t.gradE = t.Energy.Params.NewBuffers()
	t.avg = newAverage(t.Energy, c.EMA)
	if obj.UsesDiscriminator() {
		t.adamAdv = adam(t.Energy.Params, c.LRAdv, c.WeightDecay)
		if t.Disc, err = models.NewDisc(c.Disc, c.Size, c.Seed); err != nil {
			t.Destroy()
			return nil, err
		}
		t.adamD = adam(t.Disc.Params, c.LRDisc, 0)
		t.gradD = t.Disc.Params.NewBuffers()
		mk := func(g func(*models.Disc) graphsGraph) *models.Program {
			if err != nil {
				return nil
			}
			p, perr := models.NewProgram(g(t.Disc), 4, t.Disc.Params, o, "")
			err = perr
			return p
		}
		t.discVJP = mk(models.DiscVJPGraph)
		if obj.UsesGradientPenalty() {
			t.discGP = mk(models.DiscGPGraph)
		}
		if err == nil {
			t.disc, err = models.NewProgram(models.DiscGraph(t.Disc), 3, t.Disc.Params, o, "")
		}
	}
	if err != nil {
		t.Destroy()
		return nil, fmt.Errorf("orchestrator: %w", err)
	}
	return t, nil
}

// Destroy releases every ORT resource.
func (t *Trainer) Destroy() {
	if t.unroll != nil {
		t.unroll.Destroy()
	}
	for _, p := range []*models.Program{t.disc, t.discVJP, t.discGP} {
		p.Destroy()
	}
}

// ScheduleLR sets the three Adam rates for epoch (1-based): the configured
// rates times Config.LRFactor(epoch).
func (t *Trainer) ScheduleLR(epoch int) {
	f := t.Config.LRFactor(epoch)
	for _, a := range []struct {
		adam *optim.Adam
		lr   float64
	}{{t.adamCE, t.Config.LRCE}, {t.adamAdv, t.Config.LRAdv}, {t.adamD, t.Config.LRDisc}} {
		if a.adam != nil {
			a.adam.LR = a.lr * f
		}
	}
}

// ORTTime returns the wall time spent inside ORT calls so far.
func (t *Trainer) ORTTime() time.Duration { return t.ortTime + t.unroll.ORTTime() }

// FLOPs returns the FLOPs of every ORT call so far (see graphs.FLOPs).
func (t *Trainer) FLOPs() float64 {
	total := t.unroll.FLOPs()
	for _, p := range []*models.Program{t.disc, t.discVJP, t.discGP} {
		if p != nil {
			total += p.FLOPs
		}
	}
	return total
}

// Params returns every parameter set the trainer owns, energy first.
func (t *Trainer) Params() []*models.Params {
	if t.Disc == nil {
		return []*models.Params{t.Energy.Params}
	}
	return []*models.Params{t.Energy.Params, t.Disc.Params}
}
