package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/egan-ort/egan-ort/data"
	"github.com/egan-ort/egan-ort/models"
	"github.com/egan-ort/egan-ort/orchestrator"
	"github.com/egan-ort/egan-ort/ort"
)

// TestMain loads ONNX Runtime for the sample grids and removes the
// study's runs afterwards; with KEEP_STUDY=1 it keeps them, and the report
// made of them, for a look at the figures.
func TestMain(m *testing.M) {
	if _, err := ort.Init(""); err != nil {
		fmt.Fprintln(os.Stderr, "report tests need ONNX Runtime:", err)
		os.Exit(1)
	}
	code := m.Run()
	if studyRoot != "" {
		if os.Getenv("KEEP_STUDY") == "" {
			os.RemoveAll(studyRoot)
		} else {
			fmt.Println("study kept in", studyRoot)
		}
	}
	os.Exit(code)
}

// sharedData finds shared/data/weizmann_horse_32 above the working
// directory.
func sharedData(t testing.TB) string {
	t.Helper()
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "shared", "data", "weizmann_horse_32")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		if filepath.Dir(d) == d {
			t.Fatalf("shared/data/weizmann_horse_32 not found above %s", dir)
		}
	}
}

// tinyConfig is a run small enough for a test: 16×16 images, narrow nets,
// 2 epochs, a 3×3 landscape. Its data path is relative to the directory
// training "ran in", which is not the test's working directory.
func tinyConfig(objective string, seed uint64) orchestrator.Config {
	c := orchestrator.DefaultConfig(objective)
	c.Data, c.Size, c.Seed = "horses", 16, seed
	c.Batch, c.Epochs, c.EvalBatch = 4, 2, 16
	c.Energy = models.EnergyConfig{Channels: 8, Depth: 2, UnaryChannels: 8, UnaryDepth: 3, Prior: true}
	c.Disc = models.DiscConfig{Channels: 8, Depth: 2, Slope: 0.2}
	c.Langevin.Steps = 3
	c.Landscape = 3
	c.LRCE, c.LRAdv = 0.01, 0.003
	return c
}

// tinyLabel is how the report labels the settings of tinyConfig: the
// preset, then the config fields that differ from its defaults, seed and
// dataset aside.
const tinyLabel = "tuned defaults, batch=4 disc.channels=8 disc.depth=2 energy.channels=8 energy.depth=2 " +
	"energy.dilate=false energy.unary_channels=8 energy.unary_depth=3 epochs=2 landscape=3 langevin.steps=3 " +
	"lr_adv=0.003 lr_ce=0.01 size=16"

var (
	studyOnce sync.Once
	studyRoot string // holds horses (a link to the data) and runs/
	studyErr  error
)

// tinySplits is a subset of the 32×32 split at 16×16: 16 train, 8 val and
// 8 test images.
func tinySplits(dir string) (*data.Splits, error) {
	s, _, err := data.Load(dir, 16, data.Limits{})
	if err != nil {
		return nil, err
	}
	sub := func(d *data.Dataset, n int) *data.Dataset {
		c := *d
		c.Names, c.Images, c.Masks = d.Names[:n], d.Images[:n], d.Masks[:n]
		return &c
	}
	return &data.Splits{Train: sub(s.Train, 16), Val: sub(s.Val, 8), Test: sub(s.Test, 8)}, nil
}

// study trains, once per test binary, the runs of a small study under
// ROOT/runs: ce with seed 1, wgan-gp with seeds 1 and 2, and ce with seed 2
// stopped in its second epoch (unfinished). ROOT/runs/empty is not a run.
func study(t *testing.T) string {
	t.Helper()
	horses := sharedData(t)
	studyOnce.Do(func() {
		root, err := os.MkdirTemp("", "report-test-")
		if err != nil {
			studyErr = err
			return
		}
		studyRoot = root
		studyErr = trainStudy(root, horses)
	})
	if studyErr != nil {
		t.Fatal(studyErr)
	}
	return studyRoot
}

