// Command fieldalignment runs the fieldalignment analyzer of
// golang.org/x/tools at the version svcgen pins; the matrix tests run it on
// every generated service.
package main

import (
	"golang.org/x/tools/go/analysis/passes/fieldalignment"
	"golang.org/x/tools/go/analysis/singlechecker"
)

func main() { singlechecker.Main(fieldalignment.Analyzer) }
