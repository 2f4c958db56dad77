package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/svcgen/svcgen/cmd/svcgen/internal/wizard"
	"github.com/svcgen/svcgen/generator"
)

// newFlags are the flags of svcgen new.
type newFlags struct {
	module     string
	preset     string
	spec       string
	features   string
	out        string
	answers    string
	presetsDir string
	skip       []string
	clients    []string
	httpPort   int
	adminPort  int
	yes        bool
	dryRun     bool
	noTidy     bool
	explain    bool
}

func newNewCmd(e *env) *cobra.Command {
	f := &newFlags{}
	cmd := &cobra.Command{
		Use:   "new [NAME]",
		Short: "Create a new service",
		Long: `Create a new service from a preset.

On a terminal, without --yes or --answers, a wizard asks for what the flags do
not say and prints the equivalent non-interactive command at the end. Without
a terminal it never prompts: the service name and --preset are required.

The target directory (--out, default ./NAME) must not exist or be empty.

svcgen new is all or nothing: it writes the service, and runs go mod tidy
(unless --no-tidy), in a temporary directory beside the target, then renames
it into place. Interrupted (Ctrl-C, SIGTERM) or failing at any step, it
leaves nothing at the target and says so; a failed go mod tidy prints go's
reason and the command that writes the service without go.sum.`,
		Example: `  svcgen new inventory-service-go --preset read-heavy --yes
  svcgen new matchmaker --preset hot-path --module github.com/acme/matchmaker \
      --spec api.yaml --features +pool,-pgo --yes
  svcgen new --answers answers.yaml --dry-run`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runNew(cmd, e, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.preset, "preset", "", "preset to start from (see 'svcgen presets')")
	fl.StringVar(&f.module, "module", "", "Go module path of the service (default: the service name)")
	fl.StringVar(&f.spec, "spec", "", "OpenAPI 3 document (default: the preset's starter API)")
	fl.StringVar(&f.features, "features", "", "feature changes to the preset, e.g. +pool,-pgo")
	fl.StringVar(&f.out, "out", "", "directory to write the service to (default ./NAME)")
	fl.StringVar(&f.answers, "answers", "", "YAML file with the answers (name, module, preset, features, ...)")
	fl.StringVar(&f.presetsDir, "presets-dir", "", "directory of extra preset YAML files")
	fl.IntVar(&f.httpPort, "http-port", 0, "public API port (default from svcgen)")
	fl.IntVar(&f.adminPort, "admin-port", 0, "admin port for /metrics and /debug/pprof/ (default from svcgen)")
	fl.StringSliceVar(&f.skip, "skip-unsupported", nil, "what ogen cannot generate yet and should skip (names from its error, or \"all\")")
	fl.StringArrayVar(&f.clients, "client", nil, "a service this one calls, NAME=PATH (its OpenAPI document or its service directory); repeatable: a typed client under internal/clients/NAME")
	fl.BoolVarP(&f.yes, "yes", "y", false, "never prompt; a missing answer is an error")
	fl.BoolVar(&f.dryRun, "dry-run", false, "list the files that would be written, write nothing")
	fl.BoolVar(&f.noTidy, "no-tidy", false, "write the service without go.sum: do not run 'go mod tidy' (offline, or a proxy down)")
	fl.BoolVar(&f.explain, "explain", false, "for newcomers: TUTORIAL.md, a code tour with line links in README.md, and comments where to start reading (kept on regen)")
	_ = cmd.MarkFlagFilename("spec", "yaml", "yml", "json")
	_ = cmd.MarkFlagFilename("answers", "yaml", "yml")
	_ = cmd.MarkFlagDirname("out")
	_ = cmd.MarkFlagDirname("presets-dir")
	return cmd
}

func runNew(cmd *cobra.Command, e *env, f *newFlags, args []string) (err error) {
	ctx := cmd.Context()
	dir := ""
	defer func() {
		// Before WriteService, an interrupt (the wizard's Ctrl-C, a signal
		// while ogen runs) has written nothing.
		var ie *generator.InterruptedError
		if err != nil && !errors.As(err, &ie) && (ctx.Err() != nil || errors.Is(err, wizard.ErrInterrupted)) {
			err = &generator.InterruptedError{Dir: dir, Err: err}
		}
	}()
	if err := generator.CheckToolchain(); err != nil {
		return err
	}
	cat, err := generator.LoadCatalog(f.presetsDir)
	if err != nil {
		return err
	}

	// Answers file first, then the command line on top.
	var opts generator.Options
	if f.answers != "" {
		if opts, err = generator.LoadAnswers(f.answers); err != nil {
			return err
		}
	}
	given := map[string]bool{}
	if len(args) == 1 {
		opts.Name = args[0]
		given["name"] = true
	}
	fl := cmd.Flags()
	set := func(flag string, apply func()) {
		if fl.Changed(flag) {
			apply()
			given[flag] = true
		}
	}
	set("module", func() { opts.Module = f.module })
	set("preset", func() { opts.Preset = f.preset })
	set("spec", func() { opts.Spec = f.spec })
	set("features", func() { opts.Features = generator.ParseFeatureFlag(f.features) })
	set("http-port", func() { opts.HTTPPort = f.httpPort })
	set("admin-port", func() { opts.AdminPort = f.adminPort })
	set("skip-unsupported", func() { opts.SkipUnsupported = f.skip })
	// Where an answer came from, for its errors: the flag, or the answers
	// file at the field's line.
	origin := func(field, flag string) string {
		if given[flag] || f.answers == "" {
			return "--" + flag
		}
		return generator.AnswerLine(f.answers, field) + ": " + field
	}
	set("explain", func() { opts.Explain = f.explain })

	if !f.yes && f.answers == "" {
		if p, out, ok := e.prompter(); ok {
			w := &newWizard{p: p, out: out, cat: cat, flags: f, given: given}
			var proceed bool
			if opts, proceed, err = w.run(opts); err != nil || !proceed {
				return err
			}
		}
	}

	// Every answer is known now: check them all before anything costly.
	if opts.Name == "" {
		return errors.New("missing service name: pass it as the first argument or in --answers")
	}
	if opts.Preset == "" {
		return fmt.Errorf("missing --preset (one of: %s)", strings.Join(presetNames(cat), ", "))
	}
	if err := generator.ValidateName(opts.Name); err != nil {
		return err
	}
	preset, err := cat.Preset(opts.Preset)
	if err != nil {
		if given["preset"] || f.answers == "" {
			return err
		}
		return fmt.Errorf("%s: %w", origin("preset", "preset"), err)
	}
	for _, flag := range []string{"http-port", "admin-port"} {
		if v, _ := fl.GetInt(flag); given[flag] && v == 0 {
			return fmt.Errorf("--%s 0: a port is between 1 and 65535 (leave the flag out for the default)", flag)
		}
	}
	opts.Defaults()
	if err := opts.Validate(); err != nil {
		return portFlags(err)
	}
	for _, s := range opts.SkipUnsupported {
		if err := generator.CheckSkipUnsupported(s); err != nil {
			return fmt.Errorf("%s: %w", origin("skip_unsupported", "skip-unsupported"), err)
		}
	}
	// A spec of the user's own replaces the preset's starter API (as
	// Generate does): check the features against the starter it will get.
	check := preset
	if opts.Spec != "" {
		p := *preset
		p.Starter = generator.BlankStarter
		check = &p
	}
	if _, err := cat.ResolveFeatures(check, opts.Features); err != nil {
		return fmt.Errorf("%s: %w", origin("features", "features"), err)
	}
	dir = f.out
	if dir == "" {
		dir = opts.Name
	}
	if err := generator.CheckTarget(dir); err != nil {
		return err
	}
	for _, v := range f.clients {
		c, err := generator.ParseClientFlag(v, dir)
		if err != nil {
			return err
		}
		opts.Clients = generator.MergeClients(opts.Clients, []generator.Client{c})
	}
	clientSpecs, err := generator.ReadClientSpecs(dir, opts.Clients)
	if err != nil {
		return err
	}
	var spec []byte
	if opts.Spec != "" {
		if spec, err = os.ReadFile(opts.Spec); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("%s: %s does not exist: give the path of your OpenAPI document (relative to the current directory), or leave it out for the preset's starter API", origin("spec", "spec"), opts.Spec)
			}
			return fmt.Errorf("%s: %w", origin("spec", "spec"), err)
		}
	}

	res, err := generator.Generate(ctx, generator.Request{Catalog: cat, Spec: spec, Options: opts, Clients: clientSpecs})
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(e.stderr, "svcgen: warning: %s\n", w)
	}
	if f.dryRun {
		generator.DryRun(e.stdout, dir, res)
		return nil
	}
	// Tidy runs inside the temporary tree: an interrupt or a failure at
	// any point leaves nothing at dir, a success the whole service.
	err = generator.WriteService(ctx, dir, res, generator.WriteOptions{Tidy: !f.noTidy, Progress: e.stderr})
	var te *generator.TidyError
	if errors.As(err, &te) {
		noTidy := *f
		noTidy.noTidy = true
		return fmt.Errorf("%w\nfix the cause (network, GOPROXY, GOFLAGS) and run the same command again, or write the service without go.sum:\n  %s\nand run `go mod tidy` in %s when the module proxy answers",
			err, replayCommand(opts, &noTidy), shellQuote(dir))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Created %s in %s: preset %s, %d files, features %s.\n",
		opts.Name, dir, opts.Preset, len(res.Files), strings.Join(res.Features, ", "))
	printNextSteps(e.stdout, dir, f.noTidy)
	if err := ctx.Err(); err != nil {
		// The signal came after the rename: say the service is whole.
		return &generator.InterruptedError{Dir: dir, Complete: true, Err: err}
	}
	return nil
}

