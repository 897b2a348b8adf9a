package data

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
)

// Loader draws batches from a Dataset, epoch by epoch. Each epoch visits
// every sample once, in a fresh random order when shuffling; the last batch
// of an epoch holds the remainder and may be smaller unless DropLast is set.
// Shuffling and augmentation draw from one PCG generator seeded by the
// seed of NewLoader, so a seed fixes every batch of a run. A Loader is not
// safe for concurrent use.
type Loader struct {
	// Stats, when not nil, normalises every image of a batch
	// (Stats.Normalize) after augmentation.
	Stats *Stats
	// Augment transforms every sample of a batch; the zero value does
	// not, and draws no random numbers.
	Augment Augment
	// DropLast skips the last batch of an epoch when it is smaller than
	// the batch size. Set it for a loss that needs B ≥ 2, such as the
	// pull-away term, whose 1/(B(B−1)) is infinite for a batch of one.
	// With DropLast and a batch larger than the dataset every epoch is
	// empty: check BatchesPerEpoch before training.
	DropLast bool

	d       *Dataset
	batch   int
	shuffle bool
	pcg     *rand.PCG
	rng     *rand.Rand
	order   []int // the samples of the current epoch, in the order drawn
	pos     int   // the next position in order
	inEpoch bool  // order holds the current epoch
	last    []int // the samples of the last batch, a window of order
}

// NewLoader returns a Loader of batches of batch samples from d. Without
// shuffle every epoch visits the samples in their order in d, which is
// what evaluation wants. The generator is rand.NewPCG(seed, seed^pcgSeq).
// It panics if batch < 1 or d is empty.
func NewLoader(d *Dataset, batch int, shuffle bool, seed uint64) *Loader {
	if batch < 1 || d.Len() == 0 {
		panic(fmt.Sprintf("data: NewLoader: batch %d over %d samples", batch, d.Len()))
	}
	pcg := rand.NewPCG(seed, seed^pcgSeq)
	l := &Loader{d: d, batch: batch, shuffle: shuffle, pcg: pcg, rng: rand.New(pcg),
		order: make([]int, d.Len())}
	for i := range l.order {
		l.order[i] = i // a permutation at all times, which SetState checks
	}
	return l
}

// pcgSeq is mixed into the second PCG seed word so that seed 0 does not
// seed both words with zero.
const pcgSeq = 0x9e3779b97f4a7c15

// BatchesPerEpoch returns the number of batches Next fills in one epoch.
func (l *Loader) BatchesPerEpoch() int {
	n := l.d.Len()
	if l.DropLast {
		return n / l.batch
	}
	return (n + l.batch - 1) / l.batch
}

// Next fills the next batch of the epoch and returns its size n: the first
// n·3·S·S values of x receive the images, CHW per sample, augmented and then
// normalised, and the first n·S·S values of y the masks. y may be nil. At
// the end of an epoch Next fills nothing and returns 0 once; the call after
// starts the next epoch. It panics if x or y is shorter than a full batch.
func (l *Loader) Next(x, y []float32) int {
	s := l.d.Size
	p := s * s
	if len(x) < l.batch*3*p || (y != nil && len(y) < l.batch*p) {
		panic(fmt.Sprintf("data: Loader.Next: buffers of %d and %d values for batch %d of %dx%d",
			len(x), len(y), l.batch, s, s))
	}
	if !l.inEpoch {
		l.startEpoch()
	}
	n := min(l.batch, len(l.order)-l.pos)
	if n == 0 || (l.DropLast && n < l.batch) {
		l.inEpoch = false
		l.last = l.last[:0]
		return 0
	}

	l.last = l.order[l.pos : l.pos+n]
	l.pos += n
	for k, i := range l.last {
		xk := x[k*3*p : (k+1)*3*p]
		var yk, mask []float32
		if y != nil {
			yk, mask = y[k*p:(k+1)*p], l.d.Masks[i]
		}
		l.Augment.Apply(l.rng, xk, yk, l.d.Images[i], mask, s)
		if l.Stats != nil {
			l.Stats.Normalize(xk, xk)
		}
	}
	return n
}

