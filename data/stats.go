package data

import (
	"fmt"
	"math"
)

// MinStd is the smallest standard deviation ComputeStats returns, so that
// Normalize never divides by zero on a constant channel.
const MinStd = 1e-3

// Stats holds the per-channel normalisation of the images, RGB order.
// It is saved with a trained model: the exported graph applies it.
type Stats struct {
	Mean [3]float32 `json:"mean"`
	Std  [3]float32 `json:"std"`
}

// Identity is the normalisation that changes nothing.
var Identity = Stats{Std: [3]float32{1, 1, 1}}

// ComputeStats returns the mean μ_c and the population standard deviation
// σ_c of each channel over all pixels of all images of d (package doc),
// accumulated in float64; σ_c is at least MinStd. An empty dataset gives
// Identity.
func ComputeStats(d *Dataset) Stats {
	if d.Len() == 0 {
		return Identity
	}
	p := d.Size * d.Size
	var sum, sumSq [3]float64
	for _, img := range d.Images {
		for c := range 3 {
			for _, v := range img[c*p : (c+1)*p] {
				sum[c] += float64(v)
				sumSq[c] += float64(v) * float64(v)
			}
		}
	}

	var s Stats
	n := float64(d.Len() * p)
	for c := range 3 {
		mu := sum[c] / n
		variance := max(sumSq[c]/n-mu*mu, 0) // rounding can make it negative
		s.Mean[c] = float32(mu)
		s.Std[c] = float32(max(math.Sqrt(variance), MinStd))
	}
	return s
}

// Normalize writes into dst the CHW image chw normalised per channel,
// (x − μ_c)/σ_c. dst may be chw. It panics if len(dst) != len(chw) or the
// length is not a multiple of 3.
func (s Stats) Normalize(dst, chw []float32) {
	if len(dst) != len(chw) || len(chw)%3 != 0 {
		panic(fmt.Sprintf("data: Normalize: %d values into %d", len(chw), len(dst)))
	}
	p := len(chw) / 3
	for c := range 3 {
		mu, sigma := s.Mean[c], s.Std[c]
		src, out := chw[c*p:(c+1)*p], dst[c*p:(c+1)*p]
		for i, v := range src {
			out[i] = (v - mu) / sigma
		}
	}
}

// Denormalize undoes Normalize: dst = x̂·σ_c + μ_c. dst may be chw. It
// panics as Normalize does.
func (s Stats) Denormalize(dst, chw []float32) {
	if len(dst) != len(chw) || len(chw)%3 != 0 {
		panic(fmt.Sprintf("data: Denormalize: %d values into %d", len(chw), len(dst)))
	}
	p := len(chw) / 3
	for c := range 3 {
		mu, sigma := s.Mean[c], s.Std[c]
		src, out := chw[c*p:(c+1)*p], dst[c*p:(c+1)*p]
		for i, v := range src {
			out[i] = v*sigma + mu
		}
	}
}
