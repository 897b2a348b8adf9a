package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/egan-ort/egan-ort/data"
	"github.com/egan-ort/egan-ort/export"
	"github.com/egan-ort/egan-ort/metrics"
	"github.com/egan-ort/egan-ort/orchestrator"
	"github.com/egan-ort/egan-ort/ort"
)

var cmdInfer = &command{
	name:    "infer",
	args:    "IMAGE...",
	summary: "predict masks for images with a trained or exported model",
	help: `
Infer predicts a foreground mask for each IMAGE (PNG, JPEG or GIF, of any
size and colour model) with checkpoint --checkpoint of the run directory
--run, or with an exported model --model FILE.onnx (egan-ort export), which
holds one checkpoint, named in its metadata, so --checkpoint does not apply.
With neither it takes the newest run under runs/, where train writes when
it is given no --out: the one whose last checkpoint was written last; and
when there is none, the model built into egan-ort, trained on the 32x32
Weizmann horses (its log line says how). Each image is resized to the
model's size, segmented by the deterministic Langevin inference (averaged
with the mirror image's when the model was trained with --tta flip, the
default), and its mask resized back to the image's own size. For an image NAME.EXT infer
writes, in --out:

  NAME_mask.png     the mask: 255 where the probability is at least 0.5,
                    else 0; with --probabilities, the probability (0-255)
  NAME_overlay.png  the image, tinted red where the mask is foreground

--mask names a ground-truth mask per image, in the order of the images;
infer then also prints the IoU of each prediction (at threshold 0.5) and,
for several images, their mean and global IoU. A mask is resized to its
image's size with nearest-neighbour sampling and thresholded at 128; one
whose aspect ratio differs from its image's by more than 5% is refused.

Every image and mask is decoded and checked before anything is written, so
a bad input stops infer with nothing written; each output file is written
under a temporary name and renamed, so none is ever half written.

Limits: images above --max-pixels are refused before decoding, and a
--model whose input side is above 512 (the largest train --size), or
whose fixed batch is above 4096, is refused when it is opened. All images
are held in memory at their own size until their outputs are written.`,
	ort: true,
	options: func(fs *pflag.FlagSet) options {
		o := &inferOptions{fs: fs}
		o.addFlags(fs)
		return o
	},
}

// defaultRunsDir is where train writes a run when it is given no --out,
// and where infer looks for the newest run when it is given no --run.
const defaultRunsDir = "runs"

// maxMaskAspectDiff is the largest relative difference between the aspect
// ratios of an image and its ground-truth mask, as data.Load allows.
const maxMaskAspectDiff = 0.05

// inferOptions are infer's flags.
type inferOptions struct {
	fs *pflag.FlagSet

	// The model: an exported ONNX file Model, or checkpoint Checkpoint of
	// run directory Run ("" for the newest run under defaultRunsDir).
	Model      string
	Run        string
	Checkpoint string

	Out           string   // directory for the outputs
	Masks         []string // ground-truth masks, one per image, or none
	Probabilities bool     // write probabilities instead of 0/255 masks
	MaxPixels     int64
}

func (o *inferOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Model, "model", "", "exported model `file` (.onnx, from egan-ort export)")
	fs.StringVar(&o.Run, "run", "", "run `dir` of the model (default: the newest run under runs/)")
	fs.StringVar(&o.Checkpoint, "checkpoint", orchestrator.BestCheckpoint, "checkpoint to use: best or last")
	fs.StringVarP(&o.Out, "out", "o", "masks", "`dir` for the masks and overlays")
	fs.StringArrayVar(&o.Masks, "mask", nil, "ground-truth mask `file` of the image in the same position\n"+
		"(repeat once per image); prints the IoU")
	fs.BoolVar(&o.Probabilities, "probabilities", false, "write probabilities (0-255) instead of 0/255 masks")
	fs.Int64Var(&o.MaxPixels, "max-pixels", data.DefaultMaxPixels, "refuse images with more `pixels` than this")
}

