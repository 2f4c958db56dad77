package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/invopop/jsonschema"
)

// WriteJSON writes the report as indented JSON (schema/audit.schema.json).
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// fleetLines name each practice and the services it applies to (its
// denominator), in the review's words.
var fleetLines = map[string][2]string{
	"dbpool":     {"DB pool config", "services with a SQL database"},
	"timeouts":   {"context timeouts", "services with DB, Redis, HTTP calls or handlers"},
	"batch":      {"batch operations (no N+1)", "services with a DB or Redis library"},
	"cache":      {"caching (or no handler reading the DB)", "services that serve HTTP and use a DB"},
	"pooling":    {"memory pooling (or no per-request allocations)", "services that serve HTTP"},
	"router":     {"ServeMux + ogen (no third-party router)", "services that serve HTTP"},
	"alignment":  {"struct alignment", "every service"},
	"resources":  {"rows and statements closed", "services with a SQL library"},
	"goroutines": {"stoppable handler goroutines", "services that serve HTTP"},
}

// practiceLine is one practice in the review's form: "X in N% of
// services (a of b applicable; c unrecognised; d n/a)".
func practiceLine(c FleetCheck) string {
	l := fleetLines[c.ID]
	if c.Applicable == 0 {
		return fmt.Sprintf("%s: no service applies (0 of %d; applies to %s)", l[0], c.NA, l[1])
	}
	return fmt.Sprintf("%s in %.0f%% of services (%d of %d applicable; %d unrecognised; %d n/a, left out)", l[0], c.Percent, c.Pass, c.Applicable, c.Unrecognised, c.NA)
}

