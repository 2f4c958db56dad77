// Command svcgen-vet runs svcgen audit's checks under go vet:
//
//	go build -o bin/svcgen-vet github.com/svcgen/svcgen/cmd/svcgen-vet
//	go vet -vettool=$PWD/bin/svcgen-vet ./...
//
// It reports the findings `svcgen audit` lists as file:line evidence
// (dbpool, timeouts, batch, cache, pooling, router, alignment, resources,
// goroutines), package by package, with the facts one package learns
// about another (this helper queries the DB) passed along as go vet
// passes them. Each check can be turned on alone (-batch) or off
// (-batch=false); -alignment.all adds fieldalignment's pointer-bytes
// notes. The fleet report, the scores and --fix are svcgen audit's.
package main

import (
	"golang.org/x/tools/go/analysis/unitchecker"

	"github.com/svcgen/svcgen/generator/audit"
)

func main() { unitchecker.Main(audit.Analyzers...) }
