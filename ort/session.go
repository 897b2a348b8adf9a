package ort

import (
	"errors"
	"fmt"
	"strings"

	ortgo "github.com/yalue/onnxruntime_go"
)

// Device selects ORT's execution provider.
type Device string

// The devices egan-ort knows.
const (
	CPU  Device = "cpu"
	CUDA Device = "cuda"
)

// ParseDevice checks a --device value.
func ParseDevice(s string) (Device, error) {
	switch d := Device(strings.ToLower(s)); d {
	case CPU, CUDA:
		return d, nil
	}
	return "", fmt.Errorf("ort: unknown device %q (want cpu or cuda)", s)
}

// ErrNoCUDA is returned when the CUDA execution provider cannot be loaded.
var ErrNoCUDA = errors.New("ort: CUDA execution provider unavailable")

// OptLevel is ORT's graph optimisation level.
type OptLevel int

// Graph optimisation levels, as ORT names them.
const (
	OptAll      OptLevel = iota // every optimisation (the default)
	OptDisable                  // none
	OptBasic                    // constant folding, redundant node removal
	OptExtended                 // plus node fusions
)

// Options configure a session.
type Options struct {
	Device   Device   // execution provider; "" means CPU
	Threads  int      // intra-op threads; 0 means DefaultThreads()
	OptLevel OptLevel // graph optimisation level
	GPU      int      // CUDA device ordinal
	Profile  string   // when set, ORT's profiler writes each session's op timings to <Profile>_<date>.json
}

// Session is an ORT inference session over a model held in memory, with
// named inputs and outputs fixed at creation. Destroy releases it.
type Session struct {
	s       *ortgo.DynamicAdvancedSession
	Inputs  []string
	Outputs []string
}

// NewSession creates a session for the ONNX model bytes, feeding the named
// inputs and fetching the named outputs. Init must have succeeded first.
func NewSession(model []byte, inputs, outputs []string, o Options) (*Session, error) {
	if LibraryPath() == "" {
		return nil, errors.New("ort: NewSession called before Init")
	}
	if len(inputs) == 0 || len(outputs) == 0 {
		return nil, fmt.Errorf("ort: create session: need at least one input and one output name, got %q and %q",
			inputs, outputs)
	}
	opts, err := sessionOptions(o)
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	s, err := ortgo.NewDynamicAdvancedSessionWithONNXData(model, inputs, outputs, opts)
	if err != nil {
		return nil, fmt.Errorf("ort: create session: %w", err)
	}
	return &Session{s: s, Inputs: inputs, Outputs: outputs}, nil
}

func sessionOptions(o Options) (*ortgo.SessionOptions, error) {
	opts, err := ortgo.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("ort: session options: %w", err)
	}
	threads := o.Threads
	if threads <= 0 {
		threads = DefaultThreads()
	}
	levels := map[OptLevel]ortgo.GraphOptimizationLevel{
		OptAll:      ortgo.GraphOptimizationLevelEnableAll,
		OptDisable:  ortgo.GraphOptimizationLevelDisableAll,
		OptBasic:    ortgo.GraphOptimizationLevelEnableBasic,
		OptExtended: ortgo.GraphOptimizationLevelEnableExtended,
	}
	if err = opts.SetIntraOpNumThreads(threads); err == nil {
		err = opts.SetInterOpNumThreads(1)
	}
	if err == nil {
		err = opts.SetGraphOptimizationLevel(levels[o.OptLevel])
	}
	if err == nil && o.Device == CUDA {
		err = appendCUDA(opts, o.GPU)
	}
	if err == nil && o.Profile != "" {
		err = opts.EnableProfiling(o.Profile)
	}
	if err != nil {
		opts.Destroy()
		return nil, err
	}
	return opts, nil
}

// appendCUDA adds the CUDA execution provider to opts. Every failure wraps
// ErrNoCUDA and says how to get the provider or to avoid it: the provider
// may be missing when its options are created or only when it is appended,
// depending on the build of the library.
func appendCUDA(opts *ortgo.SessionOptions, gpu int) error {
	err := func() error {
		cuda, err := ortgo.NewCUDAProviderOptions()
		if err != nil {
			return err
		}
		defer cuda.Destroy()
		if err := cuda.Update(map[string]string{"device_id": fmt.Sprint(gpu)}); err != nil {
			return err
		}
		return opts.AppendExecutionProviderCUDA(cuda)
	}()
	if err != nil {
		return fmt.Errorf("%w: %v\n(the onnxruntime-node library is CPU-only; "+
			"put ORT's CUDA provider libraries (libonnxruntime_providers_cuda.so "+
			"and libonnxruntime_providers_shared.so) beside %s, with CUDA's runtime, "+
			"cuBLAS and cuDNN installed, or use --device cpu)", ErrNoCUDA, err, LibraryPath())
	}
	return nil
}

// Run feeds inputs and fills outputs, in the order of the names given to
// NewSession. A nil output is allocated by ORT and stored in outputs; the
// caller must Destroy it. Inputs must not be nil.
func (s *Session) Run(inputs, outputs []ortgo.Value) error {
	// onnxruntime_go dereferences every input and indexes the first of
	// each list, so a nil input or an empty list would panic there.
	if len(inputs) != len(s.Inputs) {
		return fmt.Errorf("ort: run: got %d inputs for the %d input names %q",
			len(inputs), len(s.Inputs), s.Inputs)
	}
	if len(outputs) != len(s.Outputs) {
		return fmt.Errorf("ort: run: got %d outputs for the %d output names %q",
			len(outputs), len(s.Outputs), s.Outputs)
	}
	for i, v := range inputs {
		if v == nil {
			return fmt.Errorf("ort: run: input %d (%s) is nil", i, s.Inputs[i])
		}
	}
	if err := s.s.Run(inputs, outputs); err != nil {
		return fmt.Errorf("ort: run: %w", err)
	}
	return nil
}

// Destroy releases the session. It is safe to call on nil.
func (s *Session) Destroy() {
	if s != nil && s.s != nil {
		s.s.Destroy()
		s.s = nil
	}
}
