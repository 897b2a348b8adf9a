package data

import "fmt"

// Dataset is one split of a segmentation dataset held in memory.
type Dataset struct {
	// Name names the dataset, not the split: the base name of the
	// directory it was loaded from, or "synthetic".
	Name string
	// Split is "train", "val" or "test".
	Split string
	// Size is the side of every image and mask: H = W = Size.
	Size int
	// Names holds the file name of each sample without directory and
	// extension, e.g. "horse023".
	Names []string
	// Images holds 3·Size·Size values per sample, CHW, RGB in [0,1],
	// not normalised.
	Images [][]float32
	// Masks holds Size·Size values per sample in {0,1}, 1 = foreground.
	Masks [][]float32
}

// Len returns the number of samples.
func (d *Dataset) Len() int { return len(d.Images) }

// Validate checks that every slice has the length Size implies, that image
// values lie in [0,1] and that masks are binary. The loaders return only
// datasets that pass it.
func (d *Dataset) Validate() error {
	if d.Size < 1 {
		return fmt.Errorf("data: dataset %s/%s: size %d", d.Name, d.Split, d.Size)
	}
	n := len(d.Images)
	if len(d.Masks) != n || len(d.Names) != n {
		return fmt.Errorf("data: dataset %s/%s: %d images, %d masks, %d names",
			d.Name, d.Split, n, len(d.Masks), len(d.Names))
	}
	p := d.Size * d.Size
	for i := range n {
		if len(d.Images[i]) != 3*p || len(d.Masks[i]) != p {
			return fmt.Errorf("data: dataset %s/%s: sample %s: %d image and %d mask values, want %d and %d",
				d.Name, d.Split, d.Names[i], len(d.Images[i]), len(d.Masks[i]), 3*p, p)
		}
		for _, v := range d.Images[i] {
			if !(v >= 0 && v <= 1) {
				return fmt.Errorf("data: dataset %s/%s: sample %s: image value %g outside [0,1]",
					d.Name, d.Split, d.Names[i], v)
			}
		}
		for _, v := range d.Masks[i] {
			if v != 0 && v != 1 {
				return fmt.Errorf("data: dataset %s/%s: sample %s: mask value %g not 0 or 1",
					d.Name, d.Split, d.Names[i], v)
			}
		}
	}
	return nil
}

// Splits holds the three splits of a dataset.
type Splits struct {
	Train, Val, Test *Dataset
}

// All returns the splits in the order train, val, test.
func (s *Splits) All() []*Dataset { return []*Dataset{s.Train, s.Val, s.Test} }