func (o *inferOptions) check(_ *globalOptions, args []string) error {
	switch {
	case len(args) == 0:
		return fmt.Errorf("no images given (want IMAGE...)")
	case len(o.Masks) > 0 && len(o.Masks) != len(args):
		return fmt.Errorf("--mask: %d given for %d images: give one per image, in the images' order",
			len(o.Masks), len(args))
	case o.Out == "":
		return fmt.Errorf("--out is empty: want a directory")
	case o.MaxPixels < 1:
		return fmt.Errorf("--max-pixels %d: want at least 1", o.MaxPixels)
	case o.Model != "" && o.Run != "":
		return fmt.Errorf("--model and --run both name a model: give one")
	case o.Model != "" && o.fs.Changed("checkpoint"):
		return fmt.Errorf("--checkpoint chooses a run's checkpoint; --model %s holds one already", o.Model)
	}
	if err := checkCheckpointName(o.Checkpoint); err != nil {
		return err
	}

	// Two images of one base name would write the same outputs, and an
	// output must not replace an input.
	inputs := map[string]string{}
	for _, p := range append(append([]string(nil), args...), o.Masks...) {
		inputs[cleanPath(p)] = p
	}
	written := map[string]string{}
	for _, img := range args {
		for _, out := range o.outputs(img) {
			if prev, ok := written[out]; ok {
				return fmt.Errorf("images %s and %s would both write %s: give them different base names",
					prev, img, out)
			}
			if in, ok := inputs[cleanPath(out)]; ok {
				return fmt.Errorf("%s would overwrite the input %s: choose another --out", out, in)
			}
			written[out] = img
		}
	}
	return nil
}

// outputs returns the paths of the mask and the overlay of image path.
func (o *inferOptions) outputs(path string) [2]string {
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	return [2]string{filepath.Join(o.Out, base+"_mask.png"), filepath.Join(o.Out, base+"_overlay.png")}
}

// cleanPath returns path made absolute, or cleaned when that fails, to
// compare paths that name the same file.
func cleanPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return filepath.Clean(path)
}

// predictor turns images into mask probabilities: x holds n images
// [n,3,S,S], RGB in [0,1] and not normalised; the result [n,S,S] is owned
// by the predictor until its next call. A checkpoint of a run is one; an
// exported ONNX model would be another, of the same contract.
type predictor interface {
	Size() int  // the image side S
	Batch() int // images per Predict call
	Predict(x []float32, n int) ([]float32, error)
	Destroy()
}

// checkpointPredictor is a predictor over a run's checkpoint.
type checkpointPredictor struct{ *orchestrator.Model }

func (p checkpointPredictor) Size() int  { return p.Config().Size }
func (p checkpointPredictor) Batch() int { return p.Config().EvalBatch }

// inferImage is one input: decoded and checked before any output is
// written, then its prediction and outputs.
type inferImage struct {
	Path         string   `json:"image"`
	Width        int      `json:"width"`
	Height       int      `json:"height"`
	MaskPath     string   `json:"mask"`
	OverlayPath  string   `json:"overlay"`
	TruthPath    string   `json:"truth,omitempty"`
	IoU          *float64 `json:"iou,omitempty"`
	img          image.Image
	truth        []float32 // ground truth at the image's size, or nil
	prob         []float32 // S·S predicted probabilities
	inter, union int       // of the prediction and truth, once scored
}

// inferResult is what infer prints with --json; the names are stable for
// scripts. Checkpoint is the run's checkpoint used, or the one an exported
// model's metadata names, left out when it names none.
type inferResult struct {
	Run        string        `json:"run"`
	Checkpoint string        `json:"checkpoint,omitempty"`
	Images     []*inferImage `json:"images"`
	MeanIoU    *float64      `json:"mean_iou,omitempty"`
	GlobalIoU  *float64      `json:"global_iou,omitempty"`
}

