package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/egan-ort/egan-ort/checkpoint"
	"github.com/egan-ort/egan-ort/orchestrator"
)

// ErrNotRun is returned by LoadRun for a directory that holds neither a
// checkpoint nor an epoch record in metrics.jsonl.
var ErrNotRun = errors.New("report: not a run directory: no checkpoint and no epoch in metrics.jsonl")

// ErrNoRuns is returned by Generate when none of the directories it was
// given is a run.
var ErrNoRuns = errors.New("report: no usable run directory")

// Run is what the report reads from a run directory. Every piece may be
// missing from an unfinished or damaged run; Notes says which are.
type Run struct {
	Dir    string              // the directory as given
	Config orchestrator.Config // config.json, else the config of a checkpoint
	// HasConfig is false when neither config.json nor a checkpoint gave
	// the config, which is then the zero Config.
	HasConfig  bool
	Best, Last *orchestrator.State         // nil when the checkpoint is missing
	Epochs     []orchestrator.EpochRecord  // one per epoch, in epoch order
	Scores     []orchestrator.ScoresRecord // one per epoch, in epoch order
	Landscapes []*orchestrator.Landscape   // in epoch order
	HasModel   bool                        // model.onnx exists
	Notes      []string                    // sentences on what is missing or damaged
}

// LoadRun reads the run directory dir. It returns an error wrapping
// ErrNotRun when dir has neither a checkpoint nor an epoch record, and an
// error when dir cannot be read; a missing or damaged piece of a run only
// adds a note.
func LoadRun(dir string) (*Run, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("report: %s: not a directory", dir)
	}
	r := &Run{Dir: dir}
	r.Best = r.readState(orchestrator.BestCheckpoint)
	r.Last = r.readState(orchestrator.LastCheckpoint)
	if err := r.readMetrics(); err != nil {
		return nil, err
	}
	if r.Best == nil && r.Last == nil && len(r.Epochs) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotRun, dir)
	}
	r.readConfig()
	if err := r.readLandscapes(); err != nil {
		return nil, err
	}
	_, err = os.Stat(filepath.Join(dir, orchestrator.ModelFile))
	r.HasModel = err == nil
	return r, nil
}

// note records a missing or damaged piece of the run.
func (r *Run) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// readState reads the state of checkpoint name, or returns nil with a note.
func (r *Run) readState(name string) *orchestrator.State {
	st, err := orchestrator.ReadState(r.Dir, name)
	switch {
	case errors.Is(err, checkpoint.ErrNotFound):
		r.note("No %q checkpoint.", name)
		return nil
	case err != nil:
		r.note("The %q checkpoint is unreadable (%s).", name, trimDir(err, r.Dir))
		return nil
	}
	return &st
}

// readConfig takes config.json, else the config saved in a checkpoint.
func (r *Run) readConfig() {
	b, err := os.ReadFile(filepath.Join(r.Dir, "config.json"))
	if err == nil {
		if err = json.Unmarshal(b, &r.Config); err == nil {
			r.HasConfig = true
			return
		}
	}
	for _, st := range []*orchestrator.State{r.Last, r.Best} {
		if st != nil {
			r.Config, r.HasConfig = st.Config, true
			r.note("No readable config.json; the config is the checkpoints'.")
			return
		}
	}
	r.note("No readable config.json and no checkpoint: objective, preset and seed are unknown.")
}

// readMetrics reads the epoch and scores records of metrics.jsonl. A line
// that does not parse (the last one of a run killed while writing) is
// skipped with a note; a later record of an epoch replaces an earlier one.
func (r *Run) readMetrics() error {
	path := filepath.Join(r.Dir, orchestrator.MetricsFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		r.note("No %s.", orchestrator.MetricsFile)
		return nil
	}
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	epochs := map[int]orchestrator.EpochRecord{}
	scores := map[int]orchestrator.ScoresRecord{}
	bad := 0
	for line := range bytes.Lines(b) {
		var kind struct {
			Kind string `json:"kind"`
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if json.Unmarshal(line, &kind) != nil {
			bad++
			continue
		}
		switch kind.Kind {
		case "epoch":
			var e orchestrator.EpochRecord
			if json.Unmarshal(line, &e) != nil {
				bad++
				continue
			}
			epochs[e.Epoch] = e
		case "scores":
			var s orchestrator.ScoresRecord
			if json.Unmarshal(line, &s) != nil {
				bad++
				continue
			}
			scores[s.Epoch] = s
		}
	}
	if bad > 0 {
		r.note("Skipped %s of %s that did not parse: a run being written, or killed while "+
			"writing, leaves a partial last line.", plural(bad, "line"), orchestrator.MetricsFile)
	}
	for _, k := range slices.Sorted(maps.Keys(epochs)) {
		r.Epochs = append(r.Epochs, epochs[k])
	}
	for _, k := range slices.Sorted(maps.Keys(scores)) {
		r.Scores = append(r.Scores, scores[k])
	}
	return nil
}

// readLandscapes reads every landscape-NNN.json of the run.
func (r *Run) readLandscapes() error {
	paths, err := filepath.Glob(filepath.Join(r.Dir, "landscape-*.json"))
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		ls := new(orchestrator.Landscape)
		if err := json.Unmarshal(b, ls); err != nil || !validLandscape(ls) {
			r.note("%s is not a valid landscape and was skipped.", filepath.Base(p))
			continue
		}
		r.Landscapes = append(r.Landscapes, ls)
	}
	slices.SortFunc(r.Landscapes, func(a, b *orchestrator.Landscape) int { return a.Epoch - b.Epoch })
	return nil
}

