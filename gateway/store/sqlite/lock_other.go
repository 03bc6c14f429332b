//go:build !unix

package sqlite

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockDir opens the log's lock file. Without flock, it does not keep a
// second Store out: on these systems, run one smppd per database.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, fmt.Errorf("sqlite: log: %w", err)
	}
	return f, nil
}
