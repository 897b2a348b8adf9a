package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/pflag"
)

var cmdExport = &command{
	name:    "export",
	args:    "RUN",
	summary: "write a trained model's inference procedure as one ONNX file",
	help: `
Export writes one self-contained inference model for the run directory or
checkpoint RUN: input "image" [N,3,H,W] float32 RGB in [0,1], output "mask"
[N,1,H,W] probabilities, with normalisation, the trained weights and the T
deterministic Langevin steps inside the graph and the configuration and
metrics in its metadata. The model declares opset 17 and IR version 8.

--portable restricts the graph to the operators that the pure-Go runtime
onnx-go runs. --check runs ONNX's official checker on the result (needs
python3 with the onnx module) and checks that ONNX Runtime reproduces the
run's masks.`,
	ort: true,
	options: func(fs *pflag.FlagSet) options {
		o := &exportOptions{}
		o.addFlags(fs)
		return o
	},
}

// exportOptions are export's flags.
type exportOptions struct {
	Out      string // the .onnx file; "" means RUN/model.onnx
	Portable bool   // only operators onnx-go runs
	Check    bool   // run the ONNX checker and compare masks after writing
}

func (o *exportOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.Out, "out", "o", "", "output `file`, ending in .onnx (default RUN/model.onnx)")
	fs.BoolVar(&o.Portable, "portable", false, "use only operators that onnx-go runs")
	fs.BoolVar(&o.Check, "check", false, "check the written model with ONNX's checker and ONNX Runtime")
}

func (o *exportOptions) check(_ *globalOptions, args []string) error {
	switch {
	case len(args) != 1:
		return fmt.Errorf("want one run directory or checkpoint, got %d arguments", len(args))
	case o.Out != "" && !strings.HasSuffix(o.Out, ".onnx"):
		return fmt.Errorf("--out %q: want a file name ending in .onnx", o.Out)
	}
	return nil
}

func (o *exportOptions) run(ctx context.Context, e *env, args []string) error {
	// TODO: export/ does not exist yet; call it here.
	return errNotImplemented
}
