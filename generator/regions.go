package generator

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// A merged file marks the part svcgen owns with regions: a line
// "# svcgen:begin NAME" (or "// svcgen:begin NAME", "<!-- svcgen:begin NAME -->"),
// svcgen's lines, and a line "# svcgen:end NAME". Regen rewrites a region
// with the new render's; every line outside the regions is the team's and
// is kept as it is. A region the team edited is merged three-way with
// svcgen's change to it, so only an edit of the lines svcgen changes
// conflicts.

// markerRe matches a whole marker line: a comment opener, the marker and a
// name, and for HTML the closer.
var markerRe = regexp.MustCompile(`^\s*(?:#|//|<!--)\s*svcgen:(begin|end)(?:\s+(\S*?))?\s*(?:-->)?\s*$`)

// regionNameRe is the form of a region name.
var regionNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// region is one marked part of a file.
type region struct {
	name  string
	begin string // the begin marker line, with its newline
	body  string // the lines between the markers
	end   string // the end marker line, with its newline
}

func (r *region) text() string { return r.begin + r.body + r.end }

// part is a stretch of a file: the team's text, or a region.
type part struct {
	text   string // when region is nil
	region *region
}

// regionDoc is a file cut into parts.
type regionDoc struct {
	parts []part
}

func (d *regionDoc) regions() []*region {
	var out []*region
	for _, p := range d.parts {
		if p.region != nil {
			out = append(out, p.region)
		}
	}
	return out
}

func (d *regionDoc) find(name string) *region {
	for _, r := range d.regions() {
		if r.name == name {
			return r
		}
	}
	return nil
}

func (d *regionDoc) String() string {
	var b strings.Builder
	for _, p := range d.parts {
		if p.region != nil {
			b.WriteString(p.region.text())
		} else {
			b.WriteString(p.text)
		}
	}
	return b.String()
}

// parseRegions cuts content into the team's text and svcgen's regions. A
// damaged marker (a region not closed, closed by another name, opened
// twice, nested) is an error naming file:line and the fix.
func parseRegions(file string, content []byte) (*regionDoc, error) {
	d := &regionDoc{}
	var open *region
	var openLine int
	var text strings.Builder
	seen := map[string]int{}
	lines := strings.SplitAfter(string(content), "\n")
	fix := fmt.Sprintf("restore the marker line as in %s/%s, or delete both marker lines of the region to make its lines yours", BaseDir, file)
	for i, l := range lines {
		if l == "" {
			continue
		}
		m := markerRe.FindStringSubmatch(strings.TrimSuffix(l, "\n"))
		if m == nil {
			if open != nil {
				open.body += l
			} else {
				text.WriteString(l)
			}
			continue
		}
		if !strings.HasSuffix(l, "\n") {
			l += "\n"
		}
		kind, name, n := m[1], m[2], i+1
		if !regionNameRe.MatchString(name) {
			return nil, fmt.Errorf("%s:%d: svcgen:%s needs a region name (lower case, digits and -): %s", file, n, kind, fix)
		}
		switch {
		case kind == "begin" && open != nil:
			return nil, fmt.Errorf("%s:%d: svcgen:begin %s inside region %s (opened at line %d), which has no svcgen:end %s before it: %s", file, n, name, open.name, openLine, open.name, fix)
		case kind == "begin" && seen[name] > 0:
			return nil, fmt.Errorf("%s:%d: region %s opened a second time (first at line %d): %s", file, n, name, seen[name], fix)
		case kind == "begin":
			if text.Len() > 0 {
				d.parts = append(d.parts, part{text: text.String()})
				text.Reset()
			}
			open, openLine, seen[name] = &region{name: name, begin: l}, n, n
		case open == nil:
			return nil, fmt.Errorf("%s:%d: svcgen:end %s without its svcgen:begin %s: %s", file, n, name, name, fix)
		case name != open.name:
			return nil, fmt.Errorf("%s:%d: svcgen:end %s closes region %s (opened at line %d): %s", file, n, name, open.name, openLine, fix)
		default:
			open.end = l
			d.parts = append(d.parts, part{region: open})
			open = nil
		}
	}
	if open != nil {
		return nil, fmt.Errorf("%s:%d: region %s has no svcgen:end %s: %s", file, openLine, open.name, open.name, fix)
	}
	if text.Len() > 0 {
		d.parts = append(d.parts, part{text: text.String()})
	}
	return d, nil
}

