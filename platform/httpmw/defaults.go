//go:build !service

package httpmw

import "time"

// The preset's numbers reach a service in its defaults.go, rendered from
// templates/adopt/httpmw; these stand in for them in svcgen's own tree
// (the values of the base preset).

// DefaultTimeout is the deadline of a route without its own.
const DefaultTimeout = 5 * time.Second

// DBBudget and CacheBudget are the budgets of one database and one cache
// call: pass them to Budget.
const (
	DBBudget    = 50 * time.Millisecond
	CacheBudget = 10 * time.Millisecond
)
