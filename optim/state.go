package optim

import "fmt"

// AdamState is the part of an Adam that a checkpoint must carry to resume
// training bit for bit: the step counter and both moments. The
// hyperparameters belong to the run's configuration and are not included.
type AdamState struct {
	Step int64
	M, V [][]float32
}

// State returns a deep copy of the optimiser state; later updates do not
// change it.
func (a *Adam) State() AdamState {
	return AdamState{Step: a.Step, M: clone(a.M), V: clone(a.V)}
}

// Restore copies s into the optimiser, replacing its step and moments. It
// returns an error, leaving a unchanged, if s.Step is negative or if the
// buffer counts or lengths of s differ from a's: a checkpoint written for
// other parameter shapes.
func (a *Adam) Restore(s AdamState) error {
	if s.Step < 0 {
		return fmt.Errorf("optim: restore adam state: step %d < 0", s.Step)
	}
	for _, b := range []struct {
		name      string
		got, want [][]float32
	}{{"M", s.M, a.M}, {"V", s.V, a.V}} {
		if len(b.got) != len(b.want) {
			return fmt.Errorf("optim: restore adam state: %d %s buffers, want %d",
				len(b.got), b.name, len(b.want))
		}
		for i := range b.got {
			if len(b.got[i]) != len(b.want[i]) {
				return fmt.Errorf("optim: restore adam state: %s buffer %d has %d elements, want %d",
					b.name, i, len(b.got[i]), len(b.want[i]))
			}
		}
	}
	a.Step = s.Step
	for i := range a.M {
		copy(a.M[i], s.M[i])
		copy(a.V[i], s.V[i])
	}
	return nil
}

// clone returns a deep copy of bufs.
func clone(bufs [][]float32) [][]float32 {
	c := make([][]float32, len(bufs))
	for i, b := range bufs {
		c[i] = append([]float32(nil), b...)
	}
	return c
}
