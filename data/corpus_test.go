package data

import (
	"bytes"
	"encoding/binary"
	"flag"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/bits"
	"os"
	"path/filepath"
	"testing"
)

// update rewrites the decoder corpus in testdata/images from corpusFiles:
//
//	go test ./data -run TestCorpus -update
var update = flag.Bool("update", false, "rewrite testdata/images from the generator")

const corpusDir = "testdata/images"

// corpusFiles returns the decoder corpus: small files of every colour model
// and every kind of bad input that DecodeImage must tell apart.
func corpusFiles() map[string][]byte {
	rgb := testPattern(16, 12)
	whole := encodePNG(rgb)
	wholeJPEG := encodeJPEG(rgb)

	gray16 := image.NewGray16(image.Rect(0, 0, 8, 6))
	rgb48 := image.NewRGBA64(image.Rect(0, 0, 8, 6))
	pal := image.NewPaletted(image.Rect(0, 0, 8, 6), palette.Plan9)
	gray := image.NewGray(image.Rect(0, 0, 8, 6))
	nrgba := image.NewNRGBA(image.Rect(0, 0, 8, 6))
	for y := range 6 {
		for x := range 8 {
			v := uint8(30 * (x + y))
			gray16.SetGray16(x, y, color.Gray16{Y: uint16(v)<<8 | 0x7f})
			rgb48.SetRGBA64(x, y, color.RGBA64{uint16(v) << 8, 0x8000, 0xffff - uint16(v)<<8, 0xffff})
			pal.SetColorIndex(x, y, v)
			gray.SetGray(x, y, color.Gray{Y: v})
			nrgba.SetNRGBA(x, y, color.NRGBA{v, 200, 50, uint8(40 * x)})
		}
	}
	one := image.NewRGBA(image.Rect(0, 0, 1, 1))
	one.Set(0, 0, color.RGBA{10, 20, 30, 255})
	var gifBuf bytes.Buffer
	if err := gif.Encode(&gifBuf, pal, nil); err != nil {
		panic(err)
	}
	// A first frame of 4×3 at (2,2) on a logical screen of 8×6.
	frame := image.NewPaletted(image.Rect(2, 2, 6, 5), palette.Plan9)
	for i := range frame.Pix {
		frame.Pix[i] = uint8(7 * i)
	}
	var partial bytes.Buffer
	err := gif.EncodeAll(&partial, &gif.GIF{Image: []*image.Paletted{frame}, Delay: []int{0},
		Config: image.Config{ColorModel: frame.Palette, Width: 8, Height: 6}})
	if err != nil {
		panic(err)
	}
	badCRC := bytes.Clone(whole)
	badCRC[29] ^= 0xff // the IHDR checksum

	return map[string][]byte{
		"empty.png":             {},
		"truncated.png":         whole[:len(whole)/2],
		"truncated.jpg":         wholeJPEG[:len(wholeJPEG)/2],
		"signature-cut.png":     whole[:5],
		"text.png":              []byte("this is a text file, not an image\n"),
		"bitmap.bmp":            append([]byte("BM"), make([]byte, 60)...),
		"bad-checksum.png":      badCRC,
		"rgb.png":               whole,
		"rgb.jpg":               wholeJPEG,
		"gray16.png":            encodePNG(gray16),
		"rgb48.png":             encodePNG(rgb48),
		"paletted.png":          encodePNG(pal),
		"gray.jpg":              encodeJPEG(gray),
		"cmyk.jpg":              encodeCMYKJPEG([][4]uint8{{200, 30, 40, 0}, {10, 220, 60, 90}}),
		"rgba.png":              encodePNG(nrgba),
		"one-pixel.png":         encodePNG(one),
		"paletted.gif":          gifBuf.Bytes(),
		"partial-frame.gif":     partial.Bytes(),
		"huge-header.png":       pngHeader(100000, 100000),
		"zero-width-header.png": pngHeader(0, 10),
	}
}

