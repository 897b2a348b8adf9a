package report

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/egan-ort/egan-ort/orchestrator"
)

// Figure size: 600×400 pixels at 96 dots per inch.
const (
	figDPI    = 96
	figWidth  = 600 * vg.Inch / figDPI
	figHeight = 400 * vg.Inch / figDPI
)

// Colours of the splits and of real and fake scores.
var (
	colTrain = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	colVal   = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	colTest  = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	colReal  = color.NRGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0x90}
	colFake  = color.NRGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0x90}
)

// render draws onto a figure-sized canvas and returns it as PNG.
func render(drawFn func(dc draw.Canvas)) ([]byte, error) {
	c := vgimg.NewWith(vgimg.UseWH(figWidth, figHeight), vgimg.UseDPI(figDPI))
	drawFn(draw.New(c))
	return encodePNG(c.Image())
}

// encodePNG encodes img with the best compression: figures are small
// images with few colours, where it pays.
func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("report: encode png: %w", err)
	}
	return buf.Bytes(), nil
}

// iouPlot draws the mean IoU of each split per epoch, in percent, and
// rings the best-on-val epoch. For a run that evaluates an average of its
// parameters (train --ema) it adds the val IoU of the parameters
// themselves, dotted.
func iouPlot(r *Run, best int) ([]byte, error) {
	p := plot.New()
	p.Title.Text = "Mean IoU per epoch"
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = "mean IoU (%)"
	p.Legend.Top, p.Legend.Left = true, true // IoU rises: the top left stays free
	p.Legend.XOffs = vg.Points(8)
	p.X.Tick.Marker = epochTicks{}
	p.Add(plotter.NewGrid())
	splits := []struct {
		name string
		col  color.Color
		iou  func(orchestrator.EpochRecord) float64
		dash []vg.Length
	}{
		{"train", colTrain, func(e orchestrator.EpochRecord) float64 { return e.Train.Mean }, nil},
		{"val", colVal, func(e orchestrator.EpochRecord) float64 { return e.Val.Mean }, nil},
		{"test", colTest, func(e orchestrator.EpochRecord) float64 { return e.Test.Mean }, []vg.Length{vg.Points(4), vg.Points(2)}},
	}
	for _, s := range splits {
		xy := make(plotter.XYs, len(r.Epochs))
		for i, e := range r.Epochs {
			xy[i] = plotter.XY{X: float64(e.Epoch), Y: 100 * s.iou(e)}
		}
		l, pts, err := plotter.NewLinePoints(xy)
		if err != nil {
			return nil, fmt.Errorf("report: iou plot: %w", err)
		}
		l.Color, l.Dashes, l.Width = s.col, s.dash, vg.Points(1.5)
		pts.Color, pts.Radius = s.col, vg.Points(1.5)
		if len(xy) > 40 {
			pts.Radius = 0 // dots only help a short run
		}
		p.Add(l, pts)
		p.Legend.Add(s.name, l)
	}
	if raw := rawVal(r.Epochs); raw != nil {
		l, err := plotter.NewLine(raw)
		if err != nil {
			return nil, fmt.Errorf("report: iou plot: %w", err)
		}
		l.Color, l.Dashes, l.Width = colVal, []vg.Length{vg.Points(1), vg.Points(2)}, vg.Points(1)
		p.Add(l)
		p.Legend.Add("val, parameters not averaged", l)
	}
	if e, ok := r.epoch(best); ok {
		mark, err := plotter.NewScatter(plotter.XYs{{X: float64(e.Epoch), Y: 100 * e.Val.Mean}})
		if err != nil {
			return nil, fmt.Errorf("report: iou plot: %w", err)
		}
		mark.Shape, mark.Radius, mark.Color = draw.RingGlyph{}, vg.Points(5), color.Black
		p.Add(mark)
		p.Legend.Add(fmt.Sprintf("best val (epoch %d)", e.Epoch), mark)
	}
	first, last := float64(r.Epochs[0].Epoch), float64(r.Epochs[len(r.Epochs)-1].Epoch)
	pad := 0.03 * max(1, last-first) // keeps the ring inside the frame
	p.X.Min, p.X.Max = first-pad, last+pad
	p.Y.Min, p.Y.Max = 0, min(100, 1.1*p.Y.Max+1) // IoU from 0, with room for the legend
	return render(func(dc draw.Canvas) { p.Draw(dc) })
}

// rawVal returns the val IoU of the parameters themselves per epoch, in
// percent, for the epochs that recorded it; nil when none did.
func rawVal(epochs []orchestrator.EpochRecord) plotter.XYs {
	var xy plotter.XYs
	for _, e := range epochs {
		if e.ValRaw != nil {
			xy = append(xy, plotter.XY{X: float64(e.Epoch), Y: 100 * e.ValRaw.Mean})
		}
	}
	return xy
}

// epochTicks marks whole epochs only: every one over a short span, else
// the integer ones among the default ticks.
type epochTicks struct{}

func (epochTicks) Ticks(lo, hi float64) []plot.Tick {
	if hi-lo <= 10 {
		var ts []plot.Tick
		for e := math.Ceil(lo); e <= hi; e++ {
			ts = append(ts, plot.Tick{Value: e, Label: strconv.Itoa(int(e))})
		}
		return ts
	}
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			if v := ts[i].Value; v == math.Trunc(v) {
				ts[i].Label = strconv.Itoa(int(v))
			} else {
				ts[i].Label = ""
			}
		}
	}
	return ts
}

// histBins is the number of bins of the score histograms.
func histBins(n int) int { return min(40, max(10, int(math.Sqrt(float64(n))))) }

