package data

import (
	"slices"
	"strings"
	"testing"
)

// indexDataset returns n samples of size×size whose every image value is
// k/(n) for sample k, so a batch shows which samples it holds.
func indexDataset(n, size int) *Dataset {
	d := &Dataset{Name: "index", Split: "train", Size: size}
	p := size * size
	for k := range n {
		img := make([]float32, 3*p)
		for i := range img {
			img[i] = float32(k) / float32(n)
		}
		mask := make([]float32, p)
		mask[k%p] = 1
		d.Names = append(d.Names, "s")
		d.Images = append(d.Images, img)
		d.Masks = append(d.Masks, mask)
	}
	return d
}

// epoch runs Next to the end of an epoch and returns the batch sizes and
// the samples in visiting order, read back from the images.
func epoch(t *testing.T, l *Loader, n int) (sizes, seen []int) {
	t.Helper()
	s := l.d.Size
	x, y := make([]float32, l.batch*3*s*s), make([]float32, l.batch*s*s)
	for {
		b := l.Next(x, y)
		if b == 0 {
			return sizes, seen
		}
		sizes = append(sizes, b)
		for k := range b {
			i := int(x[k*3*s*s]*float32(n) + 0.5)
			if l.Indices()[k] != i {
				t.Fatalf("Indices()[%d] = %d, image of sample %d", k, l.Indices()[k], i)
			}
			seen = append(seen, i)
		}
	}
}

func TestLoaderEpochs(t *testing.T) {
	const n = 10
	tests := []struct {
		name     string
		batch    int
		shuffle  bool
		dropLast bool
		sizes    []int
	}{
		{"in order", 4, false, false, []int{4, 4, 2}},
		{"shuffled", 4, true, false, []int{4, 4, 2}},
		{"drop last", 4, true, true, []int{4, 4}},
		{"exact", 5, true, true, []int{5, 5}},
		{"batch above n", 16, false, false, []int{10}},
	}
	for _, tt := range tests {
		l := NewLoader(indexDataset(n, 2), tt.batch, tt.shuffle, 42)
		l.DropLast = tt.dropLast
		if l.BatchesPerEpoch() != len(tt.sizes) {
			t.Errorf("%s: BatchesPerEpoch %d, want %d", tt.name, l.BatchesPerEpoch(), len(tt.sizes))
		}
		var orders [][]int
		for range 3 {
			sizes, seen := epoch(t, l, n)
			if !slices.Equal(sizes, tt.sizes) {
				t.Errorf("%s: batch sizes %v, want %v", tt.name, sizes, tt.sizes)
			}
			if distinct := slices.Compact(slices.Sorted(slices.Values(seen))); len(distinct) != len(seen) {
				t.Errorf("%s: a sample repeats within an epoch: %v", tt.name, seen)
			}
			orders = append(orders, seen)
		}
		inOrder := slices.Equal(orders[0][:4], []int{0, 1, 2, 3})
		if tt.shuffle == inOrder || tt.shuffle == slices.Equal(orders[0], orders[1]) {
			t.Errorf("%s: orders %v", tt.name, orders)
		}
	}
}

// TestLoaderNormalizes checks that Stats applies after augmentation.
func TestLoaderNormalizes(t *testing.T) {
	d := indexDataset(3, 2)
	l := NewLoader(d, 3, false, 1)
	l.Stats = &Stats{Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{0.5, 0.5, 0.5}}
	l.Augment = Augment{Flip: true}
	x, y := make([]float32, 3*3*4), make([]float32, 3*4)
	if l.Next(x, y) != 3 {
		t.Fatal("no batch")
	}
	for k := range 3 {
		want := (float32(k)/3 - 0.5) / 0.5
		if x[k*12] != want {
			t.Errorf("sample %d: %g, want %g", k, x[k*12], want)
		}
	}
	var ones float32
	for _, v := range y {
		ones += v
	}
	if ones != 3 {
		t.Errorf("masks hold %g ones, want 3", ones)
	}
}

// TestLoaderState checks that a loader restored from a state fills the
// same batches as the original, within an epoch and across its end.
func TestLoaderState(t *testing.T) {
	const size = 8
	d := Synthetic(size, 5).Val // 40 samples
	newLoader := func() *Loader {
		l := NewLoader(d, 6, true, 99)
		l.Augment = Augment{Flip: true, MaxShift: 2, Scale: 0.2}
		l.Stats = &Stats{Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{0.25, 0.25, 0.25}}
		return l
	}
	draw := func(l *Loader, k int) []float32 {
		var out []float32
		x, y := make([]float32, 6*3*size*size), make([]float32, 6*size*size)
		for range k {
			n := l.Next(x, y)
			out = append(out, float32(n))
			out = append(out, x[:n*3*size*size]...)
			out = append(out, y[:n*size*size]...)
		}
		return out
	}
	for _, skip := range []int{0, 3, 7, 8, 9} { // 7 batches per epoch, then the 0
		a := newLoader()
		draw(a, skip)
		state, err := a.State()
		if err != nil {
			t.Fatal(err)
		}
		b := newLoader()
		if err := b.SetState(state); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(draw(a, 12), draw(b, 12)) {
			t.Errorf("after %d batches: the restored loader draws other batches", skip)
		}
	}
}

func TestLoaderSetStateErrors(t *testing.T) {
	d := indexDataset(10, 2)
	state, err := NewLoader(d, 4, true, 1).State()
	if err != nil {
		t.Fatal(err)
	}
	corrupt := slices.Clone(state)
	corrupt[len(stateMagic)+13] = 7 // order[0] = 7 repeats a sample
	tests := []struct {
		name  string
		l     *Loader
		state []byte
		want  string
	}{
		{"other dataset", NewLoader(indexDataset(11, 2), 4, true, 1), state, "saved for 10 samples, dataset has 11"},
		{"other batch", NewLoader(d, 5, true, 1), state, "saved for batch 4, loader has 5"},
		{"other shuffle", NewLoader(d, 4, false, 1), state, "shuffle"},
		{"garbage", NewLoader(d, 4, true, 1), []byte("hello"), "not a loader state"},
		{"truncated", NewLoader(d, 4, true, 1), state[:len(state)-3], "generator"},
		{"not a permutation", NewLoader(d, 4, true, 1), corrupt, "not a permutation"},
	}
	for _, tt := range tests {
		before, _ := tt.l.State()
		err := tt.l.SetState(tt.state)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "data: loader state") {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
		if after, _ := tt.l.State(); !slices.Equal(before, after) {
			t.Errorf("%s: a refused state changed the loader", tt.name)
		}
	}
}