// TestCorpus checks that the committed corpus holds every generated file,
// and rewrites it with -update. It does not compare bytes, which encoders
// of other Go versions may produce differently.
func TestCorpus(t *testing.T) {
	files := corpusFiles()
	if *update {
		if err := os.MkdirAll(corpusDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(corpusDir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name := range files {
		if _, err := os.Stat(filepath.Join(corpusDir, name)); err != nil {
			t.Errorf("corpus file missing, run with -update: %v", err)
		}
	}
}

// testPattern returns a w×h RGB image with a different colour per pixel.
func testPattern(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.Set(x, y, color.RGBA{uint8(16 * x), uint8(20 * y), uint8(128 + 4*x - 4*y), 255})
		}
	}
	return m
}

func encodePNG(m image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func encodeJPEG(m image.Image) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 95}); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// pngHeader returns a PNG signature and an IHDR chunk declaring a w×h
// 8-bit RGB image, with no pixel data after it.
func pngHeader(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // depth, RGB, deflate, filter, no interlace
	return append([]byte("\x89PNG\r\n\x1a\n"), pngChunk("IHDR", ihdr)...)
}

func pngChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// encodeCMYKJPEG returns a baseline JPEG of len(blocks) 8×8 blocks side by
// side, each of one CMYK colour (ink amounts, 255 = full ink), with the
// Adobe marker that declares CMYK.
// The standard library cannot write CMYK JPEGs; a flat block needs only its
// DC coefficient, 8·(v − 128) under a quantisation table of ones, so one
// DC Huffman table (the standard luminance one) and an AC table holding
// only end-of-block suffice.
func encodeCMYKJPEG(blocks [][4]uint8) []byte {
	var b bytes.Buffer
	seg := func(marker byte, data ...byte) {
		b.Write([]byte{0xff, marker, byte((len(data) + 2) >> 8), byte(len(data) + 2)})
		b.Write(data)
	}
	b.Write([]byte{0xff, 0xd8})
	seg(0xee, 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 0) // transform 0: CMYK
	dqt := make([]byte, 65)
	for i := 1; i < 65; i++ {
		dqt[i] = 1
	}
	seg(0xdb, dqt...)
	w := 8 * len(blocks)
	seg(0xc0, 8, 0, 8, byte(w>>8), byte(w), 4, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0)
	dcBits := []byte{0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0}
	dht := append([]byte{0x00}, dcBits...)
	dht = append(dht, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
	dht = append(dht, 0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00)
	seg(0xc4, dht...)
	seg(0xda, 4, 1, 0, 2, 0, 3, 0, 4, 0, 0, 63, 0)

	// Canonical codes of the DC table, by category.
	var code, length [12]uint32
	c, k := uint32(0), 0
	for l, n := range dcBits {
		for range n {
			code[k], length[k] = c, uint32(l+1)
			c, k = c+1, k+1
		}
		c <<= 1
	}
	var bw bitWriter
	var pred [4]int
	for _, blk := range blocks {
		for ci, v := range blk {
			dc := 8 * (int(255-v) - 128) // Adobe stores inverted inks
			d := dc - pred[ci]
			pred[ci] = dc
			s := bits.Len(uint(max(d, -d)))
			bw.put(code[s], length[s])
			if d < 0 {
				d += 1<<s - 1
			}
			bw.put(uint32(d), uint32(s))
			bw.put(0, 1) // end of block
		}
	}
	b.Write(bw.flush())
	b.Write([]byte{0xff, 0xd9})
	return b.Bytes()
}

// bitWriter packs bits most significant first, stuffing a zero byte
// after every 0xff as JPEG entropy-coded data requires.
type bitWriter struct {
	out  []byte
	acc  uint32
	nacc uint32
}

func (w *bitWriter) put(v, n uint32) {
	for i := int(n) - 1; i >= 0; i-- {
		w.acc = w.acc<<1 | (v>>uint(i))&1
		w.nacc++
		if w.nacc == 8 {
			w.out = append(w.out, byte(w.acc))
			if byte(w.acc) == 0xff {
				w.out = append(w.out, 0)
			}
			w.acc, w.nacc = 0, 0
		}
	}
}

func (w *bitWriter) flush() []byte {
	for w.nacc != 0 {
		w.put(1, 1) // pad with ones
	}
	return w.out
}
