package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/egan-ort/egan-ort/data"
	"github.com/egan-ort/egan-ort/models"
	"github.com/egan-ort/egan-ort/orchestrator"
	"github.com/egan-ort/egan-ort/ort"
)

// writeLogOnlyRun writes a run directory that holds a config and the epoch
// records of metrics.jsonl but no checkpoint, as a run killed before its
// first save would not, yet a copied log would.
func writeLogOnlyRun(t *testing.T, dir string, c orchestrator.Config, vals ...float64) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(c)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for i, v := range vals {
		iou := orchestrator.SplitIoU{Mean: v, Global: v, Images: 10}
		b, _ := json.Marshal(orchestrator.EpochRecord{Kind: "epoch", Epoch: i + 1, Train: iou, Val: iou, Test: iou,
			TrainSec: 1, EvalSec: 1})
		lines = append(lines, string(b))
	}
	if err := os.WriteFile(filepath.Join(dir, orchestrator.MetricsFile), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReportUsage(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"report", "-o", dir}, "no run directory given"},
		{[]string{"report", "r"}, "--out is required"},
		{[]string{"report", "--samples", "3", "--no-samples", "r", "-o", dir}, "contradict"},
		{[]string{"report", "--samples", "0", "r", "-o", dir}, "--samples 0"},
		{[]string{"report", "--runs", filepath.Join(dir, "nothing-*"), "-o", dir}, "matches nothing"},
		{[]string{"report", "--threads", "0", "r", "-o", dir}, "--threads 0"},
	}
	for _, tc := range tests {
		r := runArgs(context.Background(), tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("egan-ort %v: exit %d, stderr %q; want %d and %q", tc.args, r.code, r.stderr, exitUsage, tc.want)
		}
	}
}

