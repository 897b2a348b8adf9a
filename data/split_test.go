package data

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseSplit(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		max     int
		want    []string // names as written
		stems   []string // nil: same as want
		wantErr string   // substring of the error; "" for success
	}{
		{name: "plain", in: "horse001\nhorse002\n", want: []string{"horse001", "horse002"}},
		{name: "no final newline", in: "horse001\nhorse002", want: []string{"horse001", "horse002"}},
		{name: "crlf", in: "horse001\r\nhorse002\r\n", want: []string{"horse001", "horse002"}},
		{name: "cr only", in: "horse001\rhorse002\r", want: []string{"horse001", "horse002"}},
		{name: "blank lines and spaces", in: "\n  horse001  \n\n\t horse002\t\r\n \n",
			want: []string{"horse001", "horse002"}},
		{name: "byte order mark", in: "\ufeffhorse001\nhorse002\n", want: []string{"horse001", "horse002"}},
		{name: "comments", in: "# train split\nhorse001\n#horse009\n", want: []string{"horse001"}},
		{name: "extensions", in: "horse001.png\nhorse002.JPG\nhorse.v2\n",
			want:  []string{"horse001.png", "horse002.JPG", "horse.v2"},
			stems: []string{"horse001", "horse002", "horse.v2"}},
		{name: "inner space kept", in: "my horse\n", want: []string{"my horse"}},
		{name: "duplicates", in: "a\nb\na\nb.png\nc\n",
			wantErr: "x.txt: duplicate names: a (lines 1, 3), b (lines 2, 4)"},
		{name: "empty", in: "", wantErr: "x.txt: no names"},
		{name: "only blanks", in: "\r\n  \n\t\n", wantErr: "x.txt: no names"},
		{name: "path", in: "a\n../etc/passwd\n", wantErr: "x.txt:2: name \"../etc/passwd\" holds a path separator"},
		{name: "backslash", in: `images\a`, wantErr: "x.txt:1:"},
		{name: "dot dot", in: "..\n", wantErr: "x.txt:1: name \"..\" is not a file name"},
		{name: "control", in: "a\x00b\n", wantErr: "control character"},
		{name: "bad utf8", in: "a\xffb\n", wantErr: "not valid UTF-8"},
		{name: "long", in: strings.Repeat("a", maxSplitLine+1), wantErr: "longer than"},
		{name: "too many", in: "a\nb\nc\n", max: 2, wantErr: "more than 2 names, above the limit of 2"},
		{name: "at the limit", in: "a\nb\n", max: 2, want: []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			maxNames := tt.max
			if maxNames == 0 {
				maxNames = DefaultMaxFiles
			}
			entries, err := parseSplit([]byte(tt.in), "x.txt", maxNames)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names, stems []string
			for _, e := range entries {
				names = append(names, e.name)
				stems = append(stems, e.stem)
			}
			wantStems := tt.stems
			if wantStems == nil {
				wantStems = tt.want
			}
			if !reflect.DeepEqual(names, tt.want) || !reflect.DeepEqual(stems, wantStems) {
				t.Errorf("names %q stems %q, want %q %q", names, stems, tt.want, wantStems)
			}
		})
	}
}

func TestReadSplit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "train.txt")
	if err := os.WriteFile(path, []byte("horse001\r\n horse002.png \r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	names, err := ReadSplit(path, Limits{})
	if err != nil || !reflect.DeepEqual(names, []string{"horse001", "horse002.png"}) {
		t.Errorf("ReadSplit = %q, %v", names, err)
	}
	if _, err := ReadSplit(filepath.Join(dir, "missing.txt"), Limits{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
	_, err = ReadSplit(path, Limits{MaxFiles: 1})
	if !errors.Is(err, ErrTooMany) {
		t.Errorf("MaxFiles 1: err = %v, want ErrTooMany", err)
	}
}

// FuzzReadSplit checks that the split parser never panics and that what it
// accepts obeys its rules.
func FuzzReadSplit(f *testing.F) {
	for _, s := range []string{"horse001\nhorse002\n", "a\r\nb\r\n", "\ufeff# c\n a.png \n\n",
		"a\na\n", "../x\n", "a\rb\r\nc\n", "\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := parseSplit(b, "fuzz.txt", 64)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "data: fuzz.txt") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if len(entries) == 0 || len(entries) > 64 {
			t.Fatalf("%d entries accepted", len(entries))
		}
		seen := map[string]bool{}
		line := 0
		for _, e := range entries {
			if e.name == "" || e.name != strings.TrimSpace(e.name) || e.name[0] == '#' ||
				strings.ContainsAny(e.name, "/\\\r\n\x00") || e.stem == "" {
				t.Fatalf("accepted name %q (stem %q)", e.name, e.stem)
			}
			if seen[e.stem] || e.line <= line {
				t.Fatalf("duplicate stem %q or line %d after %d", e.stem, e.line, line)
			}
			seen[e.stem], line = true, e.line
		}
	})
}
