package main

import (
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/svcgen/svcgen/generator"
	"github.com/svcgen/svcgen/generator/audit"
)

// adoptFlags are the flags of svcgen adopt.
type adoptFlags struct {
	preset     string
	name       string
	presetsDir string
	dryRun     bool
}

func newAdoptCmd(e *env) *cobra.Command {
	f := &adoptFlags{}
	cmd := &cobra.Command{
		Use:   "adopt [DIR]",
		Short: "Bring a service svcgen did not generate under svcgen",
		Long: `Adopt the Go service in DIR (default .): detect its module path (go.mod),
its name (the directory, kebab-case) and its OpenAPI document if it has one;
add the preset's platform packages (internal/platform/server, apierr,
timeout, metrics, dbpool, pool, profiling, as the preset has them); and write
.svcgen.yaml recording every existing file as yours (class scaffold).

Adopt writes new files only: it refuses to run when one of the platform
files already exists, and never changes your code, go.mod included. It
prints the audit findings of your code and how to wire the platform
packages in. Afterwards svcgen regen updates the platform packages and
svcgen check reports drift, as for a generated service.`,
		Example: `  svcgen adopt services/inventory --preset read-heavy
  svcgen adopt --preset hot-path --dry-run`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			if f.preset == "" {
				return &usageError{cmd: cmd, err: fmt.Errorf("--preset is required (svcgen presets lists them)")}
			}
			return runAdopt(cmd, e, f, dir)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.preset, "preset", "", "the preset whose platform packages to add")
	fl.StringVar(&f.name, "name", "", "the service's name (default: the directory's name, kebab-case)")
	fl.StringVar(&f.presetsDir, "presets-dir", "", "directory of extra preset YAML files")
	fl.BoolVar(&f.dryRun, "dry-run", false, "list the files adopt would write, write nothing")
	_ = cmd.MarkFlagDirname("presets-dir")
	return cmd
}

func runAdopt(cmd *cobra.Command, e *env, f *adoptFlags, dir string) error {
	if err := generator.CheckToolchain(); err != nil {
		return err
	}
	cat, err := generator.LoadCatalog(f.presetsDir)
	if err != nil {
		return err
	}
	if _, err := cat.Preset(f.preset); err != nil {
		return err
	}
	info, err := generator.DetectAdoption(dir)
	if err != nil {
		return err
	}
	if f.name != "" {
		if err := generator.ValidateName(f.name); err != nil {
			return fmt.Errorf("--name: %w", err)
		}
		info.Name = f.name
	}
	user, err := generator.ScanUserFiles(dir)
	if err != nil {
		return err
	}
	m := generator.AdoptManifest(info, f.preset, user)
	req, err := generator.RegenRequest(cat, dir, m)
	if err != nil {
		return err
	}
	full, err := generator.Generate(cmd.Context(), req)
	if err != nil {
		return err
	}
	res, mods, err := generator.AdoptResult(full, m)
	if err != nil {
		return err
	}
	if c := generator.AdoptCollisions(dir, res); len(c) > 0 {
		return fmt.Errorf("adopt would overwrite %s in %s; nothing was written: move them out of the way (adopt adds svcgen's platform packages there) and run it again", summarize(c, 3), dir)
	}
	p, err := generator.PlanRegen(dir, m, res, generator.RegenOptions{})
	if err != nil {
		return err
	}
	out := e.stdout
	if f.dryRun {
		for _, c := range p.Changes {
			fmt.Fprintf(out, "  would create %s\n", c.Path)
		}
		fmt.Fprintf(out, "  would create %s (%d files of yours as scaffold)\n", generator.ManifestPath, len(user))
		return nil
	}
	// The findings are those of the user's code, before the platform
	// packages (which build only after go get) are added.
	rep, auditErr := audit.Run(cmd.Context(), []string{dir}, audit.Options{Tool: "svcgen " + generator.Version})
	if err := generator.Apply(dir, p); err != nil {
		return err
	}
	spec := "none found"
	if info.Spec != "" {
		spec = info.Spec
	}
	fmt.Fprintf(out, "adopted %s as %s (module %s, preset %s, OpenAPI spec: %s)\n", dir, info.Name, info.Module, f.preset, spec)
	fmt.Fprintf(out, "  %d files of yours recorded as scaffold in %s: svcgen never changes them\n", len(user), generator.ManifestPath)
	pkgs := map[string]int{}
	for _, c := range p.Changes {
		pkgs[path.Dir(strings.TrimPrefix(c.Path, "internal/platform/"))]++
	}
	var names []string
	for _, pkg := range generator.AdoptPackages {
		n := 0
		for d, k := range pkgs {
			if d == pkg || strings.HasPrefix(d, pkg+"/") {
				n += k
			}
		}
		if n > 0 {
			names = append(names, pkg)
			fmt.Fprintf(out, "  created internal/platform/%s (%d files)\n", pkg, n)
		}
	}
	printWiring(out, info.Module, names, mods)
	switch {
	case auditErr != nil:
		fmt.Fprintf(e.stderr, "svcgen: warning: auditing %s: %v\n", dir, auditErr)
	case rep != nil:
		printRemaining(out, dir, rep)
	}
	return nil
}

