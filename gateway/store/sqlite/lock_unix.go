//go:build unix

package sqlite

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes the lock of the log in dir, so that a second Store (in
// this process or another) cannot open the database while this one has it:
// it would apply this one's records and remove its segments. Closing the
// file releases the lock, as does the process ending.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, fmt.Errorf("sqlite: log: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("sqlite: %s is in use by another store (another smppd?): %w", dir, err)
	}
	return f, nil
}