// prompter returns the wizard's Prompter and where it draws, when svcgen
// runs on a terminal; ok is false otherwise.
func (e *env) prompter() (p wizard.Prompter, out io.Writer, ok bool) {
	if e.prompt != nil {
		return e.prompt()
	}
	in, isFile := e.stdin.(*os.File)
	if !isFile || !term.IsTerminal(int(in.Fd())) {
		return nil, nil, false
	}
	// Draw on stdout, or on stderr when stdout is redirected.
	for _, w := range []io.Writer{e.stdout, e.stderr} {
		if f, isFile := w.(*os.File); isFile && term.IsTerminal(int(f.Fd())) {
			return wizard.New(in, f, e.stderr), f, true
		}
	}
	return nil, nil, false
}

// portFlags names the ports of a *generator.PortError by their flags.
func portFlags(err error) error {
	var pe *generator.PortError
	if errors.As(err, &pe) {
		return pe.Named(func(field string) string { return "--" + strings.ReplaceAll(field, "_", "-") })
	}
	return err
}

func presetNames(cat *generator.Catalog) []string {
	var names []string
	for _, p := range cat.Presets() {
		names = append(names, p.Name)
	}
	return names
}

func printNextSteps(w io.Writer, dir string, noTidy bool) {
	cd := dir
	if !filepath.IsAbs(dir) {
		cd = filepath.Clean(dir)
	}
	fmt.Fprintf(w, "\nNext steps:\n  cd %s\n", shellQuote(cd))
	if noTidy {
		fmt.Fprintln(w, "  go mod tidy")
	}
	fmt.Fprintln(w, "  make test    # unit and integration tests (Postgres and Redis from compose.yaml)")
	fmt.Fprintln(w, "  make run")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=+,@%", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
