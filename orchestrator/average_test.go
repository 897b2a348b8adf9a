package orchestrator

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/egan-ort/egan-ort/data"
	"github.com/egan-ort/egan-ort/export"
	"github.com/egan-ort/egan-ort/models"
	"github.com/egan-ort/egan-ort/ort"
)

// TestAverage trains with --ema and checks the average against one kept
// alongside from the parameters after every step; that evaluating swaps
// it in and out without touching the parameters being trained; and that
// the checkpoint's model, reopened and exported, is the average and scores
// on val what the run recorded, which also logged the parameters' own val.
func TestAverage(t *testing.T) {
	c := tinyConfig("ce")
	c.EMA = 0.9
	init, err := models.NewEnergy(c.Energy, c.Size, c.Seed)
	if err != nil {
		t.Fatal(err)
	}
	want := init.Params.NewBuffers()
	for i, p := range init.Params.List {
		copy(want[i], p.Data)
	}
	dir := t.TempDir()
	o := options(t, dir)
	stats := data.ComputeStats(o.Splits.Train)
	o.AfterStep = func(tr *Trainer, step int64) {
		d := min(c.EMA, float64(1+step)/float64(10+step))
		for i, p := range tr.Energy.Params.List {
			for j, v := range p.Data {
				want[i][j] = float32(d)*want[i][j] + float32(1-d)*v
			}
		}
		if step == 3 {
			before := slices.Clone(tr.Energy.Params.List[0].Data)
			if _, err := tr.Evaluate(o.Splits.Val, stats, nil); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(before, tr.Energy.Params.List[0].Data) {
				t.Fatal("evaluating with the average changed the parameters being trained")
			}
		}
	}
	if _, err := Train(context.Background(), c, o); err != nil {
		t.Fatal(err)
	}

	saved := map[string][]float32{}
	for _, tn := range finalParams(t, dir) {
		saved[tn.Name] = tn.Data
	}
	differs := false
	for i, p := range init.Params.List {
		got, ok := saved[averagePrefix+p.Name]
		if !ok {
			t.Fatalf("last checkpoint lacks %s%s", averagePrefix, p.Name)
		}
		for j := range got {
			if math.Abs(float64(got[j]-want[i][j])) > 1e-6*(1+math.Abs(float64(want[i][j]))) {
				t.Fatalf("%s[%d] = %g, want %g", p.Name, j, got[j], want[i][j])
			}
		}
		differs = differs || !slices.Equal(got, saved[p.Name])
	}
	if !differs {
		t.Fatal("the average equals the parameters")
	}

	m, err := OpenModel(dir, LastCheckpoint, ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Destroy()
	for _, p := range m.Energy.Params.List {
		if !slices.Equal(p.Data, saved[averagePrefix+p.Name]) {
			t.Fatalf("the reopened model's %s is not the average", p.Name)
		}
	}
	got, err := m.Evaluate(tinySplits(t).Val, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got != m.State.Val {
		t.Fatalf("reopened model scores %+v on val, the run recorded %+v", got, m.State.Val)
	}
	g, err := Export(dir, LastCheckpoint, export.Options{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := export.Parse("model", g.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if w := info.Metadata["weights"]; !strings.Contains(w, "moving average") {
		t.Errorf("exported model's weights metadata %q does not say they are the average", w)
	}
	last := lastEpochRecord(t, dir)
	if last.ValRaw == nil {
		t.Fatal("the epoch record of a run with EMA lacks val_raw")
	}
	if last.Val != m.State.Val {
		t.Fatalf("epoch record's val %+v, checkpoint's %+v", last.Val, m.State.Val)
	}
}

// TestNoAverage: without EMA a checkpoint holds no average and the epoch
// records no raw val.
func TestNoAverage(t *testing.T) {
	dir := t.TempDir()
	c := tinyConfig("ce")
	c.Epochs, c.EMA = 1, 0
	if _, err := Train(context.Background(), c, options(t, dir)); err != nil {
		t.Fatal(err)
	}
	for _, tn := range finalParams(t, dir) {
		if strings.HasPrefix(tn.Name, averagePrefix) {
			t.Fatalf("checkpoint holds %s without EMA", tn.Name)
		}
	}
	if lastEpochRecord(t, dir).ValRaw != nil {
		t.Fatal("epoch record holds val_raw without EMA")
	}
}

// lastEpochRecord returns the last "epoch" record of a run's metrics.jsonl.
func lastEpochRecord(t *testing.T, dir string) EpochRecord {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var last EpochRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"kind":"epoch"`) {
			if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
				t.Fatal(err)
			}
		}
	}
	if last.Kind == "" {
		t.Fatal("no epoch record")
	}
	return last
}