func (o *inferOptions) run(ctx context.Context, e *env, args []string) error {
	// Find the model, then read every input: nothing is written until
	// all of them are known to be good.
	run := o.Model
	switch {
	case run != "":
		if _, err := os.Stat(o.Model); err != nil {
			return fmt.Errorf("--model: %w", err)
		}
	case o.Run == "" && !hasRun(defaultRunsDir):
		run = builtinModelName
		e.log.Info("no --model, no --run and no run under runs/: using the built-in model",
			"trained", builtinSummary())
	default:
		var err error
		if run, err = o.findRun(e); err != nil {
			return err
		}
	}
	images, err := o.readInputs(args)
	if err != nil {
		return err
	}
	ortOpts, err := e.initORT()
	if err != nil {
		return err
	}
	p, err := o.openPredictor(e, run, ortOpts)
	if err != nil {
		return err
	}
	defer p.Destroy()

	if err := predict(ctx, p, images); err != nil {
		return err
	}
	var acc metrics.IoUAccum
	for _, im := range images {
		if im.truth != nil {
			im.score(p.Size())
			acc.Add(im.inter, im.union)
		}
	}
	if err := o.write(ctx, images, p.Size()); err != nil {
		return err
	}
	res := inferResult{Run: run, Checkpoint: o.Checkpoint, Images: images}
	if op, ok := p.(onnxPredictor); ok {
		res.Checkpoint = op.Info.Metadata["checkpoint"]
	}
	if acc.Count() > 0 {
		mean, global := acc.Mean(), acc.Global()
		res.MeanIoU, res.GlobalIoU = &mean, &global
	}
	return printInfer(e, res)
}

// findRun returns --run, or the newest run under runs/ when it is not
// given, and checks that it holds the checkpoint asked for.
func (o *inferOptions) findRun(e *env) (string, error) {
	run := o.Run
	if run == "" {
		var err error
		if run, err = newestRun(defaultRunsDir, e.log); err != nil {
			return "", err
		}
		e.log.Info("no --run given: using the newest run", "run", run)
	}
	return run, checkRunDir(run, o.Checkpoint)
}

// newestRun returns the directory under root whose last checkpoint record
// (last.json) was modified last; on a tie, the later name, since train
// names its runs by start time. A run whose record does not read is
// skipped with a warning naming it.
func newestRun(root string, log *slog.Logger) (string, error) {
	entries, err := os.ReadDir(root)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("find the newest run: %w", err)
	}
	var newest string
	var newestTime time.Time
	var skipped []string
	for _, en := range entries {
		dir := filepath.Join(root, en.Name())
		record := filepath.Join(dir, orchestrator.LastCheckpoint+".json")
		fi, err := os.Stat(record)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if _, err := orchestrator.ReadState(dir, orchestrator.LastCheckpoint); err != nil {
			log.Warn("skipping a run whose last checkpoint does not read", "file", record, "err", err)
			skipped = append(skipped, record)
			continue
		}
		if newest == "" || !fi.ModTime().Before(newestTime) {
			newest, newestTime = dir, fi.ModTime()
		}
	}
	if newest == "" {
		where := root + string(filepath.Separator)
		if wd, err := os.Getwd(); err == nil {
			where += " in " + wd
		}
		if len(skipped) > 0 {
			return "", fmt.Errorf("no usable run under %s: the last checkpoint of every run there does not read "+
				"(%s); pass --run RUN_DIR or --model FILE", where, strings.Join(skipped, ", "))
		}
		return "", fmt.Errorf("no trained run found under %s: train one with 'egan-ort train', "+
			"or pass --run RUN_DIR", where)
	}
	return newest, nil
}

// onnxPredictor is a predictor over an exported model.
type onnxPredictor struct{ *export.Segmenter }

func (p onnxPredictor) Size() int { return p.Info.Size }
func (p onnxPredictor) Batch() int {
	if p.Info.Batch > 0 {
		return p.Info.Batch
	}
	return 64
}

