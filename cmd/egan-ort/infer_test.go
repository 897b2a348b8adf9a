package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/egan-ort/egan-ort/data"
	"github.com/egan-ort/egan-ort/export"
	"github.com/egan-ort/egan-ort/graphs"
	"github.com/egan-ort/egan-ort/onnxpb"
	"github.com/egan-ort/egan-ort/ort"
)

// testImage is an input image for infer, in one colour model and size.
type testImage struct {
	name string
	w, h int
	enc  func(img image.Image) ([]byte, error)
	img  func(r image.Rectangle) image.Image
}

// scene draws a light ellipse on a dark textured background into any
// colour model: something for the model to segment.
func scene(set func(x, y int, c color.NRGBA), w, h int) {
	for y := range h {
		for x := range w {
			dx, dy := float64(2*x-w)/float64(w), float64(2*y-h)/float64(h)
			c := color.NRGBA{uint8(30 + 20*(x%3)), uint8(40 + 10*(y%4)), 60, 255}
			if dx*dx+dy*dy < 0.4 {
				c = color.NRGBA{230, 200, uint8(150 + x%50), 255}
			}
			set(x, y, c)
		}
	}
}

func encPNG(img image.Image) ([]byte, error) {
	var b bytes.Buffer
	err := png.Encode(&b, img)
	return b.Bytes(), err
}

func encJPEG(img image.Image) ([]byte, error) {
	var b bytes.Buffer
	err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90})
	return b.Bytes(), err
}

func encGIF(img image.Image) ([]byte, error) {
	var b bytes.Buffer
	err := gif.Encode(&b, img, nil)
	return b.Bytes(), err
}

// testImages are the colour models infer must read, at sizes unlike the
// model's and each other's.
var testImages = []testImage{
	{"rgb.png", 45, 30, encPNG, func(r image.Rectangle) image.Image { return image.NewRGBA(r) }},
	{"gray.png", 30, 45, encPNG, func(r image.Rectangle) image.Image { return image.NewGray(r) }},
	{"rgba.png", 40, 40, encPNG, func(r image.Rectangle) image.Image { return image.NewNRGBA(r) }},
	{"paletted.png", 33, 21, encPNG, func(r image.Rectangle) image.Image {
		return image.NewPaletted(r, palette.WebSafe)
	}},
	{"rgb48.png", 20, 50, encPNG, func(r image.Rectangle) image.Image { return image.NewRGBA64(r) }},
	{"gray16.png", 17, 17, encPNG, func(r image.Rectangle) image.Image { return image.NewGray16(r) }},
	{"photo.jpg", 300, 200, encJPEG, func(r image.Rectangle) image.Image { return image.NewRGBA(r) }},
	{"grayphoto.jpeg", 64, 48, encJPEG, func(r image.Rectangle) image.Image { return image.NewGray(r) }},
	{"anim.gif", 24, 36, encGIF, func(r image.Rectangle) image.Image {
		return image.NewPaletted(r, palette.Plan9)
	}},
}

