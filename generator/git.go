package generator

import (
	"fmt"
	"os/exec"
	"strings"
)

// ownWorkFiles are svcgen's working files: git changes there are never the
// team's uncommitted work.
var ownWorkFiles = []string{stageDir, BackupDir, TidyPendingPath}

// GitDirty returns the uncommitted changes (git status lines) of the git
// work tree dir is in, below dir, or nil when there are none or dir is not
// in a work tree. svcgen's own working files do not count.
func GitDirty(dir string) ([]string, error) {
	lines, _, err := gitStatus(dir)
	return lines, err
}

// GitUncommitted returns the paths (relative to dir, slash-separated) with
// uncommitted changes, as GitDirty counts them.
func GitUncommitted(dir string) (map[string]bool, error) {
	_, paths, err := gitStatus(dir)
	return paths, err
}

func gitStatus(dir string) ([]string, map[string]bool, error) {
	if _, err := exec.LookPath("git"); err != nil {
		return nil, nil, nil
	}
	prefix, err := exec.Command("git", "-C", dir, "rev-parse", "--is-inside-work-tree", "--show-prefix").Output()
	if err != nil {
		return nil, nil, nil
	}
	fields := strings.Split(strings.TrimRight(string(prefix), "\n"), "\n")
	if len(fields) == 0 || fields[0] != "true" {
		return nil, nil, nil
	}
	pre := ""
	if len(fields) > 1 {
		pre = fields[1]
	}
	args := []string{"-C", dir, "status", "--porcelain", "-z", "--untracked-files=all", "--", "."}
	for _, p := range ownWorkFiles {
		args = append(args, ":(exclude)"+p)
	}
	out, err := exec.Command("git", args...).Output()
	if err != nil {
		return nil, nil, fmt.Errorf("git status in %s: %w", dir, err)
	}
	var lines []string
	paths := map[string]bool{}
	recs := strings.Split(string(out), "\x00")
	for i := 0; i < len(recs); i++ {
		r := recs[i]
		if len(r) < 4 {
			continue
		}
		lines = append(lines, strings.TrimSpace(r))
		paths[strings.TrimPrefix(r[3:], pre)] = true
		if r[0] == 'R' || r[0] == 'C' {
			i++ // the rename's source follows
		}
	}
	return lines, paths, nil
}
