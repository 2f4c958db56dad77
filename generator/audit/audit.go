// Package audit reviews existing Go services for the performance practices
// svcgen generates: DB pool limits, context timeouts, batch queries, a cache
// layer, memory pooling, the router, struct alignment and goroutines started
// in handlers. Each check is an exported go/analysis analyzer (the list is
// Analyzers) that runs on one package at a time, what crosses packages
// travelling as the facts of Facts, so cmd/svcgen-vet runs the same checks
// under go vet -vettool. Run loads each service type-checked
// (golang.org/x/tools/go/packages) and drives the analyzers over its
// packages in dependency order; findings carry file:line evidence and a
// hint naming the svcgen feature that fixes them.
//
// A service is a Go module (a directory with go.mod) or, in a monorepo
// module whose cmd/ holds two or more main packages, each cmd/<name> main
// package with the module packages it imports. Services are audited in
// parallel.
package audit

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"golang.org/x/mod/modfile"
	"golang.org/x/tools/go/packages"
)

// Status is the outcome of one check on one service.
type Status string

// The statuses of a check.
const (
	// Pass: the practice is in place, or nothing contradicts it.
	Pass Status = "pass"
	// Fail: at least one finding.
	Fail Status = "fail"
	// NotApplicable: the service has nothing the check looks at (no DB
	// library, no HTTP server); it counts neither way in the score.
	NotApplicable Status = "n/a"
	// Unrecognised: the service has what the check looks at (it imports
	// a DB library, it serves HTTP) but the audit did not recognise how
	// it uses it (a DB opened by a library it does not model, handlers
	// of an unknown shape). It counts as not passing: nothing was
	// verified.
	Unrecognised Status = "unrecognised"
)

// Report is the result of an audit: every service and the fleet summary.
// Its JSON form is published as schema/audit.schema.json.
type Report struct {
	// Tool names the svcgen version that produced the report.
	Tool string `json:"tool"`
	// Services are the audited services, sorted by path.
	Services []Service `json:"services"`
	// Fleet summarises the services.
	Fleet Fleet `json:"fleet"`
	// Score is the mean of the services' scores, 0-100.
	Score float64 `json:"score"`
	// Fixes is what --fix did, per module: empty without --fix.
	Fixes []ModuleFix `json:"fixes,omitempty"`
	// Before is the fleet this audit is compared with: the services
	// before --fix changed them, or the report given with --baseline.
	Before *Baseline `json:"before,omitempty"`
}

// ModuleFix is what --fix did to one module.
type ModuleFix struct {
	// Path is the module's directory as found under the audited PATH.
	Path string `json:"path"`
	// Changes are the edits kept, in file and line order.
	Changes []Change `json:"changes"`
	// Passes is the number of fix passes run to reach a fixed point.
	Passes int `json:"passes"`
	// Error says why nothing was kept: the module did not type-check
	// before fixing, or the fixed code did not type-check and every file
	// was restored. The command exits non-zero when it is set.
	Error string `json:"error,omitempty"`
	// before are the module's services as audited before fixing.
	before []Service
}

// Change is one edit --fix made.
type Change struct {
	// File is slash-separated and relative to the module's directory.
	File string `json:"file"`
	// Line is where the edit starts, in the file before the edit.
	Line int `json:"line"`
	// Change says what changed.
	Change string `json:"change"`
}

// Service is the audit of one service.
type Service struct {
	// Name is the service's name, unique in the report: its directory's
	// name, or <directory>/cmd/<name> for a main package of a monorepo;
	// the directory as found under the audited PATH when two services
	// would share a name.
	Name string `json:"name"`
	// Path is the service's directory as found under the audited PATH.
	Path string `json:"path"`
	// Module is the Go module path from go.mod.
	Module string `json:"module"`
	// Main is the main package's directory relative to Path in a
	// monorepo (cmd/<name>); empty when the service is the whole module.
	Main string `json:"main,omitempty"`
	// Packages is the number of packages audited.
	Packages int `json:"packages"`
	// Checks are the nine checks, in a fixed order.
	Checks []Check `json:"checks"`
	// Uses records what the service uses, for the fleet summary.
	Uses Uses `json:"uses"`
	// Errors are problems loading or type-checking the service; checks
	// still run on what could be loaded.
	Errors []string `json:"errors,omitempty"`
	// Score is the share of applicable checks that pass, 0-100.
	Score float64 `json:"score"`
	// Findings is the number of findings of all checks.
	Findings int `json:"findings"`
}

