package generator

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// AdoptUses is what a service uses, as the audit's type-checked load of
// it found (generator/audit's Uses of each of its services, merged).
type AdoptUses struct {
	// Routers are the third-party routers (chi, echo, gin, ...).
	Routers []string
	// DBAPIs are "database/sql", "pgx" and "redis" as opened or queried.
	DBAPIs []string
	// SQLDrivers are the database/sql drivers imported.
	SQLDrivers []string
	// Ogen is true when the service serves an ogen API.
	Ogen bool
	// Web is true when the service serves HTTP (routes, handlers).
	Web bool
	// Spec is true when the service has an OpenAPI document (its own, or
	// the one svcgen migrate drafted).
	Spec bool
}

func (u AdoptUses) has(api string) bool { return slices.Contains(u.DBAPIs, api) }

// LeftOut is a preset feature adopt does not add, and why.
type LeftOut struct {
	// Feature is the preset's feature.
	Feature string
	// Why says what the service lacks and what to do instead.
	Why string
}

// AdoptSelection is what adopt adds to one service.
type AdoptSelection struct {
	// Packages are the internal/platform packages, in AdoptPackages order.
	Packages []string
	// Adopt are those rendered from templates/adopt (no preset feature).
	Adopt []string
	// Features are the preset's features whose packages are added.
	Features []string
	// Left are the preset's features left out.
	Left []LeftOut
	// API is true when the service's spec is served through ogen under
	// AdoptAPIDir: ogen's package, the team's handler skeleton and the
	// mount in front of the legacy handler.
	API bool
}

// adoptRow is one platform package adopt may add: the preset feature that
// brings it ("" for a templates/adopt package, which comes with feature
// need), and why it does not fit a service ("" when it does).
type adoptRow struct {
	pkg, feature, adopt, need string
	unfit                     func(u AdoptUses) string
}

const needOgenWhy = "it is built on ogen (api.WithMiddleware, api.WithErrorHandler, ogen's errors) and the service has no ogen API"

// adoptTable lists the platform packages adopt can add, in AdoptPackages
// order. Selection is by this table: a package is added when the preset
// has its feature (or, for templates/adopt packages, the feature named by
// need) and it fits what the service uses.
var adoptTable = []adoptRow{
	{pkg: "server", feature: "servemux", unfit: needOgen},
	{pkg: "apierr", feature: "servemux", unfit: needOgen},
	{pkg: "timeout", feature: "timeouts", unfit: needOgen},
	{pkg: "httpmw", adopt: "httpmw", need: "timeouts", unfit: func(u AdoptUses) string {
		switch {
		case u.Ogen:
			return "the service serves an ogen API: internal/platform/timeout and apierr fit it"
		case !u.Web:
			return "the service serves no HTTP routes"
		case slices.Equal(u.Routers, []string{"fiber"}):
			return "fiber runs on fasthttp, not net/http, so an http.Handler cannot wrap it; use fiber's timeout and recover middleware"
		}
		return ""
	}},
	{pkg: "metrics", feature: "metrics", unfit: func(AdoptUses) string { return "" }},
	{pkg: "dbpool", feature: "dbpool", unfit: func(u AdoptUses) string {
		if !u.has("pgx") {
			return "it opens a pgx pool and the service does not use pgx"
		}
		return ""
	}},
	{pkg: "sqlpool", adopt: "sqlpool", need: "dbpool", unfit: func(u AdoptUses) string {
		if !u.has("database/sql") {
			return "the service does not use database/sql"
		}
		return ""
	}},
	{pkg: "pool", feature: "pool", unfit: func(AdoptUses) string { return "" }},
	{pkg: "profiling", feature: "profiling", unfit: func(AdoptUses) string { return "" }},
	{pkg: "cache", feature: "cache3", unfit: func(u AdoptUses) string {
		switch {
		case !u.has("redis"):
			return "its second tier is Redis (go-redis) and the service has no Redis client; add one and adopt again to get the 3-tier cache"
		case !u.has("pgx") && !u.has("database/sql"):
			return "it caches database reads and the service reads no database"
		}
		return ""
	}},
	{pkg: "batch", feature: "batch", unfit: func(u AdoptUses) string {
		if !u.has("pgx") {
			return "its loaders run pgx batches (= ANY($1)) and the service does not use pgx; for database/sql, query N ids in one statement by hand"
		}
		return ""
	}},
	{pkg: "compress", feature: "compression", unfit: func(u AdoptUses) string {
		if !u.Web {
			return "the service serves no HTTP"
		}
		return ""
	}},
	{pkg: "realtime", feature: "realtime", unfit: func(u AdoptUses) string {
		if !u.Web {
			return "its WebSocket hub is served over HTTP and the service serves none"
		}
		return ""
	}},
	{pkg: "partition", feature: "partition", unfit: needPgx("its maintenance job runs on a pgx pool")},
	{pkg: "matview", feature: "matview", unfit: needPgx("its refresher runs on a pgx pool")},
}

