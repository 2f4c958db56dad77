// Package templates holds the embedded template tree: one folder per
// feature, mirroring the generated service. See README.md.
package templates

import "embed"

// FS is the template tree. "all:" keeps files whose names start with "_" or ".".
//
//go:embed all:*
var FS embed.FS
