package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/outreach-campaign/outreach/internal/auth"
)

func (a *app) staffCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "staff",
		Short: "Manage the staff accounts of the web UI and API tokens",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "add EMAIL",
		Short: "Create a staff account (asks for its password)",
		Long: `Create a staff account for the web UI. The password is asked for twice on a
terminal, or read as one line from standard input otherwise (for scripts). It
must be at least 10 characters long; it is stored as a bcrypt hash.`,
		Args: exactArgs(1, "EMAIL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := a.auth(cmd)
			if err != nil {
				return err
			}
			pw, err := a.readNewPassword()
			if err != nil {
				return err
			}
			st, err := svc.AddStaff(cmd.Context(), args[0], pw)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "staff account %s created\n", st.Email)
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "passwd EMAIL",
		Short: "Set a staff member's password (ends their sessions)",
		Args:  exactArgs(1, "EMAIL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := a.auth(cmd)
			if err != nil {
				return err
			}
			pw, err := a.readNewPassword()
			if err != nil {
				return err
			}
			if err := svc.SetPassword(cmd.Context(), args[0], pw); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "password of %s changed\n", args[0])
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List staff accounts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			list, err := st.StaffList(cmd.Context())
			if err != nil {
				return err
			}
			for _, s := range list {
				fmt.Fprintf(a.stdout, "%s\t(since %s)\n", s.Email, s.CreatedAt.Local().Format("2006-01-02"))
			}
			return nil
		},
	})
	cmd.AddCommand(a.tokenCommand())
	return cmd
}

func (a *app) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "API tokens, for scripts calling the JSON API",
	}
	var staff, expires string
	create := &cobra.Command{
		Use:   "create NAME --staff EMAIL [--expires 90d]",
		Short: "Create an API token acting for a staff member; it is printed once",
		Long: `Create an API token acting for a staff member; it is printed once and only
its hash is kept. It lasts 90 days unless --expires says otherwise (at most
366 days), and a new password for the staff member revokes it.`,
		Args: exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if staff == "" {
				return usagef("--staff EMAIL is required")
			}
			svc, err := a.auth(cmd)
			if err != nil {
				return err
			}
			st, err := svc.Store.StaffByEmail(cmd.Context(), staff)
			if err != nil {
				return err
			}
			var ttl time.Duration
			if expires != "" {
				if ttl, err = parseAfter(expires); err != nil {
					return usagef("--expires: %v", err)
				}
			}
			token, t, err := svc.CreateAPIToken(cmd.Context(), args[0], st.ID, ttl)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "API token %q for %s, valid until %s (shown once; send it as \"Authorization: Bearer TOKEN\"):\n",
				args[0], st.Email, t.ExpiresAt.Local().Format("2006-01-02 15:04"))
			fmt.Fprintln(a.stdout, token)
			return nil
		},
	}
	create.Flags().StringVar(&staff, "staff", "", "the staff member the token acts for")
	create.Flags().StringVar(&expires, "expires", "", "how long the token lasts (90d, 12w, 36h; default 90d, at most 366d)")
	cmd.AddCommand(create)
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List API tokens by name",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			list, err := st.APITokens(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSTAFF\tCREATED\tEXPIRES\tLAST USED")
			for _, t := range list {
				who := fmt.Sprint(t.StaffID)
				if s, err := st.StaffByID(cmd.Context(), t.StaffID); err == nil {
					who = s.Email
				}
				used := "never"
				if !t.LastUsedAt.IsZero() {
					used = t.LastUsedAt.Local().Format("2006-01-02 15:04")
				}
				expiry := t.ExpiresAt.Local().Format("2006-01-02 15:04")
				if !t.ExpiresAt.After(time.Now()) {
					expiry += " (expired)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Name, who, t.CreatedAt.Local().Format("2006-01-02 15:04"), expiry, used)
			}
			return tw.Flush()
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "revoke NAME",
		Short: "Revoke an API token",
		Args:  exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			if err := st.RevokeAPIToken(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "API token %q revoked\n", args[0])
			return nil
		},
	})
	return cmd
}

// auth returns the login service on the store.
func (a *app) auth(cmd *cobra.Command) (*auth.Service, error) {
	st, err := a.store(cmd.Context())
	if err != nil {
		return nil, err
	}
	return auth.NewService(st), nil
}

// readNewPassword asks for a password twice on a terminal, or reads one
// line from standard input.
func (a *app) readNewPassword() (string, error) {
	if f, ok := a.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(a.stderr, "Password: ")
		one, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(a.stderr, "Again: ")
		two, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.stderr)
		if err != nil {
			return "", err
		}
		if string(one) != string(two) {
			return "", errors.New("the two passwords differ")
		}
		return string(one), auth.CheckPassword(string(one))
	}
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no password on standard input")
	}
	pw := strings.TrimRight(line, "\r\n")
	return pw, auth.CheckPassword(pw)
}