func needOgen(u AdoptUses) string {
	if !u.Ogen {
		return needOgenWhy
	}
	return ""
}

func needPgx(what string) func(AdoptUses) string {
	return func(u AdoptUses) string {
		if !u.has("pgx") {
			return what + " and the service does not use pgx"
		}
		return ""
	}
}

// adoptDependsOn are platform packages another one imports: adopting the
// first brings the second (cache's budgets are timeout.Budget; realtime
// frames are compressed and pooled).
var adoptDependsOn = map[string][]string{
	"cache":    {"timeout", "metrics"},
	"httpmw":   {"metrics"},
	"realtime": {"compress", "pool"},
}

// SelectAdoption chooses the platform packages of the preset's features
// that fit what the service uses, and says why each other feature of the
// preset is left out.
func SelectAdoption(features []string, u AdoptUses) AdoptSelection {
	var sel AdoptSelection
	has := func(f string) bool { return slices.Contains(features, f) }
	chosen := map[string]bool{}
	why := map[string]string{}
	for _, r := range adoptTable {
		f := r.feature
		if f == "" {
			f = r.need
		}
		if !has(f) {
			continue
		}
		if w := r.unfit(u); w != "" {
			why[r.pkg] = w
			continue
		}
		chosen[r.pkg] = true
	}
	for pkg := range chosen {
		for _, dep := range adoptDependsOn[pkg] {
			chosen[dep] = true
		}
	}
	// A feature is adopted when one of its packages is; the others are
	// left out, with the reason of its first package.
	adopted := map[string]bool{}
	for _, r := range adoptTable {
		if !chosen[r.pkg] {
			continue
		}
		sel.Packages = append(sel.Packages, r.pkg)
		if r.adopt != "" {
			sel.Adopt = append(sel.Adopt, r.adopt)
		} else if !adopted[r.feature] {
			adopted[r.feature] = true
			sel.Features = append(sel.Features, r.feature)
		}
	}
	seen := map[string]bool{}
	for _, r := range adoptTable {
		if r.feature == "" || !has(r.feature) || adopted[r.feature] || seen[r.feature] {
			continue
		}
		seen[r.feature] = true
		w := "internal/platform/" + r.pkg + ": " + why[r.pkg]
		for _, a := range adoptTable {
			if a.adopt != "" && a.need == r.feature && chosen[a.pkg] {
				w += "; internal/platform/" + a.pkg + " is added in its place"
			}
		}
		sel.Left = append(sel.Left, LeftOut{Feature: r.feature, Why: w})
	}
	for _, f := range features {
		if f == "ogen" {
			if why := adoptAPIUnfit(u); why != "" {
				sel.Left = append(sel.Left, LeftOut{Feature: f, Why: why})
			} else {
				sel.API = true
			}
			continue
		}
		if !slices.ContainsFunc(adoptTable, func(r adoptRow) bool { return r.feature == f }) && adoptOnlyNew[f] != "" {
			sel.Left = append(sel.Left, LeftOut{Feature: f, Why: adoptOnlyNew[f]})
		}
	}
	return sel
}

// adoptAPIUnfit says why adopt does not serve the service's spec through
// ogen ("" when it does).
func adoptAPIUnfit(u AdoptUses) string {
	switch {
	case u.Ogen:
		return "the service serves an ogen API of its own: svcgen leaves it and its spec to you"
	case !u.Spec:
		return "the service has no OpenAPI spec: write api/openapi.yaml (svcgen migrate drafts one from chi, gorilla/mux, echo or gin routes), set spec: api/openapi.yaml and api: " + AdoptAPIDir + " under adopted: in " + ManifestPath + ", and svcgen regen generates the ogen server, your handler skeleton and the mount that moves routes onto it one at a time"
	case slices.Equal(u.Routers, []string{"fiber"}):
		return "fiber runs on fasthttp: the mount that moves routes onto ogen one at a time goes in front of a net/http handler"
	case !u.Web:
		return "the service serves no HTTP routes the audit recognises: the mount that moves routes onto ogen goes in front of a net/http handler"
	}
	return ""
}

