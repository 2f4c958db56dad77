package generator

import (
	"context"
	"io"
)

// Version is svcgen's version, set at build time with
// -ldflags "-X github.com/svcgen/svcgen/generator.Version=v1.2.3".
var Version = "v0.1.0-dev"

// Request is everything Generate needs. It is read, never changed.
type Request struct {
	// Catalog holds the presets and features to choose from.
	Catalog *Catalog
	// Spec is the user's OpenAPI document; nil means the preset's starter.
	Spec []byte
	// Options are the resolved answers. Options.Spec names Spec's file in
	// error messages.
	Options Options
}

// Result is the rendered service.
type Result struct {
	// Files are all output files, sorted by path; the manifest is one of them.
	Files []File
	// Features are the enabled features after the preset, the overrides and
	// the dependencies between features were applied, sorted.
	Features []string
	// Operations are the spec's operations.
	Operations []Operation
}

// Preset is one preset file.
type Preset struct {
	// Name is the preset's name (its file name without .yaml).
	Name string `yaml:"name" json:"name"`
	// Description says what the preset is for.
	Description string `yaml:"description" json:"description"`
	// Starter names the starter API (templates/starters/<starter>).
	Starter string `yaml:"starter" json:"starter"`
	// Features are the features the preset turns on.
	Features []string `yaml:"features" json:"features"`
	// Params are the parameters the features read.
	Params Params `yaml:"params" json:"params"`
	// Source is where the preset was read from ("presets/hot-path.yaml").
	Source string `yaml:"-" json:"-"`
}

// Feature is one feature folder's feature.yaml.
type Feature struct {
	Name      string   `yaml:"-" json:"name"`
	Summary   string   `yaml:"summary" json:"summary"`
	Requires  []string `yaml:"requires" json:"requires,omitempty"`
	Conflicts []string `yaml:"conflicts" json:"conflicts,omitempty"`
	Modules   []Module `yaml:"modules" json:"modules,omitempty"`
	Scaffold  []string `yaml:"scaffold" json:"scaffold,omitempty"`
	Merged    []string `yaml:"merged" json:"merged,omitempty"`
}

// Catalog is the set of presets and features svcgen knows: the embedded ones
// plus a team's own presets directory.
type Catalog struct {
	presets  map[string]*Preset
	features map[string]*Feature
}

// LoadCatalog reads the embedded presets and features, then the presets in
// dir (when dir is not empty), which may add presets or replace embedded
// ones by name. Errors name file:line and field.
func LoadCatalog(dir string) (*Catalog, error) { panic("todo") }

// Presets returns the presets sorted by name.
func (c *Catalog) Presets() []*Preset { panic("todo") }

// Preset returns the named preset, or an error listing the known ones (with
// a did-you-mean).
func (c *Catalog) Preset(name string) (*Preset, error) { panic("todo") }

// Features returns the features sorted by name.
func (c *Catalog) Features() []*Feature { panic("todo") }

// ResolveFeatures applies overrides ("+a", "-b", or "a" meaning "+a") to the
// preset's feature list and closes it over requires; errors name the unknown
// feature with a did-you-mean, and conflicts.
func (c *Catalog) ResolveFeatures(preset *Preset, overrides []string) ([]string, error) {
	panic("todo")
}

// ParseFeatureFlag splits a --features value "+cache3,-pool" into its items.
func ParseFeatureFlag(s string) []string { panic("todo") }

// LoadAnswers reads an answers file (YAML, the Options struct). Unknown
// fields and bad values are errors with file:line.
func LoadAnswers(path string) (Options, error) { panic("todo") }

// ValidateName checks a service name: kebab-case, starts with a letter, at
// most 63 characters (a Kubernetes DNS label). The error says what is wrong
// and suggests a valid form.
func ValidateName(name string) error { panic("todo") }

// ValidateModule checks a Go module path.
func ValidateModule(path string) error { panic("todo") }

// Defaults fills the zero fields of o: Module from Name, ports.
func (o *Options) Defaults() { panic("todo") }

// CheckToolchain reports a clear error when the go command is not on PATH
// (ogen's formatting and go mod tidy need it).
func CheckToolchain() error { panic("todo") }

// Generate renders a service. It is pure: no disk, no network.
func Generate(ctx context.Context, req Request) (Result, error) { panic("todo") }

// Write puts res into dir atomically: every file is written into a temporary
// directory beside dir, which is then renamed into place. dir must not
// exist or be empty; otherwise the error says so and nothing is written.
func Write(dir string, res Result) error { panic("todo") }

// DryRun prints what Write would write: one line per file with its class and
// size, then a summary.
func DryRun(w io.Writer, dir string, res Result) { panic("todo") }

// Tidy runs `go mod tidy` in dir, printing a progress line to progress.
func Tidy(ctx context.Context, dir string, progress io.Writer) error { panic("todo") }
