package report

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/egan-ort/egan-ort/orchestrator"
	"github.com/egan-ort/egan-ort/ort"
)

// ReadmeFile is the markdown file that Generate writes into its output
// directory.
const ReadmeFile = "README.md"

// readmeMarker is the first line of every README.md that Generate writes:
// it tells a report, which Generate may replace, from a README.md of
// someone else's, which it must not.
const readmeMarker = "<!-- written by egan-ort report; the next report into this directory replaces it -->"

// ErrForeignReadme is returned by Generate when its output directory holds
// a README.md that does not open with the marker of a report.
var ErrForeignReadme = errors.New("report: will not overwrite a README.md that egan-ort report did not write")

// DefaultSamples is the number of images per split in a sample grid.
const DefaultSamples = 6

// Options configure Generate.
type Options struct {
	// Samples is the number of images per split in the sample grids; 0
	// draws none. The grids run each run's best checkpoint with ONNX
	// Runtime, which must have been initialised (ort.Init) before.
	Samples int
	// FiguresPerGroup, when positive, draws figures for only the first
	// that many runs of each group (objective, preset, settings and
	// dataset), in the order given, to keep the report of a many-seed
	// study small; the tables still cover every run.
	FiguresPerGroup int
	ORT             ort.Options
	// Command, when not nil, returns the command line that reproduces a
	// run of config c; the report lists them. When nil, the report lists
	// the config fields that differ from the objective's defaults.
	Command func(c orchestrator.Config) string
	// Log receives a warning per skipped directory and per figure that
	// failed, and an info record per missing piece of a run; nil discards
	// them.
	Log *slog.Logger
}

// figure is one PNG of the report.
type figure struct {
	path    string // relative to the output directory, with slashes
	caption string
}

// runReport is the part of the report about one run.
type runReport struct {
	run     *Run
	id      string // unique name: the directory's base name
	result  Result
	figures []figure
	notes   []string // the run's notes, then those of making its figures
	log     *slog.Logger
}

// generator is one call of Generate.
type generator struct {
	out     string
	o       Options
	log     *slog.Logger
	data    datasets
	runs    []*runReport
	skipped []string // "DIR: reason" of each directory that is not a run
}

// Generate reads the run directories runs and writes the study report into
// outDir (created if needed): README.md and a folder of PNG figures per
// run. It returns the directories that were runs, in the order given. A
// directory that is not a run is skipped with a warning, and named in the
// report; Generate fails with an error wrapping ErrNoRuns when no directory
// is a run. It replaces a README.md in outDir only when an earlier report
// wrote it, and fails with an error wrapping ErrForeignReadme, having
// written nothing, otherwise. Every file is written under a temporary name
// and renamed.
func Generate(runs []string, outDir string, o Options) ([]string, error) {
	g := &generator{out: outDir, o: o, log: o.Log, data: datasets{}}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if o.Samples < 0 {
		return nil, fmt.Errorf("report: %d samples per split", o.Samples)
	}
	readme := filepath.Join(outDir, ReadmeFile)
	if err := checkReadme(readme); err != nil {
		return nil, err
	}
	if err := g.load(runs); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("report: create output directory: %w", err)
	}
	drawn := map[*Run]bool{}
	if o.FiguresPerGroup > 0 {
		var runs []*Run
		for _, rr := range g.runs {
			runs = append(runs, rr.run)
		}
		for _, gr := range groupRuns(runs, g.command) {
			for _, r := range gr.Runs[:min(len(gr.Runs), o.FiguresPerGroup)] {
				drawn[r] = true
			}
		}
	}
	// The figures the report being replaced links, removed below unless
	// the new one links them too.
	var before map[string]bool
	if b, err := os.ReadFile(readme); err == nil {
		before = linkedFigures(string(b))
	}
	reported := make([]string, len(g.runs))
	for i, rr := range g.runs {
		if o.FiguresPerGroup <= 0 || drawn[rr.run] {
			if err := g.figures(rr); err != nil {
				return nil, err
			}
		}
		reported[i] = rr.run.Dir
	}
	md := g.markdown()
	if err := writeFile(readme, []byte(md)); err != nil {
		return nil, err
	}
	removeStale(outDir, before, linkedFigures(md), g.log)
	return reported, nil
}

