package orchestrator

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// MetricsFile is the run directory's JSON-lines log: one record per step
// ("kind": "step"), per epoch ("epoch") and per epoch's discriminator
// scores ("scores").
const MetricsFile = "metrics.jsonl"

// StepRecord is a "step" line of metrics.jsonl.
type StepRecord struct {
	Kind    string  `json:"kind"`
	Epoch   int     `json:"epoch"`
	Step    int64   `json:"step"`
	LossD   float64 `json:"loss_d"`
	Penalty float64 `json:"penalty,omitempty"`
	LossG   float64 `json:"loss_g"`
	LossCE  float64 `json:"loss_ce"`
	MS      float64 `json:"ms"`
}

// EpochRecord is an "epoch" line of metrics.jsonl.
type EpochRecord struct {
	Kind  string   `json:"kind"`
	Epoch int      `json:"epoch"`
	Step  int64    `json:"step"`
	Train SplitIoU `json:"train"`
	Val   SplitIoU `json:"val"`
	Test  SplitIoU `json:"test"`
	// ValRaw is the val IoU of the parameters themselves when the others
	// are of their average (Config.EMA).
	ValRaw   *SplitIoU `json:"val_raw,omitempty"`
	TrainSec float64   `json:"train_sec"`
	EvalSec  float64   `json:"eval_sec"`
}

// ScoresRecord is a "scores" line: the discriminator's scores of the real
// and fake masks over one epoch's D steps.
type ScoresRecord struct {
	Kind  string    `json:"kind"`
	Epoch int       `json:"epoch"`
	Step  int64     `json:"step"`
	Real  []float64 `json:"real"`
	Fake  []float64 `json:"fake"`
}

type epochScores struct{ real, fake []float64 }

func (s *epochScores) add(st StepStats) {
	s.real = append(s.real, st.SReal...)
	s.fake = append(s.fake, st.SFake...)
}

type metricsLog struct {
	f    *os.File
	w    *bufio.Writer
	path string
	last int64 // step of the last record
}

// openMetrics opens metrics.jsonl for appending. On resume it first drops
// the records written after the checkpoint st, so the log matches the run
// it continues.
func openMetrics(dir string, st State) (*metricsLog, error) {
	path := filepath.Join(dir, MetricsFile)
	if old, err := os.ReadFile(path); err == nil {
		var keep bytes.Buffer
		for line := range bytes.Lines(old) {
			var rec struct {
				Kind  string `json:"kind"`
				Step  int64  `json:"step"`
				Epoch int    `json:"epoch"`
			}
			if json.Unmarshal(line, &rec) != nil || rec.Step > st.Step ||
				(rec.Kind != "step" && rec.Epoch > st.Epoch) {
				continue
			}
			keep.Write(line)
		}
		if err := os.WriteFile(path+".tmp", keep.Bytes(), 0o644); err != nil {
			return nil, fmt.Errorf("orchestrator: %s: %w", path, err)
		}
		if err := os.Rename(path+".tmp", path); err != nil {
			return nil, fmt.Errorf("orchestrator: %s: %w", path, err)
		}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("orchestrator: open %s: %w", path, err)
	}
	return &metricsLog{f: f, w: bufio.NewWriter(f), path: path}, nil
}

func (m *metricsLog) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("orchestrator: %s: %w", m.path, err)
	}
	m.w.Write(b)
	if err := m.w.WriteByte('\n'); err != nil {
		return fmt.Errorf("orchestrator: write %s: %w", m.path, err)
	}
	return nil
}

func (m *metricsLog) step(epoch int, step int64, s StepStats, ms float64) error {
	return m.write(StepRecord{Kind: "step", Epoch: epoch, Step: step, LossD: s.LossD, Penalty: s.Penalty,
		LossG: s.LossG, LossCE: s.LossCE, MS: ms})
}

func (m *metricsLog) epoch(epoch int, step int64, res [3]SplitIoU, valRaw *SplitIoU, trainSec, evalSec float64) error {
	err := m.write(EpochRecord{Kind: "epoch", Epoch: epoch, Step: step, Train: res[0], Val: res[1], Test: res[2],
		ValRaw: valRaw, TrainSec: trainSec, EvalSec: evalSec})
	if err == nil {
		err = m.flush()
	}
	return err
}

func (m *metricsLog) scores(epoch int, s epochScores) error {
	if len(s.real) == 0 {
		return nil
	}
	return m.write(ScoresRecord{Kind: "scores", Epoch: epoch, Real: s.real, Fake: s.fake})
}

func (m *metricsLog) flush() error {
	if err := m.w.Flush(); err != nil {
		return fmt.Errorf("orchestrator: write %s: %w", m.path, err)
	}
	return nil
}

// Close flushes and closes the log.
func (m *metricsLog) Close() error {
	err := m.flush()
	if cerr := m.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("orchestrator: close %s: %w", m.path, cerr)
	}
	return err
}
