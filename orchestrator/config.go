package orchestrator

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/egan-ort/egan-ort/data"
	"github.com/egan-ort/egan-ort/langevin"
	"github.com/egan-ort/egan-ort/losses"
	"github.com/egan-ort/egan-ort/models"
)

// Config is everything that defines a training run. It is logged at start
// and saved in every checkpoint.
type Config struct {
	Objective string `json:"objective"` // ce, wgan-gp, ebgan, mse or logloss
	Preset    string `json:"preset"`    // "" (the project's defaults) or "paper"
	Data      string `json:"data"`      // dataset folder; "" means the synthetic dataset
	Size      int    `json:"size"`      // image side in pixels
	Epochs    int    `json:"epochs"`
	Batch     int    `json:"batch"`
	Seed      uint64 `json:"seed"`

	Energy   models.EnergyConfig `json:"energy"`
	Disc     models.DiscConfig   `json:"disc"`
	Langevin langevin.Config     `json:"langevin"`
	Loss     losses.Config       `json:"loss"` // λ, m, ω, α

	LRDisc float64 `json:"lr_disc"` // Adam rate of the discriminator
	LRCE   float64 `json:"lr_ce"`   // Adam rate of the generator's CE step
	LRAdv  float64 `json:"lr_adv"`  // Adam rate of the generator's adversarial step
	Beta1  float64 `json:"beta1"`
	// WeightDecay is the decoupled (AdamW) weight decay of the energy
	// network's parameters in both generator steps; 0 is off.
	WeightDecay float64 `json:"weight_decay"`
	// EMA is the decay of the exponential moving average of the energy
	// network's parameters that evaluation, the best checkpoint, inference
	// and export use (see average); 0 is off: they use the parameters.
	EMA    float64 `json:"ema"`
	Beta2  float64 `json:"beta2"`
	DSteps int     `json:"d_steps"` // discriminator steps per batch
	// LRSchedule scales the three rates per epoch: "constant" or "cosine"
	// (see LRFactor).
	LRSchedule string `json:"lr_schedule"`

	Augment data.Augment `json:"augment"`
	// TTA is the inference's test-time augmentation: "none", or "flip",
	// the mean of the masks of the image and of its mirror image (see
	// langevin.Unroller.Infer). Evaluation, inference and exported models
	// use it.
	TTA string `json:"tta"`
	// EvalBatch is the batch of the evaluation unrolls.
	EvalBatch int `json:"eval_batch"`
	// Landscape is the side of the loss-landscape grid recorded at the
	// first and the last epoch; 0 records none.
	Landscape int `json:"landscape"`
}

// UnmarshalJSON decodes a config as recorded, reading the learning-rate
// schedule and the test-time augmentation of runs recorded before they
// existed as "constant" and "none".
func (c *Config) UnmarshalJSON(b []byte) error {
	type recorded Config // without this method
	if err := json.Unmarshal(b, (*recorded)(c)); err != nil {
		return err
	}
	if c.LRSchedule == "" {
		c.LRSchedule = "constant"
	}
	if c.TTA == "" {
		c.TTA = "none"
	}
	return nil
}

// DefaultConfig returns the project's defaults for an objective.
func DefaultConfig(objective string) Config {
	return Config{
		Objective:  objective,
		Size:       32,
		Epochs:     150,
		Batch:      10,
		Seed:       1,
		Energy:     models.DefaultEnergyConfig(),
		Disc:       models.DefaultDiscConfig(),
		Langevin:   langevin.DefaultConfig(),
		Loss:       losses.DefaultConfig(),
		LRDisc:     0.0003,
		LRCE:       0.002,
		LRAdv:      0.0003,
		Beta1:      0.9,
		Beta2:      0.999,
		DSteps:     1,
		LRSchedule: "constant",
		EMA:        0.998,
		Augment:    data.Augment{Flip: true, MaxShift: 2},
		TTA:        "flip",
		EvalBatch:  16,
		Landscape:  13,
	}
}

