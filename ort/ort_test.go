package ort_test

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/egan-ort/egan-ort/onnxpb"
	"github.com/egan-ort/egan-ort/ort"
)

// wantVersion is the ORT release that scripts/install-ort.sh pins.
const wantVersion = "1.30.0"

// childInitEnv, when set, makes the test binary a child process that calls
// ort.Init with the variable's value, prints the outcome and exits. Init
// loads a library once per process, so its failures are tested in fresh
// processes.
const childInitEnv = "EGAN_ORT_TEST_CHILD_INIT"

// TestMain loads ORT before any test runs. The tests need the library: when
// it is missing they fail with the loader's message instead of skipping, so
// that a machine without ORT cannot pass them silently.
func TestMain(m *testing.M) {
	if explicit, ok := os.LookupEnv(childInitEnv); ok {
		os.Exit(childInit(explicit))
	}
	if _, err := ort.Init(""); err != nil {
		fmt.Fprintf(os.Stderr, "ort tests need ONNX Runtime's library: %v\n", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// childInit tries ort.Init(explicit), which is expected to fail, then
// ort.Init("") to show that the failure left nothing half-loaded.
func childInit(explicit string) int {
	_, err := ort.Init(explicit)
	fmt.Printf("first: %v\n", err)
	if err == nil {
		return 3
	}
	path, err := ort.Init("")
	if err != nil {
		fmt.Printf("second: %v\n", err)
		return 4
	}
	fmt.Printf("second: loaded %s, version %s\n", path, ort.Version())
	return 0
}

func TestVersion(t *testing.T) {
	if got := ort.Version(); got != wantVersion {
		t.Errorf("ort.Version() = %q, want %q (the release install-ort.sh pins)", got, wantVersion)
	}
	if p := ort.LibraryPath(); !filepath.IsAbs(p) {
		t.Errorf("ort.LibraryPath() = %q, want an absolute path", p)
	}
}

// TestNetMatchesReference runs the hand-built Conv/Softplus/Conv/Sigmoid
// network in ORT and compares it with the float64 reference.
func TestNetMatchesReference(t *testing.T) {
	const tol = 1e-5 // absolute, on sigmoid outputs in (0, 1)
	p := newNetParams(7)
	sess, err := ort.NewSession(netModel(p), []string{"x"}, []string{"y"}, ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Destroy()

	// One session serves every batch size: the batch dimension is symbolic.
	for _, n := range []int{2, 1, 3} {
		t.Run(fmt.Sprintf("batch%d", n), func(t *testing.T) {
			x := randInput(uint64(n), n)
			want := netReference(p, x, n)
			xt, err := ort.NewTensor(x, int64(n), netCin, netH, netW)
			if err != nil {
				t.Fatal(err)
			}
			defer xt.Destroy()
			y := make([]float32, n*netH*netW)
			yt, err := ort.NewTensor(y, int64(n), 1, netH, netW)
			if err != nil {
				t.Fatal(err)
			}
			defer yt.Destroy()

			if err := sess.Run([]ort.Value{xt}, []ort.Value{yt}); err != nil {
				t.Fatal(err)
			}
			worst, at := 0.0, 0
			for i := range y {
				if d := math.Abs(float64(y[i]) - want[i]); d > worst || math.IsNaN(d) {
					worst, at = d, i
				}
			}
			if !(worst <= tol) {
				t.Errorf("max |ORT - reference| = %.3g at %d (ORT %v, reference %v), want <= %g",
					worst, at, y[at], want[at], tol)
			}
			if spread := stddev(want); spread < 0.05 {
				t.Errorf("reference outputs spread only %.3g: the test network is saturated", spread)
			}
		})
	}
}

// TestRunAllocatesOutput lets ORT allocate the output and reads it back.
func TestRunAllocatesOutput(t *testing.T) {
	p := newNetParams(3)
	sess, err := ort.NewSession(netModel(p), []string{"x"}, []string{"y"}, ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Destroy()
	x := randInput(5, 2)
	xt, err := ort.NewTensor(x, 2, netCin, netH, netW)
	if err != nil {
		t.Fatal(err)
	}
	defer xt.Destroy()

	outs := []ort.Value{nil}
	if err := sess.Run([]ort.Value{xt}, outs); err != nil {
		t.Fatal(err)
	}
	defer outs[0].Destroy()
	y, shape, err := ort.Float32s(outs[0])
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(shape) != fmt.Sprint([]int64{2, 1, netH, netW}) {
		t.Fatalf("output shape %v, want [2 1 %d %d]", shape, netH, netW)
	}
	want := netReference(p, x, 2)
	for i := range y {
		if d := math.Abs(float64(y[i]) - want[i]); !(d <= 1e-5) {
			t.Fatalf("y[%d] = %v, reference %v", i, y[i], want[i])
		}
	}
}

// TestFind checks where Find looks, without loading anything.
func TestFind(t *testing.T) {
	dir := t.TempDir()
	lib := filepath.Join(dir, "libonnxruntime.so.1")
	if err := os.WriteFile(lib, []byte("stand-in"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "nowhere", "libonnxruntime.so.1")

	t.Run("explicit file", func(t *testing.T) {
		got, err := ort.Find(lib)
		if err != nil || got != lib {
			t.Errorf("Find(%q) = %q, %v; want the file itself", lib, got, err)
		}
	})
	t.Run("explicit directory", func(t *testing.T) {
		got, err := ort.Find(dir)
		if err != nil || got != lib {
			t.Errorf("Find(%q) = %q, %v; want %q", dir, got, err, lib)
		}
	})
	t.Run("relative path made absolute", func(t *testing.T) {
		t.Chdir(dir)
		got, err := ort.Find("libonnxruntime.so.1")
		if err != nil || got != lib {
			t.Errorf("Find(relative) = %q, %v; want %q", got, err, lib)
		}
	})
	t.Run("environment first", func(t *testing.T) {
		t.Setenv(ort.EnvLibraryPath, lib)
		got, err := ort.Find("")
		if err != nil || got != lib {
			t.Errorf("Find(\"\") with $%s = %q: %q, %v", ort.EnvLibraryPath, lib, got, err)
		}
	})
	t.Run("environment directory", func(t *testing.T) {
		t.Setenv(ort.EnvLibraryPath, dir)
		got, err := ort.Find("")
		if err != nil || got != lib {
			t.Errorf("Find(\"\") with $%s = %q: %q, %v; want %q", ort.EnvLibraryPath, dir, got, err, lib)
		}
	})
	t.Run("environment names nothing", func(t *testing.T) {
		// A variable that names nothing is an error, not a silent fall
		// back to the installed library.
		for env, why := range map[string]string{
			missing:               "does not exist",
			filepath.Dir(missing): "does not exist",
			t.TempDir():           "holds no libonnxruntime.so.1",
		} {
			t.Setenv(ort.EnvLibraryPath, env)
			got, err := ort.Find("")
			if !errors.Is(err, ort.ErrLibraryNotFound) {
				t.Errorf("Find(\"\") with $%s = %q: %q, %v; want ErrLibraryNotFound",
					ort.EnvLibraryPath, env, got, err)
				continue
			}
			for _, want := range []string{"$" + ort.EnvLibraryPath, env, why, ort.InstallHint} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		}
	})
	t.Run("explicit missing", func(t *testing.T) {
		// An explicit path is the only candidate: no silent fallback to
		// the installed library.
		_, err := ort.Find(missing)
		if !errors.Is(err, ort.ErrLibraryNotFound) {
			t.Fatalf("Find(%q) error = %v, want ErrLibraryNotFound", missing, err)
		}
		for _, want := range []string{missing, ort.InstallHint, "--ort-lib"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %q", err, want)
			}
		}
	})
}

// TestInitFailures runs Init in child processes with a library that is
// missing and with a file that is not a library. Each must fail with an
// error naming the path, and a later Init("") in the same process must
// still load the real library.
func TestInitFailures(t *testing.T) {
	dir := t.TempDir()
	notLib := filepath.Join(dir, "libonnxruntime.so.1")
	if err := os.WriteFile(notLib, []byte("not a shared library"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing", "libonnxruntime.so.1")
	tests := []struct {
		name, explicit string
		want           []string
	}{
		{"missing", missing, []string{"library not found", missing, ort.InstallHint}},
		{"not a library", notLib, []string{"ort: load " + notLib}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childInitEnv+"="+tc.explicit)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			first, _, _ := strings.Cut(string(out), "\nsecond:")
			for _, w := range tc.want {
				if !strings.Contains(first, w) {
					t.Errorf("Init(%q) error does not mention %q:\n%s", tc.explicit, w, out)
				}
			}
			if !strings.Contains(string(out), "version "+wantVersion) {
				t.Errorf("Init(\"\") after the failure did not load ORT %s:\n%s", wantVersion, out)
			}
		})
	}
}

// TestBadModels feeds NewSession bytes that are not a usable model. Each
// must give an error that says so, not a panic and not a session.
func TestBadModels(t *testing.T) {
	good := netModel(newNetParams(1))
	tests := []struct {
		name  string
		model []byte
	}{
		{"empty", nil},
		{"text", []byte("this is not an ONNX model")},
		{"truncated", good[:len(good)/2]},
		{"bad first tag", corruptFirst(good)},
		{"unknown operator", netModelWith(newNetParams(1), func(m *onnxpb.ModelProto) {
			m.Graph.Node[1].OpType = proto.String("NoSuchOp")
		})},
		{"missing initialiser", netModelWith(newNetParams(1), func(m *onnxpb.ModelProto) {
			m.Graph.Initializer = m.Graph.Initializer[1:]
		})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ort.NewSession(tc.model, []string{"x"}, []string{"y"}, ort.Options{Threads: 1})
			if err == nil {
				s.Destroy()
				t.Fatal("NewSession accepted a bad model")
			}
			if !strings.Contains(err.Error(), "ort: create session") {
				t.Errorf("error %q does not say that session creation failed", err)
			}
			t.Logf("%s: %v", tc.name, err)
		})
	}
}

// corruptFirst returns a copy of b whose first byte, a field tag, names a
// field number and wire type that break the protobuf framing.
func corruptFirst(b []byte) []byte {
	c := append([]byte(nil), b...)
	c[0] = 0xff
	return c
}

// TestBadRuns calls Run with inputs that do not fit the model.
func TestBadRuns(t *testing.T) {
	sess, err := ort.NewSession(netModel(newNetParams(1)), []string{"x"}, []string{"y"}, ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Destroy()
	tensor := func(shape ...int64) ort.Value {
		n := int64(1)
		for _, d := range shape {
			n *= d
		}
		v, err := ort.NewTensor(make([]float32, n), shape...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Destroy() })
		return v
	}
	tests := []struct {
		name    string
		inputs  []ort.Value
		outputs []ort.Value
		want    []string // substrings of the error
	}{
		{"wrong channels", []ort.Value{tensor(2, 3, netH, netW)}, []ort.Value{nil},
			[]string{"ort: run", "index: 1", "Got: 3", "Expected: 4"}},
		{"wrong rank", []ort.Value{tensor(2, netCin, netH*netW)}, []ort.Value{nil},
			[]string{"ort: run", "rank"}},
		{"wrong output shape", []ort.Value{tensor(2, netCin, netH, netW)}, []ort.Value{tensor(2, 1, netH, netW+1)},
			[]string{"ort: run", "output: y", "Got: 17", "Expected: 16"}},
		{"too many inputs", []ort.Value{tensor(2, netCin, netH, netW), tensor(1)}, []ort.Value{nil},
			[]string{"ort: run", "2 inputs", "1 input names"}},
		{"no outputs", []ort.Value{tensor(2, netCin, netH, netW)}, nil,
			[]string{"ort: run", "0 outputs", "1 output names"}},
		{"nil input", []ort.Value{nil}, []ort.Value{nil},
			[]string{"ort: run", "input 0 (x) is nil"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := sess.Run(tc.inputs, tc.outputs)
			if err == nil {
				t.Fatal("Run accepted inputs that do not fit the model")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestBadNames creates sessions whose input or output names do not match
// the model's.
func TestBadNames(t *testing.T) {
	model := netModel(newNetParams(1))
	tests := []struct {
		name            string
		inputs, outputs []string
		want            []string
	}{
		{"unknown input", []string{"image"}, []string{"y"}, []string{"image"}},
		{"unknown output", []string{"x"}, []string{"mask"}, []string{"mask"}},
		{"no inputs", nil, []string{"y"}, []string{"at least one input"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := runOnce(model, tc.inputs, tc.outputs)
			if err == nil {
				t.Fatal("a session with names the model lacks ran")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			t.Logf("%s: %v", tc.name, err)
		})
	}
}

// runOnce creates a session with the given names and runs it once on a
// batch of 1, returning the first error.
func runOnce(model []byte, inputs, outputs []string) error {
	s, err := ort.NewSession(model, inputs, outputs, ort.Options{Threads: 1})
	if err != nil {
		return err
	}
	defer s.Destroy()
	x, err := ort.NewTensor(randInput(1, 1), 1, netCin, netH, netW)
	if err != nil {
		return err
	}
	defer x.Destroy()
	outs := make([]ort.Value, len(outputs))
	if err := s.Run([]ort.Value{x}, outs); err != nil {
		return err
	}
	for _, o := range outs {
		o.Destroy()
	}
	return nil
}

// TestTensorTooShort checks that a tensor over too little data is refused.
func TestTensorTooShort(t *testing.T) {
	_, err := ort.NewTensor(make([]float32, 10), 2, 4, 16, 16)
	if err == nil || !strings.Contains(err.Error(), "[2 4 16 16]") {
		t.Errorf("NewTensor over 10 floats for [2 4 16 16]: error %v, want one naming the shape", err)
	}
}

// TestNoCUDA asks for the CUDA provider, which the CPU-only library lacks.
func TestNoCUDA(t *testing.T) {
	s, err := ort.NewSession(netModel(newNetParams(1)), []string{"x"}, []string{"y"},
		ort.Options{Device: ort.CUDA, Threads: 1})
	if err == nil {
		s.Destroy()
		t.Skip("this ORT library has a working CUDA provider")
	}
	if !errors.Is(err, ort.ErrNoCUDA) {
		t.Fatalf("error %v, want ErrNoCUDA", err)
	}
	if !strings.Contains(err.Error(), "--device cpu") {
		t.Errorf("error %q does not point to --device cpu", err)
	}
	t.Log(err)
}

func TestParseDevice(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ort.Device
		ok   bool
	}{
		{"cpu", ort.CPU, true}, {"CUDA", ort.CUDA, true}, {"gpu", "", false}, {"", "", false},
	} {
		got, err := ort.ParseDevice(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseDevice(%q) = %q, %v", tc.in, got, err)
		}
	}
}

func stddev(v []float64) float64 {
	var s, s2 float64
	for _, x := range v {
		s += x
		s2 += x * x
	}
	n := float64(len(v))
	return math.Sqrt(math.Max(s2/n-(s/n)*(s/n), 0))
}

// BenchmarkNetRun times Session.Run of the test network on a batch of 10,
// with one intra-op thread, reusing the input and output tensors.
func BenchmarkNetRun(b *testing.B) {
	const n = 10
	sess, err := ort.NewSession(netModel(newNetParams(1)), []string{"x"}, []string{"y"}, ort.Options{Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Destroy()
	xt, err := ort.NewTensor(randInput(1, n), n, netCin, netH, netW)
	if err != nil {
		b.Fatal(err)
	}
	defer xt.Destroy()
	yt, err := ort.NewTensor(make([]float32, n*netH*netW), n, 1, netH, netW)
	if err != nil {
		b.Fatal(err)
	}
	defer yt.Destroy()

	in, out := []ort.Value{xt}, []ort.Value{yt}
	for b.Loop() {
		if err := sess.Run(in, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/run")
}
