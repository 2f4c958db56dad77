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

// fleetLines are the summary lines, in the review's words.
var fleetLines = map[string]string{
	"dbpool":     "DB pool config in %s of services that open a DB",
	"timeouts":   "context timeouts in %s of services",
	"batch":      "batch operations (no N+1) in %s of services",
	"cache":      "caching (or no handler reading the DB) in %s of services that use a DB",
	"pooling":    "memory pooling (or no per-request allocations) in %s of services with handlers",
	"router":     "no third-party router in %s of services",
	"alignment":  "struct alignment in %s of services",
	"resources":  "rows and statements closed in %s of services that query a DB",
	"goroutines": "stoppable handler goroutines in %s of services with handlers",
}

// WriteMarkdown writes the report as Markdown: the fleet summary, the top
// offenders, then one table and the evidence per service.
func (r *Report) WriteMarkdown(w io.Writer) error {
	b := &strings.Builder{}
	f := r.Fleet
	fmt.Fprintf(b, "# svcgen audit\n\n")
	fmt.Fprintf(b, "%d service(s), fleet score %.1f%%", f.Services, r.Score)
	if r.Tool != "" {
		fmt.Fprintf(b, " (%s)", r.Tool)
	}
	b.WriteString(".\n\n## Fleet\n\n")
	for _, c := range f.Checks {
		n := c.Pass + c.Fail + c.Unrecognised
		pct := fmt.Sprintf("%.0f%% (%d of %d", c.Percent, c.Pass, n)
		if c.Unrecognised > 0 {
			pct += fmt.Sprintf("; %d not recognised", c.Unrecognised)
		}
		pct += ")"
		fmt.Fprintf(b, "- "+fleetLines[c.ID]+"; %d finding(s)\n", pct, c.Findings)
	}
	fmt.Fprintf(b, "- ogen in %d of %d services (%.0f%%)\n", f.Ogen, f.Services, pct(f.Ogen, f.Services))
	fmt.Fprintf(b, "- chi, gorilla/mux, gin or echo in %d of %d services (%.0f%%)\n", f.Routers, f.Services, pct(f.Routers, f.Services))
	fmt.Fprintf(b, "- sync.Pool in %d of %d services (%.0f%%)\n", f.SyncPool, f.Services, pct(f.SyncPool, f.Services))
	fmt.Fprintf(b, "- a cache layer in %d of %d services (%.0f%%)\n", f.Cache, f.Services, pct(f.Cache, f.Services))
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
		b.WriteString("\n## Top offenders\n\n| service | findings | score | worst check |\n|---|---:|---:|---|\n")
		for _, o := range f.TopOffenders {
			fmt.Fprintf(b, "| %s (%s) | %d | %.0f%% | %s |\n", o.Name, o.Path, o.Findings, o.Score, o.Worst)
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

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) * 100 / float64(b)
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