// wiring says how to use each platform package.
var wiring = map[string]string{
	"server":    "server.New(cfg, handler) is an http.Server with Read/ReadHeader/Write/Idle timeouts and a body limit; server.Serve(ctx, shutdownTimeout, srv, admin) runs servers with graceful shutdown; server.NewAdminMux(reg) serves /metrics and /debug/pprof/",
	"apierr":    "apierr.ErrorHandler answers ogen errors as JSON (api.WithErrorHandler); apierr.Write writes one from a plain handler",
	"timeout":   "timeout.Middleware(cfg) runs every ogen operation under a deadline (api.WithMiddleware); timeout.Budget(ctx, d) gives one DB or cache call its own budget",
	"metrics":   "metrics.NewRegistry() and metrics.NewHTTP(reg, namespace, operations).Middleware(handler, route) export RED metrics per operation",
	"dbpool":    "dbpool.New(ctx, dbpool.Config{URL, MaxConns, MinConns, MaxConnLifetime, MaxConnIdleTime}) replaces sql.Open / pgxpool.New; reg.MustRegister(dbpool.NewCollector(pool, namespace)) exports the pool's stats",
	"pool":      "pool.NewBuffers(initial, max) and pool.New(newFn, reset, discard) are typed sync.Pools for per-request buffers and structs; Put resets, never return a pooled value to a caller",
	"profiling": "profiling.Start(cfg, logger) starts Pyroscope when its address is configured; stop it on shutdown",
}

func printWiring(w io.Writer, module string, pkgs []string, mods []generator.Module) {
	fmt.Fprintln(w, "\nNext:")
	var args []string
	for _, m := range mods {
		args = append(args, m.Path+"@"+m.Version)
	}
	sort.Strings(args)
	fmt.Fprintf(w, "  1. add what the platform packages import:\n       go get %s && go mod tidy\n", strings.Join(args, " "))
	fmt.Fprintf(w, "  2. wire them in from your main (import %s/internal/platform/...):\n", module)
	for _, p := range pkgs {
		fmt.Fprintf(w, "       %-9s %s\n", p, wiring[p])
	}
	fmt.Fprintln(w, "  3. svcgen regen keeps internal/platform up to date; svcgen check in CI reports drift")
}

// printRemaining prints the audit's failing checks with a few findings each.
func printRemaining(w io.Writer, dir string, r *audit.Report) {
	for _, s := range r.Services {
		fmt.Fprintf(w, "\nAudit of your code (%s, score %.0f%%):\n", s.Name, s.Score)
		failing := 0
		for _, c := range s.Checks {
			if c.Status != audit.Fail {
				continue
			}
			failing++
			fmt.Fprintf(w, "  %s: %d finding(s)\n", c.Title, c.Count)
			for i, f := range c.Findings {
				if i == 3 {
					fmt.Fprintf(w, "    ... %d more\n", len(c.Findings)-3)
					break
				}
				fmt.Fprintf(w, "    %s:%d: %s\n", f.File, f.Line, f.Message)
			}
		}
		if failing == 0 {
			fmt.Fprintln(w, "  every check passes")
		}
	}
	fmt.Fprintf(w, "svcgen audit %s shows every finding with its fix.\n", dir)
}
