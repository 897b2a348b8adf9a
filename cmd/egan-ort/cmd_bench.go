package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/pflag"
)

var cmdBench = &command{
	name:    "bench",
	summary: "time the training graphs and a training step in ONNX Runtime",
	help: `
Bench builds the training graphs for the default architecture at --batch and
--size, runs each for about --time on the selected device and thread count,
and prints milliseconds per call; "step" times one whole training iteration
(unroll, D step, CE step, adversarial step).`,
	ort: true,
	options: func(fs *pflag.FlagSet) options {
		o := &benchOptions{}
		o.addFlags(fs)
		return o
	},
}

// benchGraphs are the values --graph accepts.
var benchGraphs = []string{"all", "energy_grad", "energy_hvp", "disc", "disc_vjp", "disc_gp", "step"}

// benchOptions are bench's flags.
type benchOptions struct {
	Graph string // one of benchGraphs
	Batch int
	Size  int           // image side
	Time  time.Duration // per graph
}

func (o *benchOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Graph, "graph", "all", "what to time: "+joinOr(benchGraphs))
	fs.IntVar(&o.Batch, "batch", 10, "images per batch")
	fs.IntVar(&o.Size, "size", 32, "image side in pixels")
	fs.DurationVar(&o.Time, "time", 3*time.Second, "time spent on each graph")
}

func (o *benchOptions) check(_ *globalOptions, args []string) error {
	switch {
	case len(args) > 0:
		return fmt.Errorf("unexpected argument %q (bench takes flags only)", args[0])
	case !slices.Contains(benchGraphs, o.Graph):
		return fmt.Errorf("--graph %q: want %s", o.Graph, joinOr(benchGraphs))
	case o.Batch < 1 || o.Size < 8:
		return fmt.Errorf("--batch %d, --size %d: want a batch of at least 1 and a size of at least 8",
			o.Batch, o.Size)
	case o.Time <= 0:
		return fmt.Errorf("--time %v: want a positive duration", o.Time)
	}
	return nil
}

func (o *benchOptions) run(ctx context.Context, e *env, args []string) error {
	// TODO: the graphs come from models/ and graphs/, not written yet.
	return errNotImplemented
}
