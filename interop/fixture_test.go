package interop

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/egan-ort/egan-ort/data"
	"github.com/egan-ort/egan-ort/export"
	"github.com/egan-ort/egan-ort/models"
	"github.com/egan-ort/egan-ort/orchestrator"
	"github.com/egan-ort/egan-ort/ort"
)

// Sizes of the fixture: the image side, the training subset and the fixed
// batch of the portable export. The plain export, whose batch is free,
// runs on all nVal images.
const (
	size                = 32
	nTrain, nVal, nTest = 16, 8, 8
	portableBatch       = 4
)

// model is one exported file with its input and egan-ort's own output.
type model struct {
	name string
	file string
	n    int       // batch of x
	x    []float32 // [n,3,S,S] RGB in [0,1], not normalised
	want []float32 // [n,1,S,S] from orchestrator.Model.Predict
	meta map[string]string
}

// shape returns the input's shape as run-model.js and onnxgo take it.
func (m *model) shape() string { return fmt.Sprintf("%d,3,%d,%d", m.n, size, size) }

// fixture is the trained run and its two exports, shared by every test.
// Nothing changes it after setup.
type fixture struct {
	root     string // the repository
	dir      string // run directory
	plain    *model
	portable *model
}

var (
	tmpRoot  string // removed by TestMain
	fixOnce  sync.Once
	fix      *fixture
	fixErr   error
	fixSetup time.Duration
)

// models returns both exports.
func (f *fixture) models() []*model { return []*model{f.plain, f.portable} }

func TestMain(m *testing.M) {
	if _, err := ort.Init(""); err != nil {
		fmt.Fprintln(os.Stderr, "interop tests need ONNX Runtime ("+ort.InstallHint+"):", err)
		os.Exit(1)
	}
	var err error
	if tmpRoot, err = os.MkdirTemp("", "egan-ort-interop-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(tmpRoot)
	os.Exit(code)
}

// setup returns the shared fixture, training and exporting on first use.
func setup(t *testing.T) *fixture {
	t.Helper()
	fixOnce.Do(func() {
		t0 := time.Now()
		fix, fixErr = build()
		fixSetup = time.Since(t0)
	})
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	t.Logf("fixture: trained and exported in %v", fixSetup.Round(time.Millisecond))
	return fix
}

// tinyConfig trains one epoch of the ce objective with narrow networks and
// T = 3: enough for non-trivial weights, in a few seconds.
func tinyConfig() orchestrator.Config {
	c := orchestrator.DefaultConfig("ce")
	c.Size, c.Epochs, c.Batch, c.EvalBatch = size, 1, 4, 16
	c.Energy = models.EnergyConfig{Channels: 8, Depth: 2, UnaryChannels: 8, UnaryDepth: 3, Prior: true}
	c.Disc = models.DiscConfig{Channels: 8, Depth: 2, Slope: 0.2}
	c.Langevin.Steps = 3
	return c
}

func build() (*fixture, error) {
	root, err := filepath.Abs("..")
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(root, "scripts", "check-onnx.py")); err != nil {
		return nil, fmt.Errorf("interop: repository root: %w", err)
	}
	splits, err := horses()
	if err != nil {
		return nil, err
	}

	// Train one short run.
	f := &fixture{root: root, dir: filepath.Join(tmpRoot, "run")}
	o := orchestrator.RunOptions{Dir: f.dir, ORT: ort.Options{Threads: 1}, Splits: splits}
	if _, err := orchestrator.Train(context.Background(), tinyConfig(), o); err != nil {
		return nil, fmt.Errorf("interop: train: %w", err)
	}
	m, err := orchestrator.OpenModel(f.dir, orchestrator.BestCheckpoint, ort.Options{Threads: 1})
	if err != nil {
		return nil, err
	}
	defer m.Destroy()

	// Export both forms and compute egan-ort's own masks for their inputs.
	val := splits.Val.Images
	if f.plain, err = exportModel(f.dir, m, "plain", export.Options{}, val); err != nil {
		return nil, err
	}
	opts := export.Options{Portable: true, Batch: portableBatch}
	if f.portable, err = exportModel(f.dir, m, "portable", opts, val[:portableBatch]); err != nil {
		return nil, err
	}
	return f, nil
}

// exportModel exports the run's best checkpoint with o to dir/name.onnx and
// predicts the images with egan-ort.
func exportModel(dir string, m *orchestrator.Model, name string, o export.Options, images [][]float32) (*model, error) {
	g, err := orchestrator.Export(dir, orchestrator.BestCheckpoint, o)
	if err != nil {
		return nil, fmt.Errorf("interop: export %s: %w", name, err)
	}
	md := &model{name: name, file: filepath.Join(dir, name+".onnx"), n: len(images), meta: map[string]string{}}
	if err := export.WriteFile(md.file, g.Bytes()); err != nil {
		return nil, err
	}
	for _, p := range g.Model().MetadataProps {
		md.meta[p.GetKey()] = p.GetValue()
	}
	md.x = slices.Concat(images...)
	y, err := m.Predict(md.x, md.n)
	if err != nil {
		return nil, fmt.Errorf("interop: predict %s: %w", name, err)
	}
	md.want = slices.Clone(y)
	return md, nil
}

// horses loads the 32×32 Weizmann split from shared/data above the working
// directory and keeps nTrain, nVal and nTest images of it.
func horses() (*data.Splits, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	var dir string
	for d := wd; dir == ""; d = filepath.Dir(d) {
		if p := filepath.Join(d, "shared", "data", "weizmann_horse_32"); isDir(p) {
			dir = p
		} else if filepath.Dir(d) == d {
			return nil, fmt.Errorf("interop: shared/data/weizmann_horse_32 not found above %s", wd)
		}
	}
	s, _, err := data.Load(dir, size, data.Limits{})
	if err != nil {
		return nil, err
	}
	sub := func(d *data.Dataset, n int) *data.Dataset {
		c := *d
		c.Names, c.Images, c.Masks = d.Names[:n], d.Images[:n], d.Masks[:n]
		return &c
	}
	return &data.Splits{Train: sub(s.Train, nTrain), Val: sub(s.Val, nVal), Test: sub(s.Test, nTest)}, nil
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
