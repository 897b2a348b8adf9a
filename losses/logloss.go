package losses

// logLoss is the original GAN's cross-entropy objective (Goodfellow et al.
// 2014) with the non-saturating generator loss; σ(s) is D's probability
// that its input is real.
//
//	L_D = −mean(log σ(sReal)) − mean(log(1 − σ(sFake)))
//	    = mean(softplus(−sReal)) + mean(softplus(sFake))
//	L_G = −mean(log σ(sFake)) + α·CE(yTrue, logits)
//	    = mean(softplus(−sFake)) + α·CE
//
// using log σ(s) = −softplus(−s) and log(1 − σ(s)) = −softplus(s), which stay
// finite for any score and tend to 0 as D becomes certain and right.
type logLoss[F Float] struct{ c Config }

func (logLoss[F]) Name() string              { return "logloss" }
func (logLoss[F]) UsesDiscriminator() bool   { return true }
func (logLoss[F]) UsesGradientPenalty() bool { return false }

// DiscLoss returns mean(softplus(−sReal)) + mean(softplus(sFake)) with
// ∂/∂sReal_i = −σ(−sReal_i)/B and ∂/∂sFake_i = σ(sFake_i)/B.
func (logLoss[F]) DiscLoss(gReal, gFake, sReal, sFake, yTrue, yFake []F) float64 {
	B := discShape("logloss DiscLoss", gReal, gFake, sReal, sFake)
	var sum float64
	for i := range B {
		sr, sf := float64(sReal[i]), float64(sFake[i])
		sum += softplus(-sr) + softplus(sf)
		if gReal != nil {
			gReal[i] = F(-sigmoid(-sr) / float64(B))
		}
		if gFake != nil {
			gFake[i] = F(sigmoid(sf) / float64(B))
		}
	}
	return sum / float64(B)
}

// GenLoss returns mean(softplus(−sFake)) + α·CE with
// ∂/∂sFake_i = −σ(−sFake_i)/B.
func (o logLoss[F]) GenLoss(gFake, gY, gLogits, sFake, yTrue, yFake, logits []F) float64 {
	B, _ := genShape("logloss GenLoss", gFake, gY, gLogits, sFake, yTrue, yFake, logits)
	var sum float64
	for i, s := range sFake {
		sf := float64(s)
		sum += softplus(-sf)
		if gFake != nil {
			gFake[i] = F(-sigmoid(-sf) / float64(B))
		}
	}
	fill(gY, 0)
	ce := crossEntropy(gLogits, yTrue, logits, o.c.Alpha, "logloss GenLoss")
	return sum/float64(B) + o.c.Alpha*ce
}
