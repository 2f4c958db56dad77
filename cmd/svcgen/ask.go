package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/svcgen/svcgen/cmd/svcgen/internal/wizard"
	"github.com/svcgen/svcgen/generator"
)

// newWizard asks svcgen new's questions on a terminal. It fills the same
// generator.Options the flags and an answers file fill.
type newWizard struct {
	p     wizard.Prompter
	out   io.Writer
	cat   *generator.Catalog
	flags *newFlags
	// given are the answers the command line already gave ("name" and flag
	// names); the wizard does not ask them again.
	given map[string]bool
}

// run asks every question not answered yet, prints the equivalent
// non-interactive command, and asks whether to go on.
func (w *newWizard) run(opts generator.Options) (_ generator.Options, proceed bool, err error) {
	if !w.given["name"] {
		if opts.Name, err = w.p.Input("Service name (kebab-case)", opts.Name, w.validateName); err != nil {
			return opts, false, err
		}
	}
	def := defaultsFor(opts.Name)
	if !w.given["module"] {
		if opts.Module, err = w.p.Input("Go module path", def.Module, generator.ValidateModule); err != nil {
			return opts, false, err
		}
	}
	if !w.given["preset"] {
		describe := func(name string) string {
			if p, err := w.cat.Preset(name); err == nil {
				return p.Description
			}
			return ""
		}
		if opts.Preset, err = w.p.Select("Preset", presetNames(w.cat), opts.Preset, describe); err != nil {
			return opts, false, err
		}
	}
	preset, err := w.cat.Preset(opts.Preset)
	if err != nil {
		return opts, false, err
	}
	if !w.given["features"] {
		if opts.Features, err = w.askFeatures(preset, opts.Features); err != nil {
			return opts, false, err
		}
	}
	if !w.given["spec"] {
		msg := "OpenAPI spec file (empty: the starter API)"
		if preset.Starter != "" {
			msg = fmt.Sprintf("OpenAPI spec file (empty: the %s starter API)", preset.Starter)
		}
		if opts.Spec, err = w.p.Input(msg, opts.Spec, validateSpecPath); err != nil {
			return opts, false, err
		}
		opts.Spec = strings.TrimSpace(opts.Spec)
	}
	if !w.given["http-port"] {
		if opts.HTTPPort, err = w.askPort("HTTP port", def.HTTPPort, 0); err != nil {
			return opts, false, err
		}
	}
	if !w.given["admin-port"] {
		if opts.AdminPort, err = w.askPort("Admin port (/metrics, /debug/pprof/)", def.AdminPort, opts.HTTPPort); err != nil {
			return opts, false, err
		}
	}

	fmt.Fprintf(w.out, "\nTo do the same again without questions:\n  %s\n\n", replayCommand(opts, w.flags))
	dir := w.flags.out
	if dir == "" {
		dir = opts.Name
	}
	verb := "Generate"
	if w.flags.dryRun {
		verb = "Dry-run"
	}
	proceed, err = w.p.Confirm(fmt.Sprintf("%s %s into %s?", verb, opts.Name, dir), true)
	if err == nil && !proceed {
		fmt.Fprintln(w.out, "Nothing written.")
	}
	return opts, proceed, err
}

func (w *newWizard) validateName(name string) error {
	if err := generator.ValidateName(name); err != nil {
		return err
	}
	if w.flags.out == "" {
		return generator.CheckTarget(name)
	}
	return nil
}

// askFeatures shows every feature, the preset's (with overrides applied)
// checked, and turns the choice back into overrides of the preset. It asks
// again while the choice is invalid (a conflict).
func (w *newWizard) askFeatures(preset *generator.Preset, overrides []string) ([]string, error) {
	var names []string
	summaries := map[string]string{}
	for _, f := range w.cat.Features() {
		names = append(names, f.Name)
		summaries[f.Name] = f.Summary
	}
	checked := generator.ApplyFeatureOverrides(preset.Features, overrides)
	for {
		chosen, err := w.p.MultiSelect("Features (space toggles, enter accepts)", names, checked,
			func(name string) string { return summaries[name] })
		if err != nil {
			return nil, err
		}
		over := generator.FeatureOverrides(preset.Features, chosen)
		if _, err := w.cat.ResolveFeatures(preset, over); err != nil {
			fmt.Fprintf(w.out, "✘ %v\n", err)
			checked = chosen
			continue
		}
		return over, nil
	}
}

func (w *newWizard) askPort(msg string, def, other int) (int, error) {
	s, err := w.p.Input(msg, strconv.Itoa(def), func(s string) error {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		switch {
		case err != nil || n < 1 || n > 65535:
			return errors.New("a port is a number between 1 and 65535")
		case n == other:
			return fmt.Errorf("%d is the HTTP port; the admin port needs its own", n)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(s))
}

func validateSpecPath(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	fi, err := os.Stat(s)
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", s, errors.Unwrap(err))
	}
	if fi.IsDir() {
		return fmt.Errorf("%s is a directory; give the OpenAPI file", s)
	}
	return nil
}

// defaultsFor returns the options svcgen would choose for a service name.
func defaultsFor(name string) generator.Options {
	o := generator.Options{Name: name}
	o.Defaults()
	return o
}

// replayCommand is the svcgen new command line that gives opts without a
// single question.
func replayCommand(opts generator.Options, f *newFlags) string {
	args := []string{"svcgen", "new", opts.Name, "--preset", opts.Preset, "--module", opts.Module}
	if len(opts.Features) > 0 {
		v := strings.Join(opts.Features, ",")
		if strings.HasPrefix(v, "-") {
			args = append(args, "--features="+v) // not to be read as a flag
		} else {
			args = append(args, "--features", v)
		}
	}
	if opts.Spec != "" {
		args = append(args, "--spec", opts.Spec)
	}
	def := defaultsFor(opts.Name)
	if opts.HTTPPort != 0 && opts.HTTPPort != def.HTTPPort {
		args = append(args, "--http-port", strconv.Itoa(opts.HTTPPort))
	}
	if opts.AdminPort != 0 && opts.AdminPort != def.AdminPort {
		args = append(args, "--admin-port", strconv.Itoa(opts.AdminPort))
	}
	if len(opts.SkipUnsupported) > 0 {
		args = append(args, "--skip-unsupported", strings.Join(opts.SkipUnsupported, ","))
	}
	out := f.out
	if out == "" {
		out = opts.Name
	}
	for _, c := range opts.Clients {
		// Recorded relative to the service; the command runs beside it.
		args = append(args, "--client", c.Name+"="+filepath.ToSlash(filepath.Join(out, filepath.FromSlash(c.Spec))))
	}
	for _, s := range []struct{ flag, v string }{{"--out", f.out}, {"--presets-dir", f.presetsDir}} {
		if s.v != "" {
			args = append(args, s.flag, s.v)
		}
	}
	if opts.Explain {
		args = append(args, "--explain")
	}
	if f.dryRun {
		args = append(args, "--dry-run")
	}
	if f.noTidy {
		args = append(args, "--no-tidy")
	}
	args = append(args, "--yes")
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ")
}
