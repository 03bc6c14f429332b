package sqlite

import (
	"log/slog"
	"time"
)

// checkpoints copies the WAL's pages into the database file (a PASSIVE
// checkpoint, which waits for neither readers nor the writer) after the
// indexer's transactions, at most every checkpointEvery, until the store
// closes. On its own connection and goroutine, the copy and the syncs it
// makes (with synchronous=NORMAL, the WAL before the copy and the database
// after it) do not hold up the indexer: they took about a sixth of its
// time when the writer checkpointed itself.
func (s *Store) checkpoints() {
	defer close(s.cpDone)
	var last time.Time
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-s.written:
		case <-s.indexed: // the indexer has stopped: Close checkpoints the rest
			return
		}
		if wait := checkpointEvery - time.Since(last); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-s.indexed:
				return
			}
		}
		last = time.Now()
		if err := execConn(s.cc, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
			// The writer's own checkpoints (past 256 MiB) still bound
			// the WAL; this one tries again after the next commit.
			slog.Debug("sqlite: checkpoint", "err", err)
		}
	}
}

const checkpointEvery = 250 * time.Millisecond
