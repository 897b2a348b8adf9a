package data

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// maxSplitLine bounds the length of one line of a split file; a file name
// is at most 255 bytes on common file systems.
const maxSplitLine = 1024

// imageExts lists the extensions tried, in order, for a name given without
// one; a name given with one of them is tried as written first.
var imageExts = []string{".png", ".jpg", ".jpeg", ".gif"}

// splitEntry is one name of a split file.
type splitEntry struct {
	line int    // 1-based line number
	name string // as written, spaces trimmed: "horse023" or "horse023.png"
	stem string // name without an image extension: "horse023"
}

// ReadSplit reads the split file at path, a list of sample names, one per
// line, and returns the names as written. The rules, shared by Load:
//
//   - lines end in LF, CRLF or CR; a leading UTF-8 byte order mark is dropped;
//   - spaces around a name are trimmed; blank lines and lines that start
//     with '#' are skipped;
//   - a name may carry an image extension (.png, .jpg, .jpeg, .gif, any
//     case) or not: "horse023" and "horse023.png" name the same sample;
//   - a name must be a plain file name: no '/' or '\', not "." or "..", no
//     control characters, valid UTF-8;
//   - the same sample named twice is an error that lists the duplicates
//     with their line numbers, and so is a file without names;
//   - more than lim.MaxFiles names is refused with a *LimitError.
func ReadSplit(path string, lim Limits) ([]string, error) {
	entries, err := readSplit(path, lim)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.name
	}
	return names, nil
}

