package orchestrator

import (
	"errors"
	"fmt"

	"github.com/egan-ort/egan-ort/checkpoint"
	"github.com/egan-ort/egan-ort/data"
	"github.com/egan-ort/egan-ort/models"
	"github.com/egan-ort/egan-ort/optim"
)

// ErrNonFinite is returned when a loss, a gradient or a parameter is NaN or
// infinite; training stops and the last good checkpoint stays.
var ErrNonFinite = errors.New("orchestrator: non-finite value")

// ErrInterrupted is returned when training stopped on a signal after saving
// a checkpoint.
var ErrInterrupted = errors.New("orchestrator: interrupted")

// Checkpoint names in a run directory.
const (
	LastCheckpoint = "last"
	BestCheckpoint = "best"
)

// stateVersion changes when State's meaning changes.
const stateVersion = 1

// State is the JSON half of a checkpoint: what, with the tensors, resumes a
// run exactly.
type State struct {
	Version   int        `json:"version"`
	Config    Config     `json:"config"`
	Stats     data.Stats `json:"stats"`    // normalisation of the training split
	Layout    string     `json:"layout"`   // the dataset layout trained on
	Epoch     int        `json:"epoch"`    // completed epochs
	Step      int64      `json:"step"`     // completed iterations
	InEpoch   bool       `json:"in_epoch"` // steps of epoch Epoch+1 are done
	BestVal   float64    `json:"best_val"` // best val mean IoU so far
	BestEpoch int        `json:"best_epoch"`
	Val       SplitIoU   `json:"val"` // of the parameters saved
	Test      SplitIoU   `json:"test"`
	Seconds   float64    `json:"seconds"` // training wall time so far
	NoiseRNG  []byte     `json:"noise_rng"`
	LoaderRNG []byte     `json:"loader_rng"`
	AdamSteps []int64    `json:"adam_steps"` // ce, adv, d
}

// position returns the log attributes of where the state of run dir
// stands, as the step records count: the epoch of its last step (the
// epoch under way when steps of it are done), that step, and the
// completed epochs.
func (st State) position(dir string) []any {
	epoch := st.Epoch
	if st.InEpoch {
		epoch++
	}
	return []any{"dir", dir, "epoch", epoch, "step", st.Step, "completed_epochs", st.Epoch}
}

// adams returns the optimisers in checkpoint order, with their names and the
// parameters they update (nil entries for the ce objective).
func (t *Trainer) adams() ([]string, []*optim.Adam, []*models.Params) {
	var dp *models.Params
	if t.Disc != nil {
		dp = t.Disc.Params
	}
	return []string{"ce", "adv", "d"}, []*optim.Adam{t.adamCE, t.adamAdv, t.adamD},
		[]*models.Params{t.Energy.Params, t.Energy.Params, dp}
}

// tensors lists every tensor of the trainer's state: parameters, then each
// Adam's first and second moments, then the energy parameters' average if
// there is one. The slices alias the live buffers.
func (t *Trainer) stateTensors() []checkpoint.Tensor {
	var out []checkpoint.Tensor
	for _, ps := range t.Params() {
		for _, p := range ps.List {
			out = append(out, checkpoint.Tensor{Name: p.Name, Shape: p.Shape, Data: p.Data})
		}
	}
	names, adams, params := t.adams()
	for k, a := range adams {
		if a == nil {
			continue
		}
		for i, p := range params[k].List {
			out = append(out,
				checkpoint.Tensor{Name: fmt.Sprintf("adam.%s.m/%s", names[k], p.Name), Shape: p.Shape, Data: a.M[i]},
				checkpoint.Tensor{Name: fmt.Sprintf("adam.%s.v/%s", names[k], p.Name), Shape: p.Shape, Data: a.V[i]})
		}
	}
	if t.avg != nil {
		out = append(out, t.avg.tensors(t.Energy.Params)...)
	}
	return out
}

// Save writes the trainer's tensors and st (with the RNG and Adam states
// filled in) as checkpoint name in dir, atomically.
func (t *Trainer) Save(dir, name string, st State, loader *data.Loader) error {
	var err error
	st.Version = stateVersion
	st.Config = t.Config
	if st.NoiseRNG, err = t.noisePCG.MarshalBinary(); err != nil {
		return fmt.Errorf("orchestrator: save: %w", err)
	}
	if loader != nil {
		if st.LoaderRNG, err = loader.State(); err != nil {
			return fmt.Errorf("orchestrator: save: %w", err)
		}
	}
	_, adams, _ := t.adams()
	st.AdamSteps = nil
	for _, a := range adams {
		var s int64
		if a != nil {
			s = a.Step
		}
		st.AdamSteps = append(st.AdamSteps, s)
	}
	return checkpoint.Save(dir, name, t.stateTensors(), st)
}

// ReadState reads the JSON state of a checkpoint without its tensors' values
// being applied anywhere.
func ReadState(dir, name string) (State, error) {
	var st State
	if err := checkpoint.ReadMeta(dir, name, &st); err != nil {
		return st, err
	}
	if st.Version != stateVersion {
		return st, fmt.Errorf("orchestrator: checkpoint %s in %s has state version %d, want %d",
			name, dir, st.Version, stateVersion)
	}
	return st, nil
}

// Restore loads checkpoint name from dir into the trainer (which must have
// been built from the checkpoint's config) and returns its state; loader,
// when not nil, gets its saved position.
func (t *Trainer) Restore(dir, name string, loader *data.Loader) (State, error) {
	var st State
	dst := t.stateTensors()
	if err := checkpoint.LoadInto(dir, name, dst, &st); err != nil {
		return st, err
	}
	if st.Version != stateVersion {
		return st, fmt.Errorf("orchestrator: checkpoint %s in %s has state version %d, want %d",
			name, dir, st.Version, stateVersion)
	}
	if err := t.noisePCG.UnmarshalBinary(st.NoiseRNG); err != nil {
		return st, fmt.Errorf("orchestrator: checkpoint %s in %s: noise generator: %w", name, dir, err)
	}
	if loader != nil && st.LoaderRNG != nil {
		if err := loader.SetState(st.LoaderRNG); err != nil {
			return st, fmt.Errorf("orchestrator: checkpoint %s in %s: %w", name, dir, err)
		}
	}
	_, adams, _ := t.adams()
	for k, a := range adams {
		if a != nil && k < len(st.AdamSteps) {
			a.Step = st.AdamSteps[k]
		}
	}
	return st, nil
}