// Indices returns the dataset indices of the samples of the last batch
// Next filled, in batch order; d.Names[i] names them. The slice is only
// valid until the next call of Next or SetState.
func (l *Loader) Indices() []int { return l.last }

// startEpoch draws the order of a new epoch.
func (l *Loader) startEpoch() {
	for i := range l.order {
		l.order[i] = i
	}
	if l.shuffle {
		l.rng.Shuffle(len(l.order), func(i, j int) {
			l.order[i], l.order[j] = l.order[j], l.order[i]
		})
	}
	l.pos = 0
	l.inEpoch = true
}

// stateMagic opens a serialised Loader state; the last byte is the version.
const stateMagic = "egan-ort/data.Loader\x00\x01"

// State returns the Loader's position for a checkpoint: the generator
// state, the order of the current epoch and the position in it. A Loader
// built with the same dataset and batch size and given this state by
// SetState fills the same batches as this one from here on, provided it
// has the same Stats, Augment and DropLast. Indices is not saved.
func (l *Loader) State() ([]byte, error) {
	pcg, err := l.pcg.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("data: loader state: %w", err)
	}
	var b bytes.Buffer
	b.WriteString(stateMagic)
	var flags uint8
	if l.inEpoch {
		flags |= 1
	}
	if l.shuffle {
		flags |= 2
	}
	b.WriteByte(flags)
	b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(l.order))))
	b.Write(binary.LittleEndian.AppendUint32(nil, uint32(l.batch)))
	b.Write(binary.LittleEndian.AppendUint32(nil, uint32(l.pos)))
	for _, i := range l.order {
		b.Write(binary.LittleEndian.AppendUint32(nil, uint32(i)))
	}
	b.Write(pcg)
	return b.Bytes(), nil
}

// errState wraps every error of SetState.
var errState = errors.New("data: loader state")

// SetState restores a position saved by State. It refuses, and leaves the
// Loader unchanged, a state of another dataset length, batch size or
// shuffle setting, or one that does not parse.
func (l *Loader) SetState(state []byte) error {
	b, ok := bytes.CutPrefix(state, []byte(stateMagic))
	if !ok {
		return fmt.Errorf("%w: not a loader state of this version", errState)
	}
	if len(b) < 13 {
		return fmt.Errorf("%w: %d bytes, too short", errState, len(state))
	}
	flags := b[0]
	n := int(binary.LittleEndian.Uint32(b[1:]))
	batch := int(binary.LittleEndian.Uint32(b[5:]))
	pos := int(binary.LittleEndian.Uint32(b[9:]))
	b = b[13:]
	shuffle := flags&2 != 0
	switch {
	case n != l.d.Len():
		return fmt.Errorf("%w: saved for %d samples, dataset has %d", errState, n, l.d.Len())
	case batch != l.batch:
		return fmt.Errorf("%w: saved for batch %d, loader has %d", errState, batch, l.batch)
	case shuffle != l.shuffle:
		return fmt.Errorf("%w: saved with shuffle %t, loader has %t", errState, shuffle, l.shuffle)
	case pos > n || len(b) < 4*n:
		return fmt.Errorf("%w: position %d of %d, %d bytes left", errState, pos, n, len(b))
	}

	// The order must be a permutation of 0..n−1.
	order := make([]int, n)
	seen := make([]bool, n)
	for k := range order {
		i := int(binary.LittleEndian.Uint32(b[4*k:]))
		if i >= n || seen[i] {
			return fmt.Errorf("%w: order is not a permutation of %d samples", errState, n)
		}
		order[k], seen[i] = i, true
	}
	pcg := new(rand.PCG)
	if err := pcg.UnmarshalBinary(b[4*n:]); err != nil {
		return fmt.Errorf("%w: generator: %w", errState, err)
	}

	*l.pcg = *pcg
	l.order, l.pos, l.inEpoch, l.last = order, pos, flags&1 != 0, nil
	return nil
}
