package history

import (
	"context"
	"database/sql"
	"errors"
)

// The full-text indexes are filled lazily. A save only queues its rows (in
// messages_fts_pending and conversations_fts_pending, by the triggers of schema
// version 3); indexPending moves the queue into the indexes before a search, and
// a search also matches the rows still queued (pendingIndex), so what it finds
// never depends on whether a row was indexed yet.

// indexBatchBytes bounds the message text indexed in one write transaction
// (Store.indexBatch; tests lower it). The write lock is held while
// trigram-tokenising it (tens of milliseconds per MB), and a moonchat saving an
// answer meanwhile waits for the lock for at most busyTimeoutMS: a few MB a batch
// keeps that wait far below the limit however long the queue is.
const indexBatchBytes = 4 << 20

// indexPending indexes the queued rows, a batch per write transaction. Each batch
// indexes rows and takes them off the queue in the same transaction, under the
// write lock, so two processes indexing at once neither index a row twice nor
// miss one. A read-only store leaves the queue as it is.
func (s *Store) indexPending(ctx context.Context) error {
	if s.readOnly {
		return nil
	}
	for {
		// Looking first, without the write lock, keeps a search of an up-to-date
		// index from waiting for a writer.
		var queued bool
		if err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM messages_fts_pending)
			OR EXISTS (SELECT 1 FROM conversations_fts_pending)`).Scan(&queued); err != nil {
			return s.wrap(err)
		}
		if !queued {
			return nil
		}
		var more bool
		if err := s.writeTx(ctx, func(tx *sql.Tx) (err error) {
			more, err = indexBatch(ctx, tx, s.indexBatch)
			return err
		}); err != nil || !more {
			// Not more: another process emptied the queue since the look.
			return err
		}
	}
}

// Unindexed returns how many bytes of message text were saved since the last
// search: what the next Search indexes before it looks (or, on a database it
// cannot write, indexes in memory for itself), at roughly 50 ms of CPU per MB
// (BenchmarkFirstSearch).
func (s *Store) Unindexed(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT ifnull(sum(octet_length(m.content)), 0)
		FROM messages_fts_pending p JOIN messages m ON m.id = p.id`).Scan(&n)
	return n, s.wrap(err)
}

// indexBatch indexes, in the write transaction tx, every queued title and the
// oldest queued messages up to budget bytes of text (at least one message). It
// reports whether it found anything queued.
func indexBatch(ctx context.Context, tx *sql.Tx, budget int64) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO conversations_fts(rowid, title)
		SELECT c.seq, c.title FROM conversations_fts_pending p JOIN conversations c ON c.seq = p.seq`)
	if err != nil {
		return false, err
	}
	titles, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM conversations_fts_pending`); err != nil {
		return false, err
	}
	// octet_length of a column is read from the row's header, not its text.
	rows, err := tx.QueryContext(ctx, `SELECT p.id, ifnull(octet_length(m.content), 0)
		FROM messages_fts_pending p LEFT JOIN messages m ON m.id = p.id ORDER BY p.id`)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	var last, total int64
	found := false
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			return false, err
		}
		if found && total+n > budget {
			break
		}
		last, total, found = id, total+n, true
	}
	if err := rows.Err(); err != nil {
		return false, err
	}
	rows.Close()
	if !found {
		return titles > 0, nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO messages_fts(rowid, content)
		SELECT m.id, m.content FROM messages_fts_pending p JOIN messages m ON m.id = p.id
		WHERE p.id <= ?`, last); err != nil {
		return false, err
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM messages_fts_pending WHERE id <= ?`, last)
	return true, err
}

// pendingIndex holds, for one search, temporary trigram indexes of the rows
// still queued: the same tokenizer, so the same matches, as the real indexes.
// They live in the connection's temp schema, which can be written even when the
// database cannot, inside the search's read transaction.
type pendingIndex struct {
	messages, titles bool // whether the temporary index of each has rows
}

// Names of the temporary indexes; they shadow nothing in the main schema.
const (
	pendingMessagesFTS = "pending_messages_fts"
	pendingTitlesFTS   = "pending_titles_fts"
)

// indexQueued builds the temporary indexes of the rows queued in tx's snapshot.
// Only a search with a term long enough for the trigram index needs them.
func indexQueued(ctx context.Context, tx *sql.Tx) (pendingIndex, error) {
	var p pendingIndex
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM messages_fts_pending),
		EXISTS (SELECT 1 FROM conversations_fts_pending)`).Scan(&p.messages, &p.titles)
	if err != nil {
		return p, err
	}
	build := []struct {
		need          bool
		table, column string
		fill          string
	}{
		{p.messages, pendingMessagesFTS, "content",
			`SELECT m.id, m.content FROM messages_fts_pending q JOIN messages m ON m.id = q.id`},
		{p.titles, pendingTitlesFTS, "title",
			`SELECT c.seq, c.title FROM conversations_fts_pending q JOIN conversations c ON c.seq = q.seq`},
	}
	for _, b := range build {
		if !b.need {
			continue
		}
		// The transaction's rollback drops the table; dropping first covers a
		// connection whose rollback failed.
		_, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS temp.`+b.table+`;
			CREATE VIRTUAL TABLE temp.`+b.table+` USING fts5(`+b.column+`, tokenize='trigram');
			INSERT INTO temp.`+b.table+`(rowid, `+b.column+`) `+b.fill)
		if err != nil {
			return p, err
		}
	}
	return p, nil
}

// indexErrorMatters tells whether a failure to index the queue must fail the
// search. The search matches queued rows anyway, so only a cancelled context
// stops it; anything else (a full disk, a file that became read-only) costs
// time, not results.
func indexErrorMatters(err error) bool {
	return err != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}
