package generator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// BackupDir holds one folder per svcgen run that replaced content svcgen
// cannot render again: a hand edit it overwrote, a file it merged with
// conflicts, a file with uncommitted changes. Every run gets its own
// folder, named by the time it ran, beside an index (ID.json) saying why
// each file was kept; nothing there is ever overwritten or pruned by
// svcgen, and git status changes there never count as the team's.
const BackupDir = ".svcgen/backup"

// Backup is one run's saved files.
type Backup struct {
	Time    time.Time    `json:"time"`
	ID      string       `json:"id"`
	Command string       `json:"command,omitempty"`
	Svcgen  string       `json:"svcgen"`
	Files   []BackupFile `json:"files"`
}

// BackupFile is one saved file: its path in the service and why it was
// saved.
type BackupFile struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// The reasons a file is backed up.
const (
	ReasonOverwritten = "hand edit overwritten (--overwrite)"
	ReasonConflict    = "your file before a merge with conflicts"
	ReasonUncommitted = "had uncommitted changes (--allow-dirty)"
	ReasonRestore     = "replaced by svcgen backup restore"
)

// Dir is the backup's folder, relative to the service.
func (b Backup) Dir() string { return path.Join(BackupDir, b.ID) }

// newBackupID names a run's backup folder by the time (UTC, to the
// second), with -2, -3... when one of that second exists.
func newBackupID(dir string, now time.Time) string {
	base := now.UTC().Format("20060102T150405Z")
	id := base
	for n := 2; ; n++ {
		_, err1 := os.Stat(filepath.Join(dir, filepath.FromSlash(path.Join(BackupDir, id))))
		_, err2 := os.Stat(filepath.Join(dir, filepath.FromSlash(path.Join(BackupDir, id+".json"))))
		if errors.Is(err1, fs.ErrNotExist) && errors.Is(err2, fs.ErrNotExist) {
			return id
		}
		id = base + "-" + strconv.Itoa(n)
	}
}

// backups returns what Apply saves of the plan before writing it, and why.
func (p *Plan) backups() []BackupFile {
	var out []BackupFile
	for _, c := range p.Changes {
		if c.Old == nil || !c.writes() {
			continue
		}
		switch {
		case c.Action == Overwrite:
			out = append(out, BackupFile{Path: c.Path, Reason: ReasonOverwritten})
		case c.Action == Conflict:
			out = append(out, BackupFile{Path: c.Path, Reason: ReasonConflict})
		case p.Uncommitted[c.Path]:
			out = append(out, BackupFile{Path: c.Path, Reason: ReasonUncommitted})
		}
	}
	return out
}

// ListBackups returns the backups of the service in dir, oldest first.
func ListBackups(dir string) ([]Backup, error) {
	root := filepath.Join(dir, filepath.FromSlash(BackupDir))
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Backup
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		b, err := readBackup(dir, e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// readBackup reads one backup's index; a folder without one (a copy made
// by hand, an older svcgen's single backup) is listed from its files.
func readBackup(dir, id string) (Backup, error) {
	b := Backup{ID: id}
	idx := filepath.Join(dir, filepath.FromSlash(path.Join(BackupDir, id+".json")))
	data, err := os.ReadFile(idx)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &b); err != nil {
			return b, fmt.Errorf("%s is damaged (%v): fix or delete it; the files under %s are untouched", idx, err, b.Dir())
		}
		b.ID = id
		return b, nil
	case !errors.Is(err, fs.ErrNotExist):
		return b, err
	}
	root := filepath.Join(dir, filepath.FromSlash(b.Dir()))
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if b.Time.IsZero() {
			if info, err := d.Info(); err == nil {
				b.Time = info.ModTime()
			}
		}
		b.Files = append(b.Files, BackupFile{Path: filepath.ToSlash(rel), Reason: "unknown (no index)"})
		return nil
	})
	return b, err
}

