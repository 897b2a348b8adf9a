package interop

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/egan-ort/egan-ort/export"
	"github.com/egan-ort/egan-ort/ort"
)

// Tolerances on the masks' probabilities against egan-ort's own. The ORT
// builds run the same float32 kernels up to summation order; onnx-go's
// gorgonia convolutions (im2col and its own matrix product) and activations
// round differently.
const (
	tolORT    = 1e-5
	tolOnnxGo = 1e-4
)

// commandTimeout bounds one outside command; building onnx-go's module
// from an empty cache is the slowest.
const commandTimeout = 5 * time.Minute

// TestORTGo runs both exports in ONNX Runtime from Go, through package ort.
func TestORTGo(t *testing.T) {
	f := setup(t)
	for _, m := range f.models() {
		t.Run(m.name, func(t *testing.T) {
			b, err := os.ReadFile(m.file)
			if err != nil {
				t.Fatal(err)
			}
			sess, err := ort.NewSession(b, []string{export.Input}, []string{export.Output}, ort.Options{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Destroy()
			in, err := ort.NewTensor(m.x, int64(m.n), 3, size, size)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Destroy()
			out := make([]ort.Value, 1)
			if err := sess.Run([]ort.Value{in}, out); err != nil {
				t.Fatal(err)
			}
			defer out[0].Destroy()
			y, shape, err := ort.Float32s(out[0])
			if err != nil {
				t.Fatal(err)
			}
			if want := []int64{int64(m.n), 1, size, size}; !slices.Equal(shape, want) {
				t.Fatalf("output shape %v, want %v", shape, want)
			}
			compare(t, "onnxruntime (Go)", m, y, tolORT)
		})
	}
}

// TestONNXChecker runs the official checker with full checking and strict
// shape inference on both exports.
func TestONNXChecker(t *testing.T) {
	f := setup(t)
	py := os.Getenv("ONNX_CHECK_PYTHON")
	if py == "" {
		py = "/usr/bin/python3"
	}
	out := run(t, f.root, py, "scripts/check-onnx.py", f.plain.file, f.portable.file)
	for _, m := range f.models() {
		if !strings.Contains(out, m.file+": ok") {
			t.Errorf("check-onnx.py did not report %s as ok", m.file)
		}
	}
}

// TestNode runs both exports in onnxruntime-node through
// scripts/node/run-model.js.
func TestNode(t *testing.T) {
	f := setup(t)
	for _, m := range f.models() {
		t.Run(m.name, func(t *testing.T) {
			in, out := writeInput(t, m)
			run(t, f.root, "node", "scripts/node/run-model.js", m.file, in, m.shape(), out)
			compare(t, "onnxruntime-node", m, readOutput(t, out), tolORT)
		})
	}
}

// TestOnnxGo runs the portable export in the pure-Go runtime onnx-go
// (gorgonnx backend), built from interop/onnxgo. The gorgonia.org/tensor
// v0.9.3 that onnx-go v0.5.0 pins cannot concatenate along a middle axis
// when an operand has extent 1 there, which is why the energy network's
// first layer convolves image and mask separately instead of their Concat.
func TestOnnxGo(t *testing.T) {
	f := setup(t)
	m := f.portable
	bin := filepath.Join(t.TempDir(), "onnxgo")
	run(t, filepath.Join(f.root, "interop", "onnxgo"), goTool(), "build", "-o", bin, ".")
	in, out := writeInput(t, m)
	run(t, f.root, bin, "-model", m.file, "-in", in, "-shape", m.shape(), "-out", out)
	compare(t, "onnx-go", m, readOutput(t, out), tolOnnxGo)
}

// TestMetadata checks the metadata the README tells users to read.
func TestMetadata(t *testing.T) {
	f := setup(t)
	for _, m := range f.models() {
		for key, want := range map[string]string{"input_size": fmt.Sprint(size), "objective": "ce", "steps": "3"} {
			if got := m.meta[key]; got != want {
				t.Errorf("%s: metadata %s = %q, want %q", m.name, key, got, want)
			}
		}
	}
}

// goTool returns the go command that runs this test, so that the onnx-go
// module is built by the same toolchain.
func goTool() string {
	if p := filepath.Join(os.Getenv("GOROOT"), "bin", "go"); os.Getenv("GOROOT") != "" && isFile(p) {
		return p
	}
	return "go"
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// run runs a command in dir and returns its combined output, failing the
// test when it cannot start or exits non-zero.
func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	t0 := time.Now()
	b, err := cmd.CombinedOutput()
	out := strings.TrimSpace(string(b))
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	t.Logf("%s %s (%v)\n%s", filepath.Base(name), args[0], time.Since(t0).Round(time.Millisecond), out)
	return out
}

// writeInput writes m's input as raw little-endian float32 into a fresh
// folder and returns it and the path for the output.
func writeInput(t *testing.T, m *model) (in, out string) {
	t.Helper()
	dir := t.TempDir()
	in, out = filepath.Join(dir, "image.f32"), filepath.Join(dir, "mask.f32")
	b := make([]byte, 0, 4*len(m.x))
	for _, v := range m.x {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return in, out
}

// readOutput reads raw little-endian float32 values.
func readOutput(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b)%4 != 0 {
		t.Fatalf("%s: %d bytes is not a whole number of float32", path, len(b))
	}
	y := make([]float32, len(b)/4)
	for i := range y {
		y[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return y
}

// compare fails unless got holds m.want's values within tol.
func compare(t *testing.T, runtime string, m *model, got []float32, tol float64) {
	t.Helper()
	if len(got) != len(m.want) {
		t.Fatalf("%s: %d output values for %s, want %d", runtime, len(got), m.name, len(m.want))
	}
	d, at := 0.0, 0
	for i := range got {
		v := float64(got[i])
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("%s: output %d of %s is %g", runtime, i, m.name, v)
		}
		if e := math.Abs(v - float64(m.want[i])); e > d {
			d, at = e, i
		}
	}
	if d > tol {
		t.Fatalf("%s: %s masks differ from egan-ort's by %.3g > %g (value %d: %g, want %g)",
			runtime, m.name, d, tol, at, got[at], m.want[at])
	}
	t.Logf("%s: %s model, batch %d: max |Δ| %.3g (tolerance %g)", runtime, m.name, m.n, d, tol)
}
