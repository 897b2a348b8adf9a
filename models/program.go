package models

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/egan-ort/egan-ort/graphs"
	"github.com/egan-ort/egan-ort/ort"
)

// Program is one training graph loaded in an ORT session, with the
// parameters bound once: ORT tensors over the Params' buffers, created with
// the program and reused by every Run. The Params' buffers must therefore
// never be reallocated while the Program lives (update them in place).
type Program struct {
	Name    string
	Model   []byte   // the serialised graph
	Hash    string   // hex SHA-256 of Model
	Data    []string // data input names, fed by Run's caller in this order
	Outputs []string
	// FLOPsPerImage is the graph's FLOPs for one batch item (graphs.FLOPs);
	// FLOPs accumulates them over every Run.
	FLOPsPerImage float64
	FLOPs         float64
	sess          *ort.Session
	params        []ort.Value
	inputs        []ort.Value // scratch: data then params
}

// NewProgram creates a session for g, whose first nData inputs are data and
// whose remaining inputs are the parameters of ps, in order. When cacheDir
// is not empty the graph is also written there as NAME-HASH.onnx (for
// inspection in Netron, say), if no such file exists.
func NewProgram(g *graphs.Graph, nData int, ps *Params, o ort.Options, cacheDir string) (*Program, error) {
	names := g.InputNames()
	if len(names) != nData+len(ps.List) {
		panic(fmt.Sprintf("models: program %s: %d inputs for %d data and %d parameters",
			g.Name(), len(names), nData, len(ps.List)))
	}
	p := &Program{Name: g.Name(), Model: g.Bytes(), Data: names[:nData], Outputs: g.OutputNames(),
		FLOPsPerImage: g.FLOPs(1)}
	p.Hash = graphs.Hash(p.Model)
	if cacheDir != "" {
		if err := cacheGraph(cacheDir, p); err != nil {
			return nil, err
		}
	}
	if o.Profile != "" {
		o.Profile += p.Name // one profile per graph
	}
	sess, err := ort.NewSession(p.Model, names, p.Outputs, o)
	if err != nil {
		return nil, fmt.Errorf("models: program %s: %w", p.Name, err)
	}
	p.sess = sess
	for _, q := range ps.List {
		t, err := ort.NewTensor(q.Data, ints64(q.Shape)...)
		if err != nil {
			p.Destroy()
			return nil, fmt.Errorf("models: program %s: bind %s: %w", p.Name, q.Name, err)
		}
		p.params = append(p.params, t)
	}
	p.inputs = make([]ort.Value, len(names))
	return p, nil
}

func cacheGraph(dir string, p *Program) error {
	path := filepath.Join(dir, fmt.Sprintf("%s-%s.onnx", p.Name, p.Hash[:16]))
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("models: graph cache: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, p.Model, 0o644); err != nil {
		return fmt.Errorf("models: graph cache: %w", err)
	}
	return os.Rename(tmp, path)
}

// Run feeds the data inputs (in the order of p.Data) and the bound
// parameters, and fills outputs (in the order of p.Outputs). A nil output is
// allocated by ORT; the caller must Destroy it.
func (p *Program) Run(data []ort.Value, outputs []ort.Value) error {
	if len(data) != len(p.Data) {
		panic(fmt.Sprintf("models: program %s: %d data inputs, want %d", p.Name, len(data), len(p.Data)))
	}
	copy(p.inputs, data)
	copy(p.inputs[len(data):], p.params)
	if err := p.sess.Run(p.inputs, outputs); err != nil {
		return fmt.Errorf("models: %s: %w", p.Name, err)
	}
	if len(data) > 0 {
		if shape := data[0].GetShape(); len(shape) > 0 {
			p.FLOPs += p.FLOPsPerImage * float64(shape[0])
		}
	}
	return nil
}

// Destroy releases the session and the parameter tensors.
func (p *Program) Destroy() {
	if p == nil {
		return
	}
	p.sess.Destroy()
	for _, t := range p.params {
		t.Destroy()
	}
	p.params = nil
}

func ints64(xs []int) []int64 {
	out := make([]int64, len(xs))
	for i, x := range xs {
		out[i] = int64(x)
	}
	return out
}
