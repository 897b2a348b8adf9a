package data

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// sharedData returns the directory shared/data/NAME, found by walking up
// from the working directory; the test fails when there is none (the tests
// read the Weizmann data from ../shared/data beside the repository).
func sharedData(t *testing.T, name string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "data", name)
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no shared/data/%s above the working directory", name)
		}
		dir = parent
	}
}

// meanIoU returns the foreground IoU at ½ of pred against each mask,
// averaged over the masks; an image where both are empty scores 1.
func meanIoU(pred []float32, masks [][]float32) float64 {
	var sum float64
	for _, m := range masks {
		var inter, union float64
		for i, v := range m {
			p, y := pred[i] >= 0.5, v >= 0.5
			if p && y {
				inter++
			}
			if p || y {
				union++
			}
		}
		if union == 0 {
			sum++
		} else {
			sum += inter / union
		}
	}
	return sum / float64(len(masks))
}

// TestLoadWeizmann32 loads the 32x32 split and checks it against the
// reference points of the literature (data/README.md): predicting all
// pixels as horse scores 27.7% mean IoU on test, the shape prior of the
// training masks 51.6%.
func TestLoadWeizmann32(t *testing.T) {
	dir := sharedData(t, "weizmann_horse_32")
	s, layout, err := Load(dir, 32, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if layout != LayoutSplitLists {
		t.Errorf("layout %q", layout)
	}
	want := map[string]int{"train": 160, "val": 40, "test": 128}
	for _, d := range s.All() {
		if d.Len() != want[d.Split] || d.Size != 32 || d.Name != "weizmann_horse_32" {
			t.Errorf("%s/%s: %d samples of %d, want %d of 32", d.Name, d.Split, d.Len(), d.Size, want[d.Split])
		}
		if err := d.Validate(); err != nil {
			t.Error(err)
		}
	}
	names, err := ReadSplit(filepath.Join(dir, "train.txt"), Limits{})
	if err != nil || s.Train.Names[0] != names[0] || s.Train.Names[159] != names[159] {
		t.Errorf("train names %s..%s, split file %v (%v)", s.Train.Names[0], s.Train.Names[159], names, err)
	}

	// The literature's reference points, to 0.1%.
	ones, prior := make([]float32, 32*32), make([]float32, 32*32)
	for i := range ones {
		ones[i] = 1
	}
	for _, m := range s.Train.Masks {
		for i, v := range m {
			prior[i] += v / float32(s.Train.Len())
		}
	}
	for _, tt := range []struct {
		name      string
		pred      []float32
		want, tol float64
	}{
		{"all horse", ones, 0.277, 0.001},
		{"shape prior", prior, 0.516, 0.001},
	} {
		if got := meanIoU(tt.pred, s.Test.Masks); got < tt.want-tt.tol || got > tt.want+tt.tol {
			t.Errorf("%s: test mean IoU %.4f, want %.3f ± %.3f", tt.name, got, tt.want, tt.tol)
		}
	}

	// Natural images: channel means near ½, deviations near ¼.
	st := ComputeStats(s.Train)
	for c := range 3 {
		if st.Mean[c] < 0.35 || st.Mean[c] > 0.6 || st.Std[c] < 0.15 || st.Std[c] > 0.35 {
			t.Errorf("channel %d: mean %g std %g", c, st.Mean[c], st.Std[c])
		}
	}

	// Resized on load.
	s16, _, err := Load(dir, 16, Limits{})
	if err != nil || s16.Test.Size != 16 || s16.Test.Validate() != nil || s16.Test.Len() != 128 {
		t.Errorf("size 16: %v", err)
	}
}

// TestLoadHorseDB loads the full database at 32x32 and checks the
// protocol, horse318, and that its masks agree with those of the 32x32
// split, which were made from the same database.
func TestLoadHorseDB(t *testing.T) {
	dir := sharedData(t, "weizmann_horse_db")
	start := time.Now()
	db, layout, err := Load(dir, 32, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded 328 images in %v", time.Since(start))
	if layout != LayoutHorseDB {
		t.Errorf("layout %q", layout)
	}
	want := map[string]int{"train": HorseDBTrain, "val": HorseDBVal, "test": HorseDBTest}
	for _, d := range db.All() {
		if d.Len() != want[d.Split] || d.Size != 32 {
			t.Errorf("%s: %d samples, want %d", d.Split, d.Len(), want[d.Split])
		}
		if err := d.Validate(); err != nil {
			t.Error(err)
		}
	}
	if db.Train.Names[0] != "horse001" || db.Val.Names[0] != "horse197" || db.Test.Names[0] != "horse263" {
		t.Errorf("first names %s %s %s", db.Train.Names[0], db.Val.Names[0], db.Test.Names[0])
	}

	// horse318 is kept, black, with a horse in its mask.
	const i318 = 318 - 263
	var brightest, fg float32
	for _, v := range db.Test.Images[i318] {
		brightest = max(brightest, v)
	}
	for _, v := range db.Test.Masks[i318] {
		fg += v
	}
	if db.Test.Names[i318] != "horse318" || brightest > 0.01 || fg < 50 {
		t.Errorf("%s: brightest %g, %g foreground pixels", db.Test.Names[i318], brightest, fg)
	}

	// Masks agree with the 32x32 split: mean IoU 0.90 when measured.
	dir32 := sharedData(t, "weizmann_horse_32")
	s32, _, err := Load(dir32, 32, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	masks := map[string][]float32{}
	for _, d := range db.All() {
		for i, n := range d.Names {
			masks[n] = d.Masks[i]
		}
	}
	var sum float64
	n := 0
	for _, d := range s32.All() {
		for i, name := range d.Names {
			sum += meanIoU(masks[name], d.Masks[i:i+1])
			n++
		}
	}
	if got := sum / float64(n); got < 0.85 {
		t.Errorf("mean IoU between the database masks and the 32x32 split's: %.3f, want ≥ 0.85", got)
	}
}
