package losses

// mseGAN is the GAN whose discriminator regresses the IoU reward: D learns
// to predict the soft IoU of the fake mask and 1 for the ground truth, and
// the generator climbs D's prediction.
//
//	L_D = mean((sFake − R(yTrue, yFake))²) + mean((sReal − 1)²)
//	L_G = −mean(sFake) + α·CE(yTrue, logits)
//
// The target R is computed with yFake detached, so L_D has no gradient with
// respect to the mask.
type mseGAN[F Float] struct{ c Config }

func (mseGAN[F]) Name() string              { return "mse" }
func (mseGAN[F]) UsesDiscriminator() bool   { return true }
func (mseGAN[F]) UsesGradientPenalty() bool { return false }

// DiscLoss returns mean((sFake − R)²) + mean((sReal − 1)²) with
// ∂/∂sFake_i = 2(sFake_i − R_i)/B and ∂/∂sReal_i = 2(sReal_i − 1)/B. yTrue
// and yFake (length B·P) must not be nil.
func (mseGAN[F]) DiscLoss(gReal, gFake, sReal, sFake, yTrue, yFake []F) float64 {
	const who = "mse DiscLoss"
	B := discShape(who, gReal, gFake, sReal, sFake)
	_, P := batchShape(who, sFake, yTrue)
	mustLen(who, "yFake", yFake, B*P, false)

	var lossReal, lossFake float64
	for i := range B {
		inter, union := softIoUSums(yTrue[i*P:(i+1)*P], yFake[i*P:(i+1)*P])
		dFake := float64(sFake[i]) - softIoURatio(inter, union)
		dReal := float64(sReal[i]) - 1
		lossFake += dFake * dFake
		lossReal += dReal * dReal
		if gFake != nil {
			gFake[i] = F(2 * dFake / float64(B))
		}
		if gReal != nil {
			gReal[i] = F(2 * dReal / float64(B))
		}
	}
	return (lossFake + lossReal) / float64(B)
}

// GenLoss returns −mean(sFake) + α·CE with ∂/∂sFake = −1/B.
func (o mseGAN[F]) GenLoss(gFake, gY, gLogits, sFake, yTrue, yFake, logits []F) float64 {
	B, _ := genShape("mse GenLoss", gFake, gY, gLogits, sFake, yTrue, yFake, logits)
	fill(gFake, -1/float64(B))
	fill(gY, 0)
	ce := crossEntropy(gLogits, yTrue, logits, o.c.Alpha, "mse GenLoss")
	return -mean(sFake) + o.c.Alpha*ce
}