// stripRegions returns content without its marker lines.
func stripRegions(d *regionDoc) []byte {
	var b strings.Builder
	for _, p := range d.parts {
		if p.region != nil {
			b.WriteString(p.region.body)
		} else {
			b.WriteString(p.text)
		}
	}
	return []byte(b.String())
}

// conflictText is a git-style conflict of yours against svcgen's text.
func conflictText(yours, theirs, label string) string {
	return "<<<<<<< yours\n" + yours + "=======\n" + theirs + ">>>>>>> " + label + "\n"
}

// Notes of a region merge, for the report.
const (
	noteRegionsAdded   = "svcgen's part of this file is now between svcgen:begin and svcgen:end lines, placed around your edits; everything outside them is yours from now on"
	noteRegionsPending = "this svcgen marks its part of the file with svcgen:begin/svcgen:end lines; resolve the <<<<<<< markers of this one-time upgrade, and the next regen adds the marker lines around svcgen's part"
)

// mergeRegions merges a file whose new render has regions: each region of
// the team's file is replaced by the new render's, or merged three-way
// (git merge-file) when the team edited it too; the team's lines outside
// the regions are kept as they are. A file without regions on disk (written
// by an earlier svcgen, or the team removed every marker) is merged as a
// whole, without the marker lines, and then gets them placed around
// svcgen's lines. It returns the merged content, the number of conflicts
// and a note for the report.
func mergeRegions(file string, ours, base, theirs []byte, label string) ([]byte, int, string, error) {
	t, err := parseRegions(file, theirs)
	if err != nil {
		return nil, 0, "", fmt.Errorf("svcgen's own render: %w", err)
	}
	if len(t.regions()) == 0 {
		out, n, err := merge3(ours, base, theirs, label)
		return out, n, "", err
	}
	o, err := parseRegions(file, ours)
	if err != nil {
		return nil, 0, "", err
	}
	var b *regionDoc
	if base != nil {
		if b, err = parseRegions(file, base); err != nil {
			b = nil // a damaged base: merge as if there were none
		}
	}
	if len(o.regions()) == 0 {
		return upgradeRegions(ours, b, base, t, label)
	}

	conflicts := 0
	baseRegion := func(name string) *region {
		if b == nil {
			return nil
		}
		return b.find(name)
	}
	var out []part
	for _, p := range o.parts {
		if p.region == nil {
			out = append(out, p)
			continue
		}
		r, tr, br := p.region, t.find(p.region.name), baseRegion(p.region.name)
		switch {
		case tr != nil:
			var bb []byte
			if br != nil {
				bb = []byte(br.body)
			}
			body, n, err := merge3([]byte(r.body), bb, []byte(tr.body), label)
			if err != nil {
				return nil, 0, "", err
			}
			conflicts += n
			out = append(out, part{region: &region{name: r.name, begin: tr.begin, body: string(body), end: tr.end}})
		case br != nil && br.body == r.body:
			// svcgen no longer writes it and the team never edited it: it
			// goes, with the blank line that set it apart.
			dropSeparator(out)
		case br == nil:
			// Neither render has it: a region svcgen dropped before, which
			// the team chose to keep when that conflicted. Its lines are
			// the team's now.
			out = append(out, part{text: r.body})
		default:
			// svcgen drops it, the team edited it: the team decides, and
			// what it keeps is its own.
			conflicts++
			out = append(out, part{text: conflictText(r.body, "", label)})
		}
	}
	// Regions new in this render go after the region that precedes them in
	// the render (or before the one that follows), with the render's blank
	// line.
	tr := t.regions()
	for i, r := range tr {
		if findPart(out, r.name) >= 0 {
			continue
		}
		add := r.text()
		if br := baseRegion(r.name); br != nil {
			// The team deleted the region, markers and all.
			if br.body == r.body {
				continue // and svcgen did not change it: it stays deleted
			}
			conflicts++
			add = conflictText("", r.text(), label)
		}
		at, before := -1, false
		for j := i - 1; j >= 0 && at < 0; j-- {
			at = findPart(out, tr[j].name)
		}
		if at < 0 {
			for j := i + 1; j < len(tr) && at < 0; j++ {
				at, before = findPart(out, tr[j].name), true
			}
		}
		sep := ""
		if separated(t, r.name) {
			sep = "\n"
		}
		switch {
		case at < 0:
			out = append(out, part{text: sep + add})
		case before:
			out = insertPart(out, at, part{text: add + sep})
		default:
			out = insertPart(out, at+1, part{text: sep + add})
		}
	}
	merged := (&regionDoc{parts: out}).String()
	return []byte(merged), conflicts, "", nil
}

