package losses

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// testConfig makes every weight visible: a margin that some fake scores
// exceed, and ω, α away from 1 so a missing or doubled weight shows.
var testConfig = Config{Lambda: 10, Margin: 1, Omega: 0.5, Alpha: 0.7}

// gradInputs is one random batch with B = 3, P = 7. Fake scores stay at
// least 0.1 from the margin 1, where the EBGAN hinge has its kink; yFake
// stays inside (0.05, 0.95) so no soft-IoU tie with binary truth occurs.
type gradInputs struct {
	sReal, sFake, yTrue, yFake, logits []float64
}

func newGradInputs(seed uint64) gradInputs {
	const B, P = 3, 7
	r := rand.New(rand.NewPCG(seed, seed))
	return gradInputs{
		sReal:  uniform(r, B, -2, 2),
		sFake:  []float64{-1.3, 0.6, 2.2}, // two inside the hinge, one outside
		yTrue:  binary(r, B*P),
		yFake:  uniform(r, B*P, 0.05, 0.95),
		logits: uniform(r, B*P, -3, 3),
	}
}

// TestObjectiveGradients checks every gradient output of every objective
// against central finite differences, in float64, on the same generic code
// that New instantiates for float32.
func TestObjectiveGradients(t *testing.T) {
	for _, name := range Names() {
		o, err := newObjective[float64](name, testConfig)
		if err != nil {
			t.Fatal(err)
		}
		in := newGradInputs(4)
		B, N := len(in.sFake), len(in.yTrue)

		if o.UsesDiscriminator() {
			gReal, gFake := make([]float64, B), make([]float64, B)
			o.DiscLoss(gReal, gFake, in.sReal, in.sFake, in.yTrue, in.yFake)
			lD := func() float64 {
				return o.DiscLoss(nil, nil, in.sReal, in.sFake, in.yTrue, in.yFake)
			}
			checkGrad(t, name+" ∂L_D/∂sReal", lD, in.sReal, gReal)
			checkGrad(t, name+" ∂L_D/∂sFake", lD, in.sFake, gFake)
		}

		gFake, gY, gLogits := make([]float64, B), make([]float64, N), make([]float64, N)
		o.GenLoss(gFake, gY, gLogits, in.sFake, in.yTrue, in.yFake, in.logits)
		lG := func() float64 {
			return o.GenLoss(nil, nil, nil, in.sFake, in.yTrue, in.yFake, in.logits)
		}
		checkGrad(t, name+" ∂L_G/∂sFake", lG, in.sFake, gFake)
		checkGrad(t, name+" ∂L_G/∂Y_T", lG, in.yFake, gY)
		checkGrad(t, name+" ∂L_G/∂L_T", lG, in.logits, gLogits)
	}
}

// The hand-computed table below uses B = 2, P = 2 and these inputs. Soft
// IoU: R_0 = (0.5+0)/(1+0.5) = 1/3, R_1 = (0+1)/(0.25+1) = 0.8. Pull-away:
// cos² = 0.625²/(0.5·1.0625) = 25/34. CE at zero logits: ln 2.
var (
	handConfig = Config{Lambda: 10, Margin: 2, Omega: 0.5, Alpha: 0.5}
	handSReal  = []float64{2, 1}
	handSFake  = []float64{-1, 3}
	handYTrue  = []float64{1, 0, 0, 1}
	handYFake  = []float64{0.5, 0.5, 0.25, 1}
	handLogits = []float64{0, 0, 0, 0}
)

// Softplus values for the log-loss rows: softplus(x) = ln(1 + eˣ).
const (
	sp1  = 1.3132616875182228   // softplus(1)
	spm1 = 0.31326168751822286  // softplus(−1)
	spm2 = 0.12692801104297263  // softplus(−2)
	sp3  = 3.048587351573742    // softplus(3)
	spm3 = 0.048587351573741958 // softplus(−3)
	sgm2 = 0.11920292202211755  // σ(−2)
	sgm1 = 0.2689414213699951   // σ(−1)
	sg3  = 0.9525741268224334   // σ(3)
	sgm3 = 0.04742587317756678  // σ(−3)
)

