package audit

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Priority is how urgently a failing practice needs fixing, in the 2025
// review's scale: P0 critical (now), P1 high (1-2 weeks), P2 medium (a
// month), P3 advanced (when needed).
type Priority string

// The priorities.
const (
	P0 Priority = "P0"
	P1 Priority = "P1"
	P2 Priority = "P2"
	P3 Priority = "P3"
)

// priorityTitles name the priorities as the review does.
var priorityTitles = map[Priority]string{
	P0: "critical: fix now",
	P1: "high: within two weeks",
	P2: "medium: within a month",
	P3: "advanced: when needed",
}

// checkPriority maps each check to its priority. The review's P0 is
// context timeouts, DB pool config and struct alignment; the two checks
// it did not have, rows left open and handler goroutines nobody can stop,
// leak connections and goroutines like a missing timeout does, so they
// are P0 too. Its P1 is memory pooling, batch queries and caching. The
// router (ogen + ServeMux instead of chi, gin, echo) is a migration the
// review tracked as progress, not an outage risk: P2. Its P3 items
// (partitioned tables, materialized views) are not audited, so P3 lists
// no service until a check for them exists.
var checkPriority = map[string]Priority{
	"timeouts":   P0,
	"dbpool":     P0,
	"alignment":  P0,
	"resources":  P0,
	"goroutines": P0,
	"pooling":    P1,
	"batch":      P1,
	"cache":      P1,
	"router":     P2,
}

// PriorityOf returns the priority of a check (P3 for an unknown one).
func PriorityOf(check string) Priority {
	if p, ok := checkPriority[check]; ok {
		return p
	}
	return P3
}

// PriorityGroup is one priority with the services that need its work.
type PriorityGroup struct {
	// Priority is P0, P1, P2 or P3.
	Priority Priority `json:"priority"`
	// Title says how urgent it is.
	Title string `json:"title"`
	// Checks are the checks of this priority.
	Checks []string `json:"checks"`
	// Services are those with at least one of the checks failing or not
	// recognised, the most evidence first.
	Services []PriorityService `json:"services"`
}

// PriorityService is a service that needs the work of one priority.
type PriorityService struct {
	// Name is the service's name, unique in the report.
	Name string `json:"name"`
	// Failing are the checks of the priority with findings.
	Failing []string `json:"failing"`
	// Unrecognised are the checks of the priority the audit could not
	// verify (counted against the service, with no evidence).
	Unrecognised []string `json:"unrecognised"`
	// Evidence is the number of file:line findings of the failing checks.
	Evidence int `json:"evidence"`
}

// LoadError is a service that did not load or type-check completely.
type LoadError struct {
	// Name is the service's name, unique in the report.
	Name string `json:"name"`
	// Errors are the loader's and type checker's messages.
	Errors []string `json:"errors"`
}

// Baseline is the fleet an audit is compared with: the same services
// before --fix, or an earlier JSON report (--baseline FILE).
type Baseline struct {
	// Source is "--fix" or the baseline file's path.
	Source string `json:"source"`
	// Score is the fleet score then.
	Score float64 `json:"score"`
	// Fleet is the fleet summary then.
	Fleet Fleet `json:"fleet"`
}

// priorities groups the services by the priority of what they fail.
func priorities(services []Service) []PriorityGroup {
	var out []PriorityGroup
	for _, p := range []Priority{P0, P1, P2, P3} {
		g := PriorityGroup{Priority: p, Title: priorityTitles[p], Checks: []string{}, Services: []PriorityService{}}
		for _, c := range checkTable {
			if PriorityOf(c.id) == p {
				g.Checks = append(g.Checks, c.id)
			}
		}
		for _, s := range services {
			ps := PriorityService{Name: s.Name, Failing: []string{}, Unrecognised: []string{}}
			for _, c := range s.Checks {
				if PriorityOf(c.ID) != p {
					continue
				}
				switch c.Status {
				case Fail:
					ps.Failing = append(ps.Failing, c.ID)
					ps.Evidence += c.Count
				case Unrecognised:
					ps.Unrecognised = append(ps.Unrecognised, c.ID)
				}
			}
			if len(ps.Failing)+len(ps.Unrecognised) > 0 {
				g.Services = append(g.Services, ps)
			}
		}
		sort.SliceStable(g.Services, func(i, j int) bool {
			a, b := g.Services[i], g.Services[j]
			if a.Evidence != b.Evidence {
				return a.Evidence > b.Evidence
			}
			return a.Name < b.Name
		})
		out = append(out, g)
	}
	return out
}

// severity is a service's failing checks counted per priority, for
// ranking the offenders: P0 first, then P1, P2, then the findings.
func severity(s Service) [4]int {
	var n [4]int
	for _, c := range s.Checks {
		if c.Status == Fail || c.Status == Unrecognised {
			switch PriorityOf(c.ID) {
			case P0:
				n[0]++
			case P1:
				n[1]++
			case P2:
				n[2]++
			default:
				n[3]++
			}
		}
	}
	return n
}

// uniqueNames makes the services' names distinct: a name two services
// share (two modules in directories of one name) becomes the service's
// directory, with its main package when it has one.
func uniqueNames(services []Service) {
	count := map[string]int{}
	for _, s := range services {
		count[s.Name]++
	}
	for i := range services {
		s := &services[i]
		if count[s.Name] > 1 {
			s.Name = filepath.ToSlash(s.Path)
			if s.Main != "" {
				s.Name += "/" + s.Main
			}
		}
	}
}

// LoadBaseline reads an earlier JSON report as the baseline to compare
// with.
func LoadBaseline(path string) (*Baseline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--baseline: %w", err)
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("--baseline %s: not an svcgen audit JSON report (svcgen audit --format json): %w", path, err)
	}
	if len(r.Fleet.Checks) == 0 {
		return nil, fmt.Errorf("--baseline %s: no fleet.checks: write it with svcgen audit --format json", path)
	}
	if len(r.Fleet.Priorities) == 0 {
		r.Fleet.Priorities = priorities(r.Services)
	}
	return &Baseline{Source: path, Score: r.Score, Fleet: r.Fleet}, nil
}
