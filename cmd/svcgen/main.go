// Svcgen generates Go microservices from performance presets.
//
// A generated service carries the practices a fleet-wide performance review
// of Go game backends found missing in most of them: typed OpenAPI handlers
// (ogen) on the standard http.ServeMux, per-operation deadlines, a tuned
// pgx pool, sync.Pool on hot paths, a 3-tier cache, batch queries,
// partitioned tables, PGO builds and continuous profiling. Which of them a
// service gets is decided by a preset (hot-path, read-heavy, realtime,
// analytics, or a team's own) and per-feature overrides.
//
// Usage:
//
//	svcgen new [NAME] [flags]       create a service (a wizard on a terminal)
//	svcgen audit [PATH...]          review existing services: file:line findings, md or json
//	svcgen adopt [DIR] --preset P   bring a service svcgen did not generate under svcgen; with an
//	                                OpenAPI spec, its ogen server and a mount that moves routes
//	                                onto it one at a time (internal/ogen; --api=false: not)
//	svcgen check [DIR...] [--json]  drift check of services or fleets; --json the drift report
//	svcgen fleet upgrade [DIR...]   each service's regen on svcgen/upgrade, tested, committed,
//	                                with its pull request or issue (--fleet FILE --wave NAME)
//	svcgen migrate [DIR] [--write]  move chi, gorilla/mux, echo or gin routes onto http.ServeMux, draft api/openapi.yaml
//	svcgen presets                  list the presets
//	svcgen presets show NAME        a preset's features and parameters
//	svcgen explain [FEATURE]        what a feature solves, its files, parameters and metrics
//	svcgen tutorial [--preset P]    a guided, checked walk: generate, test, run, change, measure
//	svcgen version                  svcgen's and Go's versions
//	svcgen completion SHELL         shell completion (bash, zsh, fish, powershell)
//
// Flags of svcgen new:
//
//	--preset P          preset to start from (required without the wizard)
//	--module M          Go module path (default: the service name)
//	--spec FILE         OpenAPI 3 document (default: the preset's starter API)
//	--features +a,-b    add (+) or remove (-) features of the preset
//	--out DIR           where to write (default ./NAME); must not exist or be empty
//	--answers FILE      read the answers from a YAML file (the manifest's options)
//	--yes               never prompt; fail on a missing answer instead
//	--dry-run           list the files that would be written and stop
//	--no-tidy           skip `go mod tidy` (go.sum is then yours to make)
//	--presets-dir DIR   add or replace presets from a directory of YAML files
//	--http-port N       public API port
//	--admin-port N      /metrics and /debug/pprof/ port (bound to 127.0.0.1)
//	--skip-unsupported  parts of the spec ogen cannot generate yet, to skip
//	--client NAME=PATH  a service this one calls (its OpenAPI document or its
//	                    service directory): a typed client in
//	                    internal/clients/NAME; repeatable, also on regen
//	--explain           TUTORIAL.md, a code tour in README.md with links to the
//	                    exact lines, newcomer comments in the code (kept on regen)
//
// On a terminal, svcgen new without --yes or --answers asks for what the flags
// did not say, then prints the equivalent non-interactive command so the run
// can be replayed in a script. Without a terminal it never prompts: a missing
// service name or preset is an error naming the flag to pass.
//
// Example:
//
//	svcgen new inventory-service-go --preset read-heavy \
//	    --module github.com/acme/inventory-service-go --features +pool --yes
//	cd inventory-service-go && make test && make run
//
// svcgen new is all or nothing: the service, go.sum included, is written
// and tidied in a temporary directory beside the target and renamed into
// place. Interrupted or failing at any step, it leaves nothing at the
// target and says so.
//
// Errors are printed once, as "svcgen: message", and the exit status is 1;
// a mistyped flag or argument prints the command's usage and exits 2; an
// interrupted command exits 130 and says what it left.
package main

import "os"

func main() { os.Exit(Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
