package data

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/draw"
	_ "image/gif" // register the GIF decoder with image.Decode
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"
)

// Default limits, used where a field of Limits is zero or negative.
const (
	// DefaultMaxPixels is 50 megapixels, about 200 MB as 8-bit RGBA.
	DefaultMaxPixels = 50_000_000
	// DefaultMaxFiles bounds the entries of a directory or split file.
	DefaultMaxFiles = 100_000
)

// Limits bounds the resources that loading outside input may take.
// The zero value means the defaults.
type Limits struct {
	// MaxPixels is the largest width·height accepted by DecodeImage,
	// checked on the header before any pixel is decoded.
	MaxPixels int64
	// MaxFiles is the largest number of entries read from one image
	// directory or split file.
	MaxFiles int
}

// withDefaults returns l with zero or negative fields set to the defaults.
func (l Limits) withDefaults() Limits {
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultMaxFiles
	}
	return l
}

// Sentinel errors, wrapped by the errors of DecodeImage and the loaders with
// the name of the file concerned; test them with errors.Is. Their text has no
// package prefix because they are never returned bare.
var (
	ErrEmpty       = errors.New("empty file")
	ErrTruncated   = errors.New("truncated image")
	ErrNotImage    = errors.New("not an image")
	ErrUnsupported = errors.New("unsupported image format")
	ErrCorrupt     = errors.New("corrupt image")
	ErrTooLarge    = errors.New("image too large")
	ErrTooMany     = errors.New("too many files")
)

// LimitError reports input refused by a field of Limits. It wraps ErrTooLarge
// (field MaxPixels) or ErrTooMany (field MaxFiles), so a command line can
// name the flag that raises the limit.
type LimitError struct {
	Path  string // the file or directory refused
	Field string // "MaxPixels" or "MaxFiles"
	What  string // the size in words: "png image is 9x9 = 81 pixels"
	Got   int64  // the measured value, or a lower bound of it
	Max   int64  // the limit in force
}

// Error returns "data: PATH: WHAT, above the limit of MAX". It names no
// field of Limits: the text is for the user of a command, who knows its
// flags, not Go's names.
func (e *LimitError) Error() string {
	return fmt.Sprintf("data: %s: %s, above the limit of %d", e.Path, e.What, e.Max)
}

// Unwrap returns ErrTooLarge or ErrTooMany.
func (e *LimitError) Unwrap() error {
	if e.Field == "MaxFiles" {
		return ErrTooMany
	}
	return ErrTooLarge
}

// DecodeImage decodes the PNG, JPEG or GIF file at path, in any colour model
// that the standard decoders produce (8- and 16-bit gray and RGB, with or
// without alpha, paletted, YCbCr and CMYK JPEG). It reads the header first
// and refuses an image of more than lim.MaxPixels pixels with a *LimitError
// before it decodes any pixel. Other errors name path and wrap ErrEmpty,
// ErrTruncated, ErrNotImage, ErrUnsupported or ErrCorrupt, or the error of
// os.Open.
func DecodeImage(path string, lim Limits) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	return Decode(f, path, lim)
}

// Decode is DecodeImage for a reader; name identifies the input in errors.
func Decode(r io.Reader, name string, lim Limits) (image.Image, error) {
	lim = lim.withDefaults()

	// Read the header, keeping every byte read so that the pixel decoder
	// can replay them: r need not be seekable.
	var head bytes.Buffer
	cfg, format, err := image.DecodeConfig(io.TeeReader(r, &head))
	if err != nil {
		return nil, classify(name, format, head.Bytes(), err)
	}
	w, h := int64(cfg.Width), int64(cfg.Height)
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("data: %s: %w: %s header declares %dx%d pixels",
			name, ErrCorrupt, format, w, h)
	}
	if w*h > lim.MaxPixels { // w, h < 2³¹: the product fits
		return nil, &LimitError{Path: name, Field: "MaxPixels",
			What: fmt.Sprintf("%s image is %dx%d = %d pixels", format, w, h, w*h),
			Got:  w * h, Max: lim.MaxPixels}
	}

	// Decode the pixels, noting whether the decoder reached the end of
	// the input before the format's end marker: a truncated file.
	tail := &tailReader{r: io.MultiReader(&head, r)}
	img, format, err := image.Decode(tail)
	if err != nil {
		if tail.truncated(format) {
			return nil, fmt.Errorf("data: %s: %w: %s ends before its end marker (%v)",
				name, ErrTruncated, format, err)
		}
		return nil, classify(name, format, nil, err)
	}
	b := img.Bounds()
	screen := image.Rect(0, 0, int(w), int(h))
	if format == "gif" && b != screen && b.In(screen) {
		// The first frame of a GIF may cover part of its logical screen:
		// place it on a transparent canvas of the declared size.
		canvas := image.NewNRGBA(screen)
		draw.Draw(canvas, b, img, b.Min, draw.Src)
		return canvas, nil
	}
	if int64(b.Dx()) != w || int64(b.Dy()) != h {
		return nil, fmt.Errorf("data: %s: %w: %s header declares %dx%d, pixels are %dx%d",
			name, ErrCorrupt, format, w, h, b.Dx(), b.Dy())
	}
	return img, nil
}

