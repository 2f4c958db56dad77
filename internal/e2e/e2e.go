// Package e2e holds svcgen's end-to-end tests: every preset generated,
// built, vetted, linted and tested against real PostgreSQL and Redis.
package e2e