// WriteMarkdown writes the report as Markdown: the fleet in the 2025
// review's form (each practice's share with what its denominator counts,
// the priorities P0-P3 with the services that need each, before and
// after), the top offenders, then one table and the evidence per service.
func (r *Report) WriteMarkdown(w io.Writer) error {
	b := &strings.Builder{}
	f := r.Fleet
	fmt.Fprintf(b, "# svcgen audit\n\n")
	fmt.Fprintf(b, "%d service(s), fleet score %.1f%%", f.Services, r.Score)
	if r.Tool != "" {
		fmt.Fprintf(b, " (%s)", r.Tool)
	}
	b.WriteString(".\n\n## Fleet\n\n")
	b.WriteString("Each share counts the services the practice applies to: pass, fail and unrecognised (the audit could not verify it, so it counts against); n/a services have nothing the check looks at and are left out.\n\n")
	for _, c := range f.Checks {
		fmt.Fprintf(b, "- %s; %s, %d finding(s); applies to %s\n", practiceLine(c), c.Priority, c.Findings, fleetLines[c.ID][1])
	}
	fmt.Fprintf(b, "\nIn use, of all %d services: ogen in %d, chi, gorilla/mux, gin, echo or fiber in %d, sync.Pool in %d, a cache layer in %d.\n", f.Services, f.Ogen, f.Routers, f.SyncPool, f.Cache)
	writePriorities(b, f.Priorities)
	if r.Before != nil {
		writeBeforeAfter(b, r.Before, f, r.Score)
	}
	if len(f.LoadErrors) > 0 {
		b.WriteString("\n## Load errors\n\nThese services did not load or type-check completely; their checks ran on what loaded, so their figures are incomplete.\n\n")
		for _, le := range f.LoadErrors {
			fmt.Fprintf(b, "- %s: %d error(s): %s\n", le.Name, len(le.Errors), summariseErrs(le.Errors))
		}
	}
	if len(r.Fixes) > 0 {
		b.WriteString("\n## --fix\n\n")
		for _, m := range r.Fixes {
			switch {
			case m.Error != "":
				fmt.Fprintf(b, "- %s: %s\n", m.Path, m.Error)
			case len(m.Changes) == 0:
				fmt.Fprintf(b, "- %s: nothing to fix\n", m.Path)
			default:
				fmt.Fprintf(b, "- %s: %d change(s) in %d pass(es), type-checked with its tests\n", m.Path, len(m.Changes), m.Passes)
				for _, c := range m.Changes {
					fmt.Fprintf(b, "  - %s:%d: %s\n", c.File, c.Line, c.Change)
				}
			}
		}
	}
	if len(f.TopOffenders) > 0 {
		b.WriteString("\n## Top offenders\n\nRanked by severity: failing P0 checks first, then P1, P2, then findings.\n\n| service | P0 | P1 | P2 | findings | score | worst check |\n|---|---:|---:|---:|---:|---:|---|\n")
		for _, o := range f.TopOffenders {
			fmt.Fprintf(b, "| %s (%s) | %d | %d | %d | %d | %.0f%% | %s |\n", o.Name, o.Path, o.P0, o.P1, o.P2, o.Findings, o.Score, o.Worst)
		}
	}
	for _, s := range r.Services {
		fmt.Fprintf(b, "\n## %s\n\n", s.Name)
		fmt.Fprintf(b, "%s, module %s", s.Path, s.Module)
		if s.Main != "" {
			fmt.Fprintf(b, ", main package %s", s.Main)
		}
		fmt.Fprintf(b, ": score %.0f%%, %d finding(s)", s.Score, s.Findings)
		var uses []string
		if s.Uses.Ogen {
			uses = append(uses, "ogen")
		}
		uses = append(uses, s.Uses.Routers...)
		if s.Uses.SyncPool {
			uses = append(uses, "sync.Pool")
		}
		if len(uses) > 0 {
			fmt.Fprintf(b, "; uses %s", strings.Join(uses, ", "))
		}
		b.WriteString(".\n\n")
		for _, e := range s.Errors {
			fmt.Fprintf(b, "> load error: %s\n", e)
		}
		if len(s.Errors) > 0 {
			b.WriteString("\n")
		}
		b.WriteString("| check | status | findings |\n|---|---|---:|\n")
		for _, c := range s.Checks {
			extra := ""
			if c.BytesSaved > 0 {
				extra = fmt.Sprintf(" (%d bytes per value)", c.BytesSaved)
			}
			status := string(c.Status)
			if c.Status == Unrecognised {
				status = "not recognised"
			}
			fmt.Fprintf(b, "| %s | %s | %d%s |\n", c.Title, status, c.Count, extra)
		}
		for _, c := range s.Checks {
			if len(c.Findings) == 0 {
				continue
			}
			fmt.Fprintf(b, "\n**%s** — fix: %s\n\n", c.Title, c.Hint)
			for _, fd := range c.Findings {
				fmt.Fprintf(b, "- %s:%d: %s\n", fd.File, fd.Line, fd.Message)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writePriorities writes P0-P3, each with the services that need it.
func writePriorities(b *strings.Builder, gs []PriorityGroup) {
	b.WriteString("\n## Priorities\n\nA check's priority follows the 2025 review: P0 timeouts, DB pool, struct alignment, and rows and goroutines left open (they leak like a missing timeout); P1 memory pooling, batch queries, caching; P2 the router (ogen + ServeMux); P3 partitioning and materialized views, not audited. A service needs a priority when one of its checks fails (evidence: file:line findings) or is unrecognised (no evidence; verify by hand).\n")
	for _, g := range gs {
		fmt.Fprintf(b, "\n### %s %s", g.Priority, g.Title)
		if len(g.Checks) > 0 {
			fmt.Fprintf(b, " (%s)", strings.Join(g.Checks, ", "))
		}
		b.WriteString("\n\n")
		if len(g.Checks) == 0 {
			b.WriteString("No audited check has this priority.\n")
			continue
		}
		if len(g.Services) == 0 {
			b.WriteString("No service needs it.\n")
			continue
		}
		ev := 0
		for _, s := range g.Services {
			ev += s.Evidence
		}
		fmt.Fprintf(b, "%d service(s), %d file:line finding(s).\n\n| service | failing | unrecognised | evidence |\n|---|---|---|---:|\n", len(g.Services), ev)
		for _, s := range g.Services {
			fmt.Fprintf(b, "| %s | %s | %s | %d |\n", s.Name, dash(s.Failing), dash(s.Unrecognised), s.Evidence)
		}
	}
}

// writeBeforeAfter compares the fleet with its baseline.
func writeBeforeAfter(b *strings.Builder, before *Baseline, after Fleet, score float64) {
	src := "before --fix"
	if before.Source != "--fix" {
		src = "baseline " + before.Source
	}
	fmt.Fprintf(b, "\n## Before and after (%s)\n\nFleet score %.1f%% -> %.1f%%.\n\n| practice | before | after |\n|---|---|---|\n", src, before.Score, score)
	was := map[string]FleetCheck{}
	for _, c := range before.Fleet.Checks {
		was[c.ID] = c
	}
	share := func(c FleetCheck, ok bool) string {
		if !ok {
			return "-"
		}
		if c.Applicable == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.0f%% (%d of %d; %d unrecognised), %d finding(s)", c.Percent, c.Pass, c.Applicable, c.Unrecognised, c.Findings)
	}
	for _, c := range after.Checks {
		w, ok := was[c.ID]
		fmt.Fprintf(b, "| %s | %s | %s |\n", fleetLines[c.ID][0], share(w, ok), share(c, true))
	}
	b.WriteString("\n| priority | services before | services after |\n|---|---|---|\n")
	prev := map[Priority]PriorityGroup{}
	for _, g := range before.Fleet.Priorities {
		prev[g.Priority] = g
	}
	for _, g := range after.Priorities {
		fmt.Fprintf(b, "| %s | %s | %s |\n", g.Priority, groupSummary(prev[g.Priority]), groupSummary(g))
	}
}

func groupSummary(g PriorityGroup) string {
	ev := 0
	for _, s := range g.Services {
		ev += s.Evidence
	}
	return fmt.Sprintf("%d (%d finding(s))", len(g.Services), ev)
}

func dash(ss []string) string {
	if len(ss) == 0 {
		return "-"
	}
	return strings.Join(ss, ", ")
}

// Schema is the JSON Schema of the JSON report, published as
// schema/audit.schema.json.
func Schema() ([]byte, error) {
	r := &jsonschema.Reflector{ExpandedStruct: true, DoNotReference: true}
	// The doc comments of the Go types become the descriptions (found when
	// run from this package's directory, as its test does).
	_ = r.AddGoComments("github.com/svcgen/svcgen/generator/audit", "./")
	r.Namer = func(t reflect.Type) string { return t.Name() }
	s := r.Reflect(&Report{})
	s.ID = "https://github.com/svcgen/svcgen/schema/audit.schema.json"
	s.Title = "svcgen audit report"
	out, err := json.MarshalIndent(s, "", "  ")
	return append(out, '\n'), err
}
