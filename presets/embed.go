// Package presets holds the embedded preset files: one YAML file a preset.
package presets

import "embed"

// FS holds the preset files, named <preset>.yaml.
//
//go:embed *.yaml
var FS embed.FS
