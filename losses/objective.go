package losses

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Config holds the weights of the GAN objectives (DESIGN.md §4, report
// Table 2). Each objective reads only the fields it needs.
type Config struct {
	Lambda float64 // λ, weight of the WGAN-GP gradient penalty (added by the caller)
	Margin float64 // m, EBGAN hinge margin on the fake energy
	Omega  float64 // ω, weight of the pull-away term in EBGAN's L_G
	Alpha  float64 // α, weight of CE in every GAN objective's L_G
}

// DefaultConfig returns λ = 10, m = 10, ω = 0.01 from the report's Table 2
// and α = 1, which the report does not give.
//
// α = 1 is chosen because CE is, like the log-loss generator term, a mean
// negative log-likelihood in nats: at initialisation (logits near 0, an
// undecided D) both are about log 2, so weight 1 lets neither dominate the
// adversarial step. The supervised signal does not depend on α alone: each
// iteration also runs a separate CE step at its own, higher learning rate,
// so the CE term in L_G only has to keep the adversarial step anchored to the
// ground truth, not drive it. For wgan-gp and ebgan the scores are unbounded
// and their scale is learned, so α is a flag to tune there.
func DefaultConfig() Config {
	return Config{Lambda: 10, Margin: 10, Omega: 0.01, Alpha: 1}
}

// Objective is one training objective: a discriminator loss L_D and a
// generator loss L_G of the scores sReal = D(X, Y*, Y*) and
// sFake = D(X, Y*, Y_T) and of the masks, as in the package doc's table.
//
// All slices follow the package conventions: B = len(sFake) scores, masks of
// length B·P. Gradient outputs may be nil when not wanted; when present they
// are overwritten, not accumulated into, and must not alias an input. Every
// method panics, with a "losses:" prefix, on a slice whose length does not
// match B or B·P. An Objective holds no mutable state and is safe for
// concurrent use.
type Objective interface {
	// Name returns the registry name ("wgan-gp", "ebgan", "mse", "logloss", "ce").
	Name() string
	// UsesDiscriminator reports whether the objective trains a
	// discriminator; false only for "ce".
	UsesDiscriminator() bool
	// UsesGradientPenalty reports whether the caller must add
	// Lambda·penalty from the disc_gp graph to L_D; true only for "wgan-gp".
	UsesGradientPenalty() bool
	// DiscLoss returns L_D without the gradient penalty term and fills
	// gReal = ∂L_D/∂sReal and gFake = ∂L_D/∂sFake (length B each). The fake
	// mask is detached: L_D has no gradient with respect to yFake. yTrue and
	// yFake (length B·P) are read only by "mse", for the IoU reward target;
	// the other objectives ignore them and accept nil. "ce" has no
	// discriminator and panics.
	DiscLoss(gReal, gFake, sReal, sFake, yTrue, yFake []float32) float64
	// GenLoss returns L_G, including α·CE and, for EBGAN, ω·PT, and fills
	// gFake = ∂L_G/∂sFake (length B), gY = ∂L_G/∂Y_T through the terms that
	// read Y_T directly (only EBGAN's pull-away term; zero for the others)
	// and gLogits = ∂L_G/∂L_T through the CE term (length B·P each). yFake
	// and logits are treated as independent inputs: the caller chains gY and
	// the VJP of gFake through D through σ'(L_T) itself. yFake is read only
	// by "ebgan" and may be nil for the others. For "ce", L_G is plain CE
	// (weight 1, not α), sFake may be nil and gFake, when given, is zeroed.
	GenLoss(gFake, gY, gLogits, sFake, yTrue, yFake, logits []float32) float64
}

// ErrUnknownObjective is returned, wrapped, by New for a name not in Names.
var ErrUnknownObjective = errors.New("losses: unknown objective")

// objective is Objective over any Float element type; New hands out its
// float32 instance and the tests check its float64 instance.
type objective[F Float] interface {
	Name() string
	UsesDiscriminator() bool
	UsesGradientPenalty() bool
	DiscLoss(gReal, gFake, sReal, sFake, yTrue, yFake []F) float64
	GenLoss(gFake, gY, gLogits, sFake, yTrue, yFake, logits []F) float64
}

// names lists the registry in DESIGN.md's order, the baseline last.
var names = []string{"wgan-gp", "ebgan", "mse", "logloss", "ce"}

// Names returns the valid objective names, in a new slice.
func Names() []string {
	return append([]string(nil), names...)
}

// New returns the objective called name with the weights c. It returns an
// error wrapping ErrUnknownObjective, listing the valid names, when name is
// not one of Names, and an error when a weight in c is negative or not
// finite.
func New(name string, c Config) (Objective, error) {
	o, err := newObjective[float32](name, c)
	if err != nil {
		return nil, err
	}
	return o, nil
}

func newObjective[F Float](name string, c Config) (objective[F], error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	switch name {
	case "wgan-gp":
		return wganGP[F]{c}, nil
	case "ebgan":
		return ebgan[F]{c}, nil
	case "mse":
		return mseGAN[F]{c}, nil
	case "logloss":
		return logLoss[F]{c}, nil
	case "ce":
		return ceOnly[F]{}, nil
	}
	return nil, fmt.Errorf("%w %q (valid: %s)", ErrUnknownObjective, name,
		strings.Join(names, ", "))
}

// validate returns an error naming the first weight that is negative, NaN
// or infinite.
func (c Config) validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"lambda", c.Lambda}, {"margin", c.Margin}, {"omega", c.Omega}, {"alpha", c.Alpha}} {
		if !(f.v >= 0) || math.IsInf(f.v, 1) {
			return fmt.Errorf("losses: config: %s = %v, want a finite value >= 0", f.name, f.v)
		}
	}
	return nil
}

// discShape checks the score slices of a DiscLoss call and returns B.
func discShape[F Float](who string, gReal, gFake, sReal, sFake []F) int {
	B := len(sFake)
	if B == 0 {
		panic("losses: " + who + ": empty batch")
	}
	mustLen(who, "sReal", sReal, B, false)
	mustLen(who, "gReal", gReal, B, true)
	mustLen(who, "gFake", gFake, B, true)
	return B
}

// genShape checks the slices of a GenLoss call and returns B and P. yFake
// is checked only when not nil; objectives that need it check for nil.
func genShape[F Float](who string, gFake, gY, gLogits, sFake, yTrue, yFake, logits []F) (B, P int) {
	B, P = batchShape(who, sFake, yTrue)
	mustLen(who, "gFake", gFake, B, true)
	mustLen(who, "logits", logits, B*P, false)
	mustLen(who, "gLogits", gLogits, B*P, true)
	mustLen(who, "gY", gY, B*P, true)
	mustLen(who, "yFake", yFake, B*P, true)
	return B, P
}
