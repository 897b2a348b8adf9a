package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"
)

var cmdInfer = &command{
	name:    "infer",
	args:    "IMAGE...",
	summary: "predict masks for images with a trained or exported model",
	help: `
Infer predicts a foreground mask for each IMAGE (PNG or JPEG) with --model:
a run directory, a checkpoint, or an .onnx file written by egan-ort export.
Each mask is written to --out as a PNG with the image's base name; with
--threshold below 0 the mask holds probabilities (0-255) instead of 0/255.`,
	ort: true,
	options: func(fs *pflag.FlagSet) options {
		o := &inferOptions{}
		o.addFlags(fs)
		return o
	},
}

// inferOptions are infer's flags.
type inferOptions struct {
	Model     string  // run directory, checkpoint or exported .onnx
	Out       string  // directory for the masks
	Threshold float64 // foreground threshold; < 0 keeps probabilities
}

func (o *inferOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.Model, "model", "m", "", "run directory, checkpoint or exported .onnx `file` (required)")
	fs.StringVarP(&o.Out, "out", "o", "masks", "`dir` for the predicted masks")
	fs.Float64Var(&o.Threshold, "threshold", 0.5, "foreground threshold; below 0 writes probabilities")
}

func (o *inferOptions) check(_ *globalOptions, args []string) error {
	switch {
	case o.Model == "":
		return fmt.Errorf("--model is required")
	case len(args) == 0:
		return fmt.Errorf("no images given")
	case o.Threshold > 1:
		return fmt.Errorf("--threshold %g: want at most 1", o.Threshold)
	}
	return nil
}

func (o *inferOptions) run(ctx context.Context, e *env, args []string) error {
	// TODO: inference needs models/ (checkpoints) or export/ (the .onnx
	// contract) and data/ (image decoding), none written yet.
	return errNotImplemented
}
