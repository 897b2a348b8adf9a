package orchestrator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/egan-ort/egan-ort/checkpoint"
	"github.com/egan-ort/egan-ort/data"
	"github.com/egan-ort/egan-ort/export"
	"github.com/egan-ort/egan-ort/losses"
	"github.com/egan-ort/egan-ort/models"
	"github.com/egan-ort/egan-ort/ort"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(faultChildEnv); dir != "" {
		if err := faultChild(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if _, err := ort.Init(""); err != nil {
		fmt.Fprintln(os.Stderr, "orchestrator tests need ONNX Runtime:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// sharedData finds ../shared/data above the working directory.
func sharedData(t testing.TB) string {
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "shared", "data", "weizmann_horse_32")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		if filepath.Dir(d) == d {
			panic("shared/data/weizmann_horse_32 not found above " + dir)
		}
	}
}

const tinySize = 16

// tinyConfig is a configuration small enough for tests: 16×16 images and
// narrow networks.
func tinyConfig(objective string) Config {
	c := DefaultConfig(objective)
	c.Size, c.Batch, c.Epochs, c.EvalBatch = tinySize, 4, 2, 16
	c.Energy = models.EnergyConfig{Channels: 8, Depth: 2, UnaryChannels: 8, UnaryDepth: 3, Prior: true}
	c.Disc = models.DiscConfig{Channels: 8, Depth: 2, Slope: 0.2}
	c.Langevin.Steps = 3
	c.Landscape = 3
	return c
}

var horses *data.Splits

// tinySplits is a subset of the 32×32 split resized to 16×16: 16 train, 8
// val and 8 test images.
func tinySplits(t testing.TB) *data.Splits {
	if horses == nil {
		s, _, err := data.Load(sharedData(t), tinySize, data.Limits{})
		if err != nil {
			panic(err)
		}
		horses = s
	}
	sub := func(d *data.Dataset, n int) *data.Dataset {
		c := *d
		c.Names, c.Images, c.Masks = d.Names[:n], d.Images[:n], d.Masks[:n]
		return &c
	}
	return &data.Splits{Train: sub(horses.Train, 16), Val: sub(horses.Val, 8), Test: sub(horses.Test, 8)}
}

func options(t testing.TB, dir string) RunOptions {
	return RunOptions{Dir: dir, ORT: ort.Options{Threads: 1}, Splits: tinySplits(t)}
}

// TestLossFalls takes repeated steps on one batch of real images for every
// objective: the cross entropy of the generator must fall.
func TestLossFalls(t *testing.T) {
	for _, obj := range losses.Names() {
		t.Run(obj, func(t *testing.T) {
			c := tinyConfig(obj)
			tr, err := NewTrainer(c, ort.Options{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Destroy()
			s := tinySplits(t)
			stats := data.ComputeStats(s.Train)
			loader := data.NewLoader(s.Train, c.Batch, false, 1)
			loader.Stats = &stats
			p := tinySize * tinySize
			x, y := make([]float32, c.Batch*3*p), make([]float32, c.Batch*p)
			n := loader.Next(x, y)
			var ce []float64
			for range 20 {
				st, err := tr.Step(x, y, n)
				if err != nil {
					t.Fatal(err)
				}
				if !finite(st.LossCE, st.LossD, st.LossG) {
					t.Fatalf("non-finite losses %+v", st)
				}
				ce = append(ce, st.LossCE)
			}
			first, last := mean(ce[:3]), mean(ce[len(ce)-3:])
			t.Logf("CE %.4f → %.4f", first, last)
			if !(last < 0.8*first) {
				t.Errorf("CE did not fall: first steps %.4f, last steps %.4f", first, last)
			}
		})
	}
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// TestTrainEachObjective runs two epochs of every objective on a subset of
// the 32×32 split and checks what the run directory holds.
func TestTrainEachObjective(t *testing.T) {
	for _, obj := range losses.Names() {
		t.Run(obj, func(t *testing.T) {
			dir := t.TempDir()
			sum, err := Train(context.Background(), tinyConfig(obj), options(t, dir))
			if err != nil {
				t.Fatal(err)
			}
			if sum.Epochs != 2 || sum.Steps == 0 {
				t.Fatalf("summary %+v", sum)
			}
			for _, name := range []string{LastCheckpoint, BestCheckpoint} {
				if !checkpoint.Exists(dir, name) {
					t.Errorf("no %s checkpoint", name)
				}
			}
			recs := readMetrics(t, dir)
			if recs["epoch"] != 2 || recs["step"] != int(sum.Steps) {
				t.Errorf("metrics.jsonl holds %v", recs)
			}
			for _, e := range []int{1, 2} {
				if _, err := os.Stat(filepath.Join(dir, LandscapeFile(e))); err != nil {
					t.Errorf("no landscape of epoch %d: %v", e, err)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, ModelFile)); err != nil {
				t.Errorf("no exported model: %v", err)
			}
			if v := sum.Last.Val.Mean; math.IsNaN(v) || v < 0 || v > 1 {
				t.Errorf("val IoU %g", v)
			}
		})
	}
}

func readMetrics(t *testing.T, dir string) map[string]int {
	b, err := os.ReadFile(filepath.Join(dir, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, kind := range []string{"step", "epoch", "scores"} {
		counts[kind] = countKind(b, kind)
	}
	return counts
}

func countKind(b []byte, kind string) int {
	n := 0
	for line := range bytes.Lines(b) {
		var rec struct{ Kind string }
		if json.Unmarshal(line, &rec) == nil && rec.Kind == kind {
			n++
		}
	}
	return n
}

// finalParams returns a copy of every parameter of a finished run's last
// checkpoint.
func finalParams(t *testing.T, dir string) []checkpoint.Tensor {
	ts, err := checkpoint.Load(dir, LastCheckpoint, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func sameTensors(t *testing.T, a, b []checkpoint.Tensor) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%d tensors vs %d", len(a), len(b))
	}
	for i := range a {
		if a[i].Name != b[i].Name || !slices.Equal(a[i].Data, b[i].Data) {
			t.Fatalf("tensor %s differs between the runs", a[i].Name)
		}
	}
}

// TestResumeEqualsUninterrupted stops a run at an epoch boundary and in the
// middle of an epoch (as Ctrl-C does) and resumes it: the parameters and
// Adam moments must equal those of an uninterrupted run, bit for bit.
func TestResumeEqualsUninterrupted(t *testing.T) {
	c := tinyConfig("wgan-gp")
	c.Epochs = 3
	c.LRSchedule = "cosine" // epoch 1's rate is the same for any total
	c.EMA = 0.9             // the average is state to resume too
	whole := t.TempDir()
	if _, err := Train(context.Background(), c, options(t, whole)); err != nil {
		t.Fatal(err)
	}
	want := finalParams(t, whole)
	if !slices.ContainsFunc(want, func(tn checkpoint.Tensor) bool { return strings.HasPrefix(tn.Name, averagePrefix) }) {
		t.Fatalf("the checkpoint of a run with EMA holds no %s tensors", averagePrefix)
	}

	// Stop after epoch 1, then resume to 3.
	split := t.TempDir()
	c1 := c
	c1.Epochs = 1
	if _, err := Train(context.Background(), c1, options(t, split)); err != nil {
		t.Fatal(err)
	}
	o := options(t, split)
	o.Resume = true
	if _, err := Train(context.Background(), c, o); err != nil {
		t.Fatal(err)
	}
	sameTensors(t, want, finalParams(t, split))

	// Interrupt in the middle of epoch 2 (step 6 of 4 per epoch), then resume.
	mid := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	o = options(t, mid)
	var log bytes.Buffer
	o.Log = slog.New(slog.NewTextHandler(&log, nil))
	o.AfterStep = func(_ *Trainer, step int64) {
		if step == 6 {
			cancel()
		}
	}
	if _, err := Train(ctx, c, o); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("interrupted run returned %v, want ErrInterrupted", err)
	}
	st, err := ReadState(mid, LastCheckpoint)
	if err != nil || st.Step != 6 || !st.InEpoch {
		t.Fatalf("checkpoint after interrupt: step %d, in epoch %t, err %v", st.Step, st.InEpoch, err)
	}
	// The log says where the checkpoint stands as the step records count:
	// step 6, of epoch 2, after 1 completed epoch.
	if want := `msg="interrupted: checkpoint saved" dir=` + mid + ` epoch=2 step=6 completed_epochs=1`; !strings.Contains(log.String(), want) {
		t.Errorf("log lacks %q:\n%s", want, log.String())
	}
	o = options(t, mid)
	o.Resume = true
	if _, err := Train(context.Background(), c, o); err != nil {
		t.Fatal(err)
	}
	sameTensors(t, want, finalParams(t, mid))
	if recs := readMetrics(t, mid); recs["step"] != 12 || recs["epoch"] != 3 {
		t.Errorf("metrics.jsonl after resume holds %v, want 12 steps and 3 epochs", recs)
	}
}

// TestNaNStopsTraining injects a NaN into a parameter: training stops with
// ErrNonFinite and the last good checkpoint still loads.
func TestNaNStopsTraining(t *testing.T) {
	dir := t.TempDir()
	o := options(t, dir)
	o.AfterStep = func(tr *Trainer, step int64) {
		if step == 6 {
			tr.Energy.Params.List[0].Data[0] = float32(math.NaN())
		}
	}
	_, err := Train(context.Background(), tinyConfig("ce"), o)
	if !errors.Is(err, ErrNonFinite) {
		t.Fatalf("got %v, want ErrNonFinite", err)
	}
	st, err := ReadState(dir, LastCheckpoint)
	if err != nil || st.Epoch != 1 {
		t.Fatalf("last good checkpoint: epoch %d, err %v", st.Epoch, err)
	}
	for _, tn := range finalParams(t, dir) {
		for _, v := range tn.Data {
			if math.IsNaN(float64(v)) {
				t.Fatalf("checkpoint holds a NaN in %s", tn.Name)
			}
		}
	}
}

func TestRefuseExistingRun(t *testing.T) {
	dir := t.TempDir()
	c := tinyConfig("ce")
	c.Epochs = 1
	if _, err := Train(context.Background(), c, options(t, dir)); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, MetricsFile))
	if _, err := Train(context.Background(), c, options(t, dir)); err == nil {
		t.Fatal("a second run into the same directory was accepted")
	}
	after, _ := os.ReadFile(filepath.Join(dir, MetricsFile))
	if !slices.Equal(before, after) {
		t.Fatal("the refused run changed metrics.jsonl")
	}
}

// TestOpenModel reopens a run's best checkpoint for inference: its val IoU
// must be the one recorded when it was saved.
func TestOpenModel(t *testing.T) {
	dir := t.TempDir()
	if _, err := Train(context.Background(), tinyConfig("ce"), options(t, dir)); err != nil {
		t.Fatal(err)
	}
	m, err := OpenModel(dir, BestCheckpoint, ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Destroy()
	got, err := m.Evaluate(tinySplits(t).Val, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got != m.State.Val {
		t.Fatalf("reopened model scores %+v on val, checkpoint recorded %+v", got, m.State.Val)
	}
	if _, err := OpenModel(filepath.Join(dir, "nope"), BestCheckpoint, ort.Options{}); err == nil {
		t.Fatal("a missing run directory opened")
	}
}

// TestNewRunLeavesNothingBehind checks a new run's directory: a folder
// holding other files is refused and left as it was, and a run that cannot
// start (here, a missing dataset) creates no directory.
func TestNewRunLeavesNothingBehind(t *testing.T) {
	c := tinyConfig("ce")
	c.Epochs = 1
	busy := t.TempDir()
	notes := filepath.Join(busy, "notes.txt")
	if err := os.WriteFile(notes, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Train(context.Background(), c, options(t, busy))
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("a folder holding other files was accepted as a run directory: %v", err)
	}
	if entries, _ := os.ReadDir(busy); len(entries) != 1 {
		t.Fatalf("the refused run wrote into %s: %v", busy, entries)
	}

	fresh := filepath.Join(t.TempDir(), "run")
	c.Data = filepath.Join(t.TempDir(), "no-such-dataset")
	_, err = Train(context.Background(), c, RunOptions{Dir: fresh, ORT: ort.Options{Threads: 1}})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("a missing dataset gave %v", err)
	}
	if _, err := os.Stat(fresh); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a run that could not start left %s behind (%v)", fresh, err)
	}
}

// trainOneEpoch trains a tiny ce run for one epoch and returns its
// directory.
func trainOneEpoch(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	c := tinyConfig("ce")
	c.Epochs, c.Landscape = 1, 0
	if _, err := Train(context.Background(), c, options(t, dir)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestResumeEpochs extends a finished run, which config.json then records,
// and refuses --epochs at or below the epochs the run has completed.
func TestResumeEpochs(t *testing.T) {
	dir := trainOneEpoch(t)
	o := options(t, dir)
	o.Resume = true
	sum, err := Train(context.Background(), Config{Epochs: 2}, o)
	if err != nil {
		t.Fatal(err)
	}
	var saved Config
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err == nil {
		err = json.Unmarshal(b, &saved)
	}
	if err != nil || sum.Epochs != 2 || saved.Epochs != 2 {
		t.Fatalf("extended to %d epochs, config.json says %d (%v)", sum.Epochs, saved.Epochs, err)
	}
	if _, err := Train(context.Background(), Config{Epochs: 1}, o); err == nil ||
		!strings.Contains(err.Error(), "completed 2 epochs") {
		t.Fatalf("--epochs 1 on a 2-epoch run gave %v", err)
	}
}

// TestValidateNamesFlags: each bad setting is reported under its flag's
// name, non-finite numbers included.
func TestValidateNamesFlags(t *testing.T) {
	c := DefaultConfig("ebgan")
	c.Epochs, c.Batch = 0, 1
	c.Augment.MaxShift, c.Augment.Scale = -1, math.NaN()
	c.Loss.Alpha, c.LRCE = math.Inf(1), math.Inf(1)
	c.LRSchedule, c.TTA = "step", ""
	err := c.Validate()
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"--epochs", "--batch 1", "--shift -1", "--scale must be a finite number, got NaN", "--alpha", "--lr-ce", "--lr-schedule \"step\"", "--tta \"\""} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// TestLRSchedule checks the cosine factors and that training uses them:
// every Adam rate during epoch e is the configured rate times LRFactor(e);
// --weight-decay reaches the generator's two Adams, not the discriminator's.
func TestLRSchedule(t *testing.T) {
	c := DefaultConfig("logloss")
	c.Epochs = 4
	for e, want := range map[int]float64{1: 1, 2: 0.5 + 0.5*math.Sqrt(0.5), 3: 0.5, 4: 0.5 - 0.5*math.Sqrt(0.5)} {
		if got := c.LRFactor(e); got != 1 {
			t.Errorf("constant: factor %g at epoch %d, want 1", got, e)
		}
		c.LRSchedule = "cosine"
		if got := c.LRFactor(e); math.Abs(got-want) > 1e-15 {
			t.Errorf("cosine: factor %g at epoch %d, want %g", got, e, want)
		}
		c.LRSchedule = "constant"
	}

	c = tinyConfig("logloss")
	c.Epochs, c.LRSchedule, c.Landscape, c.WeightDecay = 3, "cosine", 0, 0.01
	o := options(t, t.TempDir())
	perEpoch := int64(4) // 16 training images, batch 4
	seen := 0
	o.AfterStep = func(tr *Trainer, step int64) {
		f := c.LRFactor(int((step-1)/perEpoch) + 1)
		for _, a := range []struct{ got, want float64 }{
			{tr.adamCE.LR, c.LRCE * f}, {tr.adamAdv.LR, c.LRAdv * f}, {tr.adamD.LR, c.LRDisc * f},
		} {
			if a.got != a.want {
				t.Errorf("step %d: Adam rate %g, want %g", step, a.got, a.want)
			}
		}
		if tr.adamCE.WeightDecay != 0.01 || tr.adamAdv.WeightDecay != 0.01 || tr.adamD.WeightDecay != 0 {
			t.Errorf("weight decay: CE %g, adversarial %g, D %g; want 0.01, 0.01, 0",
				tr.adamCE.WeightDecay, tr.adamAdv.WeightDecay, tr.adamD.WeightDecay)
		}
		seen++
	}
	if _, err := Train(context.Background(), c, o); err != nil {
		t.Fatal(err)
	}
	if seen != 12 {
		t.Errorf("%d steps seen, want 12", seen)
	}
}

// TestOldConfigSchedule reads a config recorded before --lr-schedule and
// --tta existed as one with the constant schedule and no test-time
// augmentation, which it trained and was evaluated with.
func TestOldConfigSchedule(t *testing.T) {
	b, err := json.Marshal(DefaultConfig("ce"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "lr_schedule")
	delete(m, "tta")
	b, _ = json.Marshal(m)
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig("ce")
	want.TTA = "none"
	if c != want {
		t.Errorf("decoded %+v, want the defaults without test-time augmentation", c)
	}
}

// TestExportMetadataKeys adds new metadata keys and refuses to override
// egan-ort's own, which infer relies on.
func TestExportMetadataKeys(t *testing.T) {
	dir := trainOneEpoch(t)
	if _, err := Export(dir, BestCheckpoint, export.Options{Metadata: map[string]string{"note": "x"}}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"input_size", "config", ""} {
		_, err := Export(dir, BestCheckpoint, export.Options{Metadata: map[string]string{key: "64"}})
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", key)) {
			t.Errorf("metadata key %q: %v", key, err)
		}
	}
}

// TestValidateLimits: values that would exhaust memory or overflow are
// refused under their flag's name with the allowed range, each problem on
// one line.
func TestValidateLimits(t *testing.T) {
	for _, tc := range []struct {
		set  func(c *Config)
		want string
	}{
		{func(c *Config) { c.Energy.Depth = 1000 }, "--energy-depth 1000: "},
		{func(c *Config) { c.Energy.Depth, c.Size = 65, 8 }, "--energy-depth 65: with --energy-dilate the largest dilation"},
		{func(c *Config) { c.Energy.Depth, c.Size = 6, 32 }, "must be below --size 32: want 2 to 5"},
		{func(c *Config) { c.Energy.Depth, c.Energy.Dilate = 17, false }, "--energy-depth 17: want 2 to 16"},
		{func(c *Config) { c.Energy.UnaryDepth = 40 }, "--unary-depth 40"},
		{func(c *Config) { c.Energy.Channels = 1 << 20 }, "--energy-channels 1048576: want 1 to 1024"},
		{func(c *Config) { c.Energy.UnaryChannels = 5000 }, "--unary-channels 5000: want 0 to 1024"},
		{func(c *Config) { c.Disc.Channels = 5000 }, "--disc-channels 5000: want 1 to 1024"},
		{func(c *Config) { c.Disc.Depth = 6 }, "--disc-depth 6: want 1 to 5"},
		{func(c *Config) { c.Batch = 1 << 30 }, "--batch 1073741824: want 1 to 4096"},
		{func(c *Config) { c.EvalBatch = 5000 }, "--eval-batch 5000: want 1 to 4096"},
		{func(c *Config) { c.Langevin.Steps = 100000 }, "--steps 100000: want 1 to 1000"},
		{func(c *Config) { c.Langevin.Rate = math.Inf(1) }, "--rate must be a finite number"},
		{func(c *Config) { c.WeightDecay = 1e30 }, "--weight-decay 1e+30: with --lr-ce 0.002"},
		{func(c *Config) { c.WeightDecay, c.LRAdv = 100, 0.05 }, "with --lr-adv 0.05 each step"},
		{func(c *Config) { c.WeightDecay = math.Inf(-1) }, "--weight-decay must be a finite number, got -Inf"},
		{func(c *Config) { c.LRCE = math.Inf(-1) }, "--lr-ce must be a finite number, got -Inf"},
	} {
		c := DefaultConfig("wgan-gp")
		tc.set(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v", tc.want, err)
			continue
		}
		if n := strings.Count(err.Error(), "\n"); n > 0 {
			t.Errorf("%s: %d lines, want one:\n%v", tc.want, n+1, err)
		}
	}
	// The largest values allowed are accepted, as is a decay just short of
	// the limit.
	c := DefaultConfig("wgan-gp")
	c.Energy.Depth, c.Energy.Channels, c.Batch, c.Langevin.Steps = 5, 1024, 4096, 1000
	c.WeightDecay = 0.99 / c.LRCE
	if err := c.Validate(); err != nil {
		t.Errorf("the largest values were refused: %v", err)
	}
}

// TestResumeLeavesDamagedRun resumes a run whose config.json, then whose
// tensor file, is damaged: each is refused naming the file, and nothing
// in the run directory changes.
func TestResumeLeavesDamagedRun(t *testing.T) {
	dir := trainOneEpoch(t)
	snapshot := func() map[string]string {
		m := map[string]string{}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			m[e.Name()] = string(b)
		}
		return m
	}
	cfgPath := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfgPath, []byte(`{"objective": "ce", `), 0o644); err != nil {
		t.Fatal(err)
	}
	o := options(t, dir)
	o.Resume = true
	before := snapshot()
	// --epochs 2 changes the config, which config.json would then record.
	_, err := Train(context.Background(), Config{Epochs: 2}, o)
	if err == nil || !strings.Contains(err.Error(), cfgPath) {
		t.Fatalf("resume with a damaged config.json: %v", err)
	}
	if after := snapshot(); !maps.Equal(before, after) {
		t.Fatalf("the refused resume changed the run directory")
	}

	if err := os.Remove(cfgPath); err != nil {
		t.Fatal(err)
	}
	tensors, _ := filepath.Glob(filepath.Join(dir, LastCheckpoint+".*.safetensors"))
	if len(tensors) != 1 {
		t.Fatalf("tensor files %v", tensors)
	}
	b, _ := os.ReadFile(tensors[0])
	b[len(b)-1] ^= 0xff
	if err := os.WriteFile(tensors[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
	before = snapshot()
	_, err = Train(context.Background(), Config{Epochs: 2}, o)
	if err == nil || !strings.Contains(err.Error(), tensors[0]) {
		t.Fatalf("resume with a damaged tensor file: %v", err)
	}
	if after := snapshot(); !maps.Equal(before, after) {
		t.Fatalf("the refused resume changed the run directory")
	}

	// A damaged best checkpoint, which the run's export at the end needs,
	// is refused before any training.
	b[len(b)-1] ^= 0xff // the last checkpoint repaired
	if err := os.WriteFile(tensors[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
	best, _ := filepath.Glob(filepath.Join(dir, BestCheckpoint+".*.safetensors"))
	if len(best) != 1 {
		t.Fatalf("best tensor files %v", best)
	}
	if err := os.Truncate(best[0], 100); err != nil {
		t.Fatal(err)
	}
	before = snapshot()
	_, err = Train(context.Background(), Config{Epochs: 2}, o)
	if err == nil || !strings.Contains(err.Error(), best[0]) || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("resume with a damaged best checkpoint: %v", err)
	}
	if after := snapshot(); !maps.Equal(before, after) {
		t.Fatalf("the refused resume changed the run directory")
	}
}
