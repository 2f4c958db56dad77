package generator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// journal lists the renames of an Apply in progress, so an interrupted
// regeneration is completed by the next one.
type journal struct {
	Renames []rename `json:"renames"`
	Removes []string `json:"removes"`
}

type rename struct {
	From string `json:"from"`
	To   string `json:"to"`
}

const (
	stageDir    = ".svcgen/stage"
	journalPath = ".svcgen/stage/journal.json"
)

// ApplyHook, when set, is called before each rename of Apply: a test hook to
// interrupt a regeneration between two writes.
var ApplyHook func(path string)

// Apply writes the plan: every new content is first staged under
// .svcgen/stage with a journal, then renamed into place, removals follow, and
// the manifest is renamed last. What the plan replaces that svcgen could not
// render again (p.backups) is saved first, in a backup of its own under
// BackupDir, recorded in p.Backup. A plan with hand edits is refused.
func Apply(dir string, p *Plan) error {
	if edits := p.Paths(HandEdit); len(edits) > 0 {
		return fmt.Errorf("generated files edited by hand: %s; nothing was written (rerun with --overwrite to overwrite them; the edits are then saved under %s/)", strings.Join(edits, ", "), BackupDir)
	}
	stage := filepath.Join(dir, stageDir)
	if err := os.MkdirAll(stage, 0o755); err != nil {
		return err
	}
	var j journal
	add := func(to string, content []byte) error {
		from := path.Join(stageDir, fmt.Sprintf("%04d", len(j.Renames)))
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(from)), content, 0o644); err != nil {
			return err
		}
		j.Renames = append(j.Renames, rename{From: from, To: to})
		return nil
	}
	if saved := p.backups(); len(saved) > 0 {
		b := Backup{ID: newBackupID(dir, time.Now()), Time: time.Now().UTC().Truncate(time.Second), Command: p.Command, Svcgen: Version, Files: saved}
		old := map[string][]byte{}
		for _, c := range p.Changes {
			old[c.Path] = c.Old
		}
		for _, f := range saved {
			if err := add(path.Join(b.Dir(), f.Path), old[f.Path]); err != nil {
				return err
			}
		}
		idx, err := backupIndex(b)
		if err != nil {
			return err
		}
		if err := add(BackupDir+"/"+b.ID+".json", idx); err != nil {
			return err
		}
		p.Backup = &b
	}
	for _, c := range p.Changes {
		switch {
		case c.writes() && c.Action != Remove:
			if err := add(c.Path, c.New); err != nil {
				return err
			}
		case c.Action == Remove:
			j.Removes = append(j.Removes, c.Path)
		}
	}
	if p.ManifestChanged || len(j.Renames) > 0 || len(j.Removes) > 0 {
		if err := add(ManifestPath, p.Manifest); err != nil {
			return err
		}
	}
	data, err := json.Marshal(j)
	if err != nil {
		return err
	}
	// The journal is renamed into place: it exists whole or not at all.
	if err := os.WriteFile(filepath.Join(stage, "journal.tmp"), data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(stage, "journal.tmp"), filepath.Join(dir, journalPath)); err != nil {
		return err
	}
	_, err = Resume(dir)
	return err
}

// Resume completes an interrupted Apply: it performs the journal's renames
// whose staged files are still there, then its removals, then clears the
// stage. It reports whether there was a journal to complete; a stage
// without one was never committed to and is dropped.
func Resume(dir string) (bool, error) {
	data, err := os.ReadFile(filepath.Join(dir, journalPath))
	if errors.Is(err, fs.ErrNotExist) {
		return false, os.RemoveAll(filepath.Join(dir, stageDir))
	}
	if err != nil {
		return false, err
	}
	var j journal
	if err := json.Unmarshal(data, &j); err != nil {
		return false, fmt.Errorf("%s is damaged (%v); delete %s and regen again", journalPath, err, stageDir)
	}
	for _, r := range j.Renames {
		from := filepath.Join(dir, filepath.FromSlash(r.From))
		if _, err := os.Stat(from); errors.Is(err, fs.ErrNotExist) {
			continue // already in place
		}
		to := filepath.Join(dir, filepath.FromSlash(r.To))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return true, err
		}
		if ApplyHook != nil {
			ApplyHook(r.To)
		}
		if err := os.Rename(from, to); err != nil {
			return true, err
		}
	}
	for _, rm := range j.Removes {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(rm))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return true, err
		}
	}
	return true, os.RemoveAll(filepath.Join(dir, stageDir))
}

// Pending reports whether an interrupted Apply waits in dir for Resume.
func Pending(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, journalPath))
	return err == nil
}

// TidyPendingPath marks a regen whose go mod tidy has not finished: written
// before a regen that changes go.mod is applied, removed once tidy is done,
// so an interrupted one is tidied by the next regen.
const TidyPendingPath = ".svcgen/tidy-pending"
