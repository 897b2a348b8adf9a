package report

import (
	"cmp"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/egan-ort/egan-ort/losses"
	"github.com/egan-ort/egan-ort/orchestrator"
)

// Group is the runs of one config but for the seed, on one dataset: the
// seeds of one experiment.
type Group struct {
	Objective string // "" when the runs' config is unknown
	Preset    string // "" for the project's tuned defaults
	Data      string // Config.Data, cleaned; "" for the synthetic dataset
	// Settings are the flags by which the runs' config differs from the
	// defaults of its objective and preset, seed and dataset aside, as the
	// report's commands write them (e.g. "--batch 4 --size 16"); "" when
	// it does not differ.
	Settings string
	Runs     []*Run
	key      orchestrator.Config // the runs' config with seed and eval batch 0, Data cleaned
}

// Name returns the group's heading, e.g. "wgan-gp (paper preset) on
// weizmann_horse_32", or "ce (tuned defaults, --batch 4) on synthetic".
func (g Group) Name() string {
	obj := g.Objective
	if obj == "" {
		obj = "unknown objective"
	}
	return obj + " (" + g.Label() + ") on " + g.Dataset()
}

// Label names the group's settings: its preset, then its Settings.
func (g Group) Label() string {
	if g.Settings == "" {
		return presetName(g.Preset)
	}
	return presetName(g.Preset) + ", " + g.Settings
}

// Dataset names the group's dataset as the report shows it: "unknown"
// when the runs' config is unknown, else as datasetName does.
func (g Group) Dataset() string {
	if g.Objective == "" {
		return "unknown"
	}
	return datasetName(g.Data)
}

// datasetName names the dataset of Config.Data: "synthetic" for "", else
// the folder as displayDir names a directory.
func datasetName(data string) string {
	if data == "" {
		return "synthetic"
	}
	return displayDir(data)
}

func presetName(p string) string {
	if p == "" {
		return "tuned defaults"
	}
	return p + " preset"
}

// GroupRuns groups runs by their config but for the seed and the eval
// batch, the path of the dataset cleaned, labelling each group's Settings as ConfigDiff writes
// them. The groups come in the order of losses.Names, tuned defaults
// before presets, the synthetic dataset before folders, the defaults
// before other settings; the runs of a group keep their order. Runs of
// different datasets or settings are never averaged together: their IoUs
// do not compare.
func GroupRuns(runs []*Run) []Group { return groupRuns(runs, ConfigDiff) }

// groupRuns is GroupRuns with the settings as command writes them.
func groupRuns(runs []*Run, command func(orchestrator.Config) string) []Group {
	var groups []Group
	for _, r := range runs {
		var key orchestrator.Config // all unknown configs together
		if r.HasConfig {
			key = r.Config
			// The eval batch sets how evaluation is batched, not its result.
			key.Seed, key.EvalBatch = 0, 0
			if key.Data != "" {
				key.Data = filepath.Clean(key.Data)
			}
		}
		i := slices.IndexFunc(groups, func(g Group) bool { return g.key == key })
		if i < 0 {
			g := Group{Objective: key.Objective, Preset: key.Preset, Data: key.Data, key: key}
			if r.HasConfig {
				g.Settings = settings(key, command)
			}
			groups = append(groups, g)
			i = len(groups) - 1
		}
		groups[i].Runs = append(groups[i].Runs, r)
	}
	rank := func(obj string) int {
		if i := slices.Index(losses.Names(), obj); i >= 0 {
			return i
		}
		return len(losses.Names())
	}
	slices.SortStableFunc(groups, func(a, b Group) int {
		return cmp.Or(cmp.Compare(rank(a.Objective), rank(b.Objective)),
			cmp.Compare(a.Objective, b.Objective), cmp.Compare(a.Preset, b.Preset),
			cmp.Compare(a.Data, b.Data), cmp.Compare(a.Settings, b.Settings))
	})
	return groups
}

// settings returns what sets config c apart from the defaults of its
// objective and preset, its seed, dataset and eval batch aside: the part of command's
// line for c that its line for those defaults lacks.
func settings(c orchestrator.Config, command func(orchestrator.Config) string) string {
	base := orchestrator.DefaultConfig(c.Objective)
	if base.ApplyPreset(c.Preset) != nil {
		base.Preset = c.Preset // an unknown preset: every field shows
	}
	c.Seed, c.Data, c.EvalBatch = base.Seed, base.Data, base.EvalBatch
	if c == base {
		return ""
	}
	line, plain := command(c), command(base)
	if rest, ok := strings.CutPrefix(line, plain); ok {
		return strings.TrimSpace(rest)
	}
	return line
}