// TestReportNoSamples reports on runs named by a quoted pattern, an
// argument and a directory that is not a run, without ONNX Runtime.
func TestReportNoSamples(t *testing.T) {
	root := t.TempDir()
	c := orchestrator.DefaultConfig("mse")
	c.Seed, c.Epochs = 1, 3
	writeLogOnlyRun(t, filepath.Join(root, "runs", "mse-1"), c, 0.2, 0.5, 0.4)
	c.Seed = 2
	writeLogOnlyRun(t, filepath.Join(root, "runs", "mse-2"), c, 0.3, 0.7)
	os.MkdirAll(filepath.Join(root, "runs", "notes"), 0o755)
	out := filepath.Join(root, "runs", "report") // next to the runs, so runs/* names it too
	os.MkdirAll(out, 0o755)

	r := runArgs(context.Background(), "report", "--no-samples", "--runs", filepath.Join(root, "runs", "*"),
		filepath.Join(root, "runs", "mse-1"), "-o", out)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "skipping directory") || !strings.Contains(r.stderr, "notes") {
		t.Errorf("no warning about the directory that is not a run:\n%s", r.stderr)
	}
	if want := "report of 2 directories written to "; !strings.HasPrefix(r.stdout, want) {
		t.Errorf("stdout %q, want %q: the runs reported, not the directories given", r.stdout, want)
	}
	b, err := os.ReadFile(filepath.Join(out, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	// Best val epochs 2 (50%) and 2 (70%): 60.0 ± 14.1; the second run is
	// unfinished.
	for _, want := range []string{
		"| mse | tuned defaults, --epochs 3 | synthetic | 2 | 1, 2 | 60.0 ± 14.1 | 60.0 ± 14.1 | 60.0 ± 14.1 | 60.0 / 60.0 / 60.0 | 2–3 of 3 |",
		"egan-ort train --objective mse --epochs 3 -o ",
		"egan-ort train --objective mse --epochs 3 --seed 2 -o ",
		"notes: no checkpoint and no epoch in metrics.jsonl",
	} {
		if !strings.Contains(readme, want) {
			t.Errorf("README.md lacks %q:\n%s", want, readme)
		}
	}
	if strings.Count(readme, "### mse-1") != 1 || strings.Contains(readme, "### report") {
		t.Errorf("runs repeated or the report taken for a run:\n%s", readme)
	}
}

// TestReportGroupsBySettings reports runs of one objective and dataset
// whose configs differ in more than their seed: each config has its row,
// labelled by the train flags that set it apart from the defaults.
func TestReportGroupsBySettings(t *testing.T) {
	root := t.TempDir()
	c := orchestrator.DefaultConfig("mse")
	c.Epochs = 2
	writeLogOnlyRun(t, filepath.Join(root, "a"), c, 0.2, 0.5)
	c.Seed = 2
	writeLogOnlyRun(t, filepath.Join(root, "b"), c, 0.3, 0.7)
	c.Energy.Channels, c.LRSchedule = 8, "cosine"
	writeLogOnlyRun(t, filepath.Join(root, "c"), c, 0.1, 0.2)
	out := filepath.Join(root, "report")
	r := runArgs(context.Background(), "report", "--no-samples", "-o", out,
		filepath.Join(root, "a"), filepath.Join(root, "b"), filepath.Join(root, "c"))
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, want := range []string{
		"3 runs in 2 groups",
		"| mse | tuned defaults, --epochs 2 | synthetic | 2 | 1, 2 | 60.0 ± 14.1 |",
		"| mse | tuned defaults, --epochs 2 --lr-schedule cosine --energy-channels 8 | synthetic | 1 | 2 | 20.0 |",
		"\n## mse (tuned defaults, --epochs 2 --lr-schedule cosine --energy-channels 8) on synthetic\n",
	} {
		if !strings.Contains(readme, want) {
			t.Errorf("README.md lacks %q:\n%s", want, readme)
		}
	}
}

// TestReportReadme reports into a directory whose README.md is someone
// else's, then into one that holds an earlier report; the run directory
// that does not exist is named as given.
func TestReportReadme(t *testing.T) {
	root := t.TempDir()
	run := filepath.Join(root, "mse-1")
	c := orchestrator.DefaultConfig("mse")
	c.Epochs = 2
	writeLogOnlyRun(t, run, c, 0.2, 0.5)
	missing := filepath.Join(root, "nonexist")

	out := filepath.Join(root, "project")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	theirs := []byte("# A project\n\nNot a report.\n")
	readme := writeFile(t, out, "README.md", theirs)
	r := runArgs(context.Background(), "report", "--no-samples", run, "-o", out)
	if r.code != exitFailure || !strings.Contains(r.stderr, readme) ||
		!strings.Contains(r.stderr, "did not write") {
		t.Errorf("report into a foreign README.md: exit %d, stderr %q; want %d naming %s",
			r.code, r.stderr, exitFailure, readme)
	}
	if b, _ := os.ReadFile(readme); string(b) != string(theirs) {
		t.Errorf("the foreign README.md was replaced by:\n%s", b)
	}
	if got := listDir(t, out); len(got) != 1 {
		t.Errorf("report refused but wrote %v", got)
	}

	// A report replaces its own README.md.
	out = filepath.Join(root, "report")
	for range 2 {
		r = runArgs(context.Background(), "report", "--no-samples", run, missing, "-o", out)
		if r.code != exitOK {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if want := "report of 1 directory written to "; !strings.HasPrefix(r.stdout, want) {
			t.Errorf("stdout %q, want %q", r.stdout, want)
		}
		if want := "stat " + missing + ": "; !strings.Contains(r.stderr, want) {
			t.Errorf("the warning does not name %s as given (%q):\n%s", missing, want, r.stderr)
		}
	}
}

// TestReportSamples trains a tiny run and reports on it with sample grids,
// as the command line does.
func TestReportSamples(t *testing.T) {
	if _, err := ort.Init(""); err != nil {
		t.Fatal("ONNX Runtime is needed (make setup):", err)
	}
	root := t.TempDir()
	c := orchestrator.DefaultConfig("ce")
	c.Size, c.Batch, c.Epochs, c.EvalBatch, c.Landscape = 16, 4, 1, 16, 3
	c.Energy = models.EnergyConfig{Channels: 8, Depth: 2, UnaryChannels: 8, UnaryDepth: 3, Prior: true}
	c.Langevin.Steps = 3
	s := data.Synthetic(16, c.Seed)
	sub := func(d *data.Dataset, n int) *data.Dataset {
		c := *d
		c.Names, c.Images, c.Masks = d.Names[:n], d.Images[:n], d.Masks[:n]
		return &c
	}
	run := filepath.Join(root, "ce-1")
	_, err := orchestrator.Train(context.Background(), c, orchestrator.RunOptions{Dir: run,
		ORT: ort.Options{Threads: 1}, Splits: &data.Splits{Train: sub(s.Train, 8), Val: sub(s.Val, 4), Test: sub(s.Test, 4)}})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, "report")
	r := runArgs(context.Background(), "--quiet", "report", "--threads", "1", "--samples", "2", run, "-o", out)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, split := range []string{"train", "val", "test"} {
		if _, err := os.Stat(filepath.Join(out, "ce-1", "samples-"+split+".png")); err != nil {
			t.Error(err)
		}
	}
}

func TestTrainCommand(t *testing.T) {
	c := orchestrator.DefaultConfig("wgan-gp")
	if err := c.ApplyPreset("paper"); err != nil {
		t.Fatal(err)
	}
	c.Seed, c.Data, c.Augment.Flip = 3, "my data", true
	want := "egan-ort train --objective wgan-gp --preset paper --data 'my data' --seed 3 --flip=true"
	if got := trainCommand(c); got != want {
		t.Errorf("trainCommand = %q, want %q", got, want)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	c.Data = filepath.Join(filepath.Dir(wd), "x", "..", "horses")
	if got := trainCommand(c); !strings.Contains(got, "--data ../horses ") {
		t.Errorf("an absolute --data beside the working directory: %q", got)
	}
}

// TestTrainJSON trains a tiny run through the command line and reads the
// summary that --json prints.
func TestTrainJSON(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := runArgs(context.Background(), "--json", "--quiet", "--threads", "1", "train", "--objective", "ce",
		"--size", "16", "--epochs", "1", "--landscape", "0", "--energy-channels", "4", "--unary-channels", "4",
		"--unary-depth", "2", "--out", dir)
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got trainResult
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, r.stdout)
	}
	if got.Run != dir || got.Epochs != 1 || got.BestEpoch != 1 || got.Val.Images == 0 ||
		got.Model != filepath.Join(dir, "model.onnx") {
		t.Fatalf("summary %+v", got)
	}
	if _, err := os.Stat(got.Model); err != nil {
		t.Fatal(err)
	}
}

// TestTrainThreads: train runs one ORT thread unless --threads is given.
func TestTrainThreads(t *testing.T) {
	for _, tc := range []struct {
		flags []string
		want  float64
	}{{nil, 1}, {[]string{"--threads", "2"}, 2}} {
		args := append([]string{"--json"}, tc.flags...)
		args = append(args, "train", "--objective", "ce", "--size", "16", "--epochs", "1", "--landscape", "0",
			"--energy-channels", "4", "--unary-channels", "4", "--unary-depth", "2",
			"--out", filepath.Join(t.TempDir(), "run"))
		r := runArgs(context.Background(), args...)
		if r.code != exitOK {
			t.Fatalf("%v: exit %d: %s", tc.flags, r.code, r.stderr)
		}
		found := false
		for _, line := range strings.Split(r.stderr, "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "run" {
				found = true
				if rec["threads"] != tc.want {
					t.Errorf("%v: threads %v, want %v", tc.flags, rec["threads"], tc.want)
				}
			}
		}
		if !found {
			t.Errorf("%v: no run record in\n%s", tc.flags, r.stderr)
		}
	}
}
