package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/outreach-campaign/outreach/internal/keyring"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/outreach-campaign/outreach/internal/config"
	"github.com/outreach-campaign/outreach/internal/letter"
	"github.com/outreach-campaign/outreach/internal/queue"
	"github.com/outreach-campaign/outreach/internal/store"
	"github.com/outreach-campaign/outreach/templates"
)

// env is the outside world a run of the program sees, so that tests can run
// it in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	environ        []string
}

// app holds what the commands share: the configuration, and the store
// opened on first use.
type app struct {
	env
	configPath string
	cfg        config.Config
	st         store.Store
	queue      *queue.Client
	logger     *slog.Logger
	logLevel   slog.Level
	verbose    bool
}

// run executes one command line and returns the exit status.
func run(ctx context.Context, args []string, e env) int {
	a := &app{env: e}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	err := root.ExecuteContext(ctx)
	if a.queue != nil {
		a.queue.Close()
	}
	if a.st != nil {
		if cerr := a.st.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "outreach: %v\n", err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

// usageError is a mistake in the command line rather than a failure.
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "outreach",
		Short: "Run the sister-city letter-writing campaign by e-mail",
		Long: `outreach runs a letter-writing campaign: it asks the mayors of foreign cities
twinned with South Korean local governments to urge their Korean partners to
enforce the law against the dog and cat meat trade.

It keeps the twinning table and the mayors' offices in a store, renders each
office one personalised letter in its language, and prints the campaign status
table.

Settings come from a YAML file (--config, $OUTREACH_CONFIG, or
config/outreach.yaml when it exists) and OUTREACH_... environment variables;
config/outreach.example.yaml documents them all.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if a.verbose {
				a.logLevel = slog.LevelDebug
			}
			return a.loadConfig()
		},
	}
	root.PersistentFlags().StringVar(&a.configPath, "config", "", "settings file (default $OUTREACH_CONFIG, else config/outreach.yaml if present)")
	root.PersistentFlags().BoolVarP(&a.verbose, "verbose", "v", false, "log more (debug level)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		a.importCommand(),
		a.previewCommand(),
		a.statusCommand(),
		a.targetsCommand(),
		a.waveCommand(),
		a.letterCommand(),
		a.workerCommand(),
		a.schedulerCommand(),
		a.runCommand(),
		a.staffCommand(),
		a.serveCommand(),
		a.supportersCommand(),
		a.configCommand(),
		a.pollerCommand(),
		a.repliesCommand(),
		a.devCommand(),
		a.authCommand(),
		a.doctorCommand(),
		a.dkimCommand(),
	)
	return root
}

func (a *app) getenv(key string) string {
	for _, kv := range a.environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

func (a *app) loadConfig() error {
	path := a.configPath
	if path == "" {
		path = a.getenv("OUTREACH_CONFIG")
	}
	if path == "" {
		if _, err := os.Stat("config/outreach.yaml"); err == nil {
			path = "config/outreach.yaml"
		}
	}
	cfg, err := config.Load(path, a.environ)
	if err != nil {
		return err
	}
	a.cfg = cfg
	return nil
}

// store opens the store on first use.
func (a *app) store(ctx context.Context) (store.Store, error) {
	if a.st != nil {
		return a.st, nil
	}
	st, err := store.OpenSQLite(ctx, a.cfg.Store.Path)
	if err != nil {
		return nil, err
	}
	a.st = st
	return st, nil
}

// lettersSecret is letters.secret, or the one generated once and kept in
// the store.
func (a *app) lettersSecret(ctx context.Context) (string, error) {
	if s := a.cfg.Letters.Secret.Value(); s != "" {
		return s, nil
	}
	st, err := a.store(ctx)
	if err != nil {
		return "", err
	}
	return st.GeneratedSecret(ctx, "letters.secret", func() (string, error) {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		return hex.EncodeToString(b), nil
	})
}

// composer builds the letter composer from the settings: the templates
// (checked now), and the signer keyed by the configured secret or by one
// generated once and kept in the store.
func (a *app) composer(ctx context.Context) (*letter.Composer, error) {
	tpl, err := letter.LoadTemplates(templates.FS, a.cfg.Letters.TemplatesDir)
	if err != nil {
		return nil, err
	}
	secret, err := a.lettersSecret(ctx)
	if err != nil {
		return nil, err
	}
	signer, err := letter.NewSigner([]byte(secret), a.cfg.MessageIDDomain(), keyring.SplitSecrets(a.cfg.Letters.PreviousSecrets.Value())...)
	if err != nil {
		return nil, err
	}
	return &letter.Composer{
		Templates: tpl,
		Signer:    signer,
		Org: letter.Organisation{
			Name: a.cfg.Organisation.Name, Address: a.cfg.Organisation.Address, Website: a.cfg.Organisation.Website,
		},
		ReplyTo:    a.cfg.Letters.ReplyTo,
		ReplyToken: a.cfg.Letters.ReplyToken,
		// Letters to an office carry its one-click opt-out, served by
		// "outreach serve" at web.base_url.
		OptOutBase: a.cfg.Web.BaseURL,
	}, nil
}
