package report

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"os"
	"path/filepath"

	"github.com/egan-ort/egan-ort/data"
	"github.com/egan-ort/egan-ort/metrics"
	"github.com/egan-ort/egan-ort/orchestrator"
)

// Sample grid layout: cells of about cellPixels pixels, gap pixels apart.
const (
	cellPixels = 96
	gap        = 4
)

var gapColor = color.RGBA{R: 0xdd, G: 0xdd, B: 0xdd, A: 0xff}

// sampleIndices returns n indices spread evenly over a split of length m,
// the first being 0; fewer when m < n.
func sampleIndices(m, n int) []int {
	n = min(n, m)
	out := make([]int, n)
	for k := range n {
		out[k] = k * m / n
	}
	return out
}

// samplePrediction is one split's samples and the model's predictions.
type samplePrediction struct {
	images, truths, preds [][]float32
	iou                   []float64 // per image, at orchestrator.Threshold
}

// predictSamples runs m on the images of d at idx.
func predictSamples(m *orchestrator.Model, d *data.Dataset, idx []int) (*samplePrediction, error) {
	s := d.Size
	p := s * s
	x := make([]float32, len(idx)*3*p)
	sp := &samplePrediction{}
	for k, i := range idx {
		copy(x[k*3*p:(k+1)*3*p], d.Images[i])
		sp.images = append(sp.images, d.Images[i])
		sp.truths = append(sp.truths, d.Masks[i])
	}
	y, err := m.Predict(x, len(idx))
	if err != nil {
		return nil, fmt.Errorf("report: predict %s samples: %w", d.Split, err)
	}
	for k := range idx {
		pred := append([]float32(nil), y[k*p:(k+1)*p]...) // y is the model's
		sp.preds = append(sp.preds, pred)
		var acc metrics.IoUAccum
		acc.Add(metrics.IoU(pred, sp.truths[k], orchestrator.Threshold))
		sp.iou = append(sp.iou, acc.Mean())
	}
	return sp, nil
}

// sampleGrid composes the samples as three rows (image, truth, predicted
// probability), each S×S image upscaled by an integer factor with
// nearest-neighbour sampling so that a cell is about cellPixels wide.
func sampleGrid(sp *samplePrediction, size int) *image.RGBA {
	k := max(1, cellPixels/size)
	cell := size * k
	n := len(sp.images)
	out := image.NewRGBA(image.Rect(0, 0, n*cell+(n+1)*gap, 3*cell+4*gap))
	draw.Draw(out, out.Bounds(), image.NewUniform(gapColor), image.Point{}, draw.Src)
	for j := range n {
		row := []image.Image{
			data.CHWToImage(sp.images[j], size),
			data.MaskToImage(sp.truths[j], size),
			data.MaskToImage(sp.preds[j], size),
		}
		for i, img := range row {
			at := image.Pt(gap+j*(cell+gap), gap+i*(cell+gap))
			upscale(out, at, img, k)
		}
	}
	return out
}

// upscale draws src into dst at the point at, each pixel as a k×k block.
func upscale(dst *image.RGBA, at image.Point, src image.Image, k int) {
	b := src.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r := image.Rect(0, 0, k, k).Add(at.Add(image.Pt((x-b.Min.X)*k, (y-b.Min.Y)*k)))
			draw.Draw(dst, r, image.NewUniform(src.At(x, y)), image.Point{}, draw.Src)
		}
	}
}

// datasets caches the datasets of the runs, which often share one.
type datasets map[string]*data.Splits

// load returns the dataset of c as seen from here, and a sentence on where
// it was found when that is not c.Data itself. A relative c.Data is
// relative to where training ran, which need not be the working directory:
// when it does not exist here, it is tried relative to the run directory's
// parent and grandparent (runs/NAME lies in the directory training ran
// in, by default).
func (ds datasets) load(c orchestrator.Config, runDir string) (*data.Splits, string, error) {
	note := ""
	if c.Data != "" && !filepath.IsAbs(c.Data) && !exists(c.Data) {
		found := false
		for _, up := range []string{"..", filepath.Join("..", "..")} {
			p := filepath.Join(runDir, up, c.Data)
			if exists(p) {
				note = fmt.Sprintf("The dataset %s does not exist relative to the working directory; "+
					"it was read relative to the run directory's %s.", c.Data, map[string]string{
					"..": "parent", filepath.Join("..", ".."): "grandparent"}[up])
				c.Data, found = p, true
				break
			}
		}
		if !found {
			return nil, "", fmt.Errorf("report: dataset %s not found relative to the working directory "+
				"nor to the run directory's parent or grandparent", c.Data)
		}
	}
	key := fmt.Sprintf("%s\x00%d\x00%d", c.Data, c.Size, c.Seed)
	if c.Data != "" {
		key = fmt.Sprintf("%s\x00%d", c.Data, c.Size) // the seed only draws the synthetic set
	}
	if s, ok := ds[key]; ok {
		return s, note, nil
	}
	s, _, err := orchestrator.LoadData(c, data.Limits{})
	if err != nil {
		return nil, "", err
	}
	ds[key] = s
	return s, note, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