// openPredictor loads the model that the flags name.
func (o *inferOptions) openPredictor(e *env, run string, ortOpts ort.Options) (predictor, error) {
	if run == builtinModelName {
		s, err := export.OpenBytes(builtinModelName, builtinModel, ortOpts)
		if err != nil {
			return nil, err
		}
		return onnxPredictor{s}, nil
	}
	if o.Model != "" {
		s, err := export.Open(o.Model, ortOpts)
		if err != nil {
			return nil, err
		}
		md := s.Info.Metadata
		e.log.Info("model", "file", o.Model, "checkpoint", md["checkpoint"], "size", s.Info.Size,
			"objective", md["objective"], "steps", md["steps"], "val_iou", md["val_mean_iou"],
			"test_iou", md["test_mean_iou"])
		return onnxPredictor{s}, nil
	}
	m, err := orchestrator.OpenModel(run, o.Checkpoint, ortOpts)
	if err != nil {
		return nil, err
	}
	c := m.Config()
	e.log.Info("model", "run", run, "checkpoint", o.Checkpoint, "epoch", m.State.Epoch,
		"objective", c.Objective, "size", c.Size, "val_iou", m.State.Val.Mean)
	return checkpointPredictor{m}, nil
}

// readInputs decodes every image and ground-truth mask and checks that
// each mask fits its image. The errors name the file.
func (o *inferOptions) readInputs(args []string) ([]*inferImage, error) {
	lim := data.Limits{MaxPixels: o.MaxPixels, MaxFiles: data.DefaultMaxFiles}
	images := make([]*inferImage, len(args))
	for i, path := range args {
		img, err := decodeFile(path, lim)
		if err != nil {
			return nil, fmt.Errorf("%w (nothing written)", err)
		}
		b := img.Bounds()
		out := o.outputs(path)
		im := &inferImage{Path: path, Width: b.Dx(), Height: b.Dy(), MaskPath: out[0], OverlayPath: out[1],
			img: img}
		if len(o.Masks) > 0 {
			if err := im.readTruth(o.Masks[i], lim); err != nil {
				return nil, fmt.Errorf("%w (nothing written)", err)
			}
		}
		images[i] = im
	}
	return images, nil
}

// decodeFile is data.DecodeImage, which would read a directory as an
// empty file, for a path that names a file.
func decodeFile(path string, lim data.Limits) (image.Image, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not an image", path)
	}
	return data.DecodeImage(path, lim)
}

// readTruth decodes the ground-truth mask at path and resizes it onto the
// image, refusing one whose aspect ratio differs by more than
// maxMaskAspectDiff.
func (im *inferImage) readTruth(path string, lim data.Limits) error {
	mk, err := decodeFile(path, lim)
	if err != nil {
		return err
	}
	mw, mh := mk.Bounds().Dx(), mk.Bounds().Dy()
	arImage := float64(im.Width) / float64(im.Height)
	arMask := float64(mw) / float64(mh)
	if d := math.Abs(arMask/arImage - 1); d > maxMaskAspectDiff {
		return fmt.Errorf("mask %s (%dx%d) does not fit image %s (%dx%d): aspect ratios %.3f and %.3f "+
			"differ by %.0f%%, more than %.0f%%", path, mw, mh, im.Path, im.Width, im.Height,
			arMask, arImage, 100*d, 100*maxMaskAspectDiff)
	}
	im.TruthPath, im.truth = path, data.ToMask(mk, im.Width, im.Height)
	return nil
}

