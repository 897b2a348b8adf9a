package langevin

import "slices"

// Infer returns the masks of the deterministic unroll (σ0 = τ = 0) of the n
// normalised images x ([n,3,S,S]). With mirror it also unrolls the mirror
// images (every row reversed) and returns, per pixel, the mean of the two
// masks, the second mirrored back: the test-time flip average. The energy
// is not mirror-symmetric (its prior and kernels are learned), so the two
// unrolls differ and their mean is a two-member ensemble at twice the cost.
// The result belongs to the Unroller and stays valid until the next Infer;
// x is left unchanged.
func (u *Unroller) Infer(x []float32, n int, mirror bool) ([]float32, error) {
	y, _, err := u.Forward(x, n, nil)
	if err != nil || !mirror {
		return y, err
	}
	s := u.Energy.Size
	m := n * s * s
	u.mean = append(u.mean[:0], y[:m]...)
	u.mirrored = append(u.mirrored[:0], x[:n*3*s*s]...)
	Mirror(u.mirrored, s)
	ym, _, err := u.Forward(u.mirrored, n, nil)
	if err != nil {
		return nil, err
	}
	Mirror(ym[:m], s)
	for i, v := range ym[:m] {
		u.mean[i] = (u.mean[i] + v) / 2
	}
	return u.mean, nil
}

// Mirror reverses, in place, every row of side s in v (images or masks in
// NCHW order): a left-right mirror image.
func Mirror(v []float32, s int) {
	for r := 0; r+s <= len(v); r += s {
		slices.Reverse(v[r : r+s])
	}
}