// unsupportedMagic lists the signatures of image formats that are recognised
// only to say so in the error; a '?' matches any byte.
var unsupportedMagic = []struct{ format, magic string }{
	{"bmp", "BM"},
	{"tiff", "II*\x00"},
	{"tiff", "MM\x00*"},
	{"webp", "RIFF????WEBP"},
	{"jpeg 2000", "\x00\x00\x00\x0cjP  "},
	{"heif/avif", "????ftyp"},
	{"ico", "\x00\x00\x01\x00"},
	{"psd", "8BPS"},
	{"qoi", "qoif"},
	{"pnm", "P6"},
	{"pnm", "P5"},
}

// supportedMagic lists the signatures of the registered decoders, used to
// tell a file cut inside its signature from a file of another kind.
var supportedMagic = []struct{ format, magic string }{
	{"png", "\x89PNG\r\n\x1a\n"},
	{"jpeg", "\xff\xd8"},
	{"gif", "GIF8"},
}

// classify turns an error of image.DecodeConfig or image.Decode into one
// that names the file and wraps a sentinel. head holds the bytes read so
// far, used to tell an empty or foreign file from a truncated one.
func classify(name, format string, head []byte, err error) error {
	if errors.Is(err, image.ErrFormat) {
		if len(head) == 0 {
			return fmt.Errorf("data: %s: %w", name, ErrEmpty)
		}
		for _, m := range supportedMagic {
			if len(head) < len(m.magic) && bytes.HasPrefix([]byte(m.magic), head) {
				return fmt.Errorf("data: %s: %w: %d bytes of a %s signature",
					name, ErrTruncated, len(head), m.format)
			}
		}
		for _, m := range unsupportedMagic {
			if match(m.magic, head) {
				return fmt.Errorf("data: %s: %w %s (want png, jpeg or gif)",
					name, ErrUnsupported, m.format)
			}
		}
		n := min(len(head), 8)
		return fmt.Errorf("data: %s: %w: unknown format, starts with %q",
			name, ErrNotImage, head[:n])
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("data: %s: %w: %s ends early", name, ErrTruncated, format)
	}
	return fmt.Errorf("data: %s: %w: %w", name, ErrCorrupt, err)
}

// match reports whether b starts with magic, where '?' matches any byte.
func match(magic string, b []byte) bool {
	if len(b) < len(magic) {
		return false
	}
	for i := range len(magic) {
		if magic[i] != '?' && magic[i] != b[i] {
			return false
		}
	}
	return true
}

// endMarkers holds the bytes that close a complete file of each format.
var endMarkers = map[string]string{
	"png":  "IEND\xaeB`\x82",
	"jpeg": "\xff\xd9",
	"gif":  "\x3b",
}

// tailReader passes reads through, remembering whether the input ended
// and its last bytes.
type tailReader struct {
	r    io.Reader
	last [8]byte
	n    int // valid bytes at the end of last
	eof  bool
}

func (t *tailReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n >= len(t.last) {
		copy(t.last[:], p[n-len(t.last):n])
		t.n = len(t.last)
	} else if n > 0 {
		copy(t.last[:], t.last[n:])
		copy(t.last[len(t.last)-n:], p[:n])
		t.n = min(t.n+n, len(t.last))
	}
	if err == io.EOF {
		t.eof = true
	}
	return n, err
}

// truncated reports whether the input ended without the end marker of
// format.
func (t *tailReader) truncated(format string) bool {
	m, ok := endMarkers[format]
	return ok && t.eof && !bytes.HasSuffix(t.last[len(t.last)-t.n:], []byte(m))
}
