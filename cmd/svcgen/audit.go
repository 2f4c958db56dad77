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
}

func newAuditCmd(e *env) *cobra.Command {
	f := &auditFlags{}
	cmd := &cobra.Command{
		Use:   "audit [PATH...]",
		Short: "Review existing Go services for the practices svcgen generates",
		Long: `Audit the Go services under each PATH (default .): every Go module is a
service, or, in a module whose cmd/ holds two or more main packages, each
cmd/<name> with the packages it imports. The packages are loaded and
type-checked (go/packages) and eight go/analysis checks run on them, the
services in parallel:

  dbpool      sql.Open / pgxpool.New / NewWithConfig without max conns, idle
              conns and lifetimes set in the same package
  timeouts    DB, Redis and HTTP calls given context.Background()/TODO() or
              no context; a handler passing its request context on with no
              deadline; http.Client without Timeout; http.Server without
              ReadHeaderTimeout; http.ListenAndServe
  batch       a DB query or Redis command inside a for/range loop (N+1),
              directly or through the service's own functions
  cache       handlers reading the DB in a service with no cache layer
  pooling     per-request []byte, bytes.Buffer or large structs in handlers
              of a service with no sync.Pool
  router      chi, gorilla/mux, gin, echo instead of http.ServeMux + ogen
  alignment   fieldalignment's findings, with the bytes saved
  goroutines  go statements in handlers with no context, Done or WaitGroup

Each finding has file:line evidence and a hint naming the svcgen feature
that fixes it; findings in generated files (a "Code generated ... DO NOT
EDIT." header) are left to their generator. The score of a service is the share of its applicable checks
that pass. --fix applies the mechanical fixes and audits again:
fieldalignment's field reordering, the missing pool limits after sql.Open
or before pgxpool.NewWithConfig (25 conns, 5m lifetime, 10m idle), and
ReadHeaderTimeout in http.Server literals. The checks are heuristics: see the README.`,
		Example: `  svcgen audit services/
  svcgen audit . --format json --out audit.json
  svcgen audit services/ --fail-under 75     # CI gate`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"."}
			}
			if f.format != "md" && f.format != "json" {
				return &usageError{cmd: cmd, err: fmt.Errorf("--format %q: use md or json", f.format)}
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
	fl.BoolVar(&f.fix, "fix", false, "apply the mechanical fixes (field order, pool limits, ReadHeaderTimeout), then audit again")
	return cmd
}

func runAudit(cmd *cobra.Command, e *env, f *auditFlags, paths []string) error {
	if err := generator.CheckToolchain(); err != nil {
		return err
	}
	r, err := audit.Run(cmd.Context(), paths, audit.Options{Tool: "svcgen " + generator.Version, Fix: f.fix})
	if err != nil {
		return err
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
	} else if _, err := e.stdout.Write(buf.Bytes()); err != nil {
		return err
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
