package orchestrator

import (
	"encoding/json"
	"fmt"

	"github.com/egan-ort/egan-ort/export"
	"github.com/egan-ort/egan-ort/graphs"
)

// ModelFile is the exported model that a finished run leaves in its
// directory (from its best checkpoint).
const ModelFile = "model.onnx"

// Version is egan-ort's version, written into exported models; the command
// sets it at start.
var Version = "dev"

// Export returns the inference graph of checkpoint name of run directory dir
// (see package export), with the run's facts in its metadata: objective,
// steps, rate, input size, the weights used (the parameters or their
// average), the checkpoint's val and test IoU, the egan-ort version and the
// full config. Extra keys in o.Metadata are added; one
// that names a key of these, or is empty, is an error.
func Export(dir, name string, o export.Options) (*graphs.Graph, error) {
	e, st, err := loadEnergy(dir, name)
	if err != nil {
		return nil, err
	}
	c := st.Config
	cfg, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("orchestrator: export: %w", err)
	}
	steps := c.Langevin.Steps
	if o.Steps > 0 {
		steps = o.Steps
	}
	weights := "the trained parameters"
	if c.EMA > 0 {
		weights = fmt.Sprintf("the moving average of the trained parameters (decay %g)", c.EMA)
	}
	meta := map[string]string{
		"weights":          weights,
		"objective":        c.Objective,
		"steps":            fmt.Sprint(steps),
		"rate":             fmt.Sprint(c.Langevin.Rate),
		"input_size":       fmt.Sprint(c.Size),
		"tta":              c.TTA,
		"val_mean_iou":     fmt.Sprintf("%.4f", st.Val.Mean),
		"test_mean_iou":    fmt.Sprintf("%.4f", st.Test.Mean),
		"val_global_iou":   fmt.Sprintf("%.4f", st.Val.Global),
		"test_global_iou":  fmt.Sprintf("%.4f", st.Test.Global),
		"epoch":            fmt.Sprint(st.Epoch),
		"checkpoint":       name,
		"dataset":          st.Layout,
		"egan_ort_version": Version,
		"config":           string(cfg),
		"input":            "image [N,3,H,W] float32 RGB in [0,1]; normalisation is inside the graph",
		"output":           "mask [N,1,H,W] float32 foreground probabilities; threshold 0.5",
	}
	for k, v := range o.Metadata {
		if _, own := meta[k]; own || k == "" {
			return nil, fmt.Errorf("orchestrator: export: metadata key %q is egan-ort's own or empty; "+
				"extra keys must be new (own: objective, steps, rate, input_size, checkpoint, config, ...)", k)
		}
		meta[k] = v
	}
	o.Metadata = meta
	o.Mirror = c.Mirror()
	o.Version = Version
	return export.Build(e, st.Stats, c.Langevin, o)
}
