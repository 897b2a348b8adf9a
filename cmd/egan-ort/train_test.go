package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/egan-ort/egan-ort/models"
	"github.com/egan-ort/egan-ort/orchestrator"
	"github.com/egan-ort/egan-ort/ort"
)

// writeResumable writes into a new run directory the last checkpoint of a
// run of config c that has not trained yet, and returns the directory.
func writeResumable(t *testing.T, c orchestrator.Config) string {
	t.Helper()
	if _, err := ort.Init(""); err != nil {
		t.Fatal(err)
	}
	tr, err := orchestrator.NewTrainer(c, ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Destroy()
	dir := filepath.Join(t.TempDir(), "run")
	if err := tr.Save(dir, orchestrator.LastCheckpoint, orchestrator.State{}, nil); err != nil {
		t.Fatal(err)
	}
	return dir
}

// checkTrain parses and checks a train command line as egan-ort does,
// without running it.
func checkTrain(t *testing.T, args ...string) error {
	t.Helper()
	fs := newFlagSet("egan-ort train")
	o := cmdTrain.options(fs)
	fs.AddFlagSet(cmdTrain.globalFlags(newFlagSet("")))
	if err := fs.Parse(args); err != nil {
		t.Fatalf("train %v: %v", args, err)
	}
	return o.check(&globalOptions{}, fs.Args())
}

// TestResumeFlags: on --resume, a setting given with the value the run
// has is accepted, however it is spelt; another value is refused, naming
// the run's value, the one given and the checkpoint that holds the config.
func TestResumeFlags(t *testing.T) {
	c := orchestrator.DefaultConfig("ce")
	c.Size, c.LRCE, c.Landscape = 16, 0.03, 0
	c.Energy = models.EnergyConfig{Channels: 8, Depth: 2, UnaryChannels: 8, UnaryDepth: 3}
	c.Disc = models.DiscConfig{Channels: 8, Depth: 2, Slope: 0.2}
	run := writeResumable(t, c)
	record := filepath.Join(run, "last.json")
	for _, tc := range []struct {
		args []string
		want string // "" when accepted
	}{
		{[]string{"--lr-ce", "0.03"}, ""},
		{[]string{"--lr-ce", "3e-2", "--objective", "ce", "--size", "16", "--prior=false"}, ""},
		{[]string{"--energy-dilate=false", "--epochs", "5", "--data", "elsewhere"}, ""},
		{[]string{"--lr-ce", "0.5"}, "--lr-ce cannot change a resumed run: it keeps the config of its checkpoint " +
			record + ", where --lr-ce is 0.03, not 0.5"},
		{[]string{"--energy-dilate"}, "--energy-dilate is false, not true"},
		{[]string{"--preset", "paper"}, `--preset is "", not paper`},
		{[]string{"--objective", "ce", "--size", "32"}, "--size is 16, not 32"},
	} {
		err := checkTrain(t, append([]string{"--resume", run}, tc.args...)...)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("train --resume %v: refused: %v", tc.args, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("train --resume %v: %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestResumeDamagedRun resumes a run whose checkpoint record is damaged,
// and one that does not exist: train fails naming the file and writes
// nothing.
func TestResumeDamagedRun(t *testing.T) {
	run := filepath.Join(t.TempDir(), "run")
	if err := os.MkdirAll(run, 0o755); err != nil {
		t.Fatal(err)
	}
	record := filepath.Join(run, "last.json")
	if err := os.WriteFile(record, []byte("{garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "none")
	for dir, file := range map[string]string{run: record, missing: filepath.Join(missing, "last.json")} {
		r := runArgs(context.Background(), "train", "--resume", dir, "--epochs", "3")
		if r.code != exitFailure || !strings.Contains(r.stderr, file) || !strings.Contains(r.stderr, "nothing written") {
			t.Errorf("train --resume %s: exit %d, stderr %q; want %d naming %s", dir, r.code, r.stderr, exitFailure, file)
		}
	}
	if entries, _ := os.ReadDir(run); len(entries) != 1 {
		t.Errorf("the refused resume wrote into %s: %v", run, entries)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("the refused resume made %s", missing)
	}
}

// TestLRScheduleHelp: the help of --lr-schedule gives the cosine factor of
// the last epoch as Config.LRFactor computes it, not "near 0".
func TestLRScheduleHelp(t *testing.T) {
	r := runArgs(context.Background(), "train", "--help")
	i := strings.Index(r.stdout, "--lr-schedule")
	if i < 0 {
		t.Fatalf("train --help lacks --lr-schedule:\n%s", r.stdout)
	}
	help := r.stdout[i:]
	help = help[:strings.Index(help, "--weight-decay")]
	c := orchestrator.DefaultConfig("ce")
	c.LRSchedule = "cosine"
	last := fmt.Sprintf("%.2g for %d epochs", c.LRFactor(c.Epochs), c.Epochs)
	for _, want := range []string{"(1+cos(pi*(E-1)/E))/2 at the last", last} {
		if !strings.Contains(help, want) {
			t.Errorf("--lr-schedule's help lacks %q:\n%s", want, help)
		}
	}
	if strings.Contains(help, "near 0") {
		t.Errorf("--lr-schedule's help says the last factor is near 0:\n%s", help)
	}
}

// TestReadmeTrainFlags: README.md describes the preset and the train flags
// of the schedule, the weight decay, the dilations and the test-time
// augmentation.
func TestReadmeTrainFlags(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, flag := range []string{"--preset paper", "--lr-schedule constant|cosine", "--weight-decay W",
		"--energy-dilate", "--tta none|flip"} {
		if !strings.Contains(readme, "`"+flag) {
			t.Errorf("README.md does not describe `%s`", flag)
		}
	}
}
