package main

import (
	"bytes"

	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/svcgen/svcgen/generator"
	"github.com/svcgen/svcgen/generator/audit"
)

// auditFlags are the flags of svcgen audit.
type auditFlags struct {
	format    string
	out       string
	failUnder float64
	fix       bool
	fixWire   bool
	alignAll  bool
	// baseline is an earlier JSON report to compare the fleet with.
	baseline string
	// allowLoadErrors keeps the exit status 0 when a service did not load.
	allowLoadErrors bool
}

func newAuditCmd(e *env) *cobra.Command {
	f := &auditFlags{}
	cmd := &cobra.Command{
		Use:   "audit [PATH...]",
		Short: "Review existing Go services for the practices svcgen generates",
		Long: `Audit the Go services under each PATH (default .): every Go module is a
service, or, in a module whose cmd/ holds two or more main packages, each
cmd/<name> with the packages it imports. The packages are loaded and
type-checked (go/packages) and nine go/analysis checks run on them, the
services in parallel. Queries of database/sql, sqlx, pgx, go-redis, gorm
and sqlboiler-style executors are recognised, and handlers of net/http,
chi, gorilla/mux, echo, gin and fiber; calls are followed through the
service's own functions and interfaces with one implementation:

  dbpool      sql.Open / sqlx.Open, Connect / pgxpool.New / NewWithConfig
              without max conns, idle conns and lifetimes in the package
  timeouts    DB, Redis and HTTP calls given context.Background()/TODO() or
              no context; a handler passing its request context on with no
              deadline; http.Client without Timeout; http.Server with
              neither ReadHeaderTimeout nor ReadTimeout; http.ListenAndServe,
              echo's e.Start, gin's r.Run
  batch       a DB query or Redis command inside a for/range loop (N+1)
  cache       handlers reading the DB in a service with no cache layer
              (INSERT/UPDATE/DELETE ... RETURNING is a write, not a read)
  pooling     per-request []byte, bytes.Buffer or large structs in handlers
              of a service with no sync.Pool
  router      chi, gorilla/mux, gin, echo, fiber instead of ServeMux + ogen
              (one finding per router)
  alignment   fieldalignment's findings that save bytes (--alignment-all
              adds its pointer-bytes notes)
  resources   rows and statements never closed (sqlclosecheck), rows.Err
              never checked (rowserrcheck)
  goroutines  go statements in handlers with no context, Done or WaitGroup

Each finding has file:line evidence and a hint naming the svcgen feature
that fixes it; findings in generated files (a "Code generated ... DO NOT
EDIT." header before the package clause, or swag's docs.go) are left to
their generator. A check is "not recognised" when the service has what it
looks at (a DB library, an HTTP router) in a form the audit does not
model; that counts against the score, n/a does not. The score of a
service is pass / (pass + fail + not recognised).

--fix applies the mechanical fixes, in passes until none is left:
fieldalignment's field order (comments kept; type aliases, anonymous
structs and structs tagged json/db/yaml/... only with --fix-wire), the
missing pool limits after sql.Open / sqlx.Connect or before
pgxpool.NewWithConfig (25 conns, 5m lifetime, 10m idle), and
ReadHeaderTimeout in http.Server literals with no read timeout. It never
edits generated files. It then type-checks each module with its tests;
if that fails, it restores every file and the command exits 1. The
report lists every change and the fleet before and after the fixes.

The fleet section is the 2025 review's form: per practice "X in N% of
services (a of b applicable; c unrecognised; d n/a)", the priorities P0
(timeouts, DB pool, alignment, rows, goroutines), P1 (pooling, batch,
cache), P2 (router) and P3 (not audited) with the services that need each
and their file:line evidence, and the top offenders by severity.
--baseline FILE compares it with an earlier --format json report.

A service that does not load or type-check completely is listed under
"Load errors" and makes the command exit 1 (--allow-load-errors keeps
0). The checks are heuristics: see the README. The same checks run
inside a service under go vet: go vet -vettool=$(which svcgen-vet) ./...
(docs/audit.md).`,
		Example: `  svcgen audit services/
  svcgen audit . --format json --out audit.json
  svcgen audit services/ --fail-under 75     # CI gate
  svcgen audit services/ --fix               # fleet before and after
  svcgen audit services/ --baseline last.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"."}
			}
			if f.format != "md" && f.format != "json" {
				return &usageError{cmd: cmd, err: fmt.Errorf("--format %q: use md or json", f.format)}
			}
			if f.fixWire && !f.fix {
				return &usageError{cmd: cmd, err: fmt.Errorf("--fix-wire changes what --fix reorders: pass --fix with it")}
			}
			if f.failUnder < 0 || f.failUnder > 100 {
				return &usageError{cmd: cmd, err: fmt.Errorf("--fail-under %v: use a score from 0 to 100", f.failUnder)}
			}
			return runAudit(cmd, e, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "md", "output format: md or json (schema/audit.schema.json)")
	fl.StringVar(&f.out, "out", "", "write the report to this file instead of stdout")
	fl.Float64Var(&f.failUnder, "fail-under", 0, "exit 1 when a service's score (0-100) is below this")
	fl.BoolVar(&f.fix, "fix", false, "apply the mechanical fixes (field order, pool limits, ReadHeaderTimeout), type-check, then audit again")
	fl.BoolVar(&f.fixWire, "fix-wire", false, "with --fix, also reorder type aliases, anonymous structs and structs tagged for the wire (json, db, yaml, ...)")
	fl.StringVar(&f.baseline, "baseline", "", "compare the fleet with this earlier report (svcgen audit --format json)")
	fl.BoolVar(&f.allowLoadErrors, "allow-load-errors", false, "exit 0 even when a service does not load or type-check (it is still reported)")
	fl.BoolVar(&f.alignAll, "alignment-all", false, "report fieldalignment's pointer-bytes notes too, not only reorderings that save bytes")
	return cmd
}

func runAudit(cmd *cobra.Command, e *env, f *auditFlags, paths []string) error {
	if err := generator.CheckToolchain(); err != nil {
		return err
	}
	var base *audit.Baseline
	if f.baseline != "" {
		b, err := audit.LoadBaseline(f.baseline)
		if err != nil {
			return err
		}
		base = b
	}
	r, err := audit.Run(cmd.Context(), paths, audit.Options{Tool: "svcgen " + generator.Version, Fix: f.fix, FixWire: f.fixWire, AlignmentAll: f.alignAll})
	if err != nil {
		return err
	}
	if base != nil {
		r.Before = base
	}
	var buf bytes.Buffer
	if f.format == "json" {
		err = r.WriteJSON(&buf)
	} else {
		err = r.WriteMarkdown(&buf)
	}
	if err != nil {
		return err
	}
	if f.out != "" {
		if err := os.WriteFile(f.out, buf.Bytes(), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%d service(s), fleet score %.1f%%: report written to %s\n", len(r.Services), r.Score, f.out)
		if r.Before != nil {
			src := "before --fix"
			if r.Before.Source != "--fix" {
				src = "in " + r.Before.Source
			}
			fmt.Fprintf(e.stdout, "fleet score %s: %.1f%%\n", src, r.Before.Score)
		}
		for _, m := range r.Fixes {
			if m.Error == "" && len(m.Changes) > 0 {
				fmt.Fprintf(e.stdout, "--fix: %s: %d change(s)\n", m.Path, len(m.Changes))
				for _, c := range m.Changes {
					fmt.Fprintf(e.stdout, "  %s:%d: %s\n", c.File, c.Line, c.Change)
				}
			}
		}
	} else if _, err := e.stdout.Write(buf.Bytes()); err != nil {
		return err
	}
	var failed []string
	for _, m := range r.Fixes {
		if m.Error != "" {
			failed = append(failed, m.Path+": "+m.Error)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("--fix kept nothing in %d module(s):\n%s", len(failed), strings.Join(failed, "\n"))
	}
	if n := len(r.Fleet.LoadErrors); n > 0 && !f.allowLoadErrors {
		var lines []string
		for _, le := range r.Fleet.LoadErrors {
			first := le.Errors[0]
			if len(le.Errors) > 1 {
				first += fmt.Sprintf(" (and %d more)", len(le.Errors)-1)
			}
			lines = append(lines, "  "+le.Name+": "+first)
		}
		return fmt.Errorf("%d service(s) did not load or type-check, so their figures are incomplete:\n%s\nfix the build (go build ./... and go mod tidy in each), or pass --allow-load-errors to accept the report as it is", n, strings.Join(lines, "\n"))
	}
	if f.failUnder > 0 {
		if below := r.Below(f.failUnder); len(below) > 0 {
			var names []string
			for _, s := range below {
				names = append(names, fmt.Sprintf("%s (%.0f%%)", s.Path, s.Score))
			}
			return fmt.Errorf("%d service(s) score below %v%%: %s", len(below), f.failUnder, strings.Join(names, ", "))
		}
	}
	return nil
}