// scoresPlot draws the histograms of the discriminator's scores of real and
// fake masks over one epoch, on shared bins, each normalised to sum to 1.
func scoresPlot(s orchestrator.ScoresRecord) ([]byte, error) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range append(append([]float64(nil), s.Real...), s.Fake...) {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if lo > hi {
		return nil, fmt.Errorf("report: epoch %d has no finite D score", s.Epoch)
	}
	if hi-lo < 1e-9*max(1, math.Abs(hi)) {
		lo, hi = lo-0.5, hi+0.5 // all scores equal: one visible bin
	}
	nb := histBins(max(len(s.Real), len(s.Fake)))
	w := (hi - lo) / float64(nb)

	p := plot.New()
	p.Title.Text = fmt.Sprintf("D scores, epoch %d", s.Epoch)
	p.X.Label.Text = "D(x, y)"
	p.Y.Label.Text = "fraction of scores"
	top := 0.0
	for _, h := range []struct {
		name string
		v    []float64
		col  color.Color
	}{{"real masks", s.Real, colReal}, {"fake masks (Langevin)", s.Fake, colFake}} {
		bins := make([]plotter.HistogramBin, nb)
		for i := range bins {
			bins[i].Min, bins[i].Max = lo+float64(i)*w, lo+float64(i+1)*w
		}
		finite := 0
		for _, v := range h.v {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			bins[min(nb-1, int((v-lo)/w))].Weight++
			finite++
		}
		for i := range bins {
			bins[i].Weight /= float64(max(1, finite))
		}
		hist := &plotter.Histogram{Bins: bins, Width: w, FillColor: h.col, LineStyle: draw.LineStyle{}}
		for _, b := range bins {
			top = max(top, b.Weight)
		}
		p.Add(hist)
		p.Legend.Add(fmt.Sprintf("%s (n = %d)", h.name, finite), hist)
	}
	p.Legend.Top = true
	p.Y.Min, p.Y.Max = 0, 1.25*top // headroom for the legend
	return render(func(dc draw.Canvas) { p.Draw(dc) })
}

// grid is a loss landscape as a plotter.GridXYZ: column c is α, row r is β.
type grid struct {
	alphas, betas []float64
	z             [][]float64 // [β][α]
}

func (g grid) Dims() (c, r int)   { return len(g.alphas), len(g.betas) }
func (g grid) Z(c, r int) float64 { return g.z[r][c] }
func (g grid) X(c int) float64    { return g.alphas[c] }
func (g grid) Y(r int) float64    { return g.betas[r] }
func (g grid) minMax() (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, row := range g.z {
		for _, v := range row {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	return lo, hi
}

// centre returns the value at (α, β) = (0, 0) when the grid has that point.
func (g grid) centre() (float64, bool) {
	c, r := indexOfZero(g.alphas), indexOfZero(g.betas)
	if c < 0 || r < 0 {
		return 0, false
	}
	return g.z[r][c], true
}

func indexOfZero(xs []float64) int {
	for i, x := range xs {
		if math.Abs(x) < 1e-9 {
			return i
		}
	}
	return -1
}

// landscapePlot draws one loss of a landscape as a heat map with contours
// at the default quantiles, the centre θ marked, and a colour bar.
func landscapePlot(ls *orchestrator.Landscape, z [][]float64, loss string) ([]byte, error) {
	g := grid{alphas: ls.Alphas, betas: ls.Betas, z: z}
	lo, hi := g.minMax()
	if lo > hi {
		return nil, fmt.Errorf("report: landscape of epoch %d: no finite %s value", ls.Epoch, loss)
	}
	flat := hi-lo < 1e-12*max(1, math.Abs(hi))
	if flat {
		lo, hi = lo-0.5, hi+0.5
	}
	cmap := landscapeColors()
	cmap.SetMin(lo)
	cmap.SetMax(hi)

	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s loss landscape, epoch %d", loss, ls.Epoch)
	if v, ok := g.centre(); ok {
		p.Title.Text += fmt.Sprintf(" (at θ: %.4g)", v)
	}
	p.X.Label.Text = "α (direction d₁)"
	p.Y.Label.Text = "β (direction d₂)"
	heat := plotter.NewHeatMap(g, cmap.Palette(64))
	heat.Min, heat.Max = lo, hi
	p.Add(heat)
	if !flat {
		cont := plotter.NewContour(g, nil, nil)
		cont.LineStyles = []draw.LineStyle{{Color: color.NRGBA{A: 0x90}, Width: vg.Points(0.8)}}
		p.Add(cont)
	}
	mark, err := plotter.NewScatter(plotter.XYs{{X: 0, Y: 0}})
	if err != nil {
		return nil, fmt.Errorf("report: landscape plot: %w", err)
	}
	mark.Shape, mark.Radius, mark.Color = draw.CrossGlyph{}, vg.Points(7), color.Black
	p.Add(mark)

	bar := plot.New()
	bar.Add(&plotter.ColorBar{ColorMap: cmap, Vertical: true})
	bar.HideX()
	bar.Y.Padding = 0
	bar.Title.Text = " " // keeps the bar level with the heat map
	return render(func(dc draw.Canvas) {
		const barWidth = 60 // points
		p.Draw(draw.Crop(dc, 0, -vg.Points(barWidth), 0, 0))
		strip := draw.Crop(dc, figWidth-vg.Points(barWidth), 0, 0, 0)
		bar.Draw(draw.Crop(strip, 0, 0, vg.Points(28), -vg.Points(4)))
	})
}

// landscapeColors is the heat maps' colour map: Moreland's diverging
// blue–red, low losses blue, whose light middle keeps dark contours
// readable everywhere.
func landscapeColors() palette.ColorMap { return moreland.SmoothBlueRed() }