// writeTestImages writes testImages into dir, plus the CMYK JPEG of
// testdata (the standard library cannot encode CMYK), and returns their
// paths and sizes.
func writeTestImages(t *testing.T, dir string) ([]string, []image.Point) {
	t.Helper()
	var paths []string
	var sizes []image.Point
	for _, ti := range testImages {
		img := ti.img(image.Rect(0, 0, ti.w, ti.h))
		set := img.(interface{ Set(x, y int, c color.Color) })
		scene(func(x, y int, c color.NRGBA) {
			if ti.name == "rgba.png" {
				c.A = uint8(255 - 4*x) // partly transparent
			}
			set.Set(x, y, c)
		}, ti.w, ti.h)
		b, err := ti.enc(img)
		if err != nil {
			t.Fatalf("encode %s: %v", ti.name, err)
		}
		paths = append(paths, writeFile(t, dir, ti.name, b))
		sizes = append(sizes, image.Pt(ti.w, ti.h))
	}
	b, err := os.ReadFile(filepath.Join("testdata", "cmyk.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := img.(*image.CMYK); !ok {
		t.Fatalf("testdata/cmyk.jpg decodes to %T, want *image.CMYK", img)
	}
	paths = append(paths, writeFile(t, dir, "cmyk.jpg", b))
	sizes = append(sizes, img.Bounds().Size())
	return paths, sizes
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// decodeOutput decodes an output PNG of infer.
func decodeOutput(t *testing.T, path string) image.Image {
	t.Helper()
	img, err := data.DecodeImage(path, data.Limits{})
	if err != nil {
		t.Fatalf("output: %v", err)
	}
	return img
}

// listDir lists the names in dir, or nil when dir does not exist.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

// iouLine matches the IoU at the end of a line of infer.
var iouLine = regexp.MustCompile(`(?m), IoU ([0-9.]+)$`)

func TestInfer(t *testing.T) {
	run := trainTiny(t)
	in := t.TempDir()
	paths, sizes := writeTestImages(t, in)

	t.Run("colour models", func(t *testing.T) {
		for _, probs := range []bool{false, true} {
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string{"infer", "--run", run, "-o", out}, paths...)
			if probs {
				args = append(args, "--probabilities")
			}
			r := runArgs(context.Background(), args...)
			if r.code != exitOK {
				t.Fatalf("egan-ort %v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
			}
			if n := strings.Count(r.stdout, "\n"); n != len(paths) {
				t.Errorf("infer printed %d lines for %d images:\n%s", n, len(paths), r.stdout)
			}
			var want []string
			for i, p := range paths {
				name := strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
				mask, overlay := filepath.Join(out, name+"_mask.png"), filepath.Join(out, name+"_overlay.png")
				want = append(want, name+"_mask.png", name+"_overlay.png")
				line := p + " (" + strconv.Itoa(sizes[i].X) + "x" + strconv.Itoa(sizes[i].Y) + "): mask " +
					mask + ", overlay " + overlay + "\n"
				if !strings.Contains(r.stdout, line) {
					t.Errorf("infer stdout lacks %q:\n%s", line, r.stdout)
				}
				m, o := decodeOutput(t, mask), decodeOutput(t, overlay)
				if m.Bounds().Size() != sizes[i] || o.Bounds().Size() != sizes[i] {
					t.Errorf("%s: mask %v, overlay %v; want the image's size %v",
						p, m.Bounds().Size(), o.Bounds().Size(), sizes[i])
				}
				g, ok := m.(*image.Gray)
				if !ok {
					t.Fatalf("%s is %T, want *image.Gray", mask, m)
				}
				if !probs && slices.ContainsFunc(g.Pix, func(v uint8) bool { return v != 0 && v != 255 }) {
					t.Errorf("%s holds values other than 0 and 255", mask)
				}
			}
			// Nothing else: no temporary file is left behind.
			got := listDir(t, out)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s holds %v, want %v", out, got, want)
			}
		}
	})

	t.Run("mask IoU", func(t *testing.T) {
		// A ground truth of another size but the same aspect (within 5%)
		// is resized onto its image.
		big := image.NewGray(image.Rect(0, 0, 92, 60))
		scene(func(x, y int, c color.NRGBA) {
			if c.R > 128 {
				big.SetGray(x, y, color.Gray{255})
			}
		}, 92, 60)
		b, _ := encPNG(big)
		truth := writeFile(t, t.TempDir(), "truth.png", b)
		out := filepath.Join(t.TempDir(), "out")
		r := runArgs(context.Background(), "infer", "--run", run, "-o", out, paths[0], "--mask", truth)
		m := iouLine.FindStringSubmatch(r.stdout)
		if r.code != exitOK || m == nil {
			t.Fatalf("infer --mask: exit %d, no IoU\n%s%s", r.code, r.stdout, r.stderr)
		}
		if iou, err := strconv.ParseFloat(m[1], 64); err != nil || iou < 0 || iou > 1 {
			t.Errorf("infer --mask printed IoU %s, want a number in [0, 1]", m[1])
		}

		// The predicted masks as ground truth score exactly 1, for each
		// image, in order, and as a whole.
		var args []string
		for _, p := range paths[:3] {
			name := strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
			args = append(args, "--mask", filepath.Join(out+"-first", name+"_mask.png"))
		}
		first := runArgs(context.Background(), append([]string{"infer", "--run", run, "-o", out + "-first"},
			paths[:3]...)...)
		if first.code != exitOK {
			t.Fatalf("infer: exit %d\n%s", first.code, first.stderr)
		}
		args = append(append([]string{"--json", "infer", "--run", run, "-o", out + "-second"}, paths[:3]...), args...)
		r = runArgs(context.Background(), args...)
		var res inferResult
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != exitOK {
			t.Fatalf("egan-ort %v: exit %d, %v\n%s%s", args, r.code, err, r.stdout, r.stderr)
		}
		if len(res.Images) != 3 || res.MeanIoU == nil || *res.MeanIoU != 1 || *res.GlobalIoU != 1 {
			t.Fatalf("self-consistent masks: %s", r.stdout)
		}
		for _, im := range res.Images {
			if im.IoU == nil || *im.IoU != 1 || im.TruthPath == "" {
				t.Errorf("%s: IoU %v against %s, want 1", im.Path, im.IoU, im.TruthPath)
			}
		}
	})

	t.Run("bad input", func(t *testing.T) {
		dir := t.TempDir()
		good := paths[0]
		pngBytes, err := os.ReadFile(good)
		if err != nil {
			t.Fatal(err)
		}
		empty := writeFile(t, dir, "empty.png", nil)
		text := writeFile(t, dir, "notes.png", []byte("these are not pixels\n"))
		truncated := writeFile(t, dir, "cut.png", pngBytes[:len(pngBytes)/2])
		square := writeFile(t, dir, "square.png", mustPNG(t, image.NewGray(image.Rect(0, 0, 40, 40))))
		missing := filepath.Join(dir, "nosuch.png")

		tests := []struct {
			name string
			args []string
			want []string // in stderr
		}{
			{"missing", []string{good, missing}, []string{missing, "no such file"}},
			{"zero bytes", []string{good, empty}, []string{empty, "empty file"}},
			{"text", []string{good, text}, []string{text, "not an image"}},
			{"truncated", []string{good, truncated}, []string{truncated, "truncated"}},
			{"directory", []string{good, dir}, []string{dir, "is a directory"}},
			{"too large", []string{good, paths[6], "--max-pixels", "10000"},
				[]string{paths[6], "300x200", "above the limit of 10000", "--max-pixels sets that limit"}},
			{"mask of another aspect", []string{good, "--mask", square}, []string{square, good, "aspect"}},
			{"bad mask", []string{good, "--mask", truncated}, []string{truncated, "truncated"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "out")
				args := append([]string{"infer", "--run", run, "-o", out}, tc.args...)
				r := runArgs(context.Background(), args...)
				if r.code != exitFailure || r.stdout != "" {
					t.Errorf("egan-ort %v: exit %d, stdout %q; want %d and nothing",
						args, r.code, r.stdout, exitFailure)
				}
				for _, w := range append(tc.want, "nothing written") {
					if !strings.Contains(r.stderr, w) {
						t.Errorf("egan-ort %v: stderr lacks %q:\n%s", args, w, r.stderr)
					}
				}
				if got := listDir(t, out); got != nil {
					t.Errorf("egan-ort %v wrote %v", args, got)
				}
			})
		}
	})

	t.Run("usage", func(t *testing.T) {
		out := t.TempDir()
		tests := []struct {
			args []string
			want string
		}{
			{[]string{"infer"}, "no images given"},
			{[]string{"infer", paths[0], paths[1], "--mask", paths[0]}, "--mask: 1 given for 2 images"},
			{[]string{"infer", paths[0], "--checkpoint", "final"}, `--checkpoint "final"`},
			{[]string{"infer", paths[0], filepath.Join(out, "rgb.jpg")}, "would both write"},
			{[]string{"infer", paths[0], "-o", ""}, "--out is empty"},
			{[]string{"infer", paths[0], "--mask", filepath.Join(out, "rgb_mask.png"), "-o", out},
				"would overwrite the input"},
			{[]string{"infer", paths[0], "--threshold", "0.3"}, "unknown flag: --threshold"},
		}
		for _, tc := range tests {
			r := runArgs(context.Background(), tc.args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("egan-ort %v: exit %d, stderr %q; want %d and %q", tc.args, r.code, r.stderr,
					exitUsage, tc.want)
			}
		}
	})
}

func mustPNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	b, err := encPNG(img)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestInferNewestRun runs infer without --run in a working directory with
// runs/ holding no finished run, then several.
func TestInferNewestRun(t *testing.T) {
	run := trainTiny(t)
	lib, err := ort.Find("")
	if err != nil {
		t.Fatal(err)
	}
	lib, _ = filepath.Abs(lib)
	img := writeFile(t, t.TempDir(), "x.png", mustPNG(t, image.NewRGBA(image.Rect(0, 0, 20, 10))))
	wd := t.TempDir()
	t.Chdir(wd)

	// No runs/ at all, then one without a finished checkpoint: infer falls
	// back to the built-in model and says so.
	for _, mk := range []bool{false, true} {
		if mk {
			if err := os.MkdirAll(filepath.Join("runs", "unfinished"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		r := runArgs(context.Background(), "infer", "--ort-lib", lib, img)
		if r.code != exitOK || !strings.Contains(r.stderr, "using the built-in model") {
			t.Errorf("infer without runs: exit %d, stderr lacks the built-in model:\n%s", r.code, r.stderr)
		}
		if got := listDir(t, "masks"); len(got) != 2 {
			t.Errorf("infer with the built-in model wrote %v", got)
		}
		os.RemoveAll("masks")
	}

	// runs/b sorts last, but runs/a's last checkpoint is newer.
	now := time.Now()
	for name, age := range map[string]time.Duration{"a": 0, "b": time.Hour} {
		dir := filepath.Join("runs", name)
		if err := os.CopyFS(dir, os.DirFS(run)); err != nil {
			t.Fatal(err)
		}
		last := filepath.Join(dir, "last.json")
		if err := os.Chtimes(last, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, "runs", "notes.txt", []byte("not a run"))
	r := runArgs(context.Background(), "infer", "--ort-lib", lib, img)
	if r.code != exitOK {
		t.Fatalf("infer with runs/: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if want := `msg="no --run given: using the newest run" run=` + filepath.Join("runs", "a"); !strings.Contains(r.stderr, want) {
		t.Errorf("infer does not log %q:\n%s", want, r.stderr)
	}
	if got := listDir(t, "masks"); !slices.Equal(got, []string{"x_mask.png", "x_overlay.png"}) {
		t.Errorf("infer wrote masks/%v", got)
	}

	// runs/c's last checkpoint is the newest but garbage: infer skips it,
	// naming the file, and takes runs/a.
	garbage := filepath.Join("runs", "c", "last.json")
	if err := os.CopyFS(filepath.Join("runs", "c"), os.DirFS(run)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(garbage, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runArgs(context.Background(), "infer", "--ort-lib", lib, img)
	if r.code != exitOK || !strings.Contains(r.stderr, "skipping a run whose last checkpoint does not read") ||
		!strings.Contains(r.stderr, "file="+garbage) {
		t.Errorf("infer with a garbage newest run: exit %d, stderr lacks a warning naming %s:\n%s", r.code, garbage, r.stderr)
	}
	if want := `msg="no --run given: using the newest run" run=` + filepath.Join("runs", "a"); !strings.Contains(r.stderr, want) {
		t.Errorf("infer does not log %q:\n%s", want, r.stderr)
	}

	// Only garbage: infer fails naming the file, and writes nothing.
	t.Chdir(t.TempDir())
	if err := os.MkdirAll(filepath.Join("runs", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	garbage = filepath.Join("runs", "x", "last.json")
	if err := os.WriteFile(garbage, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runArgs(context.Background(), "infer", "--ort-lib", lib, img)
	if r.code != exitFailure || !strings.Contains(r.stderr, "no usable run") || !strings.Contains(r.stderr, garbage) {
		t.Errorf("infer with only a garbage run: exit %d, stderr %q; want %d naming %s", r.code, r.stderr, exitFailure, garbage)
	}
	if _, err := os.Stat("masks"); err == nil {
		t.Errorf("infer with only a garbage run wrote masks/")
	}
}

// TestInferExportedModel checks that infer --model, from the exported file
// alone, writes the same masks as infer --run from the checkpoint, for a
// plain and a portable export.
func TestInferExportedModel(t *testing.T) {
	run := trainTiny(t)
	in := t.TempDir()
	paths, _ := writeTestImages(t, in)
	paths = paths[:3]
	ref := filepath.Join(t.TempDir(), "ref")
	if r := runArgs(context.Background(), append([]string{"infer", "--run", run, "--probabilities", "-o", ref}, paths...)...); r.code != exitOK {
		t.Fatalf("infer --run: exit %d\n%s", r.code, r.stderr)
	}
	for _, portable := range []bool{false, true} {
		model := filepath.Join(t.TempDir(), "m.onnx")
		args := []string{"--json", "export", "--run", run, "-o", model}
		if portable {
			args = append(args, "--portable", "--batch", "2")
		}
		r := runArgs(context.Background(), args...)
		if r.code != exitOK {
			t.Fatalf("export: exit %d\n%s", r.code, r.stderr)
		}
		var res struct {
			Model    string         `json:"model"`
			Portable bool           `json:"portable"`
			Ops      map[string]int `json:"ops"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || res.Model != model ||
			res.Portable != portable || res.Ops["Conv"] == 0 {
			t.Fatalf("export --json printed %q (%v)", r.stdout, err)
		}
		out := filepath.Join(t.TempDir(), "out")
		r = runArgs(context.Background(), append([]string{"infer", "--model", model, "--probabilities", "-o", out}, paths...)...)
		if r.code != exitOK {
			t.Fatalf("infer --model: exit %d\n%s", r.code, r.stderr)
		}
		for _, p := range paths {
			name := strings.TrimSuffix(filepath.Base(p), filepath.Ext(p)) + "_mask.png"
			a, b := decodeOutput(t, filepath.Join(ref, name)).(*image.Gray), decodeOutput(t, filepath.Join(out, name)).(*image.Gray)
			for i := range a.Pix {
				if d := int(a.Pix[i]) - int(b.Pix[i]); d > 1 || d < -1 {
					t.Fatalf("portable %t: %s pixel %d: checkpoint %d, exported model %d", portable, name, i, a.Pix[i], b.Pix[i])
				}
			}
		}
	}
	// A file that is not an exported model is refused, naming it.
	bad := writeFile(t, t.TempDir(), "bad.onnx", []byte("not a model"))
	r := runArgs(context.Background(), "infer", "--model", bad, "-o", t.TempDir(), paths[0])
	if r.code != exitFailure || !strings.Contains(r.stderr, bad) {
		t.Fatalf("infer --model with a bad file: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestInferModelCheckpoint checks the checkpoint that infer --json --model
// reports: the one the file's metadata names, none when it names none; and
// that --checkpoint, which cannot choose within a file, is refused.
func TestInferModelCheckpoint(t *testing.T) {
	run := trainTiny(t)
	dir := t.TempDir()
	img := writeFile(t, dir, "x.png", mustPNG(t, image.NewRGBA(image.Rect(0, 0, 20, 10))))
	model := filepath.Join(dir, "last.onnx")
	r := runArgs(context.Background(), "export", "--run", run, "--checkpoint", "last", "-o", model)
	if r.code != exitOK {
		t.Fatalf("export: exit %d\n%s", r.code, r.stderr)
	}
	b, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m.MetadataProps = slices.DeleteFunc(m.MetadataProps, func(p *onnxpb.StringStringEntryProto) bool {
		return p.GetKey() == "checkpoint"
	})
	if b, err = proto.Marshal(&m); err != nil {
		t.Fatal(err)
	}
	unnamed := writeFile(t, dir, "unnamed.onnx", b)

	for file, want := range map[string]string{model: `"checkpoint":"last"`, unnamed: ""} {
		r := runArgs(context.Background(), "--json", "--quiet", "infer", "--model", file, "-o", t.TempDir(),
			img)
		if r.code != exitOK {
			t.Fatalf("infer --model %s: exit %d\n%s", file, r.code, r.stderr)
		}
		if got := regexp.MustCompile(`"checkpoint":"[^"]*"`).FindString(r.stdout); got != want {
			t.Errorf("infer --json --model %s prints %q, want %q:\n%s", file, got, want, r.stdout)
		}
	}

	r = runArgs(context.Background(), "infer", "--model", model, "--checkpoint", "best", "-o", t.TempDir(),
		img)
	if r.code != exitUsage || !strings.Contains(r.stderr, "--checkpoint") {
		t.Errorf("infer --model --checkpoint: exit %d, stderr %q; want %d naming --checkpoint",
			r.code, r.stderr, exitUsage)
	}
}

// TestInferBuiltin runs infer where no model is named and no run exists: it
// uses the built-in model and says so.
func TestInferBuiltin(t *testing.T) {
	lib := ortLib(t)
	dir := t.TempDir()
	paths, sizes := writeTestImages(t, dir)
	t.Chdir(dir)
	r := runArgs(context.Background(), "--ort-lib", lib, "infer", "-o", "out", paths[0])
	if r.code != exitOK {
		t.Fatalf("infer with the built-in model: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "built-in model") {
		t.Errorf("infer does not say it uses the built-in model:\n%s", r.stderr)
	}
	// It names its dataset in words, not by the name of its layout.
	if !strings.Contains(r.stderr, "epochs on the 32x32 Weizmann horse split") ||
		strings.Contains(r.stderr, data.LayoutSplitLists) {
		t.Errorf("infer does not name the built-in model's dataset in words:\n%s", r.stderr)
	}
	name := strings.TrimSuffix(filepath.Base(paths[0]), filepath.Ext(paths[0]))
	if m := decodeOutput(t, filepath.Join("out", name+"_mask.png")); m.Bounds().Size() != sizes[0] {
		t.Errorf("mask of size %v, want %v", m.Bounds().Size(), sizes[0])
	}
	if info, err := export.Parse("built-in", builtinModel); err != nil || info.Metadata["command"] == "" ||
		info.Metadata["commit"] == "" || info.Metadata["test_mean_iou"] == "" {
		t.Errorf("built-in model's metadata: %v, %v", info, err)
	}
}

// TestInferRefusesNonProbabilities runs a model whose mask is NaN (0/0):
// infer fails, naming the image, and writes nothing.
func TestInferRefusesNonProbabilities(t *testing.T) {
	const s = 16
	g := graphs.New("nan_segmenter")
	x := g.Input(export.Input, graphs.Batch, 3, s, s)
	zero := g.Conv(x, g.Initializer("w", []int{1, 3, 1, 1}, make([]float64, 3)), nil, graphs.ConvOpts{})
	g.Output(export.Output, g.Div(zero, zero))
	model := writeFile(t, t.TempDir(), "nan.onnx", g.Bytes())
	paths, _ := writeTestImages(t, t.TempDir())
	out := filepath.Join(t.TempDir(), "out")
	r := runArgs(context.Background(), "--threads", "1", "infer", "--model", model, "-o", out, paths[0])
	if r.code != exitFailure || !strings.Contains(r.stderr, paths[0]) || !strings.Contains(r.stderr, "not a probability") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if entries, _ := os.ReadDir(out); len(entries) > 0 {
		t.Fatalf("wrote %v", entries)
	}
}

// TestInferOutputInTheWay: --out naming a file, or a directory at an
// output's path, is refused with that path named, before anything is
// written.
func TestInferOutputInTheWay(t *testing.T) {
	lib := ortLib(t)
	dir := t.TempDir()
	paths, _ := writeTestImages(t, dir)
	t.Chdir(dir)
	if err := os.WriteFile("file.png", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runArgs(context.Background(), "--ort-lib", lib, "infer", "-o", "file.png", paths[0])
	if r.code == exitOK || !strings.Contains(r.stderr, "--out file.png is a file, not a directory") {
		t.Errorf("infer -o FILE: exit %d, stderr %q", r.code, r.stderr)
	}
	// The second image's mask path is a directory: the first image's
	// outputs must not be written either.
	second := strings.TrimSuffix(filepath.Base(paths[1]), filepath.Ext(paths[1]))
	blocked := filepath.Join("out", second+"_mask.png")
	if err := os.MkdirAll(blocked, 0o755); err != nil {
		t.Fatal(err)
	}
	r = runArgs(context.Background(), "--ort-lib", lib, "infer", "-o", "out", paths[0], paths[1])
	if r.code == exitOK || !strings.Contains(r.stderr, blocked+": a directory is in the way") {
		t.Errorf("infer onto a directory: exit %d, stderr %q", r.code, r.stderr)
	}
	if entries, _ := os.ReadDir("out"); len(entries) != 1 {
		t.Errorf("out holds %d entries after the refusal, want only the blocking directory", len(entries))
	}
}

// ortLib returns the absolute path of the ONNX Runtime library as found
// from the working directory, for tests that leave the repository.
func ortLib(t *testing.T) string {
	t.Helper()
	lib, err := ort.Find("")
	if err != nil {
		t.Fatal(err)
	}
	lib, err = filepath.Abs(lib)
	if err != nil {
		t.Fatal(err)
	}
	return lib
}
