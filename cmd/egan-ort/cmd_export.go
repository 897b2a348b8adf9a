package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/egan-ort/egan-ort/export"
	"github.com/egan-ort/egan-ort/orchestrator"
)

var cmdExport = &command{
	name:    "export",
	summary: "write a trained model's inference procedure as one ONNX file",
	help: `
Export writes one self-contained inference model for a run directory:
input "image" [N,3,H,W] float32 RGB in [0,1] (the normalisation of the
training split is inside the graph), output "mask" [N,1,H,W] foreground
probabilities (threshold at 0.5), the trained weights as initializers and
the T deterministic Langevin steps unrolled in the graph. A run trained
with --tta flip (the default) gets a second unroll with the kernels and
prior mirrored left to right, the same network seen in a mirror, and the
mean of the two masks: what egan-ort's own inference computes by running
the mirror image. Its metadata_props hold the objective, T, the rate,
--tta, the input size, the checkpoint's val and test IoU, the egan-ort
version and the run's config; --metadata adds keys of its own (not these).
The model declares opset 17 and IR version 8 and runs in any ONNX runtime.

--portable restricts the graph to Conv, Add/Sub/Mul of same-shaped tensors,
Sigmoid and Softplus (no Concat), which the pure-Go runtime
github.com/owulveryck/onnx-go runs; it fixes the batch to --batch and holds
every broadcast constant at that size. A run trained with --clip cannot be
exported portably.

Training already writes RUN_DIR/model.onnx from the best checkpoint.`,
	ort: false,
	options: func(fs *pflag.FlagSet) options {
		o := &exportOptions{}
		fs.StringVar(&o.runDir, "run", "", "run `dir` to export (required)")
		fs.StringVarP(&o.out, "out", "o", "", "output `file` ending in .onnx (default RUN_DIR/model.onnx, or model-portable.onnx)")
		fs.StringVar(&o.checkpoint, "checkpoint", orchestrator.BestCheckpoint, "checkpoint to export: best or last")
		fs.IntVar(&o.steps, "steps", 0, "unrolled steps T (default: the trained T)")
		fs.BoolVar(&o.portable, "portable", false, "use only operators the pure-Go runtime onnx-go runs")
		fs.IntVar(&o.batch, "batch", 1, "the fixed batch of a --portable model")
		fs.StringToStringVar(&o.metadata, "metadata", nil, "extra metadata_props `key=value` pairs (repeatable)")
		return o
	},
}

// exportOptions are export's flags.
type exportOptions struct {
	runDir, out, checkpoint string
	steps, batch            int
	portable                bool
	metadata                map[string]string
}

func (o *exportOptions) check(_ *globalOptions, args []string) error {
	switch {
	case len(args) > 0:
		return fmt.Errorf("unexpected argument %q (name the run with --run)", args[0])
	case o.runDir == "":
		return fmt.Errorf("--run is required: the run directory to export")
	case o.checkpoint != orchestrator.BestCheckpoint && o.checkpoint != orchestrator.LastCheckpoint:
		return fmt.Errorf("--checkpoint %q: want best or last", o.checkpoint)
	case o.steps < 0:
		return fmt.Errorf("--steps %d: want ≥ 0 (0 for the trained T)", o.steps)
	case o.batch < 1:
		return fmt.Errorf("--batch %d: want ≥ 1", o.batch)
	case o.out != "" && !strings.HasSuffix(o.out, ".onnx"):
		return fmt.Errorf("--out %q: want a file name ending in .onnx", o.out)
	}
	if o.out == "" {
		name := orchestrator.ModelFile
		if o.portable {
			name = "model-portable.onnx"
		}
		o.out = filepath.Join(o.runDir, name)
	}
	return nil
}

func (o *exportOptions) run(_ context.Context, e *env, _ []string) error {
	orchestrator.Version = buildVersion()
	g, err := orchestrator.Export(o.runDir, o.checkpoint, export.Options{Steps: o.steps, Portable: o.portable,
		Batch: o.batch, Metadata: o.metadata})
	if err != nil {
		return err
	}
	model := g.Bytes()
	if err := export.WriteFile(o.out, model); err != nil {
		return err
	}
	ops := export.OpHistogram(g.Model())
	e.log.Info("exported", "file", o.out, "bytes", len(model), "portable", o.portable, "ops", fmt.Sprint(ops))
	if e.global.JSON {
		return json.NewEncoder(e.stdout).Encode(map[string]any{"model": o.out, "bytes": len(model),
			"portable": o.portable, "ops": ops})
	}
	fmt.Fprintf(e.stdout, "%s (%d bytes)\n", o.out, len(model))
	return nil
}
