package checkpoint

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden checkpoint in testdata/golden")

// goldenTensors is the content of the golden checkpoint.
func goldenTensors() []Tensor {
	return []Tensor{
		{Name: "w", Shape: []int{2, 3}, Data: []float32{
			1, -2, 0.5, float32(math.Inf(1)), f32(0x80000000), f32(0x7f800001),
		}},
		{Name: "b", Shape: []int{1}, Data: []float32{0.25}},
		{Name: "t", Shape: []int{}, Data: []float32{1e-3}},
	}
}

// TestGolden pins format version 1: the checked-in checkpoint must load,
// and saving its content again must give the same bytes. A change to
// either file means old checkpoints no longer load or new ones differ;
// if that is intended, bump formatVersion and run go test -update.
func TestGolden(t *testing.T) {
	const dir, name = "testdata/golden", "v1"
	meta := testMeta{
		Config: map[string]any{"loss": "ebgan"}, Epoch: 2, Step: 40, RNG: []uint64{1, 2},
	}
	if *update {
		os.RemoveAll(dir)
		mustSave(t, dir, name, goldenTensors(), meta)
	}

	var m testMeta
	got, err := Load(dir, name, &m)
	if err != nil {
		t.Fatal(err)
	}
	checkTensors(t, got, goldenTensors())
	if m.Step != meta.Step || m.Config["loss"] != "ebgan" {
		t.Errorf("meta %+v, want %+v", m, meta)
	}

	tmp := t.TempDir()
	mustSave(t, tmp, name, goldenTensors(), meta)
	r := readRec(t, dir, name)
	for _, f := range []string{name + ".json", r.TensorFile} {
		want, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(tmp, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the golden file:\n%s\nwant\n%s", f, got, want)
		}
	}
}
