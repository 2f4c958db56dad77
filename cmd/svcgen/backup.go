package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/svcgen/svcgen/generator"
)

func newBackupCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "List and restore what regen replaced",
		Long: `Every svcgen run that replaces content it cannot render again (a hand edit
overwritten with --overwrite, a file merged with conflicts, a file with
uncommitted changes under --allow-dirty) first saves it in a backup of its
own under .svcgen/backup/<time>/, with an index saying why. Backups are
never overwritten or pruned by svcgen; delete old ones by hand.`,
	}
	var dir string
	list := &cobra.Command{
		Use:   "list [DIR]",
		Short: "List the backups of a service, oldest first, with their files",
		Args:  maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d := "."
			if len(args) == 1 {
				d = args[0]
			}
			all, err := generator.ListBackups(d)
			if err != nil {
				return err
			}
			if len(all) == 0 {
				fmt.Fprintf(e.stdout, "%s: no backups\n", d)
				return nil
			}
			for _, b := range all {
				when := ""
				if !b.Time.IsZero() {
					when = " " + b.Time.UTC().Format("2006-01-02 15:04:05 UTC")
				}
				cmdline := ""
				if b.Command != "" {
					cmdline = "  (" + b.Command + ")"
				}
				fmt.Fprintf(e.stdout, "%s%s%s\n", b.ID, when, cmdline)
				for _, f := range b.Files {
					fmt.Fprintf(e.stdout, "  %s  %s\n", f.Path, f.Reason)
				}
			}
			return nil
		},
	}
	restore := &cobra.Command{
		Use:   "restore ID [FILE...]",
		Short: "Write a backup's files (all, or those named) back into the service",
		Long: `Write the files of backup ID back where they were. What they replace is
backed up first, so a restore loses nothing either. A restored hand edit of a
generated file makes the next regen stop on it again, as any hand edit.`,
		Example: `  svcgen backup list
  svcgen backup restore 20261203T061512Z
  svcgen backup restore 20261203T061512Z internal/platform/server/server.go --dir services/match`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			restored, saved, err := generator.RestoreBackup(dir, args[0], args[1:], "svcgen "+strings.Join(os.Args[1:], " "))
			for _, p := range restored {
				fmt.Fprintf(e.stdout, "  restored %s\n", p)
			}
			if saved != nil {
				fmt.Fprintf(e.stdout, "backed up the %d file(s) it replaced to %s/\n", len(saved.Files), saved.Dir())
			}
			if err != nil {
				return err
			}
			if len(restored) == 0 {
				fmt.Fprintf(e.stdout, "%s: the files of backup %s are already in place\n", dir, args[0])
			}
			return nil
		},
	}
	restore.Flags().StringVar(&dir, "dir", ".", "the service's directory")
	_ = restore.MarkFlagDirname("dir")
	cmd.AddCommand(list, restore)
	return cmd
}