// RestoreBackup writes the files of backup id (all, or those named) back
// into the service in dir. What they replace is itself backed up first
// (the returned backup, nil when nothing needed saving), so a restore
// loses nothing either. It returns the paths it restored.
func RestoreBackup(dir, id string, only []string, command string) ([]string, *Backup, error) {
	all, err := ListBackups(dir)
	if err != nil {
		return nil, nil, err
	}
	var b *Backup
	ids := make([]string, 0, len(all))
	for i := range all {
		ids = append(ids, all[i].ID)
		if all[i].ID == id {
			b = &all[i]
		}
	}
	if b == nil {
		if len(ids) == 0 {
			return nil, nil, fmt.Errorf("%s has no backups (%s is empty)", dir, BackupDir)
		}
		return nil, nil, fmt.Errorf("no backup %q in %s; there are: %s (svcgen backup list shows their files)", id, filepath.Join(dir, BackupDir), strings.Join(ids, ", "))
	}
	files := b.Files
	if len(only) > 0 {
		have := map[string]BackupFile{}
		names := make([]string, 0, len(b.Files))
		for _, f := range b.Files {
			have[f.Path] = f
			names = append(names, f.Path)
		}
		files = nil
		for _, o := range only {
			o = filepath.ToSlash(filepath.Clean(o))
			f, ok := have[o]
			if !ok {
				return nil, nil, fmt.Errorf("backup %s has no %s; it has: %s", id, o, strings.Join(names, ", "))
			}
			files = append(files, f)
		}
	}
	type restore struct {
		path    string
		content []byte
		current []byte
	}
	var todo []restore
	for _, f := range files {
		content, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(path.Join(b.Dir(), f.Path))))
		if err != nil {
			return nil, nil, fmt.Errorf("reading backup %s: %w", id, err)
		}
		current, err := readMaybe(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			return nil, nil, err
		}
		if bytes.Equal(current, content) {
			continue
		}
		todo = append(todo, restore{f.Path, content, current})
	}
	var saved *Backup
	var save []BackupFile
	for _, r := range todo {
		if r.current != nil {
			save = append(save, BackupFile{Path: r.path, Reason: ReasonRestore + " " + id})
		}
	}
	if len(save) > 0 {
		nb := Backup{ID: newBackupID(dir, time.Now()), Time: time.Now().UTC(), Command: command, Svcgen: Version, Files: save}
		for _, r := range todo {
			if r.current != nil {
				if err := writeAtomic(filepath.Join(dir, filepath.FromSlash(path.Join(nb.Dir(), r.path))), r.current); err != nil {
					return nil, nil, err
				}
			}
		}
		if err := writeBackupIndex(dir, nb); err != nil {
			return nil, nil, err
		}
		saved = &nb
	}
	restored := make([]string, 0, len(todo))
	for _, r := range todo {
		if err := writeAtomic(filepath.Join(dir, filepath.FromSlash(r.path)), r.content); err != nil {
			return restored, saved, err
		}
		restored = append(restored, r.path)
	}
	return restored, saved, nil
}

// backupIndex is the index file content of b.
func backupIndex(b Backup) ([]byte, error) {
	data, err := json.MarshalIndent(b, "", "  ")
	return append(data, '\n'), err
}

func writeBackupIndex(dir string, b Backup) error {
	data, err := backupIndex(b)
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, filepath.FromSlash(path.Join(BackupDir, b.ID+".json"))), data)
}

// writeAtomic writes p through a temporary file renamed into place.
func writeAtomic(p string, content []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	mode := os.FileMode(0o644)
	if st, err := os.Stat(p); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".svcgen-")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(content)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp.Name(), mode)); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	return nil
}

// ReasonMigrated is why svcgen migrate saved a file it rewrote.
const ReasonMigrated = "rewritten by svcgen migrate"

// SaveBackup saves old (service-relative slash paths to their content) as
// one new backup of the service in dir, for a command that replaces them
// outside a regen plan (svcgen migrate). It returns nil when old is empty.
func SaveBackup(dir string, old map[string][]byte, reason, command string) (*Backup, error) {
	if len(old) == 0 {
		return nil, nil
	}
	now := time.Now()
	b := Backup{ID: newBackupID(dir, now), Time: now.UTC().Truncate(time.Second), Command: command, Svcgen: Version}
	paths := make([]string, 0, len(old))
	for p := range old {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if err := writeAtomic(filepath.Join(dir, filepath.FromSlash(path.Join(b.Dir(), p))), old[p]); err != nil {
			return nil, fmt.Errorf("backing up %s: %w", p, err)
		}
		b.Files = append(b.Files, BackupFile{Path: p, Reason: reason})
	}
	if err := writeBackupIndex(dir, b); err != nil {
		return nil, err
	}
	return &b, nil
}
