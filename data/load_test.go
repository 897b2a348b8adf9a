package data

import (
	"errors"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeTree writes files under dir: an image.Image is encoded by the
// extension of its name (.png or .jpg), a string or []byte written as is.
func writeTree(t *testing.T, dir string, files map[string]any) {
	t.Helper()
	for name, v := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		var b []byte
		switch v := v.(type) {
		case string:
			b = []byte(v)
		case []byte:
			b = v
		case image.Image:
			if strings.HasSuffix(name, ".jpg") {
				b = encodeJPEG(v)
			} else {
				b = encodePNG(v)
			}
		default:
			t.Fatalf("writeTree: %s: %T", name, v)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// grayMask returns a w×h gray image whose left half has value fg and whose
// right half has value bg.
func grayMask(w, h int, fg, bg uint8) *image.Gray {
	m := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := bg
			if x < w/2 {
				v = fg
			}
			m.SetGray(x, y, color.Gray{Y: v})
		}
	}
	return m
}

// splitLayout returns a valid split-list layout of three 8×8 samples a, b
// and c, one per split, changed by edit.
func splitLayout(edit func(m map[string]any)) map[string]any {
	m := map[string]any{"train.txt": "a\n", "val.txt": "b\n", "test.txt": "c\n"}
	for _, s := range []string{"a", "b", "c"} {
		m["images/"+s+".png"] = testPattern(8, 8)
		m["masks/"+s+".png"] = grayMask(8, 8, 255, 0)
	}
	if edit != nil {
		edit(m)
	}
	return m
}

// horseDBLayout returns a valid database layout of three samples: 12×9
// rgb JPEGs with 16×12 mask JPEGs (same aspect), changed by edit.
func horseDBLayout(edit func(m map[string]any)) map[string]any {
	m := map[string]any{}
	for _, s := range []string{"horse001", "horse002", "horse003"} {
		m["rgb/"+s+".jpg"] = testPattern(12, 9)
		m["gray/"+s+".jpg"] = grayMask(16, 12, 128, 128)
		m["figure_ground/"+s+".jpg"] = grayMask(16, 12, 255, 0)
	}
	if edit != nil {
		edit(m)
	}
	return m
}

// TestLoadLayouts loads small layouts, good and bad, written to a
// temporary directory, and checks the outcome of each.
func TestLoadLayouts(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]any
		size    int
		lim     Limits
		layout  string
		wantErr []string // substrings of the error; nil for success
		is      error    // a sentinel the error must wrap
		check   func(t *testing.T, s *Splits)
	}{
		{name: "split lists", files: splitLayout(nil), size: 8, layout: LayoutSplitLists,
			check: func(t *testing.T, s *Splits) {
				if s.Train.Names[0] != "a" || s.Val.Names[0] != "b" || s.Test.Names[0] != "c" {
					t.Errorf("names %v %v %v", s.Train.Names, s.Val.Names, s.Test.Names)
				}
				want := []float32{1, 1, 1, 1, 0, 0, 0, 0}
				if got := s.Train.Masks[0][:8]; !slices.Equal(got, want) {
					t.Errorf("mask row %v, want %v", got, want)
				}
				// 8-bit values survive exactly: no resize at the same size.
				if got := s.Train.Images[0][1]; got != 16.0/255 {
					t.Errorf("red of pixel (1,0) = %g, want %g", got, 16.0/255)
				}
			}},
		{name: "extensions crlf blanks spaces", size: 4, layout: LayoutSplitLists,
			files: splitLayout(func(m map[string]any) {
				m["train.txt"] = "\r\n  a.png \r\n\r\n"
				m["val.txt"] = "\ufeffb\r\n"
				m["test.txt"] = " c.PNG"
				m["images/c.PNG"], m["masks/c.PNG"] = m["images/c.png"], m["masks/c.png"]
				delete(m, "images/c.png")
				delete(m, "masks/c.png")
			}),
			check: func(t *testing.T, s *Splits) {
				if s.Train.Names[0] != "a" || s.Test.Names[0] != "c" || s.Train.Size != 4 ||
					len(s.Train.Images[0]) != 3*16 {
					t.Errorf("got %v %v size %d", s.Train.Names, s.Test.Names, s.Train.Size)
				}
			}},
		{name: "jpeg images", size: 8, layout: LayoutSplitLists,
			files: splitLayout(func(m map[string]any) {
				m["images/b.jpg"] = m["images/b.png"]
				delete(m, "images/b.png")
			})},
		{name: "gray mask values thresholded at 128", size: 8, layout: LayoutSplitLists,
			files: splitLayout(func(m map[string]any) {
				g := image.NewGray(image.Rect(0, 0, 8, 8))
				for i := range g.Pix {
					g.Pix[i] = []uint8{0, 21, 127, 128, 129, 234, 255, 200}[i%8]
				}
				m["masks/a.png"] = g
			}),
			check: func(t *testing.T, s *Splits) {
				want := []float32{0, 0, 0, 1, 1, 1, 1, 1}
				if got := s.Train.Masks[0][:8]; !slices.Equal(got, want) {
					t.Errorf("mask row %v, want %v", got, want)
				}
			}},
		{name: "mask larger with the same aspect", size: 8, layout: LayoutSplitLists,
			files: splitLayout(func(m map[string]any) { m["masks/a.png"] = grayMask(16, 16, 255, 0) }),
			check: func(t *testing.T, s *Splits) {
				want := []float32{1, 1, 1, 1, 0, 0, 0, 0}
				if got := s.Train.Masks[0][8:16]; !slices.Equal(got, want) {
					t.Errorf("mask row %v, want %v", got, want)
				}
			}},
		{name: "mask of another aspect", size: 8,
			files:   splitLayout(func(m map[string]any) { m["masks/b.png"] = grayMask(8, 16, 255, 0) }),
			wantErr: []string{"masks/b.png (8x16)", "images/b.png (8x8)", "aspect ratios"}},
		{name: "missing image", size: 8,
			files:   splitLayout(func(m map[string]any) { m["train.txt"] = "a\nhorse009\n" }),
			wantErr: []string{"train.txt:2: image of horse009", "no file horse009", "horse009.png"}},
		{name: "missing mask", size: 8,
			files:   splitLayout(func(m map[string]any) { delete(m, "masks/c.png") }),
			wantErr: []string{"test.txt:1: mask of c", "masks"}},
		{name: "duplicate names", size: 8,
			files:   splitLayout(func(m map[string]any) { m["train.txt"] = "a\nc.png\na.png\n" }),
			wantErr: []string{"train.txt: duplicate names: a (lines 1, 3)"}},
		{name: "name in two splits", size: 8,
			files:   splitLayout(func(m map[string]any) { m["test.txt"] = "c\na\n" }),
			wantErr: []string{"a is in both train.txt (line 1) and test.txt (line 2)"}},
		{name: "empty split", size: 8,
			files:   splitLayout(func(m map[string]any) { m["val.txt"] = "\r\n\r\n" }),
			wantErr: []string{"val.txt: no names"}},
		{name: "missing split file", size: 8, is: os.ErrNotExist,
			files: splitLayout(func(m map[string]any) { delete(m, "val.txt") })},
		{name: "truncated image", size: 8, is: ErrTruncated,
			files: splitLayout(func(m map[string]any) {
				m["images/a.png"] = encodePNG(testPattern(8, 8))[:40]
			}),
			wantErr: []string{"images/a.png"}},
		{name: "text named png", size: 8, is: ErrNotImage,
			files:   splitLayout(func(m map[string]any) { m["masks/a.png"] = "not a mask\n" }),
			wantErr: []string{"masks/a.png"}},
		{name: "huge header", size: 8, is: ErrTooLarge,
			files:   splitLayout(func(m map[string]any) { m["images/c.png"] = pngHeader(100000, 100000) }),
			wantErr: []string{"images/c.png", "100000x100000", "above the limit of 50000000"}},
		{name: "too many names", size: 8, lim: Limits{MaxFiles: 1}, is: ErrTooMany,
			files: splitLayout(func(m map[string]any) { m["train.txt"] = "a\nb\n" })},
		{name: "unknown layout", size: 8, files: map[string]any{"readme.txt": "hi"},
			wantErr: []string{"unknown layout"}},

		{name: "horse db", files: horseDBLayout(nil), size: 6, layout: LayoutHorseDB,
			check: func(t *testing.T, s *Splits) {
				if s.Train.Names[0] != "horse001" || s.Val.Names[0] != "horse002" ||
					s.Test.Names[0] != "horse003" || s.Test.Size != 6 {
					t.Errorf("names %v %v %v", s.Train.Names, s.Val.Names, s.Test.Names)
				}
				want := []float32{1, 1, 1, 0, 0, 0}
				if got := s.Val.Masks[0][6:12]; !slices.Equal(got, want) {
					t.Errorf("mask row %v, want %v", got, want)
				}
			}},
		{name: "horse db ignores other files", size: 6, layout: LayoutHorseDB,
			files: horseDBLayout(func(m map[string]any) {
				m["rgb/.DS_Store"] = "x"
				m["rgb/Thumbs.db"] = "x"
				m["figure_ground/readme.txt"] = "x"
			})},
		{name: "horse db image without mask", size: 6,
			files:   horseDBLayout(func(m map[string]any) { delete(m, "figure_ground/horse002.jpg") }),
			wantErr: []string{"image rgb/horse002.jpg has no mask"}},
		{name: "horse db mask without image", size: 6,
			files:   horseDBLayout(func(m map[string]any) { m["figure_ground/horse004.png"] = grayMask(4, 3, 255, 0) }),
			wantErr: []string{"mask figure_ground/horse004.png has no image"}},
		{name: "horse db two files of one sample", size: 6,
			files:   horseDBLayout(func(m map[string]any) { m["rgb/horse001.png"] = testPattern(4, 3) }),
			wantErr: []string{"horse001.jpg and horse001.png name the same sample"}},
		{name: "horse db mask of another aspect", size: 6,
			files:   horseDBLayout(func(m map[string]any) { m["figure_ground/horse003.jpg"] = grayMask(12, 12, 255, 0) }),
			wantErr: []string{"figure_ground/horse003.jpg (12x12)", "rgb/horse003.jpg (12x9)"}},
		{name: "horse db too few pairs", size: 6,
			files: horseDBLayout(func(m map[string]any) {
				delete(m, "rgb/horse003.jpg")
				delete(m, "figure_ground/horse003.jpg")
			}),
			wantErr: []string{"2 image/mask pairs, need at least 3"}},
		{name: "horse db too many files", size: 6, lim: Limits{MaxFiles: 2}, is: ErrTooMany,
			files: horseDBLayout(nil), wantErr: []string{"more than 2 entries, above the limit of 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, tt.files)
			s, layout, err := Load(dir, tt.size, tt.lim)
			if tt.wantErr != nil || tt.is != nil {
				if err == nil {
					t.Fatal("loaded, want an error")
				}
				if tt.is != nil && !errors.Is(err, tt.is) {
					t.Errorf("err = %v, want %v", err, tt.is)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(filepath.ToSlash(err.Error()), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if layout != tt.layout {
				t.Errorf("layout %q, want %q", layout, tt.layout)
			}
			for _, d := range s.All() {
				if err := d.Validate(); err != nil || d.Len() != 1 || d.Name != filepath.Base(dir) {
					t.Errorf("split %s: %d samples, name %q, %v", d.Split, d.Len(), d.Name, err)
				}
			}
			if tt.check != nil {
				tt.check(t, s)
			}
		})
	}
}

func TestHorseDBSplit(t *testing.T) {
	tests := []struct{ n, train, val, test int }{
		{328, 196, 66, 66},
		{3, 1, 1, 1},
		{10, 6, 2, 2},
		{327, 195, 66, 66},
	}
	for _, tt := range tests {
		train, val, test := horseDBSplit(tt.n)
		if train != tt.train || val != tt.val || test != tt.test {
			t.Errorf("horseDBSplit(%d) = %d/%d/%d, want %d/%d/%d",
				tt.n, train, val, test, tt.train, tt.val, tt.test)
		}
	}
}