func TestObjectiveHandValues(t *testing.T) {
	const ln2 = math.Ln2
	for _, tc := range []struct {
		name         string
		lD           float64
		gReal, gFake []float64 // of L_D
		lG           float64
		gFakeG       []float64 // of L_G
	}{
		{"wgan-gp",
			// mean(sF) − mean(sR) = 1 − 1.5
			-0.5, []float64{-0.5, -0.5}, []float64{0.5, 0.5},
			-1 + 0.5*ln2, []float64{-0.5, -0.5}},
		{"ebgan",
			// e = softplus(s): mean(e(sR)) + mean(max(0, 2 − e(sF)))
			// = (softplus(2) + softplus(1))/2 + (2 − softplus(−1) + 0)/2
			(2+spm2+sp1)/2 + (2-spm1)/2, []float64{(1 - sgm2) / 2, (1 - sgm1) / 2}, []float64{-sgm1 / 2, 0},
			(spm1+sp3)/2 + 0.5*25.0/34 + 0.5*ln2, []float64{sgm1 / 2, sg3 / 2}},
		{"mse",
			// ((−1 − 1/3)² + (3 − 0.8)²)/2 + ((2 − 1)² + (1 − 1)²)/2
			(16.0/9+2.2*2.2)/2 + 0.5, []float64{1, 0}, []float64{-4.0 / 3, 2.2},
			-1 + 0.5*ln2, []float64{-0.5, -0.5}},
		{"logloss",
			// (softplus(−2) + softplus(−1))/2 + (softplus(−1) + softplus(3))/2
			(spm2+spm1)/2 + (spm1+sp3)/2, []float64{-sgm2 / 2, -sgm1 / 2}, []float64{sgm1 / 2, sg3 / 2},
			(sp1+spm3)/2 + 0.5*ln2, []float64{-(1 - sgm1) / 2, -sgm3 / 2}},
		{"ce", math.NaN(), nil, nil, ln2, []float64{0, 0}},
	} {
		const rel = 1e-12
		o, err := newObjective[float64](tc.name, handConfig)
		if err != nil {
			t.Fatal(err)
		}
		if o.UsesDiscriminator() {
			gReal, gFake := make([]float64, 2), make([]float64, 2)
			lD := o.DiscLoss(gReal, gFake, handSReal, handSFake, handYTrue, handYFake)
			if !near(lD, tc.lD, rel, 0) {
				t.Errorf("%s: L_D = %.17g, want %.17g", tc.name, lD, tc.lD)
			}
			for i := range 2 {
				if !near(gReal[i], tc.gReal[i], rel, 0) || !near(gFake[i], tc.gFake[i], rel, 0) {
					t.Errorf("%s: ∂L_D/∂(sReal, sFake) = %v, %v, want %v, %v",
						tc.name, gReal, gFake, tc.gReal, tc.gFake)
					break
				}
			}
		}
		gFake, gLogits := make([]float64, 2), make([]float64, 4)
		lG := o.GenLoss(gFake, nil, gLogits, handSFake, handYTrue, handYFake, handLogits)
		if !near(lG, tc.lG, rel, 0) {
			t.Errorf("%s: L_G = %.17g, want %.17g", tc.name, lG, tc.lG)
		}
		for i := range 2 {
			if !near(gFake[i], tc.gFakeG[i], rel, 0) {
				t.Errorf("%s: ∂L_G/∂sFake = %v, want %v", tc.name, gFake, tc.gFakeG)
				break
			}
		}
		// ∂(w·CE)/∂l = w·(σ(0) − y)/4 with w = α, or 1 for "ce".
		w := handConfig.Alpha
		if tc.name == "ce" {
			w = 1
		}
		for k, y := range handYTrue {
			if want := w * (0.5 - y) / 4; !near(gLogits[k], want, rel, 0) {
				t.Errorf("%s: ∂L_G/∂L_T[%d] = %g, want %g", tc.name, k, gLogits[k], want)
			}
		}
	}
}

// TestObjectiveSigns pins the sign conventions of DESIGN.md §4 as
// directions: which way each loss moves when one score rises, at sReal =
// sFake = 0 with the hand table's masks and margin 2.
func TestObjectiveSigns(t *testing.T) {
	const (
		down = -1 // raising the score lowers the loss
		up   = +1
	)
	for _, tc := range []struct {
		name                   string
		dDReal, dDFake, dGFake int
		why                    string
	}{
		{"wgan-gp", down, up, down, "critic: high score = real"},
		{"ebgan", up, down, up, "energy: low score = real; fakes pushed above m"},
		{"mse", down, down, down, "D regresses 1 for real, R ∈ (0, 1) for fake; G climbs D"},
		{"logloss", down, up, down, "σ(s) = P(real)"},
	} {
		o, err := newObjective[float64](tc.name, handConfig)
		if err != nil {
			t.Fatal(err)
		}
		lD := func(sr, sf float64) float64 {
			return o.DiscLoss(nil, nil, []float64{sr, sr}, []float64{sf, sf}, handYTrue, handYFake)
		}
		lG := func(sf float64) float64 {
			return o.GenLoss(nil, nil, nil, []float64{sf, sf}, handYTrue, handYFake, handLogits)
		}
		const h = 1e-3
		if got := math.Copysign(1, lD(h, 0)-lD(0, 0)); int(got) != tc.dDReal {
			t.Errorf("%s (%s): raising sReal moves L_D %+g", tc.name, tc.why, got)
		}
		if got := math.Copysign(1, lD(0, h)-lD(0, 0)); int(got) != tc.dDFake {
			t.Errorf("%s (%s): raising sFake moves L_D %+g", tc.name, tc.why, got)
		}
		if got := math.Copysign(1, lG(h)-lG(0)); int(got) != tc.dGFake {
			t.Errorf("%s (%s): raising sFake moves L_G %+g", tc.name, tc.why, got)
		}
	}
}