// Uses records which libraries and practices a service uses.
type Uses struct {
	// Routers are the third-party routers imported (chi, gorilla/mux, gin, echo, ...).
	Routers []string `json:"routers,omitempty"`
	// Ogen is true when the service imports github.com/ogen-go/ogen.
	Ogen bool `json:"ogen"`
	// SyncPool is true when the service uses sync.Pool.
	SyncPool bool `json:"sync_pool"`
	// Cache is true when the service has a cache layer.
	Cache bool `json:"cache"`
	// DB is true when the service opens a database (database/sql or pgx).
	DB bool `json:"db"`
	// DBAPIs are the database client APIs the service opens or queries
	// through, from the type-checked calls: "database/sql" (sqlx and
	// sqlboiler-style executors included), "pgx", "redis". Sorted.
	DBAPIs []string `json:"db_apis,omitempty"`
	// SQLDrivers are the database/sql drivers the service's packages
	// import (github.com/lib/pq, github.com/go-sql-driver/mysql, ...).
	SQLDrivers []string `json:"sql_drivers,omitempty"`
}

// sqlDrivers are the import paths of database/sql drivers.
var sqlDrivers = []string{
	"github.com/lib/pq", "github.com/go-sql-driver/mysql", "github.com/jackc/pgx/v5/stdlib",
	"github.com/jackc/pgx/v4/stdlib", "github.com/mattn/go-sqlite3", "modernc.org/sqlite",
	"github.com/microsoft/go-mssqldb", "github.com/denisenkom/go-mssqldb", "github.com/sijms/go-ora/v2",
	"github.com/ClickHouse/clickhouse-go/v2",
}

// addAPI records a database API the service uses.
func (u *Uses) addAPI(api string) {
	if !containsStr(u.DBAPIs, api) {
		u.DBAPIs = append(u.DBAPIs, api)
		sort.Strings(u.DBAPIs)
	}
}

// Check is one check's result on one service.
type Check struct {
	// ID is the check's name: dbpool, timeouts, batch, cache, pooling,
	// router, alignment, resources, goroutines.
	ID string `json:"id"`
	// Title is the practice the check looks for.
	Title string `json:"title"`
	// Status is pass, fail, unrecognised or n/a.
	Status Status `json:"status"`
	// Count is the number of findings.
	Count int `json:"count"`
	// Hint says how to fix the findings, naming the svcgen feature.
	Hint string `json:"hint"`
	// Findings are the evidence, sorted by file and line.
	Findings []Finding `json:"findings,omitempty"`
	// BytesSaved is, for alignment, the bytes per value that reordering
	// the fields saves, summed over the findings.
	BytesSaved int `json:"bytes_saved,omitempty"`
}

// Finding is one piece of evidence.
type Finding struct {
	// File is slash-separated and relative to the service's directory.
	File string `json:"file"`
	// Line and Column are 1-based.
	Line   int `json:"line"`
	Column int `json:"column"`
	// Message says what was found.
	Message string `json:"message"`
	// BytesSaved is, for alignment, the bytes per value reordering saves.
	BytesSaved int `json:"bytes_saved,omitempty"`
	// Fixable is true when svcgen audit --fix can fix it.
	Fixable bool `json:"fixable,omitempty"`
}

// Fleet is the summary over all services, in the form of the 2025 review.
type Fleet struct {
	// Checks are the per-check counts.
	Checks []FleetCheck `json:"checks"`
	// Priorities are P0 to P3, each with the services that need its work.
	Priorities []PriorityGroup `json:"priorities"`
	// TopOffenders are the services with the most severe failures (at
	// most 5): the most failing P0 checks first, then P1, P2, findings.
	TopOffenders []Offender `json:"top_offenders"`
	// LoadErrors are the services that did not load or type-check
	// completely; their checks ran on what loaded.
	LoadErrors []LoadError `json:"load_errors"`
	// Services is the number of services.
	Services int `json:"services"`
	// Ogen, Routers, SyncPool and Cache count the services using them,
	// out of all Services.
	Ogen     int `json:"ogen"`
	Routers  int `json:"routers"`
	SyncPool int `json:"sync_pool"`
	Cache    int `json:"cache"`
}

