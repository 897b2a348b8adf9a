package data

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
)

// Layout names returned by Load.
const (
	// LayoutSplitLists is images/, masks/ and train.txt, val.txt, test.txt.
	LayoutSplitLists = "split-lists"
	// LayoutHorseDB is the Weizmann Horse Database: rgb/ and figure_ground/.
	LayoutHorseDB = "horse-db"
)

// DescribeLayout names the dataset of a layout name (as Load returns it,
// or "synthetic") in words for users; the names themselves are for
// programs.
func DescribeLayout(layout string) string {
	switch layout {
	case LayoutSplitLists:
		return "the 32x32 Weizmann horse split"
	case LayoutHorseDB:
		return "the full Weizmann Horse Database"
	case "synthetic":
		return "the synthetic dataset (shapes, not horses)"
	case "in-memory":
		return "splits handed over in memory"
	}
	return layout
}

// maxAspectDiff is the largest relative difference between the aspect
// ratios of an image and its mask; the Weizmann masks agree within 2%.
const maxAspectDiff = 0.05

// Load loads the dataset in dir, resized to size×size, and returns its
// splits and the name of its layout: LayoutSplitLists when dir holds
// train.txt, else LayoutHorseDB when it holds rgb/ and figure_ground/.
// It panics if size < 1.
func Load(dir string, size int, lim Limits) (*Splits, string, error) {
	if size < 1 {
		panic(fmt.Sprintf("data: Load: size %d < 1", size))
	}
	if fi, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, "", fmt.Errorf("data: dataset directory %s does not exist", dir)
	} else if err != nil {
		return nil, "", fmt.Errorf("data: %w", err)
	} else if !fi.IsDir() {
		return nil, "", fmt.Errorf("data: %s: not a directory", dir)
	}
	switch {
	case exists(filepath.Join(dir, "train.txt")):
		s, err := LoadSplitLists(dir, size, lim)
		return s, LayoutSplitLists, err
	case exists(filepath.Join(dir, "rgb")) && exists(filepath.Join(dir, "figure_ground")):
		s, err := LoadHorseDB(dir, size, lim)
		return s, LayoutHorseDB, err
	}
	return nil, "", fmt.Errorf("data: %s: unknown layout: want images/, masks/, "+
		"train.txt, val.txt and test.txt, or rgb/ and figure_ground/", dir)
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// pairJob names the two files of one sample.
type pairJob struct {
	name  string // stem, e.g. "horse023"
	image string // path of the image
	mask  string // path of the mask
}

// loadSplits decodes the samples of the three splits in parallel and
// returns them as datasets named after dir.
func loadSplits(dir string, jobs [3][]pairJob, size int, lim Limits) (*Splits, error) {
	var all []pairJob
	for _, j := range jobs {
		all = append(all, j...)
	}
	images, masks, err := loadPairs(all, size, lim)
	if err != nil {
		return nil, err
	}

	var out [3]*Dataset
	k := 0
	for i, j := range jobs {
		d := &Dataset{Name: filepath.Base(filepath.Clean(dir)), Split: splitFiles[i].split,
			Size: size}
		for _, job := range j {
			d.Names = append(d.Names, job.name)
			d.Images = append(d.Images, images[k])
			d.Masks = append(d.Masks, masks[k])
			k++
		}
		if err := d.Validate(); err != nil {
			return nil, err
		}
		out[i] = d
	}
	return &Splits{Train: out[0], Val: out[1], Test: out[2]}, nil
}

// loadPairs runs loadPair over jobs with one worker per CPU and returns
// the results in the order of jobs, or the error of the first job that
// failed (in that order, among those run before the workers stopped).
func loadPairs(jobs []pairJob, size int, lim Limits) (images, masks [][]float32, err error) {
	images = make([][]float32, len(jobs))
	masks = make([][]float32, len(jobs))
	errs := make([]error, len(jobs))
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(jobs)) {
		wg.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= len(jobs) {
					return
				}
				images[i], masks[i], errs[i] = loadPair(jobs[i], size, lim)
				if errs[i] != nil {
					failed.Store(true)
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, nil, err
		}
	}
	return images, masks, nil
}

// loadPair decodes one image and its mask. The mask is resized onto the
// image with nearest-neighbour sampling and thresholded at 128, then both
// are resized to size×size: the image with Catmull-Rom, the mask with
// nearest-neighbour sampling, so it stays binary.
func loadPair(j pairJob, size int, lim Limits) (img, mask []float32, err error) {
	im, err := DecodeImage(j.image, lim)
	if err != nil {
		return nil, nil, err
	}
	mk, err := DecodeImage(j.mask, lim)
	if err != nil {
		return nil, nil, err
	}
	w, h := im.Bounds().Dx(), im.Bounds().Dy()
	mw, mh := mk.Bounds().Dx(), mk.Bounds().Dy()
	arImage := float64(w) / float64(h)
	arMask := float64(mw) / float64(mh)
	if d := math.Abs(arMask/arImage - 1); d > maxAspectDiff {
		return nil, nil, fmt.Errorf("data: mask %s (%dx%d) does not fit image %s (%dx%d): "+
			"aspect ratios %.3f and %.3f differ by %.0f%%, more than %.0f%%",
			j.mask, mw, mh, j.image, w, h, arMask, arImage, 100*d, 100*maxAspectDiff)
	}

	return ToCHW(im, size), maskVia(mk, w, h, size), nil
}
