package losses

// ceOnly is the supervised baseline: no discriminator, and the generator
// minimises plain cross entropy,
//
//	L_G = CE(yTrue, logits)
//
// with weight 1: Config.Alpha weighs CE against an adversarial term and there
// is none here.
type ceOnly[F Float] struct{}

func (ceOnly[F]) Name() string              { return "ce" }
func (ceOnly[F]) UsesDiscriminator() bool   { return false }
func (ceOnly[F]) UsesGradientPenalty() bool { return false }

// DiscLoss must not be called: "ce" trains no discriminator. It panics.
func (ceOnly[F]) DiscLoss(gReal, gFake, sReal, sFake, yTrue, yFake []F) float64 {
	panic("losses: ce DiscLoss: objective ce has no discriminator")
}

// GenLoss returns CE(yTrue, logits) with gLogits = ∂CE/∂logits; gFake and gY,
// when given, are zeroed. sFake and yFake are ignored and may be nil; when
// given, gFake must have len(sFake) elements and gY len(logits).
func (ceOnly[F]) GenLoss(gFake, gY, gLogits, sFake, yTrue, yFake, logits []F) float64 {
	const who = "ce GenLoss"
	mustLen(who, "gFake", gFake, len(sFake), true)
	mustLen(who, "gY", gY, len(logits), true)
	fill(gFake, 0)
	fill(gY, 0)
	return crossEntropy(gLogits, yTrue, logits, 1, who)
}