// FleetCheck counts one check's outcomes across the fleet.
type FleetCheck struct {
	// ID and Title are the check's.
	ID    string `json:"id"`
	Title string `json:"title"`
	// Priority is the check's priority, P0 to P3.
	Priority Priority `json:"priority"`
	// Pass, Fail, NA and Unrecognised count the services by status.
	Pass int `json:"pass"`
	Fail int `json:"fail"`
	// NA counts the services the check does not apply to; they are left
	// out of Applicable and Percent.
	NA int `json:"na"`
	// Unrecognised counts the services that have what the check looks at
	// in a form the audit does not recognise; they count against.
	Unrecognised int `json:"unrecognised"`
	// Applicable is Pass + Fail + Unrecognised: the denominator.
	Applicable int `json:"applicable"`
	// Percent is Pass / Applicable * 100; 100 when no service applies.
	Percent float64 `json:"percent"`
	// Findings is the number of findings across the fleet.
	Findings int `json:"findings"`
}

// Offender is a service with severe failures.
type Offender struct {
	// Name is the service's name, unique in the report.
	Name string `json:"name"`
	// Path is the service's directory.
	Path string `json:"path"`
	// Worst names the failing check of the highest priority, the one with
	// the most findings among those.
	Worst string `json:"worst"`
	// P0 to P3 count the service's failing or unrecognised checks per
	// priority.
	P0 int `json:"p0"`
	P1 int `json:"p1"`
	P2 int `json:"p2"`
	P3 int `json:"p3"`
	// Findings is the number of findings of all checks.
	Findings int `json:"findings"`
	// Score is the service's score, 0-100.
	Score float64 `json:"score"`
}

// Options change how Run audits.
type Options struct {
	// Tool names the caller in the report ("svcgen v1.2.3").
	Tool string
	// Parallel bounds the services audited at once; GOMAXPROCS when 0.
	Parallel int
	// Fix applies the mechanical fixes (fieldalignment reordering, pool
	// limits, http.Server ReadHeaderTimeout) to the services' files, in
	// passes until nothing fixable is left, type-checks the result (tests
	// included) and restores every file when it does not compile.
	Fix bool
	// FixWire lets --fix reorder type aliases, anonymous structs and
	// structs tagged for the wire (json, db, yaml, ...), which it leaves
	// alone otherwise.
	FixWire bool
	// AlignmentAll reports fieldalignment's pointer-bytes notes too
	// (reorderings that save no memory, only GC scan work).
	AlignmentAll bool
}

// maxFixPasses bounds the --fix passes (nested structs take one each).
const maxFixPasses = 5

// target is one module to audit: one service, or one per main package.
type target struct {
	name, dir, module string
	mains             []string
}