// figureLink matches a markdown image's PNG target.
var figureLink = regexp.MustCompile(`!\[[^\]]*\]\(([^)\s]+\.png)\)`)

// linkedFigures returns the PNG paths, relative to the report's directory,
// that markdown shows as images; paths that leave the directory are left
// out.
func linkedFigures(markdown string) map[string]bool {
	out := map[string]bool{}
	for _, m := range figureLink.FindAllStringSubmatch(markdown, -1) {
		if p := filepath.FromSlash(m[1]); filepath.IsLocal(p) {
			out[p] = true
		}
	}
	return out
}

// removeStale deletes the figures of the replaced report that the new one
// does not show, and the run folders they leave empty; files the reports
// never linked stay.
func removeStale(outDir string, before, after map[string]bool, log *slog.Logger) {
	for p := range before {
		if after[p] {
			continue
		}
		path := filepath.Join(outDir, p)
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			log.Warn("report: could not remove a figure of the replaced report", "file", path, "err", err)
			continue
		}
		if dir := filepath.Dir(path); dir != filepath.Clean(outDir) {
			os.Remove(dir) // only succeeds when empty
		}
	}
}

// checkReadme returns nil when path does not exist or opens with
// readmeMarker, and an error wrapping ErrForeignReadme otherwise.
func checkReadme(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer f.Close()
	head := make([]byte, len(readmeMarker))
	n, _ := io.ReadFull(f, head) // a directory or a short file reads short
	if string(head[:n]) != readmeMarker {
		return fmt.Errorf("%w: %s (remove it or choose another output directory)", ErrForeignReadme, path)
	}
	return nil
}

// load reads the run directories, skipping those that are not runs.
func (g *generator) load(dirs []string) error {
	var reasons []string
	used := map[string]bool{}
	for _, dir := range dirs {
		r, err := LoadRun(dir)
		if err != nil {
			// The log and the error name dir as given; the report, which
			// holds no machine paths, as displayDir does.
			reason := strings.TrimPrefix(filesUnder(err, dir), "report: ")
			if errors.Is(err, ErrNotRun) {
				reason = "no checkpoint and no epoch in " + orchestrator.MetricsFile
			}
			g.log.Warn("report: skipping directory", "dir", dir, "err", reason)
			g.skipped = append(g.skipped, displayDir(dir)+": "+strings.ReplaceAll(reason, dir, displayDir(dir)))
			reasons = append(reasons, dir+": "+reason)
			continue
		}
		id := runID(dir, used)
		rr := &runReport{run: r, id: id, result: r.Result(), log: g.log}
		for _, n := range r.Notes {
			rr.note("%s", n)
		}
		g.runs = append(g.runs, rr)
	}
	if len(g.runs) == 0 {
		if len(dirs) == 0 {
			return fmt.Errorf("%w: no directory given", ErrNoRuns)
		}
		return fmt.Errorf("%w among the %d given: %s", ErrNoRuns, len(dirs), strings.Join(reasons, "; "))
	}
	return nil
}

// runID returns a name for the run in dir that no earlier run has: the
// directory's base name with characters other than letters, digits, '_'
// and '-' replaced by '-', and "-2", "-3", ... appended on a clash.
func runID(dir string, used map[string]bool) string {
	base := filepath.Base(filepath.Clean(dir))
	id := strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			return c
		}
		return '-'
	}, base)
	if strings.Trim(id, "-") == "" {
		id = "run"
	}
	unique := id
	for k := 2; used[strings.ToLower(unique)]; k++ {
		unique = id + "-" + strconv.Itoa(k)
	}
	used[strings.ToLower(unique)] = true
	return unique
}

// displayDir is how the report names a directory: as given when relative,
// else by its base name, which holds no machine path.
func displayDir(dir string) string {
	if filepath.IsAbs(dir) {
		return filepath.Base(dir)
	}
	return filepath.ToSlash(filepath.Clean(dir))
}