// TestLogLossLimits checks that a certain and right discriminator has loss
// 0, not NaN, in the limit and at infinity itself.
func TestLogLossLimits(t *testing.T) {
	o, _ := newObjective[float64]("logloss", handConfig)
	yT, yF := []float64{1, 0}, []float64{0.5, 0.5}
	for _, tc := range []struct {
		sReal, sFake float64
		max          float64
	}{
		{40, -40, 1e-17},
		{1e3, -1e3, 0},
		{math.Inf(1), math.Inf(-1), 0},
	} {
		gReal, gFake := make([]float64, 1), make([]float64, 1)
		lD := o.DiscLoss(gReal, gFake, []float64{tc.sReal}, []float64{tc.sFake}, yT, yF)
		if !(lD >= 0 && lD <= tc.max) {
			t.Errorf("L_D(sReal = %g, sFake = %g) = %g, want in [0, %g]", tc.sReal, tc.sFake, lD, tc.max)
		}
		if math.IsNaN(gReal[0]) || math.IsNaN(gFake[0]) {
			t.Errorf("gradients at sReal = %g: %g, %g", tc.sReal, gReal[0], gFake[0])
		}
	}
	// The undecided discriminator pays 2·ln 2.
	lD := o.DiscLoss(nil, nil, []float64{0}, []float64{0}, yT, yF)
	if !near(lD, 2*math.Ln2, 1e-15, 0) {
		t.Errorf("L_D(0, 0) = %g, want 2 ln 2", lD)
	}
}

// TestMSEDiscMinimum checks that the MSE discriminator's loss is 0 exactly
// when it predicts 1 for real and the soft IoU for fake.
func TestMSEDiscMinimum(t *testing.T) {
	o, _ := newObjective[float64]("mse", handConfig)
	gReal, gFake := make([]float64, 2), make([]float64, 2)
	lD := o.DiscLoss(gReal, gFake, []float64{1, 1}, []float64{1.0 / 3, 0.8}, handYTrue, handYFake)
	if !near(lD, 0, 0, 1e-30) || !near(gFake[0], 0, 0, 1e-16) || !near(gFake[1], 0, 0, 1e-16) ||
		gReal[0] != 0 || gReal[1] != 0 {
		t.Errorf("at the target: L_D = %g, gReal = %v, gFake = %v, want zeros", lD, gReal, gFake)
	}
}

// TestObjectiveFloat32 checks that New's float32 objectives agree with the
// float64 instances the gradient tests check, to float32 precision.
func TestObjectiveFloat32(t *testing.T) {
	in := newGradInputs(5)
	f32 := func(x []float64) []float32 {
		y := make([]float32, len(x))
		for i, v := range x {
			y[i] = float32(v)
		}
		return y
	}
	sReal, sFake, yTrue, yFake, logits := f32(in.sReal), f32(in.sFake), f32(in.yTrue),
		f32(in.yFake), f32(in.logits)
	const rel, abs = 1e-5, 1e-7
	for _, name := range Names() {
		o32, err := New(name, testConfig)
		if err != nil {
			t.Fatal(err)
		}
		o64, _ := newObjective[float64](name, testConfig)
		B, N := len(sFake), len(yTrue)
		want64 := []float64{o64.GenLoss(nil, nil, nil, in.sFake, in.yTrue, in.yFake, in.logits)}
		got32 := []float64{o32.GenLoss(nil, nil, nil, sFake, yTrue, yFake, logits)}
		if o32.UsesDiscriminator() {
			want64 = append(want64, o64.DiscLoss(nil, nil, in.sReal, in.sFake, in.yTrue, in.yFake))
			got32 = append(got32, o32.DiscLoss(make([]float32, B), make([]float32, B),
				sReal, sFake, yTrue, yFake))
		}
		g64, g32 := make([]float64, N), make([]float32, N)
		o64.GenLoss(nil, g64, nil, in.sFake, in.yTrue, in.yFake, in.logits)
		o32.GenLoss(nil, g32, nil, sFake, yTrue, yFake, logits)
		for k := range g64 {
			want64, got32 = append(want64, g64[k]), append(got32, float64(g32[k]))
		}
		for k := range want64 {
			if !near(got32[k], want64[k], rel, abs) {
				t.Errorf("%s: float32 value %d = %g, float64 %g", name, k, got32[k], want64[k])
			}
		}
	}
}

