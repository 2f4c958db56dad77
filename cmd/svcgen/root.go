package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/svcgen/svcgen/cmd/svcgen/internal/wizard"
	"github.com/svcgen/svcgen/generator"
)

// Exit statuses of Run.
const (
	exitOK          = 0
	exitError       = 1   // the command failed
	exitUsage       = 2   // bad flags or arguments
	exitInternal    = 70  // a bug in svcgen (a recovered panic)
	exitInterrupted = 130 // Ctrl-C in the wizard or a signal
)

// env is what every command reads and writes besides its flags.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// prompt, when not nil, replaces the terminal check and the survey
	// prompter (tests drive the wizard through it).
	prompt func() (p wizard.Prompter, out io.Writer, ok bool)
	// ctx, when not nil, is the parent of the signal context (tests
	// cancel it to interrupt a command at a chosen point).
	ctx context.Context
}

// usageError is a mistake in the command line itself: Run prints the
// command's usage after it.
type usageError struct {
	cmd *cobra.Command
	err error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// Run runs svcgen with args (without the program name) and returns the exit
// status. It prints every error once, on stderr, prefixed with "svcgen: ".
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return run(&env{stdin: stdin, stdout: stdout, stderr: stderr}, args)
}

func run(e *env, args []string) (code int) {
	stderr := e.stderr
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "svcgen: internal error: %v\n", r)
			if os.Getenv("SVCGEN_DEBUG") != "" {
				fmt.Fprintf(stderr, "%s", debug.Stack())
			} else {
				fmt.Fprintln(stderr, "svcgen: this is a bug; please report it (SVCGEN_DEBUG=1 shows where it happened)")
			}
			code = exitInternal
		}
	}()

	parent := e.ctx
	if parent == nil {
		parent = context.Background()
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()

	root := newRootCmd(e)
	root.SetArgs(args)
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)

	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ue *usageError
	var ie *generator.InterruptedError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "svcgen: %v\n", err)
		fmt.Fprint(stderr, ue.cmd.UsageString())
		return exitUsage
	case errors.As(err, &ie):
		// It says what the interrupt left: nothing, or the whole service.
		fmt.Fprintf(stderr, "svcgen: %v\n", ie)
		return exitInterrupted
	case errors.Is(err, wizard.ErrInterrupted), ctx.Err() != nil:
		fmt.Fprintln(stderr, "svcgen: interrupted")
		return exitInterrupted
	}
	fmt.Fprintf(stderr, "svcgen: %v\n", err)
	var se *generator.SpecError
	if errors.As(err, &se) && se.Listing != "" {
		// ogen's listing of the spec around the fault.
		fmt.Fprintf(stderr, "\n%s\n", strings.TrimRight(se.Listing, "\n"))
	}
	var fe *generator.FormatError
	if errors.As(err, &fe) {
		// Keep the text that did not compile for inspection.
		if f, ferr := os.CreateTemp("", "svcgen-*-"+filepath.Base(fe.Path)+".dump"); ferr == nil {
			_, _ = f.Write(fe.Source)
			_ = f.Close()
			fmt.Fprintf(stderr, "svcgen: the unformatted output is in %s\n", f.Name())
		}
	}
	return exitError
}

func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "svcgen",
		Short: "Generate Go microservices from performance presets",
		Long: `svcgen generates Go microservices from performance presets: typed OpenAPI
handlers (ogen) on http.ServeMux, deadlines, a tuned DB pool, caches, batch
queries, PGO and profiling, chosen by a preset and per-feature overrides.`,
		Example: `  svcgen new inventory-service-go --preset read-heavy --yes
  svcgen presets show realtime`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          subcommandsOnly,
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.SuggestionsMinimumDistance = 2
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &usageError{cmd: cmd, err: err}
	})
	root.AddCommand(newNewCmd(e), newRegenCmd(e), newCheckCmd(e), newFleetCmd(e), newAuditCmd(e), newAdoptCmd(e), newMigrateCmd(e), newBackupCmd(e), newPresetsCmd(e), newExplainCmd(e), newTutorialCmd(e), newVersionCmd(e))
	return root
}

// subcommandsOnly is the Args check of a command that only groups
// subcommands: an unknown one is a usage error, with a suggestion.
func subcommandsOnly(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %q?)", s[0])
	}
	return &usageError{cmd: cmd, err: errors.New(msg)}
}

// exactArgs and maxArgs are cobra's argument checks, reported as usage errors.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return &usageError{cmd: cmd, err: err}
		}
		return nil
	}
}

func maxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.MaximumNArgs(n)(cmd, args); err != nil {
			return &usageError{cmd: cmd, err: err}
		}
		return nil
	}
}
