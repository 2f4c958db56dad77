// svcgen keeps the lines between "// svcgen:begin" and "// svcgen:end" up
// to date on `svcgen regen`; everything outside them is yours: add your
// settings to Config below svcgen's fields, their defaults in Default and
// their variables in FromEnv, where the comments say.

// Package config reads the service's settings from the environment. Every
// setting has a default taken from the preset the service was generated
// with; the README lists them all.
package config

// svcgen:begin imports
import (
	"os"
)

// svcgen:end imports

// Config is the service's whole configuration.
type Config struct {
	// svcgen:begin fields
	// platform holds svcgen's settings (internal/config/platform.go and
	// one file per feature, generated): cfg.Server, cfg.DB and the
	// features' settings are fields of Config through it.
	platform
	// svcgen:end fields

	// Your settings go here, below svcgen's.
}

// Default returns the configuration used when no variable is set.
func Default() Config {
	// svcgen:begin defaults
	c := Config{platform: defaultPlatform()}
	// svcgen:end defaults

	// Your settings' defaults go here: c.Name = value.
	return c
}

// Load reads the configuration from the process environment.
func Load() (Config, error) { return FromEnv(os.LookupEnv) }

// FromEnv reads the configuration through lookup (os.LookupEnv in Load).
// All bad values are reported at once, each naming the variable, the value
// and the form expected.
func FromEnv(lookup func(string) (string, bool)) (Config, error) {
	// svcgen:begin env
	c := Default()
	r := reader{lookup: lookup}
	c.platform.read(&r)
	// svcgen:end env

	// Read your own variables here, with the reader's methods
	// (internal/config/reader.go):
	// r.str("NAME", &c.Name); r.bad(name, value, want) reports a bad one.

	if err := r.err(); err != nil {
		return Config{}, err
	}
	return c, nil
}
