package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain puts this test binary on PATH as "svcgen" (testscript.Main runs
// Run when the binary is started under that name).
func TestMain(m *testing.M) {
	// The tutorial scripts wait on servers and databases much of the time:
	// run all four at once unless -parallel says otherwise.
	// (Not when this binary runs as svcgen: its arguments are svcgen's.)
	if filepath.Base(os.Args[0]) != "svcgen" {
		flag.Parse()
		explicit := false
		flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
		if !explicit && runtime.GOMAXPROCS(0) < 4 {
			_ = flag.Set("test.parallel", "4")
		}
	}
	testscript.Main(m, map[string]func(){
		"svcgen": func() { os.Exit(Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScript runs the command-line scripts in testdata/script/*.txtar.
func TestScript(t *testing.T) {
	goEnv := goEnvironment(t)
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "../../testdata/script",
		Setup: func(env *testscript.Env) error {
			for k, v := range goEnv {
				env.Setenv(k, v)
			}
			// The generated services' own tests use the real databases.
			env.Setenv("DATABASE_URL", envOr("SVCGEN_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"))
			env.Setenv("REDIS_URL", envOr("SVCGEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
			env.Setenv("SVCGEN_REPO", repo)
			// git commits in the scripts need an identity.
			for _, k := range []string{"GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"} {
				env.Setenv(k, "svcgen test")
			}
			for _, k := range []string{"GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"} {
				env.Setenv(k, "test@svcgen.invalid")
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"pgdb": cmdPGDB,
		},
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
	})
}

// cmdPGDB is the script command "pgdb NAME": it (re)creates the database
// NAME on the test PostgreSQL and points DATABASE_URL at it, so scripts
// running in parallel do not share tables and migrations.
func cmdPGDB(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: pgdb NAME")
	}
	u, err := freshDatabase(ts.Getenv("DATABASE_URL"), args[0])
	if err != nil {
		ts.Fatalf("%v", err)
	}
	ts.Setenv("DATABASE_URL", u)
}

// freshDatabase drops and creates the database name with psql on the
// server of the URL base, and returns the URL of the new database.
func freshDatabase(base, name string) (string, error) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		return "", fmt.Errorf("psql is not on PATH: install the PostgreSQL client (apt-get install postgresql-client)")
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("database URL: %w", err)
	}
	for _, q := range []string{"DROP DATABASE IF EXISTS " + name + " WITH (FORCE)", "CREATE DATABASE " + name} {
		if out, err := exec.Command(psql, base, "-v", "ON_ERROR_STOP=1", "-qc", q).CombinedOutput(); err != nil {
			return "", fmt.Errorf("psql %s: %v\n%s(is PostgreSQL running on %s? ./scripts/test.sh starts it)", q, err, out, u.Host)
		}
	}
	u.Path = "/" + name
	return u.String(), nil
}
func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
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
