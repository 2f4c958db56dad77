// Package generator is svcgen's engine: resolved answers in, files out.
//
// Generate is a pure function: it reads nothing from disk and writes nothing.
// The writer in this package applies a Result to a directory atomically, prints
// it as a dry run, or compares it with what is on disk.
package generator

import "time"

// Class is the ownership class of an output file: it decides what
// regeneration may do with the file.
type Class string

const (
	// Generated files are owned by svcgen and overwritten on regeneration.
	Generated Class = "generated"
	// Scaffold files are written once and belong to the user afterwards.
	Scaffold Class = "scaffold"
	// Merged files are shared: regeneration three-way merges them.
	Merged Class = "merged"
)

// File is one output file.
type File struct {
	// Path is slash-separated and relative to the service root.
	Path string
	// Template is the template (or producer, such as "ogen") it came from,
	// for error messages and explain output.
	Template string
	// Class is the file's ownership class.
	Class Class
	// Content is the file's bytes, formatted where it is Go.
	Content []byte
	// Mode is the file mode to write with (0o644 unless executable).
	Mode uint32
}

// Options are the resolved answers for one service. The wizard, the flags,
// an answers file and the manifest all fill this one struct.
type Options struct {
	// Name is the service name, kebab-case, e.g. "inventory-service-go".
	Name string `yaml:"name" json:"name"`
	// Module is the Go module path of the service.
	Module string `yaml:"module" json:"module"`
	// Preset names the preset the service starts from.
	Preset string `yaml:"preset" json:"preset"`
	// Features are changes to the preset's feature list: "+name" adds,
	// "-name" removes.
	Features []string `yaml:"features,omitempty" json:"features,omitempty"`
	// Spec is the path of the OpenAPI document the user supplied, as given;
	// empty means the preset's starter spec.
	Spec string `yaml:"spec,omitempty" json:"spec,omitempty"`
	// HTTPPort is the public port the API listens on.
	HTTPPort int `yaml:"http_port,omitempty" json:"http_port,omitempty"`
	// AdminPort serves /metrics and /debug/pprof/ (bound to 127.0.0.1 by default).
	AdminPort int `yaml:"admin_port,omitempty" json:"admin_port,omitempty"`
	// SkipUnsupported names what ogen cannot generate yet and should skip
	// instead of failing (ogen's names, as printed in the error; "all" skips
	// everything unsupported). Skipped operations get no handler.
	SkipUnsupported []string `yaml:"skip_unsupported,omitempty" json:"skip_unsupported,omitempty"`
	// Explain adds TUTORIAL.md, a feature tour in README.md with links to
	// the exact lines, and short comments where a newcomer reads first.
	Explain bool `yaml:"explain,omitempty" json:"explain,omitempty"`
	// Clients are the other services this one calls: each gets a typed
	// client under internal/clients/<name>, regenerated from its spec.
	Clients []Client `yaml:"clients,omitempty" json:"clients,omitempty"`
}

// Duration is a time.Duration that reads and writes as "50ms" in YAML.
type Duration time.Duration
