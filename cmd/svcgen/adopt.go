package main

import (
	"fmt"
	"io"
	"slices"
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
	api        bool
}

func newAdoptCmd(e *env) *cobra.Command {
	f := &adoptFlags{}
	cmd := &cobra.Command{
		Use:   "adopt [DIR]",
		Short: "Bring a service svcgen did not generate under svcgen",
		Long: `Adopt the Go service in DIR (default .): detect its module path (go.mod),
its name (the directory, kebab-case) and its OpenAPI document if it has one;
add the preset's platform packages that fit what the service uses, as its
type-checked packages show (the audit's load): for an ogen API
internal/platform/server, apierr and timeout; for chi, echo, gin,
gorilla/mux or net/http handlers internal/platform/httpmw (per-route
deadlines, recovery, RED metrics, JSON errors at the net/http level);
dbpool for pgx, sqlpool for database/sql (any driver); metrics, pool,
profiling; and the preset's own features where they fit (cache3 with
Redis and a database, batch, partition and matview with pgx, realtime and
compression with HTTP). Each feature left out is named with the reason.
It writes .svcgen.yaml recording every existing file as yours (class
scaffold).

Adopt writes new files only: it refuses to run when one of the platform
files already exists, and never changes your code, go.mod included. It
prints the audit findings of your code and how to wire the platform
packages in, with the go get line: simulated on a copy of go.mod, it adds
requirements only, or says which versions or go directive it would raise.
Afterwards svcgen regen updates the platform packages and svcgen check
reports drift, as for a generated service.

When the service has an OpenAPI spec (its own, or the one svcgen migrate
drafted) and no ogen API, adopt also serves the spec through ogen, one
operation at a time (--api=false leaves it out): ogen's server in
internal/ogen/api (generated), your Handler in internal/ogen/handler (one
file per operation answering 501 until written, and the Moved list; yours,
written once), and internal/ogen/mount (generated), whose Handler puts the
moved operations' method and path patterns on a ServeMux in front of your
router and sends every other request to it. Write an operation's method,
add its operationId to handler.Moved, go test: the route is served by ogen,
the others as before. svcgen regen regenerates internal/ogen/api and the
mount when the spec changes (a new operation gets its file in
internal/ogen/handler and stays on your router until moved).`,
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
	fl.BoolVar(&f.api, "api", true, "serve the service's OpenAPI spec through ogen under internal/ogen, one operation at a time (when it has a spec and no ogen API)")
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
	preset, err := cat.Preset(f.preset)
	if err != nil {
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
	// What the service uses (router or ogen, database/sql or pgx, Redis)
	// comes from the audit's type-checked load; its findings are those
	// of the user's code, before the platform packages are added.
	rep, err := audit.Run(cmd.Context(), []string{dir}, audit.Options{Tool: "svcgen " + generator.Version})
	if err != nil {
		return fmt.Errorf("adopt reads what %s uses from its type-checked packages: %w", dir, err)
	}
	uses := adoptUses(rep)
	uses.Spec = info.Spec != ""
	for _, s := range rep.Services {
		if len(s.Errors) > 0 {
			fmt.Fprintf(e.stderr, "svcgen: warning: %s does not type-check (%s): what it uses may be detected incompletely; go build ./... first\n", s.Name, s.Errors[0])
		}
	}
	features, err := cat.ResolveFeatures(preset, nil)
	if err != nil {
		return err
	}
	sel := generator.SelectAdoption(features, uses)
	if sel.API && !f.api {
		sel.API = false
		sel.Left = append(sel.Left, generator.LeftOut{Feature: "ogen", Why: "--api=false: " + info.Spec + " is not served through ogen; set api: " + generator.AdoptAPIDir + " under adopted: in " + generator.ManifestPath + " and svcgen regen adds it"})
	}
	user, err := generator.ScanUserFiles(dir)
	if err != nil {
		return err
	}
	m := generator.AdoptManifest(info, f.preset, sel.Packages, sel.API, user)
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
		printLeftOut(out, sel)
		return nil
	}
	if err := generator.Apply(dir, p); err != nil {
		return err
	}
	spec := "none found"
	if info.Spec != "" {
		spec = info.Spec
	}
	fmt.Fprintf(out, "adopted %s as %s (module %s, preset %s, OpenAPI spec: %s)\n", dir, info.Name, info.Module, f.preset, spec)
	fmt.Fprintf(out, "  detected: %s\n", describeUses(uses))
	fmt.Fprintf(out, "  %d files of yours recorded as scaffold in %s: svcgen never changes them\n", len(user), generator.ManifestPath)
	counts := map[string]int{}
	for _, c := range p.Changes {
		rel := strings.TrimPrefix(c.Path, "internal/platform/")
		counts[strings.SplitN(rel, "/", 2)[0]]++
	}
	for _, pkg := range sel.Packages {
		if n := counts[pkg]; n > 0 {
			fmt.Fprintf(out, "  created internal/platform/%s (%d files)\n", pkg, n)
		}
	}
	if sel.API {
		fmt.Fprintf(out, "  created %s (%d files): ogen's server for %s in %s/api, your handler skeleton in %s/handler (%d operations answering 501, none moved), the mount in %s/mount\n",
			generator.AdoptAPIDir, apiFiles(p), info.Spec, generator.AdoptAPIDir, generator.AdoptAPIDir, len(res.AdoptOperations), generator.AdoptAPIDir)
	}
	fmt.Fprintf(out, "  preset %s's features adopted: %s\n", f.preset, strings.Join(sel.Features, ", "))
	printLeftOut(out, sel)
	gg, ggErr := generator.PlanGoGet(cmd.Context(), dir, mods)
	printWiring(out, info.Module, sel.Packages, sel.API, uses, gg, ggErr)
	printRemaining(out, dir, rep)
	return nil
}

// adoptUses merges what the audit found in the services of the module.
func adoptUses(r *audit.Report) generator.AdoptUses {
	var u generator.AdoptUses
	add := func(list []string, v ...string) []string {
		for _, x := range v {
			if !slices.Contains(list, x) {
				list = append(list, x)
			}
		}
		sort.Strings(list)
		return list
	}
	for _, s := range r.Services {
		u.Ogen = u.Ogen || s.Uses.Ogen
		u.Routers = add(u.Routers, s.Uses.Routers...)
		u.DBAPIs = add(u.DBAPIs, s.Uses.DBAPIs...)
		u.SQLDrivers = add(u.SQLDrivers, s.Uses.SQLDrivers...)
		for _, c := range s.Checks {
			if c.ID == "router" && c.Status != audit.NotApplicable {
				u.Web = true
			}
		}
	}
	return u
}

func describeUses(u generator.AdoptUses) string {
	var parts []string
	switch {
	case u.Ogen:
		parts = append(parts, "ogen API")
	case len(u.Routers) > 0:
		parts = append(parts, strings.Join(u.Routers, ", ")+" router")
	case u.Web:
		parts = append(parts, "net/http handlers")
	default:
		parts = append(parts, "no HTTP routes")
	}
	for _, a := range u.DBAPIs {
		parts = append(parts, a)
	}
	if len(u.SQLDrivers) > 0 {
		parts = append(parts, "driver "+strings.Join(u.SQLDrivers, ", "))
	}
	if len(u.DBAPIs) == 0 {
		parts = append(parts, "no database")
	}
	return strings.Join(parts, "; ")
}

func printLeftOut(w io.Writer, sel generator.AdoptSelection) {
	for _, l := range sel.Left {
		fmt.Fprintf(w, "  left out %s: %s\n", l.Feature, l.Why)
	}
}

// wiring says how to use each platform package that fits an ogen service
// and those that fit any.
var wiring = map[string]string{
	"server":    "server.New(cfg, handler) is an http.Server with Read/ReadHeader/Write/Idle timeouts and a body limit; server.Serve(ctx, shutdownTimeout, srv, admin) runs servers with graceful shutdown; server.NewAdminMux(reg) serves /metrics and /debug/pprof/",
	"apierr":    "apierr.ErrorHandler answers ogen errors as JSON (api.WithErrorHandler); apierr.Write writes one from a plain handler",
	"timeout":   "timeout.Middleware(cfg) runs every ogen operation under a deadline (api.WithMiddleware); timeout.Budget(ctx, d) gives one DB or cache call its own budget",
	"metrics":   "metrics.NewRegistry() and metrics.NewHTTP(reg, namespace, operations).Middleware(handler, route) export RED metrics per operation",
	"dbpool":    "dbpool.New(ctx, dbpool.Config{URL, MaxConns, MinConns, MaxConnLifetime, MaxConnIdleTime}) replaces pgxpool.New; reg.MustRegister(dbpool.NewCollector(pool, namespace)) exports the pool's stats",
	"pool":      "pool.NewBuffers(initial, max) and pool.New(newFn, reset, discard) are typed sync.Pools for per-request buffers and structs; Put resets, never return a pooled value to a caller",
	"profiling": "profiling.Start(cfg, logger) starts Pyroscope when its address is configured; stop it on shutdown",
	"cache":     "cache.New(cache.Options[K, V]{...}) puts memory -> Redis -> your database in front of a read (your go-redis client, a loader that reads the database); c.Get / GetMany read through it, c.Invalidate(ctx, keys...) after a write drops them on every replica",
	"batch":     "batch.New(batch.Options[K, V]{...}) collects concurrent single-key reads into one = ANY($1) query; l.Load(ctx, key) and l.LoadMany(ctx, keys)",
	"compress":  "mw, err := compress.Middleware(compress.HTTPConfig{...}) then mw(handler) negotiates zstd/gzip by Accept-Encoding above a size threshold",
	"realtime":  "hub, err := realtime.NewHub(cfg, frameCfg, reg, namespace, logger) is an http.Handler: mount it on a route of your router for a WebSocket endpoint with rooms, fan-out and backpressure (hub.Publish, hub.Broadcast, hub.Close on shutdown)",
	"partition": "m, err := partition.New(pool, cfg, reg, namespace, logger); stop := m.Start(ctx) keeps monthly partitions created ahead and drops those past retention",
	"matview":   "r, err := matview.New(pool, cfg, reg, namespace, logger); stop := r.Start(ctx) refreshes the materialized views CONCURRENTLY on a schedule",
}

// serveLine is how each router's service starts, and what replaces it.
var serveLine = map[string][2]string{
	"":            {"http.ListenAndServe(addr, mux)", "mux"},
	"chi":         {"http.ListenAndServe(addr, r)", "r"},
	"gorilla/mux": {"http.ListenAndServe(addr, r)", "r"},
	"httprouter":  {"http.ListenAndServe(addr, router)", "router"},
	"echo":        {"e.Start(addr)", "e"},
	"gin":         {"r.Run(addr)", "r"},
}

func printWiring(w io.Writer, module string, pkgs []string, api bool, u generator.AdoptUses, gg generator.GoGet, ggErr error) {
	fmt.Fprintln(w, "\nNext:")
	switch {
	case ggErr != nil:
		fmt.Fprintf(w, "  1. add what the platform packages import (not simulated: %v):\n       go get %s && go mod tidy\n", ggErr, strings.Join(gg.Args, " "))
	default:
		if len(gg.Args) == 0 {
			fmt.Fprintln(w, "  1. go.mod already requires every module the platform packages import:\n       go mod tidy")
		} else {
			fmt.Fprintf(w, "  1. add what the platform packages import:\n       go get %s && go mod tidy\n", strings.Join(gg.Args, " "))
		}
		if gg.Changes() {
			fmt.Fprintln(w, "     simulated on a copy of the service, it also changes what you chose (unavoidable: the versions the platform packages are built and tested with need it):")
			if gg.GoBefore != gg.GoAfter {
				fmt.Fprintf(w, "       go directive %s -> %s\n", gg.GoBefore, gg.GoAfter)
			}
			if gg.ToolchainAfter != "" {
				fmt.Fprintf(w, "       adds toolchain %s\n", gg.ToolchainAfter)
			}
			for _, m := range gg.Upgraded {
				ind := ""
				if m.Indirect {
					ind = " (indirect)"
				}
				fmt.Fprintf(w, "       upgrades %s %s -> %s%s\n", m.Path, m.From, m.To, ind)
			}
		} else {
			fmt.Fprintf(w, "     simulated on a copy of the service: adds %d requirement(s), keeps the go directive (%s) and every version you require\n", len(gg.Added), gg.GoBefore)
		}
	}
	raised := map[string]bool{}
	for _, m := range gg.Upgraded {
		raised[m.Path] = true
	}
	for _, k := range gg.Kept {
		if k.From != k.To && !raised[k.Path] {
			fmt.Fprintf(w, "     %s stays at your %s (the packages are tested with %s)\n", k.Path, k.From, k.To)
		}
	}
	fmt.Fprintf(w, "  2. wire them in from your main (import %s/internal/platform/...):\n", module)
	for _, p := range pkgs {
		switch p {
		case "httpmw":
			fmt.Fprintf(w, "       %-9s %s\n", p, httpmwWiring(u))
		case "sqlpool":
			fmt.Fprintf(w, "       %-9s %s\n", p, sqlpoolWiring(u))
		default:
			fmt.Fprintf(w, "       %-9s %s\n", p, wiring[p])
		}
	}
	if api {
		fmt.Fprintf(w, "       %-9s %s\n", "ogen", apiWiring(module, u, slices.Contains(pkgs, "httpmw")))
		fmt.Fprintf(w, "  3. move one route at a time: write its method in %s/handler, add its operationId to Moved (%s/handler/moved.go), go test ./...\n", generator.AdoptAPIDir, generator.AdoptAPIDir)
		fmt.Fprintf(w, "  4. svcgen regen keeps internal/platform and %s up to date (after a spec change too); svcgen check in CI reports drift\n", generator.AdoptAPIDir)
		return
	}
	fmt.Fprintln(w, "  3. svcgen regen keeps internal/platform up to date; svcgen check in CI reports drift")
}

// apiWiring is the wiring line of the adopted ogen API.
func apiWiring(module string, u generator.AdoptUses, httpmw bool) string {
	router := ""
	if len(u.Routers) > 0 {
		router = u.Routers[0]
	}
	legacy := "your router"
	if s, ok := serveLine[router]; ok {
		legacy = s[1]
	}
	s := fmt.Sprintf("h, err := mount.Handler(%s, handler.New(), handler.Moved) (import %s/internal/ogen/mount and %s/internal/ogen/handler), then serve h where you served %s", legacy, module, module, legacy)
	if httpmw {
		s += fmt.Sprintf(" (mw.Wrap(h) in place of mw.Wrap(%s): moved and legacy routes share one deadline, recovery and metrics layer)", legacy)
	}
	return s + ": every request goes to " + legacy + " until its operation is in handler.Moved; ogen's errors on moved ones have httpmw's JSON shape, {\"message\": ..., \"code\": ...}"
}

// apiFiles counts the planned files under the adopted API's tree.
func apiFiles(p *generator.Plan) int {
	n := 0
	for _, c := range p.Changes {
		if strings.HasPrefix(c.Path, generator.AdoptAPIDir+"/") {
			n++
		}
	}
	return n
}

func httpmwWiring(u generator.AdoptUses) string {
	router := ""
	if len(u.Routers) > 0 {
		router = u.Routers[0]
	}
	s, ok := serveLine[router]
	if !ok || s[0] == "" {
		return "mw, err := httpmw.New(httpmw.Config{Routes: routes, Metrics: metrics.NewHTTP(reg, namespace, httpmw.Names(routes))}) gives each route its deadline, recovery, RED metrics and JSON errors; mw.Wrap(h) wraps any http.Handler (" + router + " is not one: adapt it with its net/http adaptor)"
	}
	return fmt.Sprintf("list your routes, routes := []httpmw.Route{{Name: \"GetPlayer\", Method: \"GET\", Pattern: \"/players/{id}\", Timeout: 50 * time.Millisecond}, ...} (your router's pattern syntax is fine); mw, err := httpmw.New(httpmw.Config{Routes: routes, Metrics: metrics.NewHTTP(reg, namespace, httpmw.Names(routes))}); then replace %s with srv := httpmw.NewServer(addr, mw.Wrap(%s), mw.MaxTimeout()) and srv.ListenAndServe(): every route runs under its deadline (504 JSON when it passes), panics answer 500 JSON, RED metrics per route; httpmw.WriteError writes the same JSON errors from your handlers, httpmw.Budget(ctx, httpmw.DBBudget) bounds one DB call", s[0], s[1])
}

func sqlpoolWiring(u generator.AdoptUses) string {
	drivers := "your driver"
	if len(u.SQLDrivers) > 0 {
		drivers = strings.Join(u.SQLDrivers, ", ")
	}
	return "after sql.Open (" + drivers + "), sqlpool.Configure(db, sqlpool.Default()) sets SetMaxOpenConns, SetMaxIdleConns, SetConnMaxLifetime and SetConnMaxIdleTime to the preset's dbpool limits (an *sqlx.DB: sqlpool.Configure(db.DB, ...)); reg.MustRegister(sqlpool.NewCollector(db, namespace)) exports db.Stats()"
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
