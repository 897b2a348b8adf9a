package orchestrator

import (
	"fmt"
	"os"

	"github.com/egan-ort/egan-ort/checkpoint"
	"github.com/egan-ort/egan-ort/data"
	"github.com/egan-ort/egan-ort/langevin"
	"github.com/egan-ort/egan-ort/models"
	"github.com/egan-ort/egan-ort/ort"
)

// Model is a trained energy network with what inference needs: its run's
// config, the training split's normalisation and the deterministic unroll.
type Model struct {
	Dir    string // run directory
	Name   string // checkpoint name
	State  State
	Energy *models.Energy
	unroll *langevin.Unroller
}

// OpenModel loads the energy network of checkpoint name ("best" or "last")
// in run directory dir. Destroy releases it.
func OpenModel(dir, name string, o ort.Options) (*Model, error) {
	e, st, err := loadEnergy(dir, name)
	if err != nil {
		return nil, err
	}
	u, err := langevin.New(e, st.Config.Langevin, o)
	if err != nil {
		return nil, err
	}
	return &Model{Dir: dir, Name: name, State: st, Energy: e, unroll: u}, nil
}

// loadEnergy reads the energy network and the state of a checkpoint: its
// parameters' average when the run kept one (Config.EMA), else the
// parameters.
func loadEnergy(dir, name string) (*models.Energy, State, error) {
	var st State
	if _, err := os.Stat(dir); err != nil {
		return nil, st, fmt.Errorf("orchestrator: run directory: %w", err)
	}
	tensors, err := checkpoint.Load(dir, name, &st)
	if err != nil {
		return nil, st, err
	}
	if st.Version != stateVersion {
		return nil, st, fmt.Errorf("orchestrator: checkpoint %s in %s has state version %d, want %d",
			name, dir, st.Version, stateVersion)
	}
	c := st.Config
	if err := c.Validate(); err != nil {
		return nil, st, fmt.Errorf("orchestrator: checkpoint %s in %s: %w", name, dir, err)
	}
	e, err := models.NewEnergy(c.Energy, c.Size, c.Seed)
	if err != nil {
		return nil, st, err
	}
	byName := map[string]checkpoint.Tensor{}
	for _, t := range tensors {
		byName[t.Name] = t
	}
	// A run with an average of its parameters is used through it.
	prefix := ""
	if c.EMA > 0 {
		prefix = averagePrefix
	}
	for _, p := range e.Params.List {
		t, ok := byName[prefix+p.Name]
		if !ok || len(t.Data) != len(p.Data) {
			return nil, st, fmt.Errorf("orchestrator: checkpoint %s in %s: parameter %s missing or of another shape",
				name, dir, prefix+p.Name)
		}
		copy(p.Data, t.Data)
	}
	return e, st, nil
}

// Destroy releases the model's ORT resources.
func (m *Model) Destroy() { m.unroll.Destroy() }

// Config returns the configuration the model was trained with.
func (m *Model) Config() Config { return m.State.Config }

// Stats returns the normalisation of the model's training split.
func (m *Model) Stats() data.Stats { return m.State.Stats }

// Evaluate returns the model's IoU on d (see Trainer.Evaluate).
func (m *Model) Evaluate(d *data.Dataset, keep func(i int, pred []float32)) (SplitIoU, error) {
	return evaluate(m.unroll, m.State.Config, d, m.State.Stats, keep)
}

// Predict returns the masks' probabilities for n images x ([n,3,S,S], RGB
// in [0,1], not normalised: Predict normalises a copy). The result is owned
// by the model and valid until the next Predict.
func (m *Model) Predict(x []float32, n int) ([]float32, error) {
	s := m.State.Config.Size
	p := 3 * s * s
	norm := make([]float32, n*p)
	for i := range n {
		m.State.Stats.Normalize(norm[i*p:(i+1)*p], x[i*p:(i+1)*p])
	}
	return m.unroll.Infer(norm, n, m.State.Config.Mirror())
}
