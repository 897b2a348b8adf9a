package export

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/egan-ort/egan-ort/data"
	"github.com/egan-ort/egan-ort/graphs"
	"github.com/egan-ort/egan-ort/langevin"
	"github.com/egan-ort/egan-ort/models"
	"github.com/egan-ort/egan-ort/ort"
)

func TestMain(m *testing.M) {
	if _, err := ort.Init(""); err != nil {
		fmt.Fprintln(os.Stderr, "export tests need ONNX Runtime:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

const size = 12

// trainedLike returns an energy network with every parameter non-zero, as
// after training.
func trainedLike(t *testing.T, c models.EnergyConfig) *models.Energy {
	e, err := models.NewEnergy(c, size, 3)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(4, 5))
	for _, p := range e.Params.List {
		for i := range p.Data {
			p.Data[i] += float32(0.1 * r.NormFloat64())
		}
	}
	return e
}

var stats = data.Stats{Mean: [3]float32{0.4, 0.5, 0.3}, Std: [3]float32{0.2, 0.25, 0.3}}

func images(n int) []float32 {
	r := rand.New(rand.NewPCG(6, 7))
	x := make([]float32, n*3*size*size)
	for i := range x {
		x[i] = r.Float32()
	}
	return x
}

// reference runs egan-ort's own inference (package langevin, σ0 = τ = 0).
func reference(t *testing.T, e *models.Energy, lc langevin.Config, img []float32, n int, mirror bool) []float32 {
	u, err := langevin.New(e, lc, ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Destroy()
	norm := make([]float32, len(img))
	p := 3 * size * size
	for i := range n {
		stats.Normalize(norm[i*p:(i+1)*p], img[i*p:(i+1)*p])
	}
	y, err := u.Infer(norm, n, mirror)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Clone(y)
}

func runExported(t *testing.T, model []byte, img []float32, n int) []float32 {
	sess, err := ort.NewSession(model, []string{Input}, []string{Output}, ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Destroy()
	in, err := ort.NewTensor(img, int64(n), 3, size, size)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Destroy()
	out := make([]ort.Value, 1)
	if err := sess.Run([]ort.Value{in}, out); err != nil {
		t.Fatal(err)
	}
	defer out[0].Destroy()
	y, _, err := ort.Float32s(out[0])
	if err != nil {
		t.Fatal(err)
	}
	return slices.Clone(y)
}

func maxDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// TestMatchesInference checks the exported graph against egan-ort's own
// unroll, for plain and portable exports of several architectures.
func TestMatchesInference(t *testing.T) {
	def := models.DefaultEnergyConfig()
	small := models.EnergyConfig{Channels: 6, Depth: 3, UnaryChannels: 5, UnaryDepth: 3, Prior: true}
	cases := []struct {
		name     string
		cfg      models.EnergyConfig
		lc       langevin.Config
		portable bool
		batch    int
		mirror   bool
	}{
		{"default", def, langevin.DefaultConfig(), false, 3, false},
		{"default_portable", def, langevin.DefaultConfig(), true, 2, false},
		{"depth3", small, langevin.Config{Steps: 4, Rate: 1.5}, false, 2, false},
		{"depth3_portable", small, langevin.Config{Steps: 4, Rate: 1.5}, true, 1, false},
		{"dilated", models.EnergyConfig{Channels: 6, Depth: 4, Dilate: true, UnaryChannels: 5, UnaryDepth: 3}, langevin.Config{Steps: 3, Rate: 2}, false, 2, false},
		{"dilated_portable", models.EnergyConfig{Channels: 6, Depth: 4, Dilate: true, Prior: true}, langevin.Config{Steps: 3, Rate: 2}, true, 2, false},
		{"no_unary", models.EnergyConfig{Channels: 4, Depth: 2}, langevin.Config{Steps: 3, Rate: 2}, true, 2, false},
		{"prior_only", models.EnergyConfig{Channels: 4, Depth: 2, Prior: true}, langevin.Config{Steps: 3, Rate: 2}, false, 2, false},
		{"clip", small, langevin.Config{Steps: 3, Rate: 2, Clip: 0.3}, false, 2, false},
		{"mirror", def, langevin.DefaultConfig(), false, 3, true},
		{"mirror_portable", models.EnergyConfig{Channels: 6, Depth: 3, Dilate: true, UnaryChannels: 5, UnaryDepth: 3, Prior: true}, langevin.Config{Steps: 3, Rate: 2}, true, 2, true},
		{"mirror_clip", small, langevin.Config{Steps: 3, Rate: 2, Clip: 0.3}, false, 2, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := trainedLike(t, c.cfg)
			g, err := Build(e, stats, c.lc, Options{Portable: c.portable, Batch: c.batch, Mirror: c.mirror})
			if err != nil {
				t.Fatal(err)
			}
			img := images(c.batch)
			got := runExported(t, g.Bytes(), img, c.batch)
			want := reference(t, e, c.lc, img, c.batch, c.mirror)
			if d := maxDiff(got, want); d > 1e-5 {
				t.Fatalf("exported masks differ from egan-ort's inference by %.3g > 1e-5", d)
			} else {
				t.Logf("max difference %.2g", d)
			}
			if c.portable {
				checkPortable(t, g)
			}
		})
	}
}

// checkPortable asserts that every op is in PortableOps and that Add, Sub
// and Mul see same-shaped operands.
func checkPortable(t *testing.T, g *graphs.Graph) {
	t.Helper()
	m := g.Model()
	g.Visit(func(op string, in []*graphs.Value) {
		switch op {
		case "Add", "Sub", "Mul":
			if !slices.Equal(in[0].Shape, in[1].Shape) {
				t.Errorf("%s of shapes %v and %v", op, in[0].Shape, in[1].Shape)
			}
		}
	})
	for _, n := range m.Graph.Node {
		if !slices.Contains(PortableOps, n.GetOpType()) {
			t.Errorf("node %s: op %s is not portable", n.GetName(), n.GetOpType())
		}
	}
	for op, count := range OpHistogram(m) {
		t.Logf("%s × %d", op, count)
	}
}

func TestPortableRefusesClip(t *testing.T) {
	e := trainedLike(t, models.EnergyConfig{Channels: 4, Depth: 2})
	if _, err := Build(e, stats, langevin.Config{Steps: 2, Rate: 2, Clip: 1}, Options{Portable: true}); err == nil {
		t.Fatal("a portable export with clipping was accepted")
	}
}

func TestDeterministic(t *testing.T) {
	e := trainedLike(t, models.DefaultEnergyConfig())
	meta := map[string]string{"b": "2", "a": "1"}
	g1, _ := Build(e, stats, langevin.DefaultConfig(), Options{Metadata: meta})
	g2, _ := Build(e, stats, langevin.DefaultConfig(), Options{Metadata: meta})
	if !slices.Equal(g1.Bytes(), g2.Bytes()) {
		t.Fatal("two exports of the same model differ")
	}
	props := g1.Model().MetadataProps
	if len(props) != 2 || props[0].GetKey() != "a" {
		t.Fatalf("metadata %v", props)
	}
}

// TestWriteFileMissingFolder writes into a folder that does not exist: the
// error names the folder, not the temporary file, and nothing is created.
func TestWriteFileMissingFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sub")
	path := filepath.Join(dir, "m.onnx")
	err := WriteFile(path, []byte("model"))
	if err == nil {
		t.Fatalf("WriteFile(%s) into a missing folder: no error", path)
	}
	want := "export: write " + path + ": the output folder " + dir + " does not exist"
	if err.Error() != want {
		t.Errorf("WriteFile error %q, want %q", err, want)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("WriteFile created %s: %v", dir, err)
	}
}

// TestWriteFileOntoDirectory: a directory at the output path is named as
// the problem, and stays as it was.
func TestWriteFileOntoDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.onnx")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	err := WriteFile(path, []byte("model"))
	if want := "export: write " + path + ": it is a directory"; err == nil || err.Error() != want {
		t.Fatalf("WriteFile onto a directory: %v, want %q", err, want)
	}
	if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
		t.Fatalf("the directory at %s changed: %v", path, err)
	}
}