// Presets names the presets ApplyPreset knows.
var Presets = []string{"paper"}

// ApplyPreset sets the values of a named preset. "paper" is Table 2 of the
// report as DESIGN §4 reads it: batch 10, T = 5, δ = 2, 300 epochs, one D
// step, λ = 10, ω = 0.01, m = 10, D rate 0.003, CE rate 0.001, adversarial
// rate 0.0003, no augmentation (in training or at test time), constant
// rates, no parameter average, and the energy network of
// the project's first defaults (unary net of 32 channels).
func (c *Config) ApplyPreset(name string) error {
	switch name {
	case "":
		return nil
	case "paper":
		c.Preset = name
		c.Batch, c.Epochs, c.DSteps = 10, 300, 1
		c.Langevin.Steps, c.Langevin.Rate = 5, 2
		c.Loss.Lambda, c.Loss.Omega, c.Loss.Margin = 10, 0.01, 10
		c.LRDisc, c.LRCE, c.LRAdv = 0.003, 0.001, 0.0003
		c.Beta1, c.Beta2 = 0.9, 0.999
		c.LRSchedule, c.WeightDecay, c.EMA = "constant", 0, 0
		c.Augment, c.TTA = data.Augment{}, "none"
		// The report gives no widths; the preset keeps the energy network
		// its study runs were recorded with (a 32-channel unary net).
		c.Energy = models.EnergyConfig{Channels: 32, Depth: 2, UnaryChannels: 32, UnaryDepth: 5, Prior: true}
		return nil
	}
	return fmt.Errorf("orchestrator: unknown preset %q (want one of %v)", name, Presets)
}

// TTAs names the test-time augmentations of Config.TTA.
var TTAs = []string{"none", "flip"}

// Mirror reports whether inference averages each mask with its mirror
// image's.
func (c Config) Mirror() bool { return c.TTA == "flip" }

// LRSchedules names the learning-rate schedules LRFactor knows.
var LRSchedules = []string{"constant", "cosine"}

// LRFactor is the factor by which the schedule scales every Adam rate during
// epoch (1-based) of a run of c.Epochs epochs: 1 throughout for "constant";
// for "cosine", ½(1 + cos(π(epoch−1)/Epochs)), from 1 at the first epoch
// down to ½(1 + cos(π(Epochs−1)/Epochs)) at the last, never 0: 0.00025 at
// the last of 100 epochs, 0.15 at the last of 4 (Loshchilov & Hutter's
// annealing without restarts). The factor depends on the planned total, so
// extending a run with --resume --epochs stretches the rest of its curve.
func (c Config) LRFactor(epoch int) float64 {
	if c.LRSchedule != "cosine" || c.Epochs < 1 {
		return 1
	}
	e := min(max(epoch, 1), c.Epochs)
	return 0.5 * (1 + math.Cos(math.Pi*float64(e-1)/float64(c.Epochs)))
}

// MaxBatch is the largest --batch and --eval-batch: generous for real use,
// it refuses a mistyped value before it exhausts memory. The networks'
// limits are models.MaxChannels and models.MaxDepth, the unroll's
// langevin.MaxSteps.
const MaxBatch = 4096

// problems collects the errors of Validate, one per flag at most: a value
// that breaks several rules is reported once, by the first.
type problems struct {
	errs []error
	seen map[string]bool
}

// add records the problem of --flag unless one is recorded already.
func (p *problems) add(flag, format string, args ...any) {
	if p.seen[flag] {
		return
	}
	if p.seen == nil {
		p.seen = map[string]bool{}
	}
	p.seen[flag] = true
	p.errs = append(p.errs, fmt.Errorf(format, args...))
}

