package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/outreach-campaign/outreach/internal/config"
)

func (a *app) configCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show the settings in effect",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "show",
		Short: "Print the settings in effect as YAML, secrets hidden",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.cfg.Dump(a.stdout)
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "env",
		Short: "List the environment variables that override settings",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(a.stdout, strings.Join(config.Keys(), "\n"))
			return nil
		},
	})
	return cmd
}
