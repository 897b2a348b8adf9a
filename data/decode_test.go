package data

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestDecodeImageCorpus decodes every file of testdata/images and checks
// its outcome: the size and Go type of a good image, the sentinel of a bad
// one, and that the error names the file.
func TestDecodeImageCorpus(t *testing.T) {
	tests := []struct {
		file    string
		wantErr error  // nil: decodes
		w, h    int    // size of a good image
		typ     string // Go type of a good image
	}{
		{file: "rgb.png", w: 16, h: 12, typ: "*image.RGBA"},
		{file: "rgb.jpg", w: 16, h: 12, typ: "*image.YCbCr"},
		{file: "gray16.png", w: 8, h: 6, typ: "*image.Gray16"},
		{file: "rgb48.png", w: 8, h: 6, typ: "*image.RGBA64"},
		{file: "paletted.png", w: 8, h: 6, typ: "*image.Paletted"},
		{file: "gray.jpg", w: 8, h: 6, typ: "*image.Gray"},
		{file: "cmyk.jpg", w: 16, h: 8, typ: "*image.CMYK"},
		{file: "rgba.png", w: 8, h: 6, typ: "*image.NRGBA"},
		{file: "one-pixel.png", w: 1, h: 1, typ: "*image.RGBA"},
		{file: "paletted.gif", w: 8, h: 6, typ: "*image.Paletted"},
		{file: "partial-frame.gif", w: 8, h: 6, typ: "*image.NRGBA"},
		{file: "empty.png", wantErr: ErrEmpty},
		{file: "truncated.png", wantErr: ErrTruncated},
		{file: "truncated.jpg", wantErr: ErrTruncated},
		{file: "signature-cut.png", wantErr: ErrTruncated},
		{file: "text.png", wantErr: ErrNotImage},
		{file: "bitmap.bmp", wantErr: ErrUnsupported},
		{file: "bad-checksum.png", wantErr: ErrCorrupt},
		{file: "huge-header.png", wantErr: ErrTooLarge},
		{file: "zero-width-header.png", wantErr: ErrCorrupt},
		{file: "no-such-file.png", wantErr: os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(corpusDir, tt.file)
			img, err := DecodeImage(path, Limits{})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), path) || !strings.HasPrefix(err.Error(), "data: ") {
					t.Errorf("error %q does not start with data: and name %s", err, path)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b := img.Bounds()
			if b.Dx() != tt.w || b.Dy() != tt.h || fmt.Sprintf("%T", img) != tt.typ {
				t.Errorf("got %T %dx%d, want %s %dx%d", img, b.Dx(), b.Dy(), tt.typ, tt.w, tt.h)
			}
			// Every colour model converts to CHW values in [0,1].
			for _, v := range ToCHW(img, 4) {
				if v < 0 || v > 1 {
					t.Fatalf("ToCHW value %g outside [0,1]", v)
				}
			}
		})
	}
}

// TestDecodeCMYK checks the colours of the hand-made CMYK JPEG: its first
// block is cyan-heavy (little red), its second magenta-heavy and dark.
func TestDecodeCMYK(t *testing.T) {
	img, err := DecodeImage(filepath.Join(corpusDir, "cmyk.jpg"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	chw := ToCHW(img, 16)
	p := 16 * 16
	red0, green0 := chw[3*16+3], chw[p+3*16+3]
	red1, green1 := chw[3*16+11], chw[p+3*16+11]
	if !(red0 < green0) || !(green1 < red1) || red1 > 0.8 {
		t.Errorf("pixel colours (r,g) %g,%g and %g,%g do not follow the CMYK inks",
			red0, green0, red1, green1)
	}
}

// TestDecodeLimit checks that the pixel limit refuses an image from its
// header alone, with an error that names the limit.
func TestDecodeLimit(t *testing.T) {
	tests := []struct {
		file string
		lim  Limits
		want error
	}{
		{"rgb.png", Limits{MaxPixels: 16 * 12}, nil},
		{"rgb.png", Limits{MaxPixels: 16*12 - 1}, ErrTooLarge},
		{"rgb.jpg", Limits{MaxPixels: 100}, ErrTooLarge},
		{"huge-header.png", Limits{}, ErrTooLarge},
		{"one-pixel.png", Limits{MaxPixels: 1}, nil},
	}
	for _, tt := range tests {
		path := filepath.Join(corpusDir, tt.file)
		_, err := DecodeImage(path, tt.lim)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s with %+v: err = %v, want %v", tt.file, tt.lim, err, tt.want)
			continue
		}
		if tt.want == nil {
			continue
		}
		var le *LimitError
		want := ", above the limit of " + strconv.FormatInt(tt.lim.withDefaults().MaxPixels, 10)
		if !errors.As(err, &le) || le.Field != "MaxPixels" || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("%s: error %q is not a LimitError of MaxPixels ending in %q (no Go field)",
				tt.file, err, want)
		}
	}

	// The huge header must be refused without allocating its pixels.
	b, err := os.ReadFile(filepath.Join(corpusDir, "huge-header.png"))
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = Decode(bytes.NewReader(b), "huge", Limits{})
	runtime.ReadMemStats(&after)
	if grown := after.TotalAlloc - before.TotalAlloc; !errors.Is(err, ErrTooLarge) || grown > 1<<20 {
		t.Errorf("err = %v after allocating %d bytes, want ErrTooLarge under 1 MiB", err, grown)
	}
}

// FuzzDecodeImage checks that no input panics the decoder, that every
// image it returns respects the pixel limit, and that every error names
// the input and wraps one sentinel.
func FuzzDecodeImage(f *testing.F) {
	for name, b := range corpusFiles() {
		if name != "huge-header.png" {
			f.Add(b)
		}
	}
	f.Add(pngHeader(2000, 2000))
	const maxPixels = 1 << 16
	sentinels := []error{ErrEmpty, ErrTruncated, ErrNotImage, ErrUnsupported, ErrCorrupt, ErrTooLarge}
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := Decode(bytes.NewReader(b), "fuzz-input", Limits{MaxPixels: maxPixels})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "data: fuzz-input: ") {
				t.Fatalf("error %q does not name the input", err)
			}
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error %q wraps no sentinel", err)
		}
		r := img.Bounds()
		if r.Dx() < 1 || r.Dy() < 1 || int64(r.Dx())*int64(r.Dy()) > maxPixels {
			t.Fatalf("decoded %v, limit %d pixels", r, maxPixels)
		}
	})
}
