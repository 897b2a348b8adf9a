package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/egan-ort/egan-ort/orchestrator"
)

// tinyTrainArgs train a model small enough for a test in a few seconds on
// the synthetic dataset (160/40/128 images, as the 32x32 split): a high CE
// rate makes two epochs reach a non-zero IoU, so that the IoUs compared
// below are not all 0. No loss landscape, which would take a third of the
// time.
var tinyTrainArgs = []string{"--quiet", "train", "--objective", "ce", "--size", "16", "--epochs", "2",
	"--batch", "4", "--energy-channels", "8", "--energy-depth", "2", "--unary-channels", "8",
	"--unary-depth", "3", "--steps", "2", "--lr-ce", "0.03", "--landscape", "0"}

// trainTiny trains the tiny model into a new directory and returns it.
func trainTiny(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	r := runArgs(context.Background(), append(tinyTrainArgs, "--out", dir)...)
	if r.code != exitOK {
		t.Fatalf("train the tiny model: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	return dir
}

// copyRun copies the run directory src into a new directory and returns
// it, for tests that damage a run.
func copyRun(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "run")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// evalRow matches a row of eval's table: split, images, mean, global.
var evalRow = regexp.MustCompile(`(?m)^(train|val|test) +(\d+) +([0-9.]+) +([0-9.]+)$`)

func TestEval(t *testing.T) {
	run := trainTiny(t)
	best, err := orchestrator.ReadState(run, orchestrator.BestCheckpoint)
	if err != nil {
		t.Fatal(err)
	}
	last, err := orchestrator.ReadState(run, orchestrator.LastCheckpoint)
	if err != nil {
		t.Fatal(err)
	}
	if best.Val.Mean == 0 && best.Test.Mean == 0 {
		t.Fatalf("the tiny model scores 0 on val and test; the comparisons below would be vacuous")
	}

	// The table: every split by default, with the checkpoint's val and
	// test IoU to the 4 decimals printed.
	r := runArgs(context.Background(), "eval", "--run", run)
	if r.code != exitOK {
		t.Fatalf("eval: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if want := "run " + run + ", checkpoint best (epoch " + strconv.Itoa(best.Epoch) + ", ce), data synthetic\n" +
		"split  images  mean IoU  global IoU\n"; !strings.HasPrefix(r.stdout, want) {
		t.Errorf("eval stdout does not open with\n%s\ngot\n%s", want, r.stdout)
	}
	rows := evalRow.FindAllStringSubmatch(r.stdout, -1)
	if len(rows) != 3 || rows[0][1] != "train" || rows[1][1] != "val" || rows[2][1] != "test" {
		t.Fatalf("eval prints rows %q, want train, val and test:\n%s", rows, r.stdout)
	}
	recorded := map[string]orchestrator.SplitIoU{"val": best.Val, "test": best.Test}
	for _, row := range rows[1:] {
		want := recorded[row[1]]
		n, _ := strconv.Atoi(row[2])
		mean, _ := strconv.ParseFloat(row[3], 64)
		global, _ := strconv.ParseFloat(row[4], 64)
		// The table rounds to 4 decimals.
		if n != want.Images || math.Abs(mean-want.Mean) > 5e-5 || math.Abs(global-want.Global) > 5e-5 {
			t.Errorf("eval %s: %d images, mean %g, global %g; the checkpoint recorded %+v",
				row[1], n, mean, global, want)
		}
	}

	// JSON, in full precision. The same batches through the same graphs
	// give the same probabilities, so the IoUs equal the recorded ones
	// up to float64 rounding.
	for _, tc := range []struct {
		args             []string
		state            orchestrator.State
		train, val, test bool
	}{
		{[]string{"--json", "eval", "--run", run}, best, true, true, true},
		{[]string{"eval", "--run", run, "--json", "--checkpoint", "last", "--split", "test"}, last, false, false, true},
		{[]string{"eval", "--run", run, "--json", "--split", "val", "--data", "synthetic"}, best, false, true, false},
	} {
		r := runArgs(context.Background(), tc.args...)
		var res evalResult
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != exitOK {
			t.Fatalf("egan-ort %v: exit %d, %v\n%s%s", tc.args, r.code, err, r.stdout, r.stderr)
		}
		if res.Epoch != tc.state.Epoch || res.Objective != "ce" || res.Data != "synthetic" ||
			(res.Train != nil) != tc.train || (res.Val != nil) != tc.val || (res.Test != nil) != tc.test {
			t.Errorf("egan-ort %v = %+v", tc.args, res)
		}
		const tol = 1e-12
		for _, c := range []struct {
			got  *orchestrator.SplitIoU
			want orchestrator.SplitIoU
		}{{res.Val, tc.state.Val}, {res.Test, tc.state.Test}} {
			if c.got != nil && (c.got.Images != c.want.Images || math.Abs(c.got.Mean-c.want.Mean) > tol ||
				math.Abs(c.got.Global-c.want.Global) > tol) {
				t.Errorf("egan-ort %v: %+v, the checkpoint recorded %+v", tc.args, *c.got, c.want)
			}
		}
	}

	// Another dataset directory, resized to the model's size.
	horses := filepath.Join("..", "..", "..", "shared", "data", "weizmann_horse_32")
	if _, err := os.Stat(horses); err == nil {
		r := runArgs(context.Background(), "eval", "--run", run, "--data", horses, "--split", "val")
		rows := evalRow.FindAllStringSubmatch(r.stdout, -1)
		if r.code != exitOK || len(rows) != 1 || rows[0][1] != "val" || rows[0][2] != "40" {
			t.Errorf("eval --data %s: exit %d\n%s%s", horses, r.code, r.stdout, r.stderr)
		}
	}
}

func TestEvalErrors(t *testing.T) {
	run := trainTiny(t)
	tmp := t.TempDir()

	onlyLast := copyRun(t, run)
	if err := os.Remove(filepath.Join(onlyLast, "best.json")); err != nil {
		t.Fatal(err)
	}
	// Corrupt one byte of the best checkpoint's tensor file.
	corrupt := copyRun(t, run)
	tensors, _ := filepath.Glob(filepath.Join(corrupt, "best.*.safetensors"))
	if len(tensors) != 1 {
		t.Fatalf("want one best tensor file, got %v", tensors)
	}
	b, err := os.ReadFile(tensors[0])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0xff
	if err := os.WriteFile(tensors[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(tmp, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(tmp, "nosuch")

	tests := []struct {
		name string
		args []string
		code int
		want []string // in stderr
	}{
		{"no run", []string{"eval"}, exitUsage, []string{"want one run directory", "--run"}},
		{"positional run", []string{"eval", run}, exitUsage, []string{"unexpected argument", "--run"}},
		{"bad split", []string{"eval", "--run", run, "--split", "dev"}, exitUsage, []string{`--split "dev"`}},
		{"bad checkpoint", []string{"eval", "--run", run, "--checkpoint", "first"}, exitUsage,
			[]string{`--checkpoint "first"`, "best or last"}},
		{"missing dir", []string{"eval", "--run", missing}, exitFailure,
			[]string{missing, "does not exist", "egan-ort train"}},
		{"empty dir", []string{"eval", "--run", tmp}, exitFailure,
			[]string{tmp, "holds no checkpoint", "egan-ort train"}},
		{"not a dir", []string{"eval", "--run", file}, exitFailure, []string{file, "not a run directory"}},
		{"only last", []string{"eval", "--run", onlyLast}, exitFailure,
			[]string{onlyLast, "no best checkpoint", "--checkpoint last"}},
		{"corrupt", []string{"eval", "--run", corrupt}, exitFailure, []string{tensors[0], "sha256"}},
		{"missing data", []string{"eval", "--run", run, "--data", missing}, exitFailure, []string{missing}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runArgs(context.Background(), tc.args...)
			if r.code != tc.code || r.stdout != "" {
				t.Errorf("egan-ort %v: exit %d, stdout %q; want %d and nothing", tc.args, r.code, r.stdout, tc.code)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("egan-ort %v: stderr lacks %q:\n%s", tc.args, w, r.stderr)
				}
			}
		})
	}

	// The only-last run evaluates with --checkpoint last.
	if r := runArgs(context.Background(), "eval", "--run", onlyLast, "--checkpoint", "last"); r.code != exitOK {
		t.Errorf("eval --checkpoint last of a run without best: exit %d\n%s", r.code, r.stderr)
	}
}
