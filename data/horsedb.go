package data

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The protocol of the full Weizmann Horse Database (DESIGN.md §2): its 328
// images sorted by file name, split 196/66/66 into train/val/test.
const (
	HorseDBImages = 328
	HorseDBTrain  = 196
	HorseDBVal    = 66
	HorseDBTest   = 66
)

// LoadHorseDB loads the Weizmann Horse Database layout in dir: rgb/NAME.jpg
// paired with the mask figure_ground/NAME.jpg by name. Other files in those
// directories (hidden files, files without an image extension) are
// ignored; an image without a mask, or a mask without an image, is an
// error naming it. The pairs are sorted by name and split in that order:
// for the full 328 images into 196/66/66; for n pairs in general into
// val = test = max(1, round(n·66/328)) and train = n − val − test, which
// needs n ≥ 3.
//
// The masks of the database have the size of its gray images, not of its
// rgb images; each is resized onto its image as the package doc describes.
// rgb/horse318.jpg is all black while its mask is a horse. It is kept: it
// falls in the test split, and dropping it would change the 196/66/66
// protocol that published figures use. Its prediction is expected to be
// poor, and the loader says nothing about it.
func LoadHorseDB(dir string, size int, lim Limits) (*Splits, error) {
	lim = lim.withDefaults()
	rgbDir := filepath.Join(dir, "rgb")
	maskDir := filepath.Join(dir, "figure_ground")
	images, err := listImages(rgbDir, lim)
	if err != nil {
		return nil, err
	}
	masks, err := listImages(maskDir, lim)
	if err != nil {
		return nil, err
	}

	// Pair by stem, in sorted order.
	var pairs []pairJob
	for _, s := range sortedStems(images) {
		m, ok := masks[s]
		if !ok {
			return nil, fmt.Errorf("data: %s: image %s has no mask in %s",
				dir, filepath.Join("rgb", images[s]), "figure_ground")
		}
		pairs = append(pairs, pairJob{name: s,
			image: filepath.Join(rgbDir, images[s]), mask: filepath.Join(maskDir, m)})
	}
	for _, s := range sortedStems(masks) {
		if _, ok := images[s]; !ok {
			return nil, fmt.Errorf("data: %s: mask %s has no image in %s",
				dir, filepath.Join("figure_ground", masks[s]), "rgb")
		}
	}

	n := len(pairs)
	nTrain, nVal, _ := horseDBSplit(n)
	if nTrain < 1 {
		return nil, fmt.Errorf("data: %s: %d image/mask pairs, need at least 3 for three splits",
			dir, n)
	}
	jobs := [3][]pairJob{pairs[:nTrain], pairs[nTrain : nTrain+nVal], pairs[nTrain+nVal:]}
	return loadSplits(dir, jobs, size, lim)
}

// horseDBSplit returns the split sizes for n pairs, 196/66/66 for n = 328.
func horseDBSplit(n int) (train, val, test int) {
	val = max(1, int(math.Round(float64(n)*HorseDBVal/HorseDBImages)))
	test = max(1, int(math.Round(float64(n)*HorseDBTest/HorseDBImages)))
	return n - val - test, val, test
}

// listImages returns the image files of dir keyed by stem, reading at most
// lim.MaxFiles+1 entries. Two files with the same stem are an error.
func listImages(dir string, lim Limits) (map[string]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()

	out := make(map[string]string)
	count := 0
	for {
		ents, err := f.ReadDir(1024)
		count += len(ents)
		if count > lim.MaxFiles {
			return nil, &LimitError{Path: dir, Field: "MaxFiles",
				What: fmt.Sprintf("directory has more than %d entries", lim.MaxFiles),
				Got:  int64(count), Max: int64(lim.MaxFiles)}
		}
		for _, e := range ents {
			name := e.Name()
			s := stem(name)
			if s == name || strings.HasPrefix(name, ".") || e.IsDir() {
				continue // not an image file
			}
			if prev, ok := out[s]; ok {
				a, b := min(prev, name), max(prev, name)
				return nil, fmt.Errorf("data: %s: %s and %s name the same sample", dir, a, b)
			}
			out[s] = name
		}
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("data: read %s: %w", dir, err)
		}
	}
}

// sortedStems returns the keys of m in increasing order.
func sortedStems(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