// Seeds returns the group's seeds in ascending order, each once, and how
// many runs have no known config.
func (g Group) Seeds() (seeds []uint64, unknown int) {
	for _, r := range g.Runs {
		if !r.HasConfig {
			unknown++
			continue
		}
		if !slices.Contains(seeds, r.Config.Seed) {
			seeds = append(seeds, r.Config.Seed)
		}
	}
	slices.Sort(seeds)
	return seeds, unknown
}

// meanStd returns the mean and the sample standard deviation (n−1 in the
// denominator; 0 for one value) of the values of xs that are not NaN, and
// their count.
func meanStd(xs []float64) (mean, std float64, n int) {
	var sum float64
	for _, x := range xs {
		if !math.IsNaN(x) {
			sum += x
			n++
		}
	}
	if n == 0 {
		return math.NaN(), math.NaN(), 0
	}
	mean = sum / float64(n)
	if n == 1 {
		return mean, 0, 1
	}
	var ss float64
	for _, x := range xs {
		if !math.IsNaN(x) {
			ss += (x - mean) * (x - mean)
		}
	}
	return mean, math.Sqrt(ss / float64(n-1)), n
}

// pct formats an IoU in [0,1] as a percentage with one decimal; "–" when
// it is NaN.
func pct(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	return strconv.FormatFloat(100*x, 'f', 1, 64)
}

// pctMeanStd formats the mean ± std of IoUs in percent, the std left out
// for fewer than two values.
func pctMeanStd(xs []float64) string {
	m, s, n := meanStd(xs)
	if n < 2 {
		return pct(m)
	}
	return pct(m) + " ± " + pct(s)
}

// globalTriple formats global IoUs of train, val and test as "a / b / c".
func globalTriple(train, val, test float64) string {
	return pct(train) + " / " + pct(val) + " / " + pct(test)
}

// duration formats seconds in a unit that keeps the figure short: seconds
// below 2 minutes, minutes below 2 hours, else hours.
func duration(sec float64) string {
	unit, scale := "s", 1.0
	switch {
	case sec >= 7200:
		unit, scale = "h", 3600
	case sec >= 120:
		unit, scale = "min", 60
	}
	return strconv.FormatFloat(sec/scale, 'f', 1, 64) + " " + unit
}

// durationMeanStd formats the mean ± std of wall times in the unit of
// their mean.
func durationMeanStd(xs []float64) string {
	m, s, n := meanStd(xs)
	switch {
	case n == 0:
		return "–"
	case n == 1:
		return duration(m)
	}
	d := duration(m)
	unit := d[strings.LastIndexByte(d, ' ')+1:]
	scale := map[string]float64{"s": 1, "min": 60, "h": 3600}[unit]
	return fmt.Sprintf("%.1f ± %.1f %s", m/scale, s/scale, unit)
}

// epochRange formats completed epochs: "n" when all runs agree, else
// "min–max".
func epochRange(es []int) string {
	if len(es) == 0 {
		return "–"
	}
	lo, hi := slices.Min(es), slices.Max(es)
	if lo == hi {
		return strconv.Itoa(lo)
	}
	return fmt.Sprintf("%d–%d", lo, hi)
}

// column gathers one figure of every result.
func column(rs []Result, f func(Result) float64) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = f(r)
	}
	return out
}

// table is a markdown table under construction.
type table struct {
	b *strings.Builder
}

// header writes the header row; the first left columns hold text and
// align left, the others hold figures and align right.
func (t table) header(left int, cols ...string) {
	t.row(cols...)
	seps := make([]string, len(cols))
	for i := range seps {
		seps[i] = "---"
		if i >= left {
			seps[i] = "--:"
		}
	}
	t.row(seps...)
}

func (t table) row(cells ...string) {
	t.b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
}

// tableCell escapes free text, such as a dataset's folder name, for a
// cell.
func tableCell(s string) string { return strings.ReplaceAll(mdEscape(s), "|", `\|`) }

