package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"
)

var cmdReport = &command{
	name:    "report",
	args:    "RUN...",
	summary: "plot and summarise finished or running training runs",
	help: `
Report reads the metrics.jsonl of each run directory RUN and writes its
plots (IoU per epoch per split, D-score histograms, loss landscapes, sample
grids) and a summary table of the best and last IoU per split. With several
runs, the table compares them. Report does not run ONNX Runtime.`,
	options: func(fs *pflag.FlagSet) options {
		o := &reportOptions{}
		o.addFlags(fs)
		return o
	},
}

// reportOptions are report's flags.
type reportOptions struct {
	Out string // directory for plots; "" means each run's plots/
}

func (o *reportOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.Out, "out", "o", "", "`dir` for the plots (default RUN/plots)")
}

func (o *reportOptions) check(_ *globalOptions, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("no run directory given")
	}
	return nil
}

func (o *reportOptions) run(ctx context.Context, e *env, args []string) error {
	// TODO: report needs the metrics format of orchestrator/, not
	// written yet.
	return errNotImplemented
}
