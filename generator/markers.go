package generator

import (
	"bufio"
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
)

// FindConflictMarkers is an unresolved merge conflict left in a file.
const FindConflictMarkers FindingKind = "conflict-markers"

// ConflictMarkers returns one finding per unresolved conflict (a
// <<<<<<< line followed by ======= and >>>>>>> lines, git's markers) in
// the merged and scaffold files of the service in dir, committed or not:
// a regen that merged with conflicts, or a git merge of the team's, left
// them, and neither the README, the Makefile nor .gitignore would
// otherwise fail on them.
func ConflictMarkers(dir string, m Manifest) ([]Finding, error) {
	var out []Finding
	for _, f := range m.Files {
		if f.Class == Generated || strings.HasPrefix(f.Path, BaseDir+"/") {
			continue // a changed generated file is a hand edit, reported as one
		}
		b, err := readMaybe(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			return nil, err
		}
		out = append(out, markersIn(f.Path, b)...)
	}
	return out, nil
}

// markersIn finds the conflict blocks of one file.
func markersIn(file string, b []byte) []Finding {
	if !bytes.Contains(b, []byte("<<<<<<<")) {
		return nil
	}
	var out []Finding
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), len(b)+1)
	line := 0
	var open *Finding
	sep := false
	for sc.Scan() {
		line++
		l := sc.Text()
		switch {
		case marker(l, '<'):
			open = &Finding{Kind: FindConflictMarkers, File: file, Line: line, Msg: "unresolved merge conflict: " + strings.TrimSpace(l)}
			sep = false
		case open != nil && l == "=======":
			sep = true
		case open != nil && sep && marker(l, '>'):
			open.Msg += fmt.Sprintf(" ... %s (lines %d-%d)", strings.TrimSpace(l), open.Line, line)
			open.Fix = fmt.Sprintf("edit lines %d-%d of %s: keep the lines you want from both sides and delete the <<<<<<<, ======= and >>>>>>> lines; then run svcgen regen again", open.Line, line, file)
			out = append(out, *open)
			open = nil
		}
	}
	return out
}

// marker reports whether l is a conflict marker line of seven c's, alone
// or followed by a space and a label.
func marker(l string, c byte) bool {
	if len(l) < 7 || strings.Count(l[:7], string(c)) != 7 {
		return false
	}
	return len(l) == 7 || l[7] == ' '
}