// validLandscape reports whether ls is a grid that can be drawn: at least
// 2×2, CE (and Adv when present) of len(Betas) rows of len(Alphas) values.
func validLandscape(ls *orchestrator.Landscape) bool {
	ok := func(z [][]float64) bool {
		if len(z) != len(ls.Betas) {
			return false
		}
		for _, row := range z {
			if len(row) != len(ls.Alphas) {
				return false
			}
		}
		return true
	}
	return len(ls.Alphas) >= 2 && len(ls.Betas) >= 2 && ok(ls.CE) && (ls.Adv == nil || ok(ls.Adv))
}

// Result is what a run contributes to the tables: the figures of its
// best-on-val epoch. A figure that the run does not hold is NaN.
type Result struct {
	BestEpoch int // 0 when unknown
	Epochs    int // completed epochs
	Train     orchestrator.SplitIoU
	Val       orchestrator.SplitIoU
	Test      orchestrator.SplitIoU
	Seconds   float64 // training wall time of the whole run so far
}

// Result returns the run's figures. The best checkpoint gives the epoch and
// its val and test IoU; the train IoU, which checkpoints do not keep, comes
// from that epoch's record in metrics.jsonl. Without a best checkpoint the
// epoch is the first with the highest val mean IoU in metrics.jsonl, which
// is the rule training saves "best" by.
func (r *Run) Result() Result {
	nan := orchestrator.SplitIoU{Mean: math.NaN(), Global: math.NaN()}
	res := Result{Train: nan, Val: nan, Test: nan, Seconds: math.NaN()}
	if r.Best != nil {
		res.BestEpoch, res.Val, res.Test = r.Best.BestEpoch, r.Best.Val, r.Best.Test
	} else if len(r.Epochs) > 0 {
		best := r.Epochs[0]
		for _, e := range r.Epochs[1:] {
			if e.Val.Mean > best.Val.Mean {
				best = e
			}
		}
		res.BestEpoch, res.Val, res.Test = best.Epoch, best.Val, best.Test
	}
	if e, ok := r.epoch(res.BestEpoch); ok {
		res.Train = e.Train
	}

	// Length and wall time: the last checkpoint, else the log.
	switch {
	case r.Last != nil:
		res.Epochs, res.Seconds = r.Last.Epoch, r.Last.Seconds
	case len(r.Epochs) > 0:
		res.Epochs, res.Seconds = r.Epochs[len(r.Epochs)-1].Epoch, 0
		for _, e := range r.Epochs {
			res.Seconds += e.TrainSec + e.EvalSec
		}
	}
	if r.Best != nil {
		res.Epochs = max(res.Epochs, r.Best.Epoch)
	}
	return res
}

// epoch returns the record of epoch e.
func (r *Run) epoch(e int) (orchestrator.EpochRecord, bool) {
	i, ok := slices.BinarySearchFunc(r.Epochs, e, func(rec orchestrator.EpochRecord, e int) int {
		return rec.Epoch - e
	})
	if !ok {
		return orchestrator.EpochRecord{}, false
	}
	return r.Epochs[i], true
}

// Unfinished reports whether the run has completed fewer epochs than its
// config asks for.
func (r *Run) Unfinished() bool {
	return r.HasConfig && r.Result().Epochs < r.Config.Epochs
}

// filesUnder shortens an error message that names files under dir to
// their names relative to dir; dir itself stays as given.
func filesUnder(err error, dir string) string {
	return strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
}

// trimDir is filesUnder with dir itself shortened to displayDir(dir), so
// that the report holds no machine paths.
func trimDir(err error, dir string) string {
	return strings.ReplaceAll(filesUnder(err, dir), dir, displayDir(dir))
}
