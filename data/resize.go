package data

import (
	"image"

	"golang.org/x/image/draw"
)

// preShrink is the factor, relative to the target size, above which an
// image is first reduced by area averaging before the Catmull-Rom step.
// Catmull-Rom over a large reduction costs four multiply-adds per source
// pixel, channel and axis, and on YCbCr input converts each pixel four
// times; area averaging to 4·size first takes a third of the time, and the
// final Catmull-Rom step over a factor of 4 still filters out what area
// averaging lets through.
const preShrink = 4

// toRGBA returns img as an *image.RGBA with its origin at (0,0), without a
// copy when it already is one.
func toRGBA(img image.Image) *image.RGBA {
	if m, ok := img.(*image.RGBA); ok && m.Rect.Min == (image.Point{}) {
		return m
	}
	b := img.Bounds()
	m := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(m, m.Rect, img, b.Min, draw.Src)
	return m
}

// toGray returns img as an *image.Gray with its origin at (0,0), without a
// copy when it already is one. Colour becomes luminance.
func toGray(img image.Image) *image.Gray {
	if m, ok := img.(*image.Gray); ok && m.Rect.Min == (image.Point{}) {
		return m
	}
	b := img.Bounds()
	m := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(m, m.Rect, img, b.Min, draw.Src)
	return m
}

// resizeRGBA returns img resized to w×h: copied when it has that size,
// else resized with Catmull-Rom, after an area reduction of each side
// longer than preShrink times the target.
func resizeRGBA(img image.Image, w, h int) *image.RGBA {
	b := img.Bounds()
	if b.Dx() == w && b.Dy() == h {
		return toRGBA(img)
	}
	src := img
	if b.Dx() > preShrink*w || b.Dy() > preShrink*h {
		src = areaShrink(toRGBA(img), min(b.Dx(), preShrink*w), min(b.Dy(), preShrink*h))
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Rect, src, src.Bounds(), draw.Src, nil)
	return dst
}

// areaWeights gives, for n output cells over m source pixels (n ≤ m), the
// source pixels each cell covers and their weights: cell i covers the
// interval [i·m/n, (i+1)·m/n), each pixel weighted by the length of its
// overlap with it divided by m/n, so the weights of a cell sum to 1.
type areaWeights struct {
	off []int     // cell i uses entries off[i] to off[i+1]
	idx []int     // source pixel of each entry
	w   []float32 // weight of each entry
}

func newAreaWeights(n, m int) areaWeights {
	a := areaWeights{off: make([]int, n+1)}
	scale := float64(m) / float64(n)
	for i := range n {
		lo, hi := float64(i)*scale, float64(i+1)*scale
		for j := int(lo); j < m && float64(j) < hi; j++ {
			overlap := min(hi, float64(j+1)) - max(lo, float64(j))
			if overlap > 0 {
				a.idx = append(a.idx, j)
				a.w = append(a.w, float32(overlap/scale))
			}
		}
		a.off[i+1] = len(a.idx)
	}
	return a
}

// areaShrink returns src reduced to w×h by area averaging; w and h are at
// most the width and height of src. Its origin must be (0,0).
func areaShrink(src *image.RGBA, w, h int) *image.RGBA {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	ax, ay := newAreaWeights(w, sw), newAreaWeights(h, sh)

	// Horizontal pass: every source row to w cells, 4 channels, float32.
	rows := make([]float32, sh*w*4)
	for y := range sh {
		in := src.Pix[y*src.Stride:]
		out := rows[y*w*4 : (y+1)*w*4]
		for i := range w {
			var r, g, b, a float32
			for k := ax.off[i]; k < ax.off[i+1]; k++ {
				p, wt := in[4*ax.idx[k]:4*ax.idx[k]+4], ax.w[k]
				r += wt * float32(p[0])
				g += wt * float32(p[1])
				b += wt * float32(p[2])
				a += wt * float32(p[3])
			}
			out[4*i], out[4*i+1], out[4*i+2], out[4*i+3] = r, g, b, a
		}
	}

	// Vertical pass, rounding to 8 bits.
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	acc := make([]float32, w*4)
	for j := range h {
		clear(acc)
		for k := ay.off[j]; k < ay.off[j+1]; k++ {
			row, wt := rows[ay.idx[k]*w*4:(ay.idx[k]+1)*w*4], ay.w[k]
			for i, v := range row {
				acc[i] += wt * v
			}
		}
		out := dst.Pix[j*dst.Stride:]
		for i, v := range acc {
			out[i] = uint8(min(max(v+0.5, 0), 255))
		}
	}
	return dst
}

// resizeNearest writes into dst (dw·dh values) the row-major map src
// (sw·sh values) resized with nearest-neighbour sampling: destination pixel
// x reads source pixel ⌊(x+½)·sw/dw⌋, as draw.NearestNeighbor does.
func resizeNearest(dst []float32, dw, dh int, src []float32, sw, sh int) {
	for y := range dh {
		sy := nearest(y, sh, dh)
		for x := range dw {
			dst[y*dw+x] = src[sy*sw+nearest(x, sw, dw)]
		}
	}
}

// nearest returns the source index ⌊(x+½)·m/n⌋ that nearest-neighbour
// sampling of m pixels onto n reads for destination index x.
func nearest(x, m, n int) int {
	return (2*x + 1) * m / (2 * n)
}