func trainStudy(root, horses string) error {
	if err := os.Symlink(horses, filepath.Join(root, "horses")); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(root, "runs", "empty"), 0o755); err != nil {
		return err
	}
	splits, err := tinySplits(horses)
	if err != nil {
		return err
	}
	runs := []struct {
		name, objective string
		seed            uint64
		stopAt          int64 // cancel after this step; 0 runs to the end
	}{
		{"ce-1", "ce", 1, 0},
		{"wgan-gp-1", "wgan-gp", 1, 0},
		{"wgan-gp-2", "wgan-gp", 2, 0},
		{"ce-2", "ce", 2, 6}, // 4 steps per epoch: stops in epoch 2
	}
	for _, r := range runs {
		ctx, cancel := context.WithCancel(context.Background())
		o := orchestrator.RunOptions{Dir: filepath.Join(root, "runs", r.name), ORT: ort.Options{Threads: 1},
			Splits: splits}
		if r.stopAt > 0 {
			o.AfterStep = func(_ *orchestrator.Trainer, step int64) {
				if step == r.stopAt {
					cancel()
				}
			}
		}
		_, err := orchestrator.Train(ctx, tinyConfig(r.objective, r.seed), o)
		cancel()
		if err != nil && !(r.stopAt > 0 && errors.Is(err, orchestrator.ErrInterrupted)) {
			return fmt.Errorf("train %s: %w", r.name, err)
		}
	}
	return nil
}

var (
	reportOnce sync.Once
	reportOut  string
	reportErr  error
)

// generate writes, once per test binary, the report of the study's runs,
// the directory that is not a run included, into ROOT/report and returns
// that directory and its README.md.
func generate(t *testing.T) (out, readme string) {
	t.Helper()
	root := study(t)
	reportOnce.Do(func() {
		var dirs []string
		for _, name := range []string{"ce-1", "wgan-gp-1", "wgan-gp-2", "ce-2", "empty"} {
			dirs = append(dirs, filepath.Join(root, "runs", name))
		}
		reportOut = filepath.Join(root, "report")
		o := Options{Samples: DefaultSamples, ORT: ort.Options{Threads: 1}}
		_, reportErr = Generate(dirs, reportOut, o)
	})
	if reportErr != nil {
		t.Fatal(reportErr)
	}
	b, err := os.ReadFile(filepath.Join(reportOut, ReadmeFile))
	if err != nil {
		t.Fatal(err)
	}
	return reportOut, string(b)
}

// expected recomputes a run's table figures from its checkpoints and its
// metrics.jsonl, independently of Run.Result.
type expected struct {
	seed                     uint64
	bestEpoch, epochs        int
	train, val, test         orchestrator.SplitIoU
	seconds                  float64
	unfinished, hasScores    bool
	landscapeEpochs          []int
	objective                string
	configEpochs, sampleRows int
}