// adoptOnlyNew are features with no platform package adopt can add.
var adoptOnlyNew = map[string]string{
	"pprof":         "it is served by internal/platform/server's admin mux; add net/http/pprof to your admin port",
	"pgo":           "its load scenario drives the generated API; collect a CPU profile of your own load into cmd/<name>/default.pgo",
	"observability": "its rules and dashboards read the generated service's metric names; those of metrics and httpmw match them, copy deploy/observability from a generated service",
}

// GoGet is the go get line adopt prints, as simulated on a copy of the
// service's go.mod.
type GoGet struct {
	// Args are module@version for the modules the service does not
	// require yet, at svcgen's versions.
	Args []string
	// Kept are modules the packages import that the service already
	// requires: its version stays (svcgen's is the one tested).
	Kept []ModuleVersions
	// Added are the requirements go get and go mod tidy add (direct and
	// indirect).
	Added []Module
	// Upgraded are existing requirements go get raises: the added modules
	// need them. Empty when the line changes nothing the team chose.
	Upgraded []ModuleVersions
	// GoBefore and GoAfter are the go directive before and after; they
	// differ only when an added module needs a newer Go.
	GoBefore, GoAfter string
	// ToolchainAfter is a toolchain line go get added ("" when none).
	ToolchainAfter string
}

// copyModule copies the files of the module in dir to dst, but .git,
// .svcgen and vendor.
func copyModule(dir, dst string) error {
	return filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if rel == ".git" || rel == ".svcgen" || rel == "vendor" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
}

// ModuleVersions is one module at two versions.
type ModuleVersions struct {
	Path, From, To string
	// Indirect is true when the service required it as // indirect.
	Indirect bool
}

// Changes says whether the go get line changes anything but adding
// requirements.
func (g GoGet) Changes() bool {
	return len(g.Upgraded) > 0 || g.GoBefore != g.GoAfter || g.ToolchainAfter != ""
}

// PlanGoGet simulates the go get line and the go mod tidy after it in a
// temporary copy of the service in dir (with the platform packages already
// written) and compares the go.mod it leaves with dir's: the requirements
// added, existing ones raised, the go directive. Modules the service
// requires already are left out of the line (its version is kept).
func PlanGoGet(ctx context.Context, dir string, mods []Module) (GoGet, error) {
	var g GoGet
	orig, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return g, err
	}
	before, err := modfile.Parse("go.mod", orig, nil)
	if err != nil {
		return g, fmt.Errorf("%s: %w", filepath.Join(dir, "go.mod"), err)
	}
	have := map[string]string{}
	indirect := map[string]bool{}
	for _, r := range before.Require {
		have[r.Mod.Path] = r.Mod.Version
		indirect[r.Mod.Path] = r.Indirect
	}
	if before.Go != nil {
		g.GoBefore = before.Go.Version
	}
	g.GoAfter = g.GoBefore
	for _, m := range mods {
		if v, ok := have[m.Path]; ok {
			g.Kept = append(g.Kept, ModuleVersions{Path: m.Path, From: v, To: m.Version})
			continue
		}
		g.Args = append(g.Args, m.Path+"@"+m.Version)
	}
	sort.Strings(g.Args)
	tmp, err := os.MkdirTemp("", "svcgen-goget-")
	if err != nil {
		return g, err
	}
	defer os.RemoveAll(tmp)
	if err := copyModule(dir, tmp); err != nil {
		return g, fmt.Errorf("copying %s to simulate go get: %w", dir, err)
	}
	run := func(args ...string) error {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = tmp
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("simulating go %s on a copy of %s: %w\n%s", strings.Join(args, " "), dir, err, strings.TrimSpace(out.String()))
		}
		return nil
	}
	if len(g.Args) > 0 {
		if err := run(append([]string{"get"}, g.Args...)...); err != nil {
			return g, err
		}
	}
	if err := run("mod", "tidy"); err != nil {
		return g, err
	}
	data, err := os.ReadFile(filepath.Join(tmp, "go.mod"))
	if err != nil {
		return g, err
	}
	after, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		return g, err
	}
	if after.Go != nil {
		g.GoAfter = after.Go.Version
	}
	if after.Toolchain != nil && before.Toolchain == nil {
		g.ToolchainAfter = after.Toolchain.Name
	}
	for _, r := range after.Require {
		v, ok := have[r.Mod.Path]
		switch {
		case !ok:
			g.Added = append(g.Added, Module{Path: r.Mod.Path, Version: r.Mod.Version})
		case semver.Compare(r.Mod.Version, v) != 0:
			g.Upgraded = append(g.Upgraded, ModuleVersions{Path: r.Mod.Path, From: v, To: r.Mod.Version, Indirect: indirect[r.Mod.Path]})
		}
	}
	return g, nil
}
