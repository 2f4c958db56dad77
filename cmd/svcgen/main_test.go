package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain puts this test binary on PATH as "svcgen" (testscript.Main runs
// Run when the binary is started under that name).
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"svcgen": func() { os.Exit(Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScript runs the command-line scripts in testdata/script/*.txtar.
func TestScript(t *testing.T) {
	goEnv := goEnvironment(t)
	testscript.Run(t, testscript.Params{
		Dir: "../../testdata/script",
		Setup: func(env *testscript.Env) error {
			for k, v := range goEnv {
				env.Setenv(k, v)
			}
			return nil
		},
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
	})
}

// goEnvironment returns the go command's caches and proxy settings, so that
// the scripts (which run with HOME=/no-home) share the module and build
// caches instead of downloading and compiling everything again.
func goEnvironment(t testing.TB) map[string]string {
	t.Helper()
	out, err := exec.Command("go", "env", "-json", "GOCACHE", "GOMODCACHE", "GOPATH", "GOPROXY",
		"GOFLAGS", "GONOSUMDB", "GOPRIVATE", "GOTOOLCHAIN").Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	env := map[string]string{}
	if err := json.Unmarshal(out, &env); err != nil {
		t.Fatalf("go env: %v", err)
	}
	for k, v := range env {
		if v == "" {
			delete(env, k)
		}
	}
	return env
}