// Run audits the services under paths.
func Run(ctx context.Context, paths []string, opts Options) (*Report, error) {
	var targets []target
	for _, p := range paths {
		ts, err := discover(p)
		if err != nil {
			return nil, err
		}
		targets = append(targets, ts...)
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("no Go module (go.mod) under %s", strings.Join(paths, ", "))
	}
	sort.Slice(targets, func(i, j int) bool { return targets[i].dir < targets[j].dir })
	par := opts.Parallel
	if par <= 0 {
		par = runtime.GOMAXPROCS(0)
	}
	services := make([][]Service, len(targets))
	mfixes := make([]*ModuleFix, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	sem := make(chan struct{}, par)
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			defer func() { <-sem }()
			services[i], mfixes[i], errs[i] = auditModule(ctx, t, opts)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	r := &Report{Tool: opts.Tool, Services: []Service{}}
	var before []Service
	for i, ss := range services {
		r.Services = append(r.Services, ss...)
		if mfixes[i] != nil {
			r.Fixes = append(r.Fixes, *mfixes[i])
			before = append(before, mfixes[i].before...)
		} else {
			before = append(before, ss...)
		}
	}
	uniqueNames(r.Services)
	r.Fleet, r.Score = summarise(r.Services)
	if opts.Fix {
		uniqueNames(before)
		b := &Baseline{Source: "--fix"}
		b.Fleet, b.Score = summarise(before)
		r.Before = b
	}
	return r, nil
}

// skipDir reports whether discovery skips a directory below the root.
func skipDir(name string) bool {
	return name == "vendor" || name == "testdata" || name == "node_modules" ||
		strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

// discover finds the services under root.
func discover(root string) ([]target, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("audit: %s is not a directory", root)
	}
	var out []target
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && skipDir(d.Name()) {
			return filepath.SkipDir
		}
		if d.IsDir() || d.Name() != "go.mod" {
			return nil
		}
		dir := filepath.Dir(p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		mod := modfile.ModulePath(data)
		if mod == "" {
			return fmt.Errorf("%s: no module directive", p)
		}
		t := target{name: filepath.Base(dir), dir: dir, module: mod}
		if mains := cmdMains(dir); len(mains) >= 2 {
			t.mains = mains
		}
		out = append(out, t)
		return nil
	})
	if abs, aerr := filepath.Abs(root); aerr == nil && len(out) == 1 && filepath.Clean(out[0].dir) == filepath.Clean(root) {
		out[0].name = filepath.Base(abs)
	}
	return out, err
}

// cmdMains lists dir's cmd/<name> directories holding a main package
// (slash paths relative to dir).
func cmdMains(dir string) []string {
	entries, err := os.ReadDir(filepath.Join(dir, "cmd"))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(dir, "cmd", e.Name(), "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), "package main") {
				out = append(out, "cmd/"+e.Name())
				break
			}
		}
	}
	return out
}

// loadMode is what the checks need: syntax and types of the service's own
// packages; dependencies come from export data.
const loadMode = packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes |
	packages.NeedTypesInfo | packages.NeedTypesSizes | packages.NeedImports | packages.NeedModule