// readSplit reads and parses the split file at path.
func readSplit(path string, lim Limits) ([]splitEntry, error) {
	lim = lim.withDefaults()
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()

	// A file longer than MaxFiles lines of the longest length is refused
	// without reading it all.
	maxBytes := int64(lim.MaxFiles+1) * (maxSplitLine + 2)
	b, err := io.ReadAll(io.LimitReader(f, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("data: read %s: %w", path, err)
	}
	if int64(len(b)) > maxBytes {
		return nil, &LimitError{Path: path, Field: "MaxFiles",
			What: fmt.Sprintf("split file of more than %d bytes has more than %d lines of %d bytes",
				maxBytes, lim.MaxFiles, maxSplitLine),
			Got: int64(lim.MaxFiles) + 1, Max: int64(lim.MaxFiles)}
	}
	return parseSplit(b, path, lim.MaxFiles)
}

// parseSplit parses the contents b of the split file path by the rules of
// ReadSplit, allowing at most maxNames names.
func parseSplit(b []byte, path string, maxNames int) ([]splitEntry, error) {
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")

	var entries []splitEntry
	for i, line := range strings.Split(s, "\n") {
		name := strings.TrimSpace(line)
		if name == "" || name[0] == '#' {
			continue
		}
		if len(entries) == maxNames {
			return nil, &LimitError{Path: path, Field: "MaxFiles",
				What: fmt.Sprintf("split file has more than %d names", maxNames),
				Got:  int64(maxNames) + 1, Max: int64(maxNames)}
		}
		if err := checkName(name); err != nil {
			return nil, fmt.Errorf("data: %s:%d: %w", path, i+1, err)
		}
		entries = append(entries, splitEntry{line: i + 1, name: name, stem: stem(name)})
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("data: %s: no names: the split is empty", path)
	}
	if err := checkDuplicates(entries); err != nil {
		return nil, fmt.Errorf("data: %s: %w", path, err)
	}
	return entries, nil
}

// checkName checks that name is a plain file name.
func checkName(name string) error {
	switch {
	case len(name) > maxSplitLine:
		return fmt.Errorf("name of %d bytes, longer than %d", len(name), maxSplitLine)
	case !utf8.ValidString(name):
		return fmt.Errorf("name %q is not valid UTF-8", name)
	case name == "." || name == "..":
		return fmt.Errorf("name %q is not a file name", name)
	case strings.ContainsAny(name, `/\`):
		return fmt.Errorf("name %q holds a path separator: want a file name in images/", name)
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("name %q holds a control character", name)
	}
	return nil
}

// stem returns name without an extension listed in imageExts.
func stem(name string) string {
	ext := filepath.Ext(name)
	for _, e := range imageExts {
		if strings.EqualFold(ext, e) && len(name) > len(ext) {
			return name[:len(name)-len(ext)]
		}
	}
	return name
}

// checkDuplicates returns an error that lists every stem named more than
// once, with its line numbers, in order of first appearance.
func checkDuplicates(entries []splitEntry) error {
	lines := make(map[string][]int, len(entries))
	var order []string
	for _, e := range entries {
		if lines[e.stem] == nil {
			order = append(order, e.stem)
		}
		lines[e.stem] = append(lines[e.stem], e.line)
	}
	var dups []string
	for _, s := range order {
		if l := lines[s]; len(l) > 1 {
			dups = append(dups, fmt.Sprintf("%s (lines %s)", s, joinInts(l)))
		}
	}
	if dups == nil {
		return nil
	}
	return errors.New("duplicate names: " + strings.Join(dups, ", "))
}

// joinInts formats v as "1, 5, 9".
func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

// resolve returns the path of the file in dir that the entry names: the
// name as written if it carries an image extension and exists, else the
// stem with the first extension of imageExts that exists.
func resolve(dir string, e splitEntry) (string, error) {
	var tried []string
	if e.stem != e.name {
		tried = append(tried, e.name)
	}
	for _, ext := range imageExts {
		if c := e.stem + ext; c != e.name {
			tried = append(tried, c)
		}
	}
	for _, c := range tried {
		p := filepath.Join(dir, c)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("no file %s in %s (tried %s)", e.stem, dir, strings.Join(tried, ", "))
}

// splitFiles names the split files of the split-list layout, in the order
// of Splits.All.
var splitFiles = [3]struct{ split, file string }{
	{"train", "train.txt"}, {"val", "val.txt"}, {"test", "test.txt"},
}

// LoadSplitLists loads the split-list layout in dir: images/NAME.png and
// masks/NAME.png for every NAME of train.txt, val.txt and test.txt (see
// ReadSplit for their rules). Each sample is resized to size×size as the
// package doc describes. A name without its image or mask is an error that
// names the split file, the line and the missing file; a sample named by
// two splits is an error too, as it would leak into evaluation.
func LoadSplitLists(dir string, size int, lim Limits) (*Splits, error) {
	lim = lim.withDefaults()
	var lists [3][]splitEntry
	for i, sf := range splitFiles {
		e, err := readSplit(filepath.Join(dir, sf.file), lim)
		if err != nil {
			return nil, err
		}
		lists[i] = e
	}
	if err := checkDisjoint(lists); err != nil {
		return nil, fmt.Errorf("data: %s: %w", dir, err)
	}

	// Resolve every name to its two files before decoding anything.
	var jobs [3][]pairJob
	for i, list := range lists {
		path := filepath.Join(dir, splitFiles[i].file)
		for _, e := range list {
			img, err := resolve(filepath.Join(dir, "images"), e)
			if err != nil {
				return nil, fmt.Errorf("data: %s:%d: image of %s: %w", path, e.line, e.name, err)
			}
			mask, err := resolve(filepath.Join(dir, "masks"), e)
			if err != nil {
				return nil, fmt.Errorf("data: %s:%d: mask of %s: %w", path, e.line, e.name, err)
			}
			jobs[i] = append(jobs[i], pairJob{name: e.stem, image: img, mask: mask})
		}
	}
	return loadSplits(dir, jobs, size, lim)
}

// checkDisjoint returns an error naming a sample listed by two splits.
func checkDisjoint(lists [3][]splitEntry) error {
	type where struct {
		split int
		line  int
	}
	seen := make(map[string]where)
	for i, list := range lists {
		for _, e := range list {
			if w, ok := seen[e.stem]; ok {
				return fmt.Errorf("%s is in both %s (line %d) and %s (line %d)",
					e.stem, splitFiles[w.split].file, w.line, splitFiles[i].file, e.line)
			}
			seen[e.stem] = where{i, e.line}
		}
	}
	return nil
}