// predict runs p over the images in batches of p.Batch() and keeps each
// image's probabilities.
func predict(ctx context.Context, p predictor, images []*inferImage) error {
	s := p.Size()
	chw := 3 * s * s
	batch := max(1, p.Batch())
	x := make([]float32, min(batch, len(images))*chw)
	for start := 0; start < len(images); start += batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		part := images[start:min(start+batch, len(images))]
		for k, im := range part {
			copy(x[k*chw:], data.ToCHW(im.img, s))
		}
		y, err := p.Predict(x[:len(part)*chw], len(part))
		if err != nil {
			return fmt.Errorf("predict %s: %w", part[0].Path, err)
		}
		for k, im := range part {
			im.prob = append([]float32(nil), y[k*s*s:(k+1)*s*s]...)
			for _, v := range im.prob {
				if !(v >= 0 && v <= 1) {
					return fmt.Errorf("predict %s: the model gave %g, not a probability in [0, 1] (nothing written)",
						im.Path, v)
				}
			}
		}
	}
	return nil
}

// score computes the IoU of the prediction (s·s probabilities),
// thresholded at its image's size as the written mask is, against the
// ground truth.
func (im *inferImage) score(s int) {
	g := data.MaskToGray(im.prob, s, s, im.Width, im.Height)
	pred := make([]float32, im.Width*im.Height)
	for y := range im.Height {
		for x := range im.Width {
			if g.Pix[y*g.Stride+x] != 0 {
				pred[y*im.Width+x] = 1
			}
		}
	}
	im.inter, im.union = metrics.IoU(pred, im.truth, 0.5)
	iou := 1.0 // an empty prediction of an empty mask, as metrics counts it
	if im.union > 0 {
		iou = float64(im.inter) / float64(im.union)
	}
	im.IoU = &iou
}

// write writes each image's mask and overlay into --out.
func (o *inferOptions) write(ctx context.Context, images []*inferImage, s int) error {
	if fi, err := os.Stat(o.Out); err == nil && !fi.IsDir() {
		return fmt.Errorf("--out %s is a file, not a directory", o.Out)
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return fmt.Errorf("create the output directory: %w", err)
	}
	// An output path taken by a directory is refused before anything is
	// written.
	for _, im := range images {
		for _, path := range []string{im.MaskPath, im.OverlayPath} {
			if fi, err := os.Stat(path); err == nil && fi.IsDir() {
				return fmt.Errorf("write %s: a directory is in the way; nothing was written", path)
			}
		}
	}
	for _, im := range images {
		if err := ctx.Err(); err != nil {
			return err
		}
		var mask image.Image
		if o.Probabilities {
			mask = data.ProbToGray(im.prob, s, s, im.Width, im.Height)
		} else {
			mask = data.MaskToGray(im.prob, s, s, im.Width, im.Height)
		}
		if err := writePNG(im.MaskPath, mask); err != nil {
			return err
		}
		if err := writePNG(im.OverlayPath, data.Overlay(im.img, im.prob, s, s)); err != nil {
			return err
		}
	}
	return nil
}

// writePNG encodes img as a PNG under a temporary name beside path and
// renames it to path, so that path is either absent, its old content or
// the whole new image.
func writePNG(path string, img image.Image) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("write %s: %w", path, err)
		}
	}()
	w := bufio.NewWriter(f)
	if err := png.Encode(w, img); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	// CreateTemp makes the file private; an output is an ordinary file.
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// printInfer prints one line per image and, for several scored images,
// their mean and global IoU; with --json, one JSON object.
func printInfer(e *env, res inferResult) error {
	if e.global.JSON {
		if err := json.NewEncoder(e.stdout).Encode(res); err != nil {
			return fmt.Errorf("write result: %w", err)
		}
		return nil
	}
	for _, im := range res.Images {
		line := fmt.Sprintf("%s (%dx%d): mask %s, overlay %s", im.Path, im.Width, im.Height,
			im.MaskPath, im.OverlayPath)
		if im.IoU != nil {
			line += fmt.Sprintf(", IoU %.4f", *im.IoU)
		}
		fmt.Fprintln(e.stdout, line)
	}
	if res.MeanIoU != nil && len(res.Images) > 1 {
		fmt.Fprintf(e.stdout, "%d images: mean IoU %.4f, global IoU %.4f\n",
			len(res.Images), *res.MeanIoU, *res.GlobalIoU)
	}
	return nil
}
