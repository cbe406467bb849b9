package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go, no cgo)
)

//go:embed migrations/*.sql
var migrations embed.FS

// SQLite is the Store kept in one SQLite file.
type SQLite struct {
	// db serves reads, on several connections. wdb serves writes, on one:
	// SQLite lets one writer in at a time, and waiting for the lock in Go
	// is far cheaper than SQLite's busy handler, which sleeps.
	db, wdb *sql.DB
	// rq and wq cache prepared statements for db and wdb.
	rq, wq *stmtCache
	// ops feeds the goroutine that runs all writes (see inTx); closing
	// stops it, and stopped is closed when it has.
	ops              chan writeOp
	closing, stopped chan struct{}
	// Now returns the current time; tests replace it.
	Now func() time.Time
}

var _ Store = (*SQLite)(nil)

// OpenSQLite opens (creating if needed) the database file at path and
// applies the migrations it has not seen yet. The path ":memory:" gives a
// private in-memory database, for tests.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	if path != ":memory:" {
		if err := privateFile(path); err != nil {
			return nil, err
		}
	}
	q := url.Values{}
	// WAL lets readers go on while a worker writes; busy_timeout makes a
	// second writer wait for the lock rather than fail; immediate
	// transactions take the write lock up front, so two read-then-write
	// transactions cannot deadlock on the upgrade.
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	wdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	s := &SQLite{db: wdb, wdb: wdb, Now: time.Now}
	// Each connection to ":memory:" is a database of its own: there, one
	// connection does everything.
	if path != ":memory:" {
		if s.db, err = sql.Open("sqlite", dsn); err != nil {
			wdb.Close()
			return nil, fmt.Errorf("store: open %s: %w", path, err)
		}
	}
	s.rq, s.wq = newStmtCache(s.db), newStmtCache(s.wdb)
	if s.db == s.wdb {
		s.rq = s.wq
	}
	s.ops, s.closing, s.stopped = make(chan writeOp), make(chan struct{}), make(chan struct{})
	go s.writeLoop()
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: migrate %s: %w", path, err)
	}
	return s, nil
}

// privateFile makes the database file readable by its owner alone before
// SQLite opens it (SQLite gives its -wal and -shm files the database's
// permissions): it holds supporters' addresses and staff's password
// hashes. A directory it creates is its owner's alone too; files left
// readable by an older version are tightened.
func privateFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("store: create directory for %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("store: open %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, 0o600); err != nil {
				return fmt.Errorf("store: make %s private: %w", p, err)
			}
		}
	}
	return nil
}

// reader runs reads outside transactions.
func (s *SQLite) reader() queryer { return dbQueryer{s.rq} }

// Close closes the database.
func (s *SQLite) Close() error {
	if s.closing != nil {
		close(s.closing)
		<-s.stopped
	}
	if s.rq != nil {
		s.rq.close()
		s.wq.close()
	}
	if s.db == s.wdb {
		return s.wdb.Close()
	}
	return errors.Join(s.db.Close(), s.wdb.Close())
}

// migrate applies every embedded migration not yet recorded, each in the
// transaction that records it, in file-name order.
func (s *SQLite) migrate(ctx context.Context) error {
	if _, err := s.wdb.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		version := strings.TrimSuffix(filepath.Base(name), ".sql")
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		err = s.plainTx(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, version, s.stamp())
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// plainTx runs fn in a transaction of its own, outside the write batches
// and the statement cache: for migrations, whose scripts are run once.
func (s *SQLite) plainTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// inTx runs fn in a transaction, committing if it returns nil.
//
// Writes are group-committed: one goroutine takes the write operations
// waiting at the moment and runs them in one transaction, each in a
// savepoint of its own so that one that fails is undone alone. inTx returns
// once its operation is committed (or failed), so each caller still sees
// an ordinary transaction; a busy worker pool pays for one commit per batch
// instead of one per letter.
func (s *SQLite) inTx(ctx context.Context, fn func(tx queryer) error) error {
	op := writeOp{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case s.ops <- op:
	case <-s.closing:
		return errors.New("store: closed")
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once taken, the operation runs to its end: waiting for it keeps the
	// caller from reporting a failure for a write that then commits.
	return <-op.done
}

type writeOp struct {
	ctx  context.Context
	fn   func(queryer) error
	done chan error
}

// maxBatch bounds the operations committed together.
const maxBatch = 64

// writeLoop runs write operations in batches until the store closes.
func (s *SQLite) writeLoop() {
	defer close(s.stopped)
	for {
		var op writeOp
		select {
		case op = <-s.ops:
		case <-s.closing:
			return
		}
		batch := []writeOp{op}
	more:
		for len(batch) < maxBatch {
			select {
			case op := <-s.ops:
				batch = append(batch, op)
			default:
				break more
			}
		}
		s.runBatch(batch)
	}
}

func (s *SQLite) runBatch(batch []writeOp) {
	errs := make([]error, len(batch))
	var missed []string
	defer func() {
		for i, op := range batch {
			op.done <- errs[i]
		}
		// Statements first met in this batch are prepared now that the
		// connection is free, for the next batches.
		for _, q := range missed {
			s.wq.prepare(context.Background(), q) // an error shows again when the query runs
		}
	}()
	tx, err := s.wdb.BeginTx(context.Background(), nil)
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return
	}
	q := txQueryer{tx: tx, c: s.wq, missed: &missed}
	if len(batch) == 1 { // no savepoint needed
		if errs[0] = runOp(batch[0], q); errs[0] != nil {
			tx.Rollback()
			return
		}
	} else {
		for i, op := range batch {
			if _, err := q.ExecContext(op.ctx, "SAVEPOINT op"); err != nil {
				errs[i] = err
				continue
			}
			if errs[i] = runOp(op, q); errs[i] != nil {
				if _, err := q.ExecContext(context.Background(), "ROLLBACK TO op"); err != nil {
					// The transaction is in an unknown state: undo it all.
					tx.Rollback()
					for j := range errs {
						if errs[j] == nil {
							errs[j] = fmt.Errorf("store: undo a failed write: %w", err)
						}
					}
					return
				}
			}
			if _, err := q.ExecContext(context.Background(), "RELEASE op"); err != nil && errs[i] == nil {
				errs[i] = err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
}

// runOp runs one operation, turning a panic into an error so that the
// batch's other operations and the write loop survive it.
func runOp(op writeOp, q queryer) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: write panicked: %v", r)
		}
	}()
	if err := op.ctx.Err(); err != nil {
		return err
	}
	return op.fn(q)
}

// stamp is the current time as stored.
func (s *SQLite) stamp() string { return formatTime(s.Now()) }

// timeFormat is RFC 3339 in UTC with a fixed nine-digit fraction, so that
// stored times sort as text (RFC3339Nano drops trailing zeros, and
// "05.1Z" would sort after "05.12Z").
const timeFormat = "2006-01-02T15:04:05.000000000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

// queryer is what *sql.DB and *sql.Tx have in common, so that reads can run
// inside or outside a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func isNotFound(err error) bool { return errors.Is(err, errNotFound) }

// one returns the only record a lookup by key found, or errNotFound.
func one[T any](list []T, err error) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	if len(list) == 0 {
		return zero, errNotFound
	}
	return list[0], nil
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