// figures draws the figures of one run into outDir/ID/.
func (g *generator) figures(rr *runReport) error {
	if err := os.MkdirAll(filepath.Join(g.out, rr.id), 0o755); err != nil {
		return fmt.Errorf("report: create output directory: %w", err)
	}
	for _, step := range []func(*runReport) error{g.iouFigure, g.scoresFigures, g.landscapeFigures, g.sampleFigures} {
		if err := step(rr); err != nil {
			return err
		}
	}
	return nil
}

// save writes a figure's PNG and records it with its caption.
func (g *generator) save(rr *runReport, name string, png []byte, caption string) error {
	if err := writeFile(filepath.Join(g.out, rr.id, name), png); err != nil {
		return err
	}
	rr.figures = append(rr.figures, figure{path: path.Join(rr.id, name), caption: caption})
	return nil
}

// note records a missing piece of the run for the report and the log.
func (rr *runReport) note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	rr.notes = append(rr.notes, n)
	rr.log.Info("report: missing piece", "run", rr.run.Dir, "note", n)
}

// warn records a failure to draw a figure that the run's data allows.
func (rr *runReport) warn(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	rr.notes = append(rr.notes, n)
	rr.log.Warn("report: figure failed", "run", rr.run.Dir, "note", n)
}

func (g *generator) iouFigure(rr *runReport) error {
	r := rr.run
	if len(r.Epochs) == 0 {
		rr.note("No epoch record in %s: no IoU figure.", orchestrator.MetricsFile)
		return nil
	}
	png, err := iouPlot(r, rr.result.BestEpoch)
	if err != nil {
		return err
	}
	caption := "Mean IoU per epoch of the train, val and test splits"
	if rawVal(r.Epochs) != nil {
		caption += fmt.Sprintf(", evaluated with the moving average of the energy network's parameters "+
			"(--ema %g); the dotted line is val with the parameters themselves", r.Config.EMA)
	}
	if _, ok := r.epoch(rr.result.BestEpoch); ok {
		caption += fmt.Sprintf("; the ring marks the best val epoch (%d), whose checkpoint the tables report",
			rr.result.BestEpoch)
	}
	return g.save(rr, "iou.png", png, caption+".")
}

func (g *generator) scoresFigures(rr *runReport) error {
	r := rr.run
	switch {
	case r.Config.Objective == "ce":
		return nil // no discriminator, nothing to say
	case len(r.Scores) == 0:
		rr.note("No D scores in %s: no score histograms.", orchestrator.MetricsFile)
		return nil
	}
	picks := []orchestrator.ScoresRecord{r.Scores[0]}
	if last := r.Scores[len(r.Scores)-1]; last.Epoch != picks[0].Epoch {
		picks = append(picks, last)
	}
	for i, s := range picks {
		png, err := scoresPlot(s)
		if err != nil {
			rr.warn("No score histogram of epoch %d: %v.", s.Epoch, strings.TrimPrefix(err.Error(), "report: "))
			continue
		}
		which := "first"
		if i == 1 {
			which = g.lastWord(r, s.Epoch)
		}
		caption := fmt.Sprintf("Discriminator scores of real and fake masks over the D steps of the %s epoch (%d),"+
			" each histogram normalised to sum to 1.", which, s.Epoch)
		if err := g.save(rr, fmt.Sprintf("scores-epoch%03d.png", s.Epoch), png, caption); err != nil {
			return err
		}
	}
	return nil
}

// lastWord says "last" for the run's final epoch, else "latest" (an
// unfinished run).
func (g *generator) lastWord(r *Run, epoch int) string {
	if r.HasConfig && epoch < r.Config.Epochs {
		return "latest"
	}
	return "last"
}

