package losses

// wganGP is the Wasserstein GAN with gradient penalty (Gulrajani et al.
// 2017); D is a critic whose score is high for real inputs.
//
//	L_D = mean(sFake) − mean(sReal)   (+ λ·GP, added by the caller)
//	L_G = −mean(sFake) + α·CE(yTrue, logits)
type wganGP[F Float] struct{ c Config }

func (wganGP[F]) Name() string              { return "wgan-gp" }
func (wganGP[F]) UsesDiscriminator() bool   { return true }
func (wganGP[F]) UsesGradientPenalty() bool { return true }

// DiscLoss returns mean(sFake) − mean(sReal) with ∂/∂sReal = −1/B and
// ∂/∂sFake = +1/B: raising a real score lowers L_D.
func (wganGP[F]) DiscLoss(gReal, gFake, sReal, sFake, yTrue, yFake []F) float64 {
	B := discShape("wgan-gp DiscLoss", gReal, gFake, sReal, sFake)
	fill(gReal, -1/float64(B))
	fill(gFake, 1/float64(B))
	return mean(sFake) - mean(sReal)
}

// GenLoss returns −mean(sFake) + α·CE with ∂/∂sFake = −1/B.
func (o wganGP[F]) GenLoss(gFake, gY, gLogits, sFake, yTrue, yFake, logits []F) float64 {
	B, _ := genShape("wgan-gp GenLoss", gFake, gY, gLogits, sFake, yTrue, yFake, logits)
	fill(gFake, -1/float64(B))
	fill(gY, 0)
	ce := crossEntropy(gLogits, yTrue, logits, o.c.Alpha, "wgan-gp GenLoss")
	return -mean(sFake) + o.c.Alpha*ce
}
