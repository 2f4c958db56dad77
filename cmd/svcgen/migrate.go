package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/svcgen/svcgen/generator/migrate"
)

// migrateFlags are the flags of svcgen migrate.
type migrateFlags struct {
	write      bool
	allowDirty bool
	tidy       bool
}

func newMigrateCmd(e *env) *cobra.Command {
	f := &migrateFlags{}
	cmd := &cobra.Command{
		Use:   "migrate [DIR]",
		Short: "Move a service's chi, gorilla/mux, echo or gin routes onto http.ServeMux",
		Long: `Rewrite the routing of the Go module in DIR (default .) from chi v5,
gorilla/mux, echo v4 or gin to the standard library's http.ServeMux with Go
1.22 patterns ("GET /items/{id}", r.PathValue("id")), and draft
api/openapi.yaml from the routes: every path, method and path parameter,
with request and response bodies where a handler decodes or encodes a type
known at compile time.

By default it prints the unified diff and the drafted spec and writes
nothing. With --write it applies them: it refuses a git work tree with
uncommitted changes (unless --allow-dirty), backs up every file it
replaces under .svcgen/backup/ (svcgen backup restore puts them back),
type-checks the module with its tests and restores every file when the
result does not build.

Route groups, prefixes and middleware chains become plain net/http:
chi and gorilla middleware (already func(http.Handler) http.Handler) wrap
the mux or the route; echo's WrapMiddleware and gin adapters of net/http
middleware are unwrapped; echo's Logger and Recover and gin's Logger and
Recovery become logRequests and recoverPanics. Echo and gin handlers are
rewritten in place into http.HandlerFuncs (c.Param -> r.PathValue,
c.Bind/ShouldBindJSON -> decodeJSON, c.JSON -> writeJSON), with the helpers
in httpjson.go beside them.

What it cannot convert exactly (regexp parameters, wildcards, matchers on
queries or headers, router-specific middleware, handlers called outside a
route) it leaves alone and lists, file:line, with what to do by hand; then
nothing is written and it exits 1. Route sets that ServeMux would refuse
(conflicting patterns) are found the same way, before anything is written.

go.mod is never changed unless --tidy: the router stays required until
go mod tidy drops it.`,
		Example: `  svcgen migrate                 # the diff and the spec draft, nothing written
  svcgen migrate --write         # apply, then build and test
  svcgen migrate --write --tidy  # and drop the router from go.mod
  svcgen adopt --preset hot-path # then bring it under svcgen`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return runMigrate(cmd, e, f, dir)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.write, "write", false, "apply the rewrite and write the spec draft (default: print the diff only)")
	fl.BoolVar(&f.allowDirty, "allow-dirty", false, "run on a git tree with uncommitted changes (the files it replaces are backed up first)")
	fl.BoolVar(&f.tidy, "tidy", false, "run 'go mod tidy' after writing (drops the router's requirement)")
	return cmd
}

func runMigrate(cmd *cobra.Command, e *env, f *migrateFlags, dir string) error {
	ctx := cmd.Context()
	res, err := migrate.Plan(ctx, dir)
	if err != nil {
		return err
	}
	out := e.stdout
	routers := make([]string, 0, len(res.Routers))
	for _, r := range res.Routers {
		routers = append(routers, string(r))
	}
	if !f.write || len(res.Problems) > 0 {
		fmt.Fprint(out, res.Diff())
	}
	fmt.Fprintf(out, "%s (%s): %d routes from %s\n", dir, res.Module, len(res.Routes), strings.Join(routers, ", "))
	for _, r := range res.Routes {
		m := r.Method
		if m == "" {
			m = "*"
		}
		fmt.Fprintf(out, "  %-7s %-28s %-28s %s\n", m, r.Pattern, r.Handler, r.At)
	}
	if len(res.Notes) > 0 {
		fmt.Fprintln(out, "notes:")
		for _, n := range res.Notes {
			fmt.Fprintln(out, "  "+n)
		}
	}
	if res.SpecExists {
		fmt.Fprintf(out, "%s exists: left alone (the draft is not written)\n", migrate.SpecPath)
	} else if res.SpecErr != nil {
		fmt.Fprintf(out, "ogen refuses the drafted %s: %v\n", migrate.SpecPath, res.SpecErr)
	}
	if len(res.Problems) > 0 {
		fmt.Fprintf(e.stderr, "cannot convert %d places; nothing was written:\n", len(res.Problems))
		for _, p := range res.Problems {
			fmt.Fprintln(e.stderr, "  "+p.String())
		}
		return errors.New("migrate: fix the places above by hand, then run it again")
	}
	if !f.write {
		fmt.Fprintf(out, "dry run: nothing written; apply with: svcgen migrate --write %s\n", dir)
		return nil
	}
	ap, err := migrate.Apply(ctx, res, migrate.ApplyOptions{AllowDirty: f.allowDirty, Tidy: f.tidy, Command: "svcgen migrate --write"})
	if ap != nil {
		for _, p := range ap.Written {
			fmt.Fprintf(out, "  wrote %s\n", p)
		}
		if ap.Backup != nil {
			fmt.Fprintf(out, "  replaced files backed up in %s (svcgen backup restore %s)\n", ap.Backup.Dir(), ap.Backup.ID)
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "migrated: the module type-checks with its tests; run: go test ./...")
	if ap.Tidied {
		fmt.Fprintln(out, "go mod tidy: done (the router's requirement is dropped)")
	} else if len(res.RouterModules) > 0 {
		fmt.Fprintf(out, "go.mod still requires %s: run go mod tidy to drop it\n", strings.Join(res.RouterModules, ", "))
	}
	if !res.SpecExists {
		fmt.Fprintf(out, "next: review %s, then svcgen adopt --preset PRESET to move the service onto ogen\n", migrate.SpecPath)
	}
	return nil
}