// summaryTable writes one row per group: its dataset, runs and seeds, then
// the mean ± std over its runs of the best-on-val figures.
func summaryTable(b *strings.Builder, groups []Group) {
	t := table{b}
	t.header(3, "objective", "preset", "data", "runs", "seeds", "train IoU %", "val IoU %",
		"test IoU %", "global IoU % (train / val / test)", "epochs", "wall time")
	for _, g := range groups {
		rs := results(g.Runs)
		obj := g.Objective
		if obj == "" {
			obj = "unknown"
		}
		t.row(obj, tableCell(g.Label()), tableCell(g.Dataset()), strconv.Itoa(len(g.Runs)),
			seedList(g),
			pctMeanStd(column(rs, func(r Result) float64 { return r.Train.Mean })),
			pctMeanStd(column(rs, func(r Result) float64 { return r.Val.Mean })),
			pctMeanStd(column(rs, func(r Result) float64 { return r.Test.Mean })),
			globalMeans(rs), epochsOf(rs, g.Runs), durationMeanStd(column(rs, func(r Result) float64 { return r.Seconds })))
	}
}

// groupTable writes one row per run of g and a last row with the mean ±
// std over them; ids names the runs.
func groupTable(b *strings.Builder, g Group, ids map[*Run]string) {
	t := table{b}
	t.header(1, "run", "seed", "best epoch", "epochs", "train IoU %", "val IoU %", "test IoU %",
		"global IoU % (train / val / test)", "wall time")
	rs := results(g.Runs)
	for i, r := range g.Runs {
		res := rs[i]
		seed, best := "–", "–"
		if r.HasConfig {
			seed = strconv.FormatUint(r.Config.Seed, 10)
		}
		if res.BestEpoch > 0 {
			best = strconv.Itoa(res.BestEpoch)
		}
		t.row("["+ids[r]+"](#"+anchor(ids[r])+")", seed, best, epochsOf(rs[i:i+1], g.Runs[i:i+1]),
			pct(res.Train.Mean), pct(res.Val.Mean), pct(res.Test.Mean),
			globalTriple(res.Train.Global, res.Val.Global, res.Test.Global), secondsOf(res.Seconds))
	}
	if len(g.Runs) > 1 {
		t.row("**mean ± std**", "", "", epochsOf(rs, g.Runs),
			pctMeanStd(column(rs, func(r Result) float64 { return r.Train.Mean })),
			pctMeanStd(column(rs, func(r Result) float64 { return r.Val.Mean })),
			pctMeanStd(column(rs, func(r Result) float64 { return r.Test.Mean })),
			globalMeans(rs), durationMeanStd(column(rs, func(r Result) float64 { return r.Seconds })))
	}
}

func results(runs []*Run) []Result {
	rs := make([]Result, len(runs))
	for i, r := range runs {
		rs[i] = r.Result()
	}
	return rs
}

// globalMeans formats the mean global IoU over rs of each split.
func globalMeans(rs []Result) string {
	m := func(f func(Result) float64) float64 { v, _, _ := meanStd(column(rs, f)); return v }
	return globalTriple(m(func(r Result) float64 { return r.Train.Global }),
		m(func(r Result) float64 { return r.Val.Global }), m(func(r Result) float64 { return r.Test.Global }))
}

// epochsOf formats the completed epochs of the runs, with the configured
// number after a slash when a run is unfinished.
func epochsOf(rs []Result, runs []*Run) string {
	var done []int
	unfinished := false
	for i, r := range rs {
		done = append(done, r.Epochs)
		unfinished = unfinished || runs[i].Unfinished()
	}
	s := epochRange(done)
	if unfinished {
		var want []int
		for _, r := range runs {
			want = append(want, r.Config.Epochs)
		}
		s += " of " + epochRange(want)
	}
	return s
}

func secondsOf(sec float64) string {
	if math.IsNaN(sec) {
		return "–"
	}
	return duration(sec)
}

// seedList formats a group's seeds, e.g. "1, 2, 3".
func seedList(g Group) string {
	seeds, unknown := g.Seeds()
	var parts []string
	for _, s := range seeds {
		parts = append(parts, strconv.FormatUint(s, 10))
	}
	if unknown > 0 {
		parts = append(parts, fmt.Sprintf("%d unknown", unknown))
	}
	return strings.Join(parts, ", ")
}
