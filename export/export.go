package export

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/egan-ort/egan-ort/data"
	"github.com/egan-ort/egan-ort/graphs"
	"github.com/egan-ort/egan-ort/langevin"
	"github.com/egan-ort/egan-ort/models"
)

// Names of the exported model's input and output.
const (
	Input  = "image" // [N,3,S,S] RGB in [0,1]
	Output = "mask"  // [N,1,S,S] foreground probabilities
)

// Options select the form of the exported graph.
type Options struct {
	// Steps overrides the number of unrolled steps T (0: the trained T).
	Steps int
	// Mirror averages the mask with that of the mirrored network, which is
	// the mirror image of the unroll on the mirrored image (the test-time
	// flip average of langevin.Unroller.Infer).
	Mirror bool
	// Portable restricts the graph to the ops of PortableOps, with the
	// batch fixed to Batch and every constant materialised at that size.
	Portable bool
	Batch    int // the fixed batch of a portable graph (default 1)
	// Metadata is written to the model's metadata_props.
	Metadata map[string]string
	// Version is egan-ort's version, the model's producer_version.
	Version string
}

// PortableOps are the ops a portable export may hold: what the pure-Go
// runtime github.com/owulveryck/onnx-go (gorgonnx backend) runs, with Add,
// Sub and Mul on same-shaped tensors only.
var PortableOps = []string{"Conv", "Add", "Sub", "Mul", "Sigmoid", "Softplus", "Relu", "LeakyRelu",
	"Concat", "Gemm", "MatMul"}

// Build returns the inference graph of energy network e: the T deterministic
// Langevin steps from L_0 = 0, with inputs normalised by stats inside the
// graph (see the package doc).
func Build(e *models.Energy, stats data.Stats, lc langevin.Config, o Options) (*graphs.Graph, error) {
	if o.Steps == 0 {
		o.Steps = lc.Steps
	}
	lc.Steps = o.Steps
	if err := lc.Validate(); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if o.Portable && lc.Clip > 0 {
		return nil, fmt.Errorf("export: a portable graph cannot clip the energy gradient (--clip %g): "+
			"the portable op set has no Clip, Min or Max", lc.Clip)
	}
	if o.Batch == 0 {
		o.Batch = 1
	}
	if o.Batch < 1 {
		return nil, fmt.Errorf("export: batch %d", o.Batch)
	}
	b := &builder{g: graphs.New("egan_ort_segmenter"), e: e, o: o, half: lc.Rate / 2, size: e.Size}
	b.g.SoftplusOp = true // portable, and what a reader expects
	b.build(stats, lc)
	b.g.SetProducerVersion(o.Version)
	keys := make([]string, 0, len(o.Metadata))
	for k := range o.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.g.SetMetadata(k, o.Metadata[k])
	}
	b.g.SetDoc(fmt.Sprintf("egan-ort segmenter: %d unrolled Langevin steps (rate %g) on an energy network; "+
		"input %q [N,3,%d,%d] RGB in [0,1], output %q [N,1,%d,%d] foreground probabilities.",
		lc.Steps, lc.Rate, Input, e.Size, e.Size, Output, e.Size, e.Size))
	return b.g, nil
}

// WriteFile writes the model under a temporary name in the target folder
// and renames it, so a failure never leaves a partial file at path. It
// creates no folder: one that does not exist is an error that says so.
func WriteFile(path string, model []byte) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("export: write %s: it is a directory", path)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".export-*.onnx.tmp")
	if err != nil {
		// The temporary name means nothing to the user; the folder does.
		if _, serr := os.Stat(dir); errors.Is(serr, fs.ErrNotExist) {
			return fmt.Errorf("export: write %s: the output folder %s does not exist", path, dir)
		}
		return fmt.Errorf("export: write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(model)
	if err == nil {
		err = f.Chmod(0o644) // CreateTemp makes the file private
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("export: write %s: %w", path, err)
	}
	return nil
}