// findPart is the index of the region named name in parts, or -1.
func findPart(parts []part, name string) int {
	for i, p := range parts {
		if p.region != nil && p.region.name == name {
			return i
		}
	}
	return -1
}

func insertPart(parts []part, at int, p part) []part {
	parts = append(parts, part{})
	copy(parts[at+1:], parts[at:])
	parts[at] = p
	return parts
}

// separated reports whether the render sets region name apart from what
// precedes it by a blank line.
func separated(d *regionDoc, name string) bool {
	for i, p := range d.parts {
		if p.region != nil && p.region.name == name {
			return i > 0 && d.parts[i-1].region == nil && strings.HasSuffix("\n"+d.parts[i-1].text, "\n\n")
		}
	}
	return false
}

// dropSeparator removes the blank line that set a dropped region apart
// from what precedes it, so two blocks stay one blank line apart.
func dropSeparator(before []part) {
	if len(before) == 0 || before[len(before)-1].region != nil {
		return
	}
	if last := &before[len(before)-1]; strings.HasSuffix("\n"+last.text, "\n\n") {
		last.text = strings.TrimSuffix(last.text, "\n")
	}
}

// upgradeRegions merges a file that has no regions yet: the whole file
// three-way without svcgen's marker lines (what the earlier svcgen did),
// then the markers are placed around the lines of svcgen's regions. A
// conflicted upgrade is written without markers; the next regen, once the
// conflicts are resolved, adds them.
func upgradeRegions(ours []byte, b *regionDoc, base []byte, t *regionDoc, label string) ([]byte, int, string, error) {
	if b != nil {
		base = stripRegions(b)
	}
	plain := stripRegions(t)
	merged, n, err := merge3(ours, base, plain, label)
	if err != nil {
		return nil, 0, "", err
	}
	if n > 0 {
		return merged, n, noteRegionsPending, nil
	}
	return placeRegions(merged, t), 0, noteRegionsAdded, nil
}