// Validate checks the configuration before any work starts. Each problem
// is reported once, under the flag that sets the value.
func (c Config) Validate() error {
	var p problems
	if !slices.Contains(losses.Names(), c.Objective) {
		p.add("objective", "unknown objective %q (want one of %v)", c.Objective, losses.Names())
	}
	// Non-finite numbers first: every other rule about them would
	// misread NaN or ±Inf.
	for _, f := range []struct {
		flag string
		v    float64
	}{
		{"lambda", c.Loss.Lambda}, {"margin", c.Loss.Margin},
		{"omega", c.Loss.Omega}, {"alpha", c.Loss.Alpha}, {"lr-disc", c.LRDisc}, {"lr-ce", c.LRCE},
		{"lr-adv", c.LRAdv}, {"beta1", c.Beta1}, {"beta2", c.Beta2}, {"scale", c.Augment.Scale},
		{"weight-decay", c.WeightDecay}, {"ema", c.EMA},
		{"disc-slope", c.Disc.Slope},
		{"rate", c.Langevin.Rate}, {"temp", c.Langevin.Temp}, {"init-noise", c.Langevin.InitNoise},
		{"clip", c.Langevin.Clip},
	} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			p.add(f.flag, "--%s must be a finite number, got %g", f.flag, f.v)
		}
	}
	if c.Size < 8 || c.Size > 512 {
		p.add("size", "--size %d out of range [8, 512]", c.Size)
	}
	for _, f := range []struct {
		flag string
		v    int
	}{{"epochs", c.Epochs}, {"d-steps", c.DSteps}} {
		if f.v < 1 {
			p.add(f.flag, "--%s must be ≥ 1, got %d", f.flag, f.v)
		}
	}
	// Bounds of what takes memory.
	e := c.Energy
	for _, f := range []struct {
		flag        string
		v, min, max int
	}{
		{"batch", c.Batch, 1, MaxBatch}, {"eval-batch", c.EvalBatch, 1, MaxBatch},
		{"steps", c.Langevin.Steps, 1, langevin.MaxSteps},
		{"energy-channels", e.Channels, 1, models.MaxChannels},
		{"unary-channels", e.UnaryChannels, 0, models.MaxChannels},
		{"disc-channels", c.Disc.Channels, 1, models.MaxChannels},
	} {
		if f.v < f.min || f.v > f.max {
			p.add(f.flag, "--%s %d: want %d to %d", f.flag, f.v, f.min, f.max)
		}
	}
	if maxDepth := models.MaxPairDepth(c.Size, e.Dilate); e.Depth < 2 || e.Depth > maxDepth {
		if e.Dilate && e.Depth > maxDepth && maxDepth < models.MaxDepth {
			p.add("energy-depth", "--energy-depth %d: with --energy-dilate the largest dilation 2^(depth-1) "+
				"must be below --size %d: want 2 to %d", e.Depth, c.Size, maxDepth)
		} else {
			p.add("energy-depth", "--energy-depth %d: want 2 to %d", e.Depth, maxDepth)
		}
	}
	if maxDepth := models.MaxUnaryDepth(c.Size); e.UnaryChannels > 0 && (e.UnaryDepth < 2 || e.UnaryDepth > maxDepth) {
		if e.UnaryDepth > maxDepth && maxDepth < models.MaxDepth {
			p.add("unary-depth", "--unary-depth %d: the unary net's largest dilation 2^(depth-2) "+
				"must not exceed --size %d: want 2 to %d", e.UnaryDepth, c.Size, maxDepth)
		} else {
			p.add("unary-depth", "--unary-depth %d: want 2 to %d", e.UnaryDepth, maxDepth)
		}
	}
	if maxDepth := bits.Len(uint(max(c.Size, 1))) - 1; c.Disc.Depth < 1 || c.Disc.Depth > maxDepth {
		p.add("disc-depth", "--disc-depth %d: want 1 to %d stride-2 layers for --size %d",
			c.Disc.Depth, maxDepth, c.Size)
	}
	if !(c.Disc.Slope >= 0 && c.Disc.Slope <= 1) {
		p.add("disc-slope", "--disc-slope %g: want a LeakyReLU slope in [0, 1]", c.Disc.Slope)
	}
	if !(c.Langevin.Rate > 0) {
		p.add("rate", "--rate %g: want > 0", c.Langevin.Rate)
	}
	for _, f := range []struct {
		flag string
		v    float64
	}{{"temp", c.Langevin.Temp}, {"init-noise", c.Langevin.InitNoise}, {"clip", c.Langevin.Clip}} {
		if !(f.v >= 0) {
			p.add(f.flag, "--%s %g: want ≥ 0", f.flag, f.v)
		}
	}
	if c.Augment.MaxShift < 0 || c.Augment.MaxShift >= c.Size/2 {
		p.add("shift", "--shift %d: want 0 to %d pixels (less than half of --size %d)",
			c.Augment.MaxShift, max(c.Size/2-1, 0), c.Size)
	}
	if !(c.Augment.Scale >= 0 && c.Augment.Scale < 1) {
		p.add("scale", "--scale %g: want a crop fraction in [0, 1)", c.Augment.Scale)
	}
	if c.Landscape < 0 || c.Landscape == 1 || c.Landscape > 101 {
		p.add("landscape", "--landscape %d: want 0 (off) or 2 to 101", c.Landscape)
	}
	if c.Objective == "ebgan" && c.Batch < 2 {
		p.add("batch", "--batch %d: ebgan's pull-away term needs at least 2", c.Batch)
	}
	for _, f := range []struct {
		flag string
		lr   float64
	}{{"lr-disc", c.LRDisc}, {"lr-ce", c.LRCE}, {"lr-adv", c.LRAdv}} {
		if !(f.lr > 0) {
			p.add(f.flag, "--%s must be > 0, got %g", f.flag, f.lr)
		}
	}
	if c.WeightDecay < 0 {
		p.add("weight-decay", "--weight-decay must be ≥ 0, got %g", c.WeightDecay)
	}
	// Decoupled decay scales every weight by 1 − lr·wd per step (at most:
	// the schedule only lowers lr), which must stay positive for both of
	// the generator's rates: the larger one bounds it.
	if flag, lr := "lr-ce", c.LRCE; c.WeightDecay > 0 {
		if c.LRAdv > lr {
			flag, lr = "lr-adv", c.LRAdv
		}
		if lr > 0 && !(lr*c.WeightDecay < 1) {
			p.add("weight-decay", "--weight-decay %g: with --%s %g each step would scale the weights by "+
				"1 - lr·wd = %g; want lr·wd < 1, a weight decay below %g", c.WeightDecay, flag, lr,
				1-lr*c.WeightDecay, 1/lr)
		}
	}
	if !(c.EMA >= 0 && c.EMA < 1) {
		p.add("ema", "--ema %g: want a decay in [0, 1), 0 for off", c.EMA)
	}
	if !slices.Contains(LRSchedules, c.LRSchedule) {
		p.add("lr-schedule", "--lr-schedule %q: want one of %v", c.LRSchedule, LRSchedules)
	}
	if !slices.Contains(TTAs, c.TTA) {
		p.add("tta", "--tta %q: want one of %v", c.TTA, TTAs)
	}
	if !(c.Beta1 >= 0 && c.Beta1 < 1 && c.Beta2 >= 0 && c.Beta2 < 1) {
		p.add("beta1", "--beta1 %g and --beta2 %g: both must be in [0, 1)", c.Beta1, c.Beta2)
	}
	// The packages' own checks, in their own words, for anything the flags'
	// checks above missed.
	if len(p.errs) == 0 {
		for _, err := range []error{c.Energy.Validate(c.Size), c.Disc.Validate(c.Size), c.Langevin.Validate()} {
			if err != nil {
				p.errs = append(p.errs, err)
			}
		}
	}
	if _, err := losses.New(c.Objective, c.Loss); err != nil && len(p.errs) == 0 {
		p.errs = append(p.errs, err)
	}
	if err := errors.Join(p.errs...); err != nil {
		return fmt.Errorf("orchestrator: config: %w", err)
	}
	return nil
}
