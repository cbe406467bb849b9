package store

import (
	"context"
	"database/sql"
	"sync"
)

// SQLite parses every statement it is given, and parsing costs more than
// running the small statements the worker issues per letter. stmtCache
// keeps statements prepared, by their text, so each is parsed once per
// connection.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// maxCached bounds the cache: queries built with IN lists of varying length
// have many texts, and the rare ones need not be kept.
const maxCached = 256

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}}
}

// lookup returns the prepared statement for query, or nil.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[query]
}

// prepare prepares query on the cache's database, once, and returns it; nil
// (and no error) when the cache is full, for the caller to run the query
// unprepared. It must not be called while the database's only connection is
// held by a transaction.
func (c *stmtCache) prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	st, full := c.m[query], len(c.m) >= maxCached
	c.mu.Unlock()
	if st != nil || full {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[query]; ok {
		st.Close()
		return old, nil
	}
	c.m[query] = st
	return st, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// dbQueryer runs reads on the pool of reading connections through cached
// statements.
type dbQueryer struct{ c *stmtCache }

func (q dbQueryer) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := q.c.prepare(ctx, query)
	if err != nil || st == nil {
		return q.c.db.QueryContext(ctx, query, args...) // reports the same error, if any
	}
	return st.QueryContext(ctx, args...)
}

func (q dbQueryer) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := q.c.prepare(ctx, query)
	if err != nil || st == nil {
		return q.c.db.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

func (q dbQueryer) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := q.c.prepare(ctx, query)
	if err != nil || st == nil {
		return q.c.db.ExecContext(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}

// txQueryer runs statements in a transaction, through the writing
// connection's cached statements. A statement not yet cached runs as it is
// and is noted, to be prepared once the transaction has let go of the
// connection.
type txQueryer struct {
	tx     *sql.Tx
	c      *stmtCache
	missed *[]string
}

func (q txQueryer) stmt(ctx context.Context, query string) *sql.Stmt {
	st := q.c.lookup(query)
	if st == nil {
		*q.missed = append(*q.missed, query)
		return nil
	}
	return q.tx.StmtContext(ctx, st)
}

func (q txQueryer) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.tx.QueryContext(ctx, query, args...)
}

func (q txQueryer) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.tx.QueryRowContext(ctx, query, args...)
}

func (q txQueryer) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.tx.ExecContext(ctx, query, args...)
}
