package data

import (
	"fmt"
	"image"
	"math"

	"golang.org/x/image/draw"
)

// maskThreshold is the luminance, in 8 bits, from which a mask pixel is
// foreground: the Weizmann masks are near-binary JPEGs.
const maskThreshold = 128

// ToCHW returns img as 3·size·size float32 values in CHW order, RGB scaled
// to [0,1], resized to size×size with a Catmull-Rom kernel (copied as is
// when img is already that size). A side longer than 4·size is first
// reduced to 4·size by area averaging, which is three times faster on the
// Weizmann images and differs from Catmull-Rom alone by less than 1% of the
// range. Alpha is composited onto black. It panics if size < 1.
func ToCHW(img image.Image, size int) []float32 {
	if size < 1 {
		panic(fmt.Sprintf("data: ToCHW: size %d < 1", size))
	}
	rgba := resizeRGBA(img, size, size)
	p := size * size
	chw := make([]float32, 3*p)
	for y := range size {
		row := rgba.Pix[y*rgba.Stride:]
		for x := range size {
			i := y*size + x
			chw[i] = float32(row[4*x]) / 255
			chw[p+i] = float32(row[4*x+1]) / 255
			chw[2*p+i] = float32(row[4*x+2]) / 255
		}
	}
	return chw
}

// ToMask returns img as a w·h mask in {0,1}, row-major: img is resized to
// w×h with nearest-neighbour sampling and a pixel is 1 where its luminance
// is at least 128 of 255. It panics if w or h < 1.
func ToMask(img image.Image, w, h int) []float32 {
	if w < 1 || h < 1 {
		panic(fmt.Sprintf("data: ToMask: size %dx%d", w, h))
	}
	g := toGray(img)
	gw, gh := g.Rect.Dx(), g.Rect.Dy()
	mask := make([]float32, w*h)
	for y := range h {
		row := g.Pix[nearest(y, gh, h)*g.Stride:]
		for x := range w {
			if row[nearest(x, gw, w)] >= maskThreshold {
				mask[y*w+x] = 1
			}
		}
	}
	return mask
}

// maskVia returns what ToMask(img, w, h) resized to size×size by
// resizeNearest gives: the mask resized onto its w×h image, then to
// size×size, both nearest-neighbour, composed into one lookup per pixel.
func maskVia(img image.Image, w, h, size int) []float32 {
	g := toGray(img)
	gw, gh := g.Rect.Dx(), g.Rect.Dy()
	mask := make([]float32, size*size)
	for y := range size {
		row := g.Pix[nearest(nearest(y, h, size), gh, h)*g.Stride:]
		for x := range size {
			if row[nearest(nearest(x, w, size), gw, w)] >= maskThreshold {
				mask[y*size+x] = 1
			}
		}
	}
	return mask
}

// ProbToGray returns the probability map p (pw·ph values in [0,1],
// row-major) as a w×h gray image, 255 for probability 1, resized with a
// bilinear kernel. Values outside [0,1] are clamped and NaN reads as 0. It
// panics if len(p) != pw·ph or a size is below 1.
func ProbToGray(p []float32, pw, ph, w, h int) *image.Gray {
	if pw < 1 || ph < 1 || w < 1 || h < 1 || len(p) != pw*ph {
		panic(fmt.Sprintf("data: ProbToGray: %d values for %dx%d, to %dx%d",
			len(p), pw, ph, w, h))
	}
	src := image.NewGray(image.Rect(0, 0, pw, ph))
	for i, v := range p {
		src.Pix[i] = grayLevel(v)
	}
	if pw == w && ph == h {
		return src
	}
	dst := image.NewGray(image.Rect(0, 0, w, h))
	draw.BiLinear.Scale(dst, dst.Rect, src, src.Rect, draw.Src, nil)
	return dst
}

// grayLevel maps a probability to 0..255, clamping and reading NaN as 0.
func grayLevel(v float32) uint8 {
	switch {
	case !(v > 0): // also NaN
		return 0
	case v >= 1:
		return 255
	}
	return uint8(math.Round(float64(v) * 255))
}

// MaskToGray returns the probability map p as a binary w×h image: 255 where
// the bilinearly resized probability is at least ½, else 0. Resizing the
// probabilities before thresholding gives smoother outlines at a larger
// size than resizing a thresholded mask. It panics as ProbToGray does.
func MaskToGray(p []float32, pw, ph, w, h int) *image.Gray {
	g := ProbToGray(p, pw, ph, w, h)
	for i, v := range g.Pix {
		if v >= maskThreshold {
			g.Pix[i] = 255
		} else {
			g.Pix[i] = 0
		}
	}
	return g
}

// Overlay returns img, at its own size and with its origin moved to (0,0),
// tinted red where the probability map p (pw·ph values) resized onto it is
// at least ½: such a pixel becomes the mean of its colour and pure red. It
// panics as ProbToGray does.
func Overlay(img image.Image, p []float32, pw, ph int) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Rect, img, b.Min, draw.Src)
	if b.Empty() {
		return out
	}
	m := MaskToGray(p, pw, ph, b.Dx(), b.Dy())
	for y := range b.Dy() {
		row := out.Pix[y*out.Stride:]
		for x := range b.Dx() {
			if m.Pix[y*m.Stride+x] == 0 {
				continue
			}
			row[4*x] = uint8((uint16(row[4*x]) + 255) / 2)
			row[4*x+1] /= 2
			row[4*x+2] /= 2
			row[4*x+3] = 255
		}
	}
	return out
}

// CHWToImage returns the CHW image chw (3·size·size values, RGB in [0,1],
// not normalised) as an opaque size×size image, for sample grids. Values
// outside [0,1] are clamped. It panics if len(chw) != 3·size·size.
func CHWToImage(chw []float32, size int) *image.RGBA {
	p := size * size
	if size < 1 || len(chw) != 3*p {
		panic(fmt.Sprintf("data: CHWToImage: %d values for size %d", len(chw), size))
	}
	out := image.NewRGBA(image.Rect(0, 0, size, size))
	for i := range p {
		out.Pix[4*i] = grayLevel(chw[i])
		out.Pix[4*i+1] = grayLevel(chw[p+i])
		out.Pix[4*i+2] = grayLevel(chw[2*p+i])
		out.Pix[4*i+3] = 255
	}
	return out
}

// MaskToImage returns the mask (size·size values in [0,1]) as a gray image
// with 255 for 1, for sample grids. It panics if len(mask) != size·size.
func MaskToImage(mask []float32, size int) *image.Gray {
	return ProbToGray(mask, size, size, size, size)
}