// placeRegions puts t's marker lines into content, a file that holds t's
// lines (without markers) among lines of the team's: each region starts at
// the first of its lines found in content and ends after the last, so the
// team's lines between two of svcgen's stay inside the region and those
// around it stay outside. The lines are matched by a longest common
// subsequence.
func placeRegions(content []byte, t *regionDoc) []byte {
	mine := strings.SplitAfter(string(content), "\n")
	if mine[len(mine)-1] == "" {
		mine = mine[:len(mine)-1]
	}
	if len(mine) > 0 && !strings.HasSuffix(mine[len(mine)-1], "\n") {
		mine[len(mine)-1] += "\n"
	}
	// svcgen's lines, each with the region it belongs to (-1: outside).
	var theirs []string
	var owner []int
	var starts []int // the index in theirs of each region's first line
	regions := t.regions()
	ri := 0
	for _, p := range t.parts {
		text, idx := p.text, -1
		if p.region != nil {
			text, idx = p.region.body, ri
			starts = append(starts, len(theirs))
			ri++
		}
		for _, l := range strings.SplitAfter(text, "\n") {
			if l != "" {
				theirs, owner = append(theirs, l), append(owner, idx)
			}
		}
	}
	match := lcs(theirs, mine) // match[i]: the line of mine theirs[i] is, or -1
	taken := make([]bool, len(mine))
	for _, j := range match {
		if j >= 0 {
			taken[j] = true
		}
	}
	type span struct{ start, end int }
	spans := make([]span, len(regions))
	after := 0 // the line of mine after the last matched one so far
	for i := range regions {
		// kFirst, kLast: svcgen's first and last lines of the region that
		// are in the file; first, last: where they are.
		kFirst, kLast, first, last := -1, -1, -1, -1
		for k, j := range match {
			if owner[k] == i && j >= 0 {
				if kFirst < 0 {
					kFirst, first = k, j
				}
				kLast, last = k, j
			}
		}
		if kFirst < 0 {
			// None of its lines is left (the team deleted them all, or it
			// is empty): an empty region after the last line before it.
			for k := 0; k < starts[i]; k++ {
				if match[k] >= 0 {
					after = max(after, match[k]+1)
				}
			}
			spans[i] = span{after, after}
			continue
		}
		// svcgen's lines of the region that the team changed count as the
		// region's: as many unmatched lines of the file as there are lines
		// of the region before its first match and after its last.
		head, tail := kFirst-starts[i], 0
		for k := kLast + 1; k < len(owner) && owner[k] == i; k++ {
			tail++
		}
		for head > 0 && first > after && !taken[first-1] {
			first, head = first-1, head-1
		}
		for tail > 0 && last+1 < len(mine) && !taken[last+1] {
			last, tail = last+1, tail-1
		}
		spans[i] = span{first, last + 1}
		after = last + 1
	}
	var b strings.Builder
	at := 0
	for i, r := range regions {
		s := spans[i]
		if s.start < at {
			s.start = at
		}
		if s.end < s.start {
			s.end = s.start
		}
		b.WriteString(strings.Join(mine[at:s.start], ""))
		b.WriteString(r.begin)
		b.WriteString(strings.Join(mine[s.start:s.end], ""))
		b.WriteString(r.end)
		at = s.end
	}
	b.WriteString(strings.Join(mine[at:], ""))
	out := []byte(b.String())
	if !bytes.HasSuffix(content, []byte("\n")) && len(content) > 0 && at == len(mine) {
		out = bytes.TrimSuffix(out, []byte("\n"))
	}
	return out
}

// maxLCSCells bounds the table of lcs (4 bytes a cell).
const maxLCSCells = 16 << 20

// lcs matches the lines of a to lines of b by a longest common
// subsequence: out[i] is the index in b of a[i], or -1.
func lcs(a, b []string) []int {
	n, m := len(a), len(b)
	out := make([]int, n)
	for i := range out {
		out[i] = -1
	}
	// Common head and tail need no table.
	lo := 0
	for lo < n && lo < m && a[lo] == b[lo] {
		out[lo] = lo
		lo++
	}
	hiA, hiB := n, m
	for hiA > lo && hiB > lo && a[hiA-1] == b[hiB-1] {
		hiA, hiB = hiA-1, hiB-1
		out[hiA] = hiB
	}
	a2, b2 := a[lo:hiA], b[lo:hiB]
	if len(a2)*len(b2) > maxLCSCells {
		// Too large for the table: match each line to the next equal one.
		j := 0
		for i := range a2 {
			for k := j; k < len(b2); k++ {
				if a2[i] == b2[k] {
					out[lo+i], j = lo+k, k+1
					break
				}
			}
		}
		return out
	}
	w := len(b2) + 1
	dp := make([]int32, (len(a2)+1)*w)
	for i := len(a2) - 1; i >= 0; i-- {
		for j := len(b2) - 1; j >= 0; j-- {
			switch {
			case a2[i] == b2[j]:
				dp[i*w+j] = dp[(i+1)*w+j+1] + 1
			case dp[(i+1)*w+j] >= dp[i*w+j+1]:
				dp[i*w+j] = dp[(i+1)*w+j]
			default:
				dp[i*w+j] = dp[i*w+j+1]
			}
		}
	}
	for i, j := 0, 0; i < len(a2) && j < len(b2); {
		switch {
		case a2[i] == b2[j]:
			out[lo+i] = lo + j
			i, j = i+1, j+1
		case dp[(i+1)*w+j] >= dp[i*w+j+1]:
			i++
		default:
			j++
		}
	}
	return out
}