func expect(t *testing.T, dir string) expected {
	t.Helper()
	best, err := orchestrator.ReadState(dir, orchestrator.BestCheckpoint)
	if err != nil {
		t.Fatal(err)
	}
	last, err := orchestrator.ReadState(dir, orchestrator.LastCheckpoint)
	if err != nil {
		t.Fatal(err)
	}
	e := expected{seed: best.Config.Seed, bestEpoch: best.BestEpoch, epochs: last.Epoch, val: best.Val,
		test: best.Test, seconds: last.Seconds, unfinished: last.Epoch < last.Config.Epochs,
		objective: best.Config.Objective, configEpochs: best.Config.Epochs}
	b, err := os.ReadFile(filepath.Join(dir, orchestrator.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	for line := range bytes.Lines(b) {
		var rec orchestrator.EpochRecord
		if json.Unmarshal(line, &rec) == nil && rec.Kind == "epoch" && rec.Epoch == best.BestEpoch {
			e.train = rec.Train
		}
		e.hasScores = e.hasScores || bytes.Contains(line, []byte(`"kind":"scores"`))
	}
	for ep := 1; ep <= last.Epoch; ep++ {
		if _, err := os.Stat(filepath.Join(dir, orchestrator.LandscapeFile(ep))); err == nil {
			e.landscapeEpochs = append(e.landscapeEpochs, ep)
		}
	}
	return e
}

// pm formats values in [0,1] as the tables do: percent, one decimal, and
// the sample standard deviation for two or more.
func pm(xs ...float64) string {
	var m float64
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	if len(xs) == 1 {
		return fmt.Sprintf("%.1f", 100*m)
	}
	var ss float64
	for _, x := range xs {
		ss += (x - m) * (x - m)
	}
	return fmt.Sprintf("%.1f ± %.1f", 100*m, 100*math.Sqrt(ss/float64(len(xs)-1)))
}

func TestGenerateTables(t *testing.T) {
	_, readme := generate(t)
	root := study(t)
	exp := map[string]expected{}
	for _, name := range []string{"ce-1", "wgan-gp-1", "wgan-gp-2", "ce-2"} {
		exp[name] = expect(t, filepath.Join(root, "runs", name))
	}
	if !exp["ce-2"].unfinished || exp["ce-2"].epochs != 1 {
		t.Fatalf("ce-2 should be unfinished after 1 epoch: %+v", exp["ce-2"])
	}

	// The report opens with the summary table.
	summary := readme[strings.Index(readme, "## Summary"):]
	summary = summary[:strings.Index(summary, "\n\n## ")]
	lines := strings.Split(summary, "\n")
	if !strings.HasPrefix(lines[2], "| objective | preset | data | runs | seeds |") {
		t.Fatalf("the summary does not open with its table:\n%s", summary)
	}
	if i := strings.Index(readme, "## Summary"); strings.Contains(readme[:i], "## ") {
		t.Errorf("a section comes before the summary:\n%s", readme[:i])
	}

	// One summary row per group, in the order of losses.Names.
	groups := []struct {
		objective string
		runs      []string
		seeds     string
		epochs    string
	}{
		{"wgan-gp", []string{"wgan-gp-1", "wgan-gp-2"}, "1, 2", "2"},
		{"ce", []string{"ce-1", "ce-2"}, "1, 2", "1–2 of 2"},
	}
	var lastAt int
	for _, g := range groups {
		var tr, va, te []float64
		for _, r := range g.runs {
			tr, va, te = append(tr, exp[r].train.Mean), append(va, exp[r].val.Mean), append(te, exp[r].test.Mean)
		}
		row := fmt.Sprintf("| %s | %s | horses | %d | %s | %s | %s | %s |", g.objective, tableCell(tinyLabel), len(g.runs), g.seeds,
			pm(tr...), pm(va...), pm(te...))
		at := strings.Index(summary, row)
		if at < 0 {
			t.Errorf("summary lacks the row\n%s\nin\n%s", row, summary)
			continue
		}
		if at < lastAt {
			t.Errorf("group %s is out of order", g.objective)
		}
		lastAt = at
		rest := summary[at+len(row):]
		if !strings.HasPrefix(rest, " ") || !strings.Contains(strings.SplitN(rest, "\n", 2)[0], "| "+g.epochs+" |") {
			t.Errorf("group %s: epochs column is not %q: %s", g.objective, g.epochs, rest[:strings.Index(rest, "\n")])
		}
	}

	// One row per run in its group's table, and the mean ± std row.
	for name, e := range exp {
		epochs := fmt.Sprint(e.epochs)
		if e.unfinished {
			epochs += " of 2"
		}
		row := fmt.Sprintf("| [%s](#%s) | %d | %d | %s | %s | %s | %s | %s / %s / %s |", name, name, e.seed,
			e.bestEpoch, epochs, pm(e.train.Mean), pm(e.val.Mean), pm(e.test.Mean),
			pm(e.train.Global), pm(e.val.Global), pm(e.test.Global))
		if !strings.Contains(readme, row) {
			t.Errorf("no table row\n%s\nin\n%s", row, readme)
		}
	}
	for _, g := range groups {
		section := readme[strings.Index(readme, "\n## "+g.objective+" ("+tinyLabel+") on horses"):]
		var va []float64
		for _, r := range g.runs {
			va = append(va, exp[r].val.Mean)
		}
		if !regexp.MustCompile(`(?m)^\| \*\*mean ± std\*\* \|.*\| ` + regexp.QuoteMeta(pm(va...)) + ` \|`).MatchString(section) {
			t.Errorf("group %s: no mean ± std row with val %s", g.objective, pm(va...))
		}
	}

	// Runs, seeds, commands, the skipped directory, the notes.
	var total float64
	for _, e := range exp {
		total += e.seconds
	}
	for _, want := range []string{
		"4 runs in 2 groups",
		"Together they recorded " + duration(total) + " of training and evaluation",
		"- wgan-gp (" + tinyLabel + ") on horses: 2 runs, seeds 1 and 2.",
		"- ce (" + tinyLabel + ") on horses: 2 runs, seeds 1 and 2.",
		"objective=wgan-gp batch=4 data=\"horses\"",
		"`empty: no checkpoint and no epoch in metrics.jsonl`",
		"relative to the run directory's grandparent",
		"No loss landscape of the last epoch (2) yet: the run has completed 1.",
	} {
		if !strings.Contains(readme, want) {
			t.Errorf("README.md lacks %q", want)
		}
	}
	if strings.Contains(readme, root) || strings.Contains(readme, os.TempDir()) {
		t.Errorf("README.md holds a machine path (%s)", root)
	}
}

// figureAndCaption matches a figure and its caption, a line of emphasis in which
// a star is escaped.
var figureAndCaption = regexp.MustCompile(`!\[[^\]]*\]\(([^)]+)\)\n\n\*((?:[^*\\\n]|\\.)+)\*\n`)

func TestGenerateFigures(t *testing.T) {
	out, readme := generate(t)
	root := study(t)
	var linked []string
	for _, m := range figureAndCaption.FindAllStringSubmatch(readme, -1) {
		linked = append(linked, m[1])
		if strings.TrimSpace(m[2]) == "" {
			t.Errorf("figure %s has no caption", m[1])
		}
	}
	if n := strings.Count(readme, "](") - strings.Count(readme, "](#"); n != len(linked) {
		t.Errorf("%d links to files, %d figures with captions", n, len(linked))
	}

	// Every figure a run's data allows, and no other.
	for _, name := range []string{"ce-1", "wgan-gp-1", "wgan-gp-2", "ce-2"} {
		e := expect(t, filepath.Join(root, "runs", name))
		want := []string{"iou.png", "samples-train.png", "samples-val.png", "samples-test.png"}
		for _, ep := range e.landscapeEpochs {
			want = append(want, fmt.Sprintf("landscape-ce-epoch%03d.png", ep))
			if e.objective != "ce" {
				want = append(want, fmt.Sprintf("landscape-adv-epoch%03d.png", ep))
			}
		}
		if e.objective != "ce" {
			want = append(want, "scores-epoch001.png", fmt.Sprintf("scores-epoch%03d.png", e.epochs))
		}
		var got []string
		for _, l := range linked {
			if dir, file := filepath.Split(l); dir == name+"/" {
				got = append(got, file)
			}
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("run %s: figures\n%v\nwant\n%v", name, got, want)
		}
	}

	// Each PNG exists, decodes, is about 600×400 or smaller, and small.
	for _, l := range linked {
		f, err := os.Open(filepath.Join(out, filepath.FromSlash(l)))
		if err != nil {
			t.Error(err)
			continue
		}
		fi, _ := f.Stat()
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", l, err)
			continue
		}
		b := img.Bounds()
		if b.Dx() > 640 || b.Dy() > 420 || b.Dx() < 100 || b.Dy() < 60 {
			t.Errorf("%s is %dx%d", l, b.Dx(), b.Dy())
		}
		if fi.Size() > 120<<10 {
			t.Errorf("%s is %d KiB", l, fi.Size()>>10)
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(out, "*", ".*.tmp"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestGenerateNoRuns(t *testing.T) {
	empty := t.TempDir()
	out := filepath.Join(t.TempDir(), "report")
	_, err := Generate([]string{empty, filepath.Join(empty, "missing")}, out, Options{})
	if !errors.Is(err, ErrNoRuns) || !strings.Contains(err.Error(), empty) {
		t.Fatalf("Generate of no run: %v, want ErrNoRuns naming %s", err, empty)
	}
	if _, err := os.Stat(filepath.Join(out, ReadmeFile)); err == nil {
		t.Error("a README.md was written for no run")
	}
}

// TestGenerateWithoutSamples needs no ONNX Runtime session: no grid, no
// note about one.
func TestGenerateWithoutSamples(t *testing.T) {
	root := study(t)
	out := t.TempDir()
	if _, err := Generate([]string{filepath.Join(root, "runs", "ce-1")}, out, Options{}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(out, ReadmeFile))
	if strings.Contains(string(b), "samples-") || strings.Contains(string(b), "sample grid") {
		t.Errorf("samples despite Samples 0:\n%s", b)
	}
}

func TestMeanStd(t *testing.T) {
	const tol = 1e-12
	tests := []struct {
		xs        []float64
		mean, std float64
		n         int
	}{
		{[]float64{0.5}, 0.5, 0, 1},
		{[]float64{1, 3}, 2, math.Sqrt2, 2},
		{[]float64{2, 4, 4, 4, 5, 5, 7, 9}, 5, math.Sqrt(32.0 / 7), 8},
		{[]float64{math.NaN(), 1, 3}, 2, math.Sqrt2, 2},
	}
	for _, tc := range tests {
		m, s, n := meanStd(tc.xs)
		if n != tc.n || math.Abs(m-tc.mean) > tol || math.Abs(s-tc.std) > tol {
			t.Errorf("meanStd(%v) = %g, %g, %d; want %g, %g, %d", tc.xs, m, s, n, tc.mean, tc.std, tc.n)
		}
	}
	if m, _, n := meanStd([]float64{math.NaN()}); n != 0 || !math.IsNaN(m) {
		t.Errorf("meanStd(NaN) = %g, n %d", m, n)
	}
}

func TestFormats(t *testing.T) {
	tests := []struct{ got, want string }{
		{pct(0.7234), "72.3"},
		{pct(math.NaN()), "–"},
		{pctMeanStd([]float64{0.70, 0.72}), "71.0 ± 1.4"},
		{pctMeanStd([]float64{0.7}), "70.0"},
		{duration(42), "42.0 s"},
		{duration(600), "10.0 min"},
		{duration(9000), "2.5 h"},
		{durationMeanStd([]float64{540, 660}), "10.0 ± 1.4 min"},
		{epochRange([]int{2, 2}), "2"},
		{epochRange([]int{1, 300}), "1–300"},
		{shellQuote("runs/a-1"), "runs/a-1"},
		{shellQuote("my runs/it's"), `'my runs/it'\''s'`},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestRunID(t *testing.T) {
	used := map[string]bool{}
	got := []string{runID("a/run 1", used), runID("b/run 1", used), runID("/x/.", used), runID("c/Run-1", used)}
	want := []string{"run-1", "run-1-2", "x", "Run-1-3"}
	if !slices.Equal(got, want) {
		t.Errorf("runIDs %v, want %v", got, want)
	}
}

// TestGroupRunsByDataset groups runs of one objective and preset on two
// datasets: each dataset has its own group and summary row, never one
// mean of both.
func TestGroupRunsByDataset(t *testing.T) {
	run := func(data string, seed uint64, val float64) *Run {
		c := orchestrator.DefaultConfig("ce")
		c.Data, c.Seed, c.Epochs = data, seed, 1
		iou := orchestrator.SplitIoU{Mean: val, Global: val}
		return &Run{Config: c, HasConfig: true, Epochs: []orchestrator.EpochRecord{
			{Kind: "epoch", Epoch: 1, Train: iou, Val: iou, Test: iou}}}
	}
	groups := GroupRuns([]*Run{run("/data/horses", 1, 0.8), run("", 1, 0.2),
		run("/data/horses/", 2, 0.6), run("", 2, 0.4)})
	var got []string
	for _, g := range groups {
		got = append(got, fmt.Sprintf("%s: %d runs", g.Name(), len(g.Runs)))
	}
	want := []string{"ce (tuned defaults, epochs=1) on synthetic: 2 runs",
		"ce (tuned defaults, epochs=1) on horses: 2 runs"}
	if !slices.Equal(got, want) {
		t.Fatalf("groups %q, want %q", got, want)
	}
	var b strings.Builder
	summaryTable(&b, groups)
	for _, row := range []string{
		"| ce | tuned defaults, epochs=1 | synthetic | 2 | 1, 2 | 30.0 ± 14.1 |",
		"| ce | tuned defaults, epochs=1 | horses | 2 | 1, 2 | 70.0 ± 14.1 |",
	} {
		if !strings.Contains(b.String(), row) {
			t.Errorf("summary lacks the row\n%s\nin\n%s", row, b.String())
		}
	}
}

// TestGroupRunsBySettings: runs whose configs differ in more than their
// seed are never averaged together; a group whose config differs from the
// defaults is labelled by what differs.
func TestGroupRunsBySettings(t *testing.T) {
	run := func(seed uint64, channels int, val float64) *Run {
		c := orchestrator.DefaultConfig("ce")
		c.Seed, c.Energy.Channels = seed, channels
		iou := orchestrator.SplitIoU{Mean: val, Global: val}
		return &Run{Config: c, HasConfig: true, Epochs: []orchestrator.EpochRecord{
			{Kind: "epoch", Epoch: 1, Train: iou, Val: iou, Test: iou}}}
	}
	// The eval batch changes how evaluation is batched, not the IoU: runs
	// differing in it alone belong together, under the defaults' label.
	evalBatch := func(r *Run, n int) *Run { r.Config.EvalBatch = n; return r }
	groups := GroupRuns([]*Run{run(1, 8, 0.8), run(1, 32, 0.2), run(2, 8, 0.6), evalBatch(run(2, 32, 0.4), 64)})
	var got []string
	for _, g := range groups {
		got = append(got, fmt.Sprintf("%s: %d runs", g.Name(), len(g.Runs)))
	}
	want := []string{"ce (tuned defaults) on synthetic: 2 runs",
		"ce (tuned defaults, energy.channels=8) on synthetic: 2 runs"}
	if !slices.Equal(got, want) {
		t.Fatalf("groups %q, want %q", got, want)
	}
	var b strings.Builder
	summaryTable(&b, groups)
	for _, row := range []string{
		"| ce | tuned defaults | synthetic | 2 | 1, 2 | 30.0 ± 14.1 |",
		"| ce | tuned defaults, energy.channels=8 | synthetic | 2 | 1, 2 | 70.0 ± 14.1 |",
	} {
		if !strings.Contains(b.String(), row) {
			t.Errorf("summary lacks the row\n%s\nin\n%s", row, b.String())
		}
	}
}

func TestSampleIndices(t *testing.T) {
	for _, tc := range []struct {
		m, n int
		want []int
	}{{66, 6, []int{0, 11, 22, 33, 44, 55}}, {3, 6, []int{0, 1, 2}}, {0, 6, []int{}}} {
		if got := sampleIndices(tc.m, tc.n); !slices.Equal(got, tc.want) {
			t.Errorf("sampleIndices(%d, %d) = %v, want %v", tc.m, tc.n, got, tc.want)
		}
	}
}

func TestConfigDiff(t *testing.T) {
	c := orchestrator.DefaultConfig("ebgan")
	if got := ConfigDiff(c); got != "objective=ebgan" {
		t.Errorf("ConfigDiff(defaults) = %q", got)
	}
	c.Seed, c.Energy.Channels = 3, 8
	if got, want := ConfigDiff(c), "objective=ebgan energy.channels=8 seed=3"; got != want {
		t.Errorf("ConfigDiff = %q, want %q", got, want)
	}
	p := orchestrator.DefaultConfig("wgan-gp")
	if err := p.ApplyPreset("paper"); err != nil {
		t.Fatal(err)
	}
	if got := ConfigDiff(p); got != "objective=wgan-gp preset=paper" {
		t.Errorf("ConfigDiff(paper) = %q", got)
	}
}

// TestLoadRunLogOnly reads a run that has only a config and a log whose
// last line was cut: the best epoch comes from the log, by val mean IoU,
// the first on ties.
func TestLoadRunLogOnly(t *testing.T) {
	dir := t.TempDir()
	c := orchestrator.DefaultConfig("logloss")
	c.Epochs = 5
	b, _ := json.Marshal(c)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	for i, v := range []float64{0.3, 0.6, 0.6, 0.5} {
		iou := orchestrator.SplitIoU{Mean: v, Global: v / 2, Images: 4}
		b, _ := json.Marshal(orchestrator.EpochRecord{Kind: "epoch", Epoch: i + 1, Train: iou, Val: iou,
			Test: iou, TrainSec: 10, EvalSec: 2})
		log.Write(append(b, '\n'))
	}
	log.WriteString(`{"kind":"scores","epoch":4,"real":[1,2],"fake":[0.5]}` + "\n")
	log.WriteString(`{"kind":"epoch","epoch":5,"tra`)
	if err := os.WriteFile(filepath.Join(dir, orchestrator.MetricsFile), log.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := LoadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	res := r.Result()
	if res.BestEpoch != 2 || res.Val.Mean != 0.6 || res.Train.Global != 0.3 || res.Epochs != 4 ||
		res.Seconds != 48 || !r.Unfinished() || len(r.Scores) != 1 {
		t.Errorf("Result = %+v, unfinished %v, %d scores", res, r.Unfinished(), len(r.Scores))
	}
	notes := strings.Join(r.Notes, "\n")
	for _, want := range []string{`No "best" checkpoint.`, `No "last" checkpoint.`, "Skipped 1 line of metrics.jsonl"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
}

func TestMarkdownEscape(t *testing.T) {
	got := mdEscape("CE(Y*, Y_T) in `x`")
	if want := "CE(Y\\*, Y\\_T) in \\`x\\`"; got != want {
		t.Errorf("mdEscape = %q, want %q", got, want)
	}
	line := "![a](b.png)\n\n*" + got + "*\n"
	if m := figureAndCaption.FindStringSubmatch(line); m == nil || m[2] != got {
		t.Errorf("figureAndCaption does not take the escaped caption: %q", m)
	}
}

// TestFiguresPerGroup draws the figures of the first run of each group
// only, while the tables still cover every run.
func TestFiguresPerGroup(t *testing.T) {
	root := study(t)
	var dirs []string
	for _, name := range []string{"wgan-gp-1", "wgan-gp-2"} {
		dirs = append(dirs, filepath.Join(root, "runs", name))
	}
	out := t.TempDir()
	if _, err := Generate(dirs, out, Options{FiguresPerGroup: 1}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, ReadmeFile))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	if !strings.Contains(readme, "](wgan-gp-1/iou.png)") || strings.Contains(readme, "](wgan-gp-2/") {
		t.Errorf("want figures of wgan-gp-1 only:\n%s", readme)
	}
	if _, err := os.Stat(filepath.Join(out, "wgan-gp-2")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a folder of figures for wgan-gp-2: %v", err)
	}
	if !strings.Contains(readme, "[wgan-gp-2](#wgan-gp-2)") {
		t.Errorf("the group's table lacks wgan-gp-2:\n%s", readme)
	}
}

// TestRawVal: the dotted line of an averaged run's parameters holds the
// epochs that recorded them, in percent; a run without it draws none.
func TestRawVal(t *testing.T) {
	recs := []orchestrator.EpochRecord{
		{Epoch: 1, Val: orchestrator.SplitIoU{Mean: 0.5}},
		{Epoch: 2, Val: orchestrator.SplitIoU{Mean: 0.6}, ValRaw: &orchestrator.SplitIoU{Mean: 0.55}},
		{Epoch: 3, Val: orchestrator.SplitIoU{Mean: 0.7}, ValRaw: &orchestrator.SplitIoU{Mean: 0.65}},
	}
	got := rawVal(recs)
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if len(got) != 2 || got[0].X != 2 || !near(got[0].Y, 55) || got[1].X != 3 || !near(got[1].Y, 65) {
		t.Fatalf("rawVal = %v, want (2, 55) and (3, 65)", got)
	}
	if rawVal(recs[:1]) != nil {
		t.Fatal("rawVal of a run without val_raw is not nil")
	}
	if _, err := iouPlot(&Run{Epochs: recs}, 3); err != nil {
		t.Fatal(err)
	}
}

// TestReplacedReportFigures: a report written over an earlier one removes
// the earlier one's figures that it does not show, and their emptied
// folders, but no file that no report linked.
func TestReplacedReportFigures(t *testing.T) {
	root := study(t)
	out := t.TempDir()
	old := filepath.Join(out, "gone-run", "iou.png")
	keep := filepath.Join(out, "gone-run", "notes.png")
	mine := filepath.Join(out, "mine.png")
	for _, p := range []string{old, keep, mine} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("png"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	oldOnly := filepath.Join(out, "old-only", "scores.png")
	if err := os.MkdirAll(filepath.Dir(oldOnly), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(oldOnly, []byte("png"), 0o644); err != nil {
		t.Fatal(err)
	}
	readme := readmeMarker + "\n\n![iou](gone-run/iou.png)\n\n![s](old-only/scores.png)\n\n![up](../outside.png)\n"
	if err := os.WriteFile(filepath.Join(out, ReadmeFile), []byte(readme), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate([]string{filepath.Join(root, "runs", "ce-1")}, out, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{old, oldOnly, filepath.Dir(oldOnly)} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s of the replaced report is still there (%v)", p, err)
		}
	}
	for _, p := range []string{keep, mine} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s, which no report linked, was removed: %v", p, err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(out, ReadmeFile))
	for p := range linkedFigures(string(b)) {
		if _, err := os.Stat(filepath.Join(out, p)); err != nil {
			t.Errorf("the new report's figure %s is missing: %v", p, err)
		}
	}
}
