package losses

// ebgan is the energy-based GAN (Zhao et al. 2017): the score is an energy,
// low for real inputs, and fakes are pushed to energies above the margin m.
//
//	L_D = mean(sReal) + mean(max(0, m − sFake))
//	L_G = mean(sFake) + ω·PT(yFake) + α·CE(yTrue, logits)
type ebgan[F Float] struct{ c Config }

func (ebgan[F]) Name() string              { return "ebgan" }
func (ebgan[F]) UsesDiscriminator() bool   { return true }
func (ebgan[F]) UsesGradientPenalty() bool { return false }

// DiscLoss returns mean(sReal) + mean(max(0, m − sFake)) with
// ∂/∂sReal = 1/B and ∂/∂sFake_i = −1/B where m − sFake_i > 0, else 0. At the
// hinge's kink (sFake_i = m exactly) the derivative 0 is used.
func (o ebgan[F]) DiscLoss(gReal, gFake, sReal, sFake, yTrue, yFake []F) float64 {
	B := discShape("ebgan DiscLoss", gReal, gFake, sReal, sFake)
	fill(gReal, 1/float64(B))

	var hinge float64
	for i, s := range sFake {
		gap := o.c.Margin - float64(s)
		g := 0.0
		if gap > 0 {
			hinge += gap
			g = -1 / float64(B)
		}
		if gFake != nil {
			gFake[i] = F(g)
		}
	}
	return mean(sReal) + hinge/float64(B)
}

// GenLoss returns mean(sFake) + ω·PT(yFake) + α·CE with ∂/∂sFake = 1/B,
// gY = ω·∂PT/∂yFake and gLogits = α·∂CE/∂logits. yFake must not be nil.
func (o ebgan[F]) GenLoss(gFake, gY, gLogits, sFake, yTrue, yFake, logits []F) float64 {
	const who = "ebgan GenLoss"
	B, _ := genShape(who, gFake, gY, gLogits, sFake, yTrue, yFake, logits)
	if yFake == nil {
		panic("losses: " + who + ": yFake is nil")
	}
	fill(gFake, 1/float64(B))
	pt := pullAway(gY, yFake, B, o.c.Omega)
	ce := crossEntropy(gLogits, yTrue, logits, o.c.Alpha, who)
	return mean(sFake) + o.c.Omega*pt + o.c.Alpha*ce
}