// auditModule audits the service or services of one module; the module is
// loaded once. With opts.Fix it fixes, audits again, and repeats until
// nothing fixable is left; then it type-checks the module (tests
// included) and restores every file if the fixed code does not compile.
func auditModule(ctx context.Context, t target, opts Options) ([]Service, *ModuleFix, error) {
	ss, fixes, err := auditOnce(ctx, t, opts)
	if err != nil || !opts.Fix {
		return ss, nil, err
	}
	mf := &ModuleFix{Path: t.dir, Changes: []Change{}, before: ss}
	if len(fixes) == 0 {
		return ss, mf, nil
	}
	if errs := typeCheck(ctx, t); len(errs) > 0 {
		mf.Error = "not fixed: the module does not type-check before fixing, so no fix could be verified: " + summariseErrs(errs)
		return ss, mf, nil
	}
	orig := map[string][]byte{}
	var applied []fileFix
	for len(fixes) > 0 && mf.Passes < maxFixPasses {
		mf.Passes++
		done, err := applyFixes(fixes, orig)
		applied = append(applied, done...)
		if err == nil && len(done) == 0 {
			break
		}
		if err == nil {
			ss, fixes, err = auditOnce(ctx, t, opts)
		}
		if err != nil {
			rerr := restore(orig)
			return ss, nil, errors.Join(fmt.Errorf("%s: --fix: %w (every file restored)", t.dir, err), rerr)
		}
	}
	if errs := typeCheck(ctx, t); len(errs) > 0 {
		if err := restore(orig); err != nil {
			return ss, nil, fmt.Errorf("%s: --fix broke the build and restoring failed: %w", t.dir, err)
		}
		mf.Error = "rolled back: the fixed code does not type-check, every file was restored: " + summariseErrs(errs)
		ss, _, err = auditOnce(ctx, t, opts)
		return ss, mf, err
	}
	for _, f := range applied {
		base := t.dir
		if filepath.IsAbs(f.path) {
			if abs, err := filepath.Abs(t.dir); err == nil {
				base = abs
			}
		}
		rel, err := filepath.Rel(base, f.path)
		if err != nil {
			rel = f.path
		}
		mf.Changes = append(mf.Changes, Change{File: filepath.ToSlash(rel), Line: f.line, Change: f.desc})
	}
	sort.SliceStable(mf.Changes, func(i, j int) bool {
		a, b := mf.Changes[i], mf.Changes[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return ss, mf, nil
}

// typeCheck loads the module with its tests and returns its errors.
func typeCheck(ctx context.Context, t target) []string {
	cfg := &packages.Config{Context: ctx, Mode: packages.NeedName | packages.NeedTypes | packages.NeedSyntax | packages.NeedTypesInfo | packages.NeedModule,
		Dir: t.dir, Tests: true}
	pkgs, err := packages.Load(cfg, "./...")
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	seen := map[string]bool{}
	for _, p := range pkgs {
		if p.Module != nil && p.Module.Path != t.module {
			continue
		}
		for _, e := range p.Errors {
			if !seen[e.Error()] {
				seen[e.Error()] = true
				out = append(out, e.Error())
			}
		}
	}
	return out
}

func summariseErrs(errs []string) string {
	if len(errs) > 3 {
		return strings.Join(errs[:3], "; ") + fmt.Sprintf("; and %d more", len(errs)-3)
	}
	return strings.Join(errs, "; ")
}

func auditOnce(ctx context.Context, t target, opts Options) ([]Service, []fileFix, error) {
	cfg := &packages.Config{Context: ctx, Mode: loadMode, Dir: t.dir, Tests: false}
	pkgs, loadErr := packages.Load(cfg, "./...")
	// Only the module's own packages: a nested module is its own service.
	var own []*packages.Package
	for _, p := range pkgs {
		if p.Module != nil && p.Module.Path != t.module {
			continue
		}
		own = append(own, p)
	}
	mains := t.mains
	if len(mains) == 0 {
		mains = []string{""}
	}
	var out []Service
	var fixes []fileFix
	seen := map[string]bool{}
	for _, main := range mains {
		s := Service{Name: t.name, Path: t.dir, Module: t.module, Main: main}
		if loadErr != nil {
			s.Errors = append(s.Errors, loadErr.Error())
			s.Checks = emptyChecks()
			s.score()
			out = append(out, s)
			continue
		}
		pkgs := own
		if main != "" {
			s.Name = t.name + "/" + main
			pkgs = closure(own, t.module+"/"+main)
		}
		for _, p := range pkgs {
			s.Errors = append(s.Errors, packageErrors(p)...)
		}
		s.Packages = len(pkgs)
		svc := newService(t.dir, pkgs, opts)
		for _, f := range svc.run() {
			// A package shared by two mains is fixed once; a generated
			// file never.
			key := fmt.Sprintf("%s:%d", f.path, f.start)
			if !seen[key] && !svc.generated[f.path] {
				seen[key] = true
				fixes = append(fixes, f)
			}
		}
		s.Checks = svc.checks()
		s.Uses = svc.uses
		s.score()
		out = append(out, s)
	}
	return out, fixes, nil
}

// packageErrors are a package's errors, one line each. go list's
// unpositioned copy of the compiler's output ("-: # pkg" and the same
// errors again) is left out when the type checker reported them itself.
func packageErrors(p *packages.Package) []string {
	typed := false
	for _, e := range p.Errors {
		if e.Kind == packages.TypeError {
			typed = true
		}
	}
	var out []string
	for _, e := range p.Errors {
		if typed && e.Kind != packages.TypeError && (e.Pos == "" || e.Pos == "-") {
			continue
		}
		out = append(out, strings.ReplaceAll(e.Error(), "\n", "; "))
	}
	return out
}

// closure keeps the package main and the module packages it imports.
func closure(pkgs []*packages.Package, main string) []*packages.Package {
	byPath := map[string]*packages.Package{}
	for _, p := range pkgs {
		byPath[p.PkgPath] = p
	}
	seen := map[string]bool{}
	var out []*packages.Package
	var visit func(path string)
	visit = func(path string) {
		p, ok := byPath[path]
		if !ok || seen[path] {
			return
		}
		seen[path] = true
		out = append(out, p)
		for imp := range p.Imports {
			visit(imp)
		}
	}
	visit(main)
	sort.Slice(out, func(i, j int) bool { return out[i].PkgPath < out[j].PkgPath })
	return out
}

func (s *Service) score() {
	pass, fail := 0, 0
	s.Findings = 0
	for _, c := range s.Checks {
		s.Findings += c.Count
		switch c.Status {
		case Pass:
			pass++
		case Fail, Unrecognised:
			fail++
		}
	}
	s.Score = 100
	if pass+fail > 0 {
		s.Score = round1(float64(pass) * 100 / float64(pass+fail))
	}
	if len(s.Errors) > 0 && s.Packages == 0 {
		s.Score = 0
	}
}

func round1(f float64) float64 { return float64(int(f*10+0.5)) / 10 }

// summarise counts the services' outcomes per check and priority, and
// returns the fleet and its score (the mean of the services' scores).
func summarise(services []Service) (Fleet, float64) {
	f := Fleet{Services: len(services), LoadErrors: []LoadError{}, TopOffenders: []Offender{}}
	byID := map[string]*FleetCheck{}
	for _, c := range checkTable {
		f.Checks = append(f.Checks, FleetCheck{ID: c.id, Title: c.title, Priority: PriorityOf(c.id)})
	}
	for i := range f.Checks {
		byID[f.Checks[i].ID] = &f.Checks[i]
	}
	total := 0.0
	var ranked []Service
	for _, s := range services {
		total += s.Score
		for _, c := range s.Checks {
			fc := byID[c.ID]
			fc.Findings += c.Count
			switch c.Status {
			case Pass:
				fc.Pass++
			case Fail:
				fc.Fail++
			case Unrecognised:
				fc.Unrecognised++
			default:
				fc.NA++
			}
		}
		if s.Uses.Ogen {
			f.Ogen++
		}
		if len(s.Uses.Routers) > 0 {
			f.Routers++
		}
		if s.Uses.SyncPool {
			f.SyncPool++
		}
		if s.Uses.Cache {
			f.Cache++
		}
		if len(s.Errors) > 0 {
			f.LoadErrors = append(f.LoadErrors, LoadError{Name: s.Name, Errors: s.Errors})
		}
		if sev := severity(s); s.Findings > 0 || sev != [4]int{} {
			ranked = append(ranked, s)
		}
	}
	for i := range f.Checks {
		c := &f.Checks[i]
		c.Applicable = c.Pass + c.Fail + c.Unrecognised
		c.Percent = 100
		if c.Applicable > 0 {
			c.Percent = round1(float64(c.Pass) * 100 / float64(c.Applicable))
		}
	}
	sort.SliceStable(ranked, func(i, j int) bool {
		a, b := severity(ranked[i]), severity(ranked[j])
		if a != b {
			for k := range a {
				if a[k] != b[k] {
					return a[k] > b[k]
				}
			}
		}
		if ranked[i].Findings != ranked[j].Findings {
			return ranked[i].Findings > ranked[j].Findings
		}
		return ranked[i].Name < ranked[j].Name
	})
	for _, s := range ranked {
		if len(f.TopOffenders) == 5 {
			break
		}
		sev := severity(s)
		o := Offender{Name: s.Name, Path: s.Path, Findings: s.Findings, Score: s.Score, P0: sev[0], P1: sev[1], P2: sev[2], P3: sev[3]}
		worstP, worstN := P3, -1
		for _, c := range s.Checks {
			if c.Status != Fail && c.Status != Unrecognised {
				continue
			}
			p := PriorityOf(c.ID)
			if p < worstP || (p == worstP && c.Count > worstN) {
				worstP, worstN, o.Worst = p, c.Count, c.ID
			}
		}
		f.TopOffenders = append(f.TopOffenders, o)
	}
	f.Priorities = priorities(services)
	score := 100.0
	if len(services) > 0 {
		score = round1(total / float64(len(services)))
	}
	return f, score
}

// Below returns the services whose score is below min.
func (r *Report) Below(min float64) []Service {
	var out []Service
	for _, s := range r.Services {
		if s.Score < min {
			out = append(out, s)
		}
	}
	return out
}