func (g *generator) landscapeFigures(rr *runReport) error {
	r := rr.run
	if r.HasConfig && r.Config.Landscape == 0 {
		rr.note("The run recorded no loss landscape (landscape 0 in its config).")
		return nil
	}
	if len(r.Landscapes) == 0 {
		rr.note("No landscape-NNN.json: no loss landscapes.")
		return nil
	}
	picks := []*orchestrator.Landscape{r.Landscapes[0]}
	if last := r.Landscapes[len(r.Landscapes)-1]; last.Epoch != picks[0].Epoch {
		picks = append(picks, last)
	}
	if done := r.Result().Epochs; r.HasConfig && picks[len(picks)-1].Epoch < r.Config.Epochs {
		if done < r.Config.Epochs {
			rr.note("No loss landscape of the last epoch (%d) yet: the run has completed %d.", r.Config.Epochs, done)
		} else {
			rr.note("No loss landscape of the last epoch (%d).", r.Config.Epochs)
		}
	}
	for _, ls := range picks {
		losses := []struct {
			name, file, what string
			z                [][]float64
		}{
			{"CE", "ce", "the cross entropy of the prediction against the truth", ls.CE},
			{"Adversarial", "adv", "the generator's adversarial loss under " + ls.Objective, ls.Adv},
		}
		for _, l := range losses {
			if l.z == nil {
				if l.file == "adv" && ls.Objective != "ce" {
					rr.note("The landscape of epoch %d has no adversarial loss.", ls.Epoch)
				}
				continue
			}
			png, err := landscapePlot(ls, l.z, l.name)
			if err != nil {
				rr.warn("No %s landscape of epoch %d: %v.", l.file, ls.Epoch, strings.TrimPrefix(err.Error(), "report: "))
				continue
			}
			caption := fmt.Sprintf("Loss landscape of %s at epoch %d: L(θ + α·d₁ + β·d₂) over a %d×%d grid, "+
				"d₁ and d₂ random filter-normalised directions, on %d training images; the cross marks θ.",
				l.what, ls.Epoch, len(ls.Alphas), len(ls.Betas), ls.Images)
			if err := g.save(rr, fmt.Sprintf("landscape-%s-epoch%03d.png", l.file, ls.Epoch), png, caption); err != nil {
				return err
			}
		}
	}
	return nil
}

// sampleFigures predicts a few images of each split with the best
// checkpoint. A run whose samples cannot be drawn gets a note, not an
// error: the rest of its report stands.
func (g *generator) sampleFigures(rr *runReport) error {
	r := rr.run
	if g.o.Samples == 0 {
		return nil
	}
	if r.Best == nil {
		rr.note("No best checkpoint: no sample grids.")
		return nil
	}
	c := r.Best.Config
	splits, where, err := g.data.load(c, r.Dir)
	if err != nil {
		rr.note("No sample grids: %s.", strings.TrimPrefix(err.Error(), "report: "))
		return nil
	}
	if where != "" {
		rr.note("%s", where)
	}
	if r.Best.Layout == "in-memory" {
		rr.note("The run trained on splits handed to it in memory; the samples come from the dataset " +
			"its config names, which may hold other images.")
	}
	m, err := orchestrator.OpenModel(r.Dir, orchestrator.BestCheckpoint, g.o.ORT)
	if err != nil {
		rr.warn("No sample grids: %s.", trimDir(err, r.Dir))
		return nil
	}
	defer m.Destroy()
	for _, d := range splits.All() {
		if d.Len() == 0 {
			continue
		}
		sp, err := predictSamples(m, d, sampleIndices(d.Len(), g.o.Samples))
		if err != nil {
			rr.warn("No %s sample grid: %s.", d.Split, trimDir(err, r.Dir))
			continue
		}
		png, err := encodePNG(sampleGrid(sp, d.Size))
		if err != nil {
			return err
		}
		ious := make([]string, len(sp.iou))
		for i, v := range sp.iou {
			ious[i] = pct(v)
		}
		caption := fmt.Sprintf("%s samples (%d of %d images, evenly spaced): rows image, truth, "+
			"prediction of the best checkpoint (epoch %d; probability, white = foreground). "+
			"IoU %% at threshold %g, left to right: %s.", d.Split, len(sp.iou), d.Len(),
			r.Best.BestEpoch, orchestrator.Threshold, strings.Join(ious, ", "))
		if err := g.save(rr, "samples-"+d.Split+".png", png, caption); err != nil {
			return err
		}
	}
	return nil
}
