package generator

// Version is svcgen's version, set at build time with
// -ldflags "-X github.com/svcgen/svcgen/generator.Version=v1.2.3".
var Version = "v0.1.0-dev"

// Request is everything Generate needs. It is read, never changed.
type Request struct {
	// Catalog holds the presets and features to choose from.
	Catalog *Catalog
	// Spec is the user's OpenAPI document; nil means the preset's starter.
	Spec []byte
	// Options are the resolved answers.
	Options Options
	// SpecName names Spec's file in error messages; Options.Spec when empty.
	SpecName string
	// FromStarter says the service began with the preset's starter spec:
	// its starter files (store, tests, helpers) stay part of the render
	// after the team has edited the spec.
	FromStarter bool
	// Starter is the starter API the service began with; regen passes the
	// recorded one so a preset switch keeps the service's store and tests
	// (the new preset's starter may be another). Empty: the preset's.
	Starter string
	// Adopt are packages of templates/adopt to render besides the
	// preset's features (svcgen adopt's "httpmw", "sqlpool").
	Adopt []string
	// API, when its Key matches this render's, is ogen's output from the
	// last generation, used instead of running ogen again (regen and check
	// of an unchanged spec).
	API *APIFiles
	// Clients are the specs of Options.Clients by client name, read by
	// the caller (ReadClientSpecs): Generate reads no disk.
	Clients map[string]ClientSpec
	// AdoptSpec is the OpenAPI document of an adopted service whose API
	// svcgen serves through ogen (Adoption.API): its ogen package, handler
	// skeleton and mount are rendered from it under AdoptAPIDir. Nil
	// otherwise.
	AdoptSpec []byte
	// AdoptSpecName names AdoptSpec's file in error messages.
	AdoptSpecName string
	// AdoptAPI is the adopted API's ogen package from the last
	// generation, reused while its key matches.
	AdoptAPI *APIFiles
}

// APIFiles is ogen's output of a previous generation.
type APIFiles struct {
	// Files are internal/api's files by base name.
	Files map[string][]byte
	// Key identifies ogen's input (spec, options, ogen version), as
	// recorded in the manifest.
	Key string
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
	// Warnings are things the user should know, such as parts of the spec
	// ogen skipped on request.
	Warnings []string
	// AdoptAPIKey identifies ogen's input of the adopted API (Request.AdoptSpec);
	// "" without one.
	AdoptAPIKey string
	// AdoptOperations are the operations of Request.AdoptSpec.
	AdoptOperations []Operation
}

// Preset is one preset file.
type Preset struct {
	// Name is the preset's name (its file name without .yaml).
	Name string `yaml:"name" json:"name"`
	// Description says what the preset is for.
	Description string `yaml:"description" json:"description"`
	// Extends names a preset this one starts from: its features and params
	// are inherited, and what this file sets replaces them.
	Extends string `yaml:"extends,omitempty" json:"extends,omitempty"`
	// Starter names the starter API (templates/starters/<starter>).
	Starter string `yaml:"starter" json:"starter"`
	// Features are the features the preset turns on.
	Features []string `yaml:"features" json:"features"`
	// Params are the parameters the features read, as this file (and the
	// presets it extends) set them. A field the preset leaves out takes its
	// feature's default (the params block of templates/<feature>/feature.yaml);
	// Catalog.Params merges the two.
	Params Params `yaml:"params" json:"params"`
	// Source is where the preset was read from ("presets/hot-path.yaml").
	Source string `yaml:"-" json:"-"`
	// sources are the params blocks as written, the extended presets'
	// first: merged over the features' defaults, field by field.
	sources []paramSource
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
	// Generated are output globs that stay svcgen's inside a scaffold
	// glob (internal/handler/errors.go in the team's internal/handler).
	Generated []string `yaml:"generated" json:"generated,omitempty"`
	// Packages are the platform packages the feature ships: directories of
	// svcgen's platform/ tree (real Go, tested in place), copied into the
	// service's internal/platform/ with their imports rewritten. Class
	// generated.
	Packages []string `yaml:"packages" json:"packages,omitempty"`
	// Files are the folder's templates that are rendered only for some
	// services, or whose class differs from the globs': a predicate on the
	// starter, the features and the spec per template.
	Files []FileRule `yaml:"files,omitempty" json:"files,omitempty"`
	// ConfigRank places the feature's settings (internal/config/<feature>.go)
	// in the generated platform struct, so that it passes fieldalignment:
	// 0 (the default) before the platform's own fields; 1 to 999 after
	// them, by rank (the settings ending in the most non-pointer bytes get
	// the highest); 1000 and above for settings without pointers, at the
	// end.
	ConfigRank int `yaml:"config_rank,omitempty" json:"config_rank,omitempty"`
	// Params are the feature's defaults for the parameters its templates
	// read, in a preset's params shape. A preset's params replace them
	// field by field; a field is defaulted by one folder only.
	Params Params `yaml:"params,omitempty" json:"params,omitempty"`
	// Explain is the feature's explain.md: what it solves, what tunes it and
	// how to see it working (`svcgen explain`); empty when the folder has none.
	Explain string `yaml:"-" json:"-"`
	// dir is the feature's folder in the template tree.
	dir string
	// defaults is the params block as written, nil when there is none.
	defaults *paramSource
}
