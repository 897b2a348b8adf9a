package data

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Augment describes the random geometric augmentation of a training
// sample. The same transform moves the image and its mask, so the mask
// stays a segmentation of the image. The zero value changes nothing.
//
// Pixels brought in from outside the frame, by a shift or by a crop near
// the border, repeat the nearest edge pixel, in the image and in the mask
// alike: a horse cut by the border continues into the padding, and the
// mask marks that continuation as horse, which is what the image shows.
// Zero padding would instead show the network black bands that no test
// image has.
type Augment struct {
	// Flip mirrors the sample left-right with probability ½.
	Flip bool
	// MaxShift translates the sample by dx and dy pixels, each drawn
	// uniformly from the integers in [−MaxShift, MaxShift]; 0 is off.
	MaxShift int
	// Scale crops a square of side c·S, c drawn uniformly from
	// [1−Scale, 1], at a uniform position inside the frame, and resizes it
	// back to S×S (a zoom in by up to 1/(1−Scale)); 0 is off, and Scale
	// must lie in [0, 1).
	Scale float64
}

// Transform is one draw of an Augment: the inverse map from an output
// pixel (x, y) to the input position (u, v) it reads is
//
//	x' = S−1−x if Flip, else x
//	u  = OX + (x' − DX + ½)·Crop − ½
//	v  = OY + (y − DY + ½)·Crop − ½
//
// clamped to [0, S−1]. The image is sampled bilinearly at (u, v), the mask
// at the nearest pixel, so it stays binary. With Crop = 1 and integer
// shifts every sample falls on a pixel and the transform only moves
// values.
type Transform struct {
	Flip   bool
	DX, DY int     // translation in output pixels
	Crop   float64 // side of the crop as a fraction of S, in (0, 1]; 0 means 1
	OX, OY float64 // top-left corner of the crop, in input pixels
}

// Draw draws a Transform from rng. It draws, in this order and only for
// the parts that are on: the flip, the crop fraction and its corner, the
// shifts; so a given rng state and Augment always give the same Transform.
// It panics if MaxShift < 0 or Scale is outside [0, 1).
func (a Augment) Draw(rng *rand.Rand, size int) Transform {
	if a.MaxShift < 0 || !(a.Scale >= 0 && a.Scale < 1) {
		panic(fmt.Sprintf("data: Augment: MaxShift %d, Scale %g", a.MaxShift, a.Scale))
	}
	t := Transform{Crop: 1}
	if a.Flip {
		t.Flip = rng.Uint64()&1 == 1
	}
	if a.Scale > 0 {
		t.Crop = 1 - a.Scale*rng.Float64()
		free := float64(size) * (1 - t.Crop)
		t.OX = free * rng.Float64()
		t.OY = free * rng.Float64()
	}
	if a.MaxShift > 0 {
		t.DX = rng.IntN(2*a.MaxShift+1) - a.MaxShift
		t.DY = rng.IntN(2*a.MaxShift+1) - a.MaxShift
	}
	return t
}

// Apply draws a Transform from rng and applies it: dstImg (3·size·size,
// CHW) and dstMask (size·size) receive the augmented img and mask. mask
// and dstMask may both be nil. The destinations must not overlap the
// sources. It allocates nothing and panics on slices of the wrong length.
func (a Augment) Apply(rng *rand.Rand, dstImg, dstMask, img, mask []float32, size int) {
	if a == (Augment{}) {
		checkAugmentLengths(dstImg, dstMask, img, mask, size)
		copy(dstImg, img)
		copy(dstMask, mask)
		return
	}
	a.Draw(rng, size).Apply(dstImg, dstMask, img, mask, size)
}

// Apply writes into dstImg and dstMask the transformed img and mask, as
// Augment.Apply does.
func (t Transform) Apply(dstImg, dstMask, img, mask []float32, size int) {
	checkAugmentLengths(dstImg, dstMask, img, mask, size)
	c := t.Crop
	if c == 0 {
		c = 1
	}
	p := size * size
	last := float64(size - 1)

	for y := range size {
		v := clamp(t.OY+(float64(y-t.DY)+0.5)*c-0.5, 0, last)
		y0 := int(v)
		y1 := min(y0+1, size-1)
		wy := float32(v - float64(y0))
		my := int(math.Floor(v + 0.5))
		for x := range size {
			xs := x
			if t.Flip {
				xs = size - 1 - x
			}
			u := clamp(t.OX+(float64(xs-t.DX)+0.5)*c-0.5, 0, last)
			x0 := int(u)
			x1 := min(x0+1, size-1)
			wx := float32(u - float64(x0))

			// Bilinear: exact copies when wx = wy = 0.
			for ch := range 3 {
				src := img[ch*p : (ch+1)*p]
				top := src[y0*size+x0]*(1-wx) + src[y0*size+x1]*wx
				bottom := src[y1*size+x0]*(1-wx) + src[y1*size+x1]*wx
				dstImg[ch*p+y*size+x] = top*(1-wy) + bottom*wy
			}
			if mask != nil {
				mx := int(math.Floor(u + 0.5))
				dstMask[y*size+x] = mask[my*size+mx]
			}
		}
	}
}

// clamp returns v limited to [lo, hi].
func clamp(v, lo, hi float64) float64 {
	return min(max(v, lo), hi)
}

// checkAugmentLengths panics unless the slices fit size.
func checkAugmentLengths(dstImg, dstMask, img, mask []float32, size int) {
	p := size * size
	if size < 1 || len(img) != 3*p || len(dstImg) != 3*p ||
		len(mask) != len(dstMask) || (mask != nil && len(mask) != p) {
		panic(fmt.Sprintf("data: Augment: size %d: image %d→%d values, mask %d→%d",
			size, len(img), len(dstImg), len(mask), len(dstMask)))
	}
}
