package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchProfile: bench --profile leaves one ONNX Runtime profile per
// training graph, each a JSON array of trace events that names the ops.
func TestBenchProfile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "profiles")
	r := runArgs(context.Background(), "--quiet", "--threads", "1", "bench", "--objective", "ce",
		"--size", "8", "--iters", "1", "--warmup", "0", "--profile", dir)
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "ce_energy_*.json"))
	if len(files) != 4 { // unary, unary_vjp, grad, hvp
		t.Fatalf("profiles %v, want one per energy graph", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var events []struct {
			Cat  string `json:"cat"`
			Name string `json:"name"`
		}
		if err := json.Unmarshal(b, &events); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		kernels := 0
		for _, e := range events {
			if e.Cat == "Node" && strings.HasSuffix(e.Name, "_kernel_time") {
				kernels++
			}
		}
		if kernels == 0 {
			t.Errorf("%s: no kernel timings in %d events", f, len(events))
		}
	}
}
