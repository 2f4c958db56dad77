package generator

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// workflow is the part of a GitHub Actions workflow the checks read.
type workflow struct {
	On struct {
		WorkflowDispatch *struct {
			Inputs map[string]struct {
				Default string `yaml:"default"`
			} `yaml:"inputs"`
		} `yaml:"workflow_dispatch"`
		RepositoryDispatch *struct {
			Types []string `yaml:"types"`
		} `yaml:"repository_dispatch"`
		Schedule []struct {
			Cron string `yaml:"cron"`
		} `yaml:"schedule"`
	} `yaml:"on"`
	Permissions map[string]string `yaml:"permissions"`
	Jobs        map[string]struct {
		Env    map[string]string `yaml:"env"`
		RunsOn string            `yaml:"runs-on"`
		Steps  []struct {
			With map[string]any `yaml:"with"`
			Name string         `yaml:"name"`
			Uses string         `yaml:"uses"`
			Run  string         `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
	Name string `yaml:"name"`
}

// TestUpgradeWorkflow: every preset's .github/workflows/svcgen-upgrade.yml
// parses and has what GitHub needs: the schedule, workflow_dispatch and
// the svcgen-release repository_dispatch triggers, write permissions for
// contents, pull requests and issues, a runner, steps that each use an
// action or run a script that sh accepts, only the contexts a job's env
// may read, and the run of svcgen fleet upgrade whose files the last step
// reads. svcgen owns the file (class generated).
func TestUpgradeWorkflow(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("needs sh")
	}
	presets, err := os.ReadDir(filepath.Join("..", "testdata", "golden"))
	if err != nil {
		t.Fatal(err)
	}
	cron := regexp.MustCompile(`^(\S+ ){4}\S+$`)
	jobEnvContexts := regexp.MustCompile(`\$\{\{([^}]*)\}\}`)
	for _, p := range presets {
		dir := filepath.Join("..", "testdata", "golden", p.Name())
		data, err := os.ReadFile(filepath.Join(dir, ".github/workflows/svcgen-upgrade.yml"))
		if err != nil {
			t.Fatal(err)
		}
		var w workflow
		if err := yaml.Unmarshal(data, &w); err != nil {
			t.Fatalf("%s: svcgen-upgrade.yml: %v", p.Name(), err)
		}
		if w.Name == "" || len(w.On.Schedule) == 0 || !cron.MatchString(w.On.Schedule[0].Cron) {
			t.Errorf("%s: want a name and a five-field schedule, got %q %+v", p.Name(), w.Name, w.On.Schedule)
		}
		if w.On.WorkflowDispatch == nil || w.On.WorkflowDispatch.Inputs["version"].Default != "latest" {
			t.Errorf("%s: want workflow_dispatch with a version input defaulting to latest", p.Name())
		}
		if w.On.RepositoryDispatch == nil || !slices.Contains(w.On.RepositoryDispatch.Types, "svcgen-release") {
			t.Errorf("%s: want repository_dispatch of type svcgen-release", p.Name())
		}
		for _, perm := range []string{"contents", "pull-requests", "issues"} {
			if w.Permissions[perm] != "write" {
				t.Errorf("%s: permissions.%s is %q, want write", p.Name(), perm, w.Permissions[perm])
			}
		}
		job, ok := w.Jobs["upgrade"]
		if !ok || job.RunsOn == "" || len(job.Steps) < 4 {
			t.Fatalf("%s: want job upgrade with runs-on and its steps", p.Name())
		}
		for k, v := range job.Env {
			for _, m := range jobEnvContexts.FindAllStringSubmatch(v, -1) {
				for _, ctx := range []string{"runner.", "steps.", "job.", "env."} {
					if strings.Contains(m[1], ctx) {
						t.Errorf("%s: jobs.upgrade.env.%s reads %s, which a job's env cannot", p.Name(), k, ctx)
					}
				}
			}
		}
		if job.Env["SERVICE"] != "golden-"+p.Name() {
			t.Errorf("%s: env SERVICE is %q, want the service's name", p.Name(), job.Env["SERVICE"])
		}
		var scripts strings.Builder
		for i, s := range job.Steps {
			if (s.Uses == "") == (s.Run == "") {
				t.Errorf("%s: step %d (%s) must have uses or run, not both or neither", p.Name(), i, s.Name)
			}
			if s.Uses == "actions/checkout@v4" && s.With["fetch-depth"] != 0 {
				t.Errorf("%s: checkout needs fetch-depth: 0 (the upgrade branch is read from origin)", p.Name())
			}
			if s.Run == "" {
				continue
			}
			cmd := exec.Command(sh, "-n")
			cmd.Stdin = strings.NewReader(s.Run)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s: step %q is not valid sh: %v\n%s", p.Name(), s.Name, err, out)
			}
			scripts.WriteString(s.Run)
		}
		for _, want := range []string{"svcgen\" fleet upgrade . --branch \"$BRANCH\"", "/action", "/committed", "/title.txt", "/body.md", "gh pr create", "gh pr edit", "gh issue create", "git push"} {
			if !strings.Contains(scripts.String(), want) {
				t.Errorf("%s: the steps never run %q", p.Name(), want)
			}
		}
		m, err := ReadManifest(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m.Files {
			if f.Path == ".github/workflows/svcgen-upgrade.yml" && f.Class != Generated {
				t.Errorf("%s: svcgen-upgrade.yml is %s, want generated", p.Name(), f.Class)
			}
		}
	}
}