func TestNewAndNames(t *testing.T) {
	want := []string{"wgan-gp", "ebgan", "mse", "logloss", "ce"}
	if got := Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	Names()[0] = "changed"
	if Names()[0] != "wgan-gp" {
		t.Fatal("Names returned the registry itself")
	}

	for _, tc := range []struct {
		name     string
		disc, gp bool
	}{
		{"wgan-gp", true, true},
		{"ebgan", true, false},
		{"mse", true, false},
		{"logloss", true, false},
		{"ce", false, false},
	} {
		o, err := New(tc.name, DefaultConfig())
		if err != nil {
			t.Fatalf("New(%q): %v", tc.name, err)
		}
		if o.Name() != tc.name || o.UsesDiscriminator() != tc.disc || o.UsesGradientPenalty() != tc.gp {
			t.Errorf("New(%q): Name %q, UsesDiscriminator %v, UsesGradientPenalty %v",
				tc.name, o.Name(), o.UsesDiscriminator(), o.UsesGradientPenalty())
		}
	}

	_, err := New("wgan", DefaultConfig())
	if !errors.Is(err, ErrUnknownObjective) {
		t.Fatalf("New(\"wgan\") error = %v, want ErrUnknownObjective", err)
	}
	for _, n := range want {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error %q does not list %q", err, n)
		}
	}
}

func TestConfig(t *testing.T) {
	if c := DefaultConfig(); c != (Config{Lambda: 10, Margin: 10, Omega: 0.01, Alpha: 1}) {
		t.Errorf("DefaultConfig() = %+v", c)
	}
	for _, tc := range []struct {
		name string
		c    Config
		bad  string
	}{
		{"negative alpha", Config{Alpha: -1}, "alpha"},
		{"NaN omega", Config{Omega: math.NaN()}, "omega"},
		{"infinite lambda", Config{Lambda: math.Inf(1)}, "lambda"},
		{"negative margin", Config{Margin: -0.5}, "margin"},
	} {
		_, err := New("ebgan", tc.c)
		if err == nil || !strings.HasPrefix(err.Error(), "losses: ") ||
			!strings.Contains(err.Error(), tc.bad) {
			t.Errorf("%s: error %v, want one naming %s", tc.name, err, tc.bad)
		}
	}
}

func TestObjectivePanics(t *testing.T) {
	o, _ := New("ebgan", DefaultConfig())
	ce, _ := New("ce", DefaultConfig())
	s2, s3, m6 := make([]float32, 2), make([]float32, 3), make([]float32, 6)
	mustPanic(t, "sReal length", func() { o.DiscLoss(nil, nil, s3, s2, nil, nil) })
	mustPanic(t, "gFake length", func() { o.DiscLoss(nil, s3, s2, s2, nil, nil) })
	mustPanic(t, "empty batch", func() { o.DiscLoss(nil, nil, nil, nil, nil, nil) })
	mustPanic(t, "mask not a multiple of B", func() {
		o.GenLoss(nil, nil, nil, make([]float32, 4), m6, m6, m6)
	})
	mustPanic(t, "logits length", func() { o.GenLoss(nil, nil, nil, s2, m6, m6, s3) })
	mustPanic(t, "ebgan needs yFake", func() { o.GenLoss(nil, nil, nil, s2, m6, nil, m6) })
	mustPanic(t, "gY length", func() { o.GenLoss(nil, s3, nil, s2, m6, m6, m6) })
	mustPanic(t, "ce has no discriminator", func() { ce.DiscLoss(nil, nil, s2, s2, m6, m6) })
	mse, _ := New("mse", DefaultConfig())
	mustPanic(t, "mse needs yFake", func() { mse.DiscLoss(nil, nil, s2, s2, m6, nil) })
}
