package sqlite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// batchLog is the store's write-ahead log: each Apply appends its batch as
// one record, and once the write returns the batch is as durable as the
// Durability asks (the operating system has it; with sync, the disk). The
// database catches up behind it (see indexer), and records the sequence
// number it has applied in the same transaction; on open, the records
// after that number are applied again. A segment file is removed once the
// database has everything in it.
//
// Record: payload length (4 bytes), CRC-32C of the sequence number and
// payload (4), sequence number (8), payload; little-endian. A torn record
// at the end of the newest segment is a write the process died in, never
// acknowledged: it is cut off. Damage anywhere else stops the open.
type batchLog struct {
	dir  string
	sync bool // fsync after each append (store.PowerLoss)

	mu     sync.Mutex
	f      *os.File // the segment appended to
	size   int64    // its length
	segs   []segment
	next   uint64   // sequence number of the next record
	broken error    // set when a failed write could not be undone
	lock   *os.File // held while the log is open (lock_unix.go)
}

// segment is one file of the log: records first..last (last < first when
// it has none yet).
type segment struct {
	path        string
	first, last uint64
}

const (
	recordHeader = 16
	// A segment is closed once it is this long, so that applied records
	// can be removed while the log keeps growing.
	segmentSize = 64 << 20
	// No record is longer (a batch of many thousand messages is a few
	// MiB); a longer length in a header is damage.
	maxRecord = 1 << 30
)

var crc32c = crc32.MakeTable(crc32.Castagnoli)

// logRecord is a record read back from the log.
type logRecord struct {
	seq     uint64
	payload []byte
}

// openLog opens the log in dir, whose lock (lockDir) the caller holds and
// hands over, and returns the records after applied, in order. The log
// continues after the last record (or after applied, if that is later).
func openLog(dir string, sync bool, applied uint64, lock *os.File) (*batchLog, []logRecord, error) {
	l, recs, err := readLog(dir, sync, applied)
	if err != nil {
		return nil, nil, err
	}
	l.lock = lock
	return l, recs, nil
}

// readLog reads the log in dir (see openLog).
func readLog(dir string, sync bool, applied uint64) (*batchLog, []logRecord, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: log: %w", err)
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".log") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names) // named by first sequence number, fixed width
	l := &batchLog{dir: dir, sync: sync, next: applied + 1}
	var out []logRecord
	for i, name := range names {
		path := filepath.Join(dir, name)
		seg := segment{path: path}
		if first, perr := strconv.ParseUint(strings.TrimSuffix(name, ".log"), 16, 64); perr == nil {
			seg.first = first
		}
		recs, good, torn, err := readSegment(path, seg.first-1)
		if err != nil && (!torn || i != len(names)-1) {
			return nil, nil, fmt.Errorf("sqlite: log %s: %w", path, err)
		}
		if err != nil {
			// The tail of the newest segment: a record the process died
			// writing. Cut it off, so appends continue from good data.
			if terr := os.Truncate(path, good); terr != nil {
				return nil, nil, fmt.Errorf("sqlite: log %s: cutting off a torn record: %w", path, terr)
			}
		}
		seg.last = seg.first - 1
		for _, r := range recs {
			seg.last = r.seq
			if r.seq <= applied {
				continue
			}
			if r.seq != l.next {
				return nil, nil, fmt.Errorf("sqlite: log %s: record %d where %d was due: records are missing", path, r.seq, l.next)
			}
			out = append(out, r)
			l.next++
		}
		l.segs = append(l.segs, seg)
	}
	return l, out, nil
}

// readSegment returns a segment's records and the length of its good
// prefix; err tells why the rest (if any) is not good, and torn whether
// the rest is a write the process died in: no good record follows the bad
// one. One that does was acknowledged, so the bad one is damage, and
// cutting it off would lose what follows. before is the sequence number
// just before the segment's first (from its name).
func readSegment(path string, before uint64) (recs []logRecord, good int64, torn bool, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, false, err
	}
	last := before // sequence number of the last good record
	for off := 0; off < len(data); {
		n, ok := recordAt(data, off)
		if !ok {
			return recs, int64(off), !goodRecordAfter(data, off+1, last), fmt.Errorf("a torn or damaged record at offset %d", off)
		}
		body := data[off+8 : off+recordHeader+n]
		last = binary.LittleEndian.Uint64(body)
		recs = append(recs, logRecord{seq: last, payload: body[8:]})
		off += recordHeader + n
	}
	return recs, int64(len(data)), false, nil
}

// recordAt returns the payload length of the record at data[off:], and
// whether it is whole and its checksum matches.
func recordAt(data []byte, off int) (int, bool) {
	rest := data[off:]
	if len(rest) < recordHeader {
		return 0, false
	}
	n := binary.LittleEndian.Uint32(rest)
	if n > maxRecord || int(n) > len(rest)-recordHeader {
		return 0, false
	}
	body := rest[8 : recordHeader+int(n)]
	return int(n), crc32.Checksum(body, crc32c) == binary.LittleEndian.Uint32(rest[4:])
}

// goodRecordAfter reports whether a good record starts anywhere in
// data[from:] with a sequence number a little after last.
func goodRecordAfter(data []byte, from int, last uint64) bool {
	for off := from; off+recordHeader <= len(data); off++ {
		if seq := binary.LittleEndian.Uint64(data[off+8:]); seq <= last || seq > last+1<<20 {
			continue
		}
		if _, ok := recordAt(data, off); ok {
			return true
		}
	}
	return false
}

// append writes rec, whose first recordHeader bytes are free for the
// header, as the next record, and returns its sequence number. A failed
// write is cut off again, so that the log stays whole.
func (l *batchLog) append(rec []byte) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.broken != nil {
		return 0, l.broken
	}
	if l.f == nil || l.size >= segmentSize {
		if err := l.rotate(); err != nil {
			return 0, err
		}
	}
	seq := l.next
	binary.LittleEndian.PutUint32(rec, uint32(len(rec)-recordHeader))
	binary.LittleEndian.PutUint64(rec[8:], seq)
	binary.LittleEndian.PutUint32(rec[4:], crc32.Checksum(rec[8:], crc32c))
	if _, err := l.f.Write(rec); err != nil {
		if terr := l.f.Truncate(l.size); terr != nil {
			l.broken = fmt.Errorf("sqlite: log: a failed write could not be undone: %w", errors.Join(err, terr))
			return 0, l.broken
		}
		return 0, fmt.Errorf("sqlite: log: %w", err)
	}
	if l.sync {
		if err := l.f.Sync(); err != nil {
			// The record may or may not be on disk; what follows it
			// would not be trusted either.
			l.broken = fmt.Errorf("sqlite: log: sync: %w", err)
			return 0, l.broken
		}
	}
	l.size += int64(len(rec))
	l.next++
	l.segs[len(l.segs)-1].last = seq
	return seq, nil
}

// rotate starts a new segment (the first one, or after a full one).
func (l *batchLog) rotate() error {
	path := filepath.Join(l.dir, fmt.Sprintf("%016x.log", l.next))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("sqlite: log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("sqlite: log: %w", err)
	}
	if l.sync {
		if err := syncDir(l.dir); err != nil {
			f.Close()
			return err
		}
	}
	if l.f != nil {
		l.f.Close()
	}
	l.f, l.size = f, st.Size()
	if n := len(l.segs); n == 0 || l.segs[n-1].path != path {
		l.segs = append(l.segs, segment{path: path, first: l.next, last: l.next - 1})
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sqlite: log: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sqlite: log: sync %s: %w", dir, err)
	}
	return nil
}

// releasable reports whether release(applied) would remove a segment.
func (l *batchLog) releasable(applied uint64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, s := range l.segs {
		if active := l.f != nil && i == len(l.segs)-1; !active && s.last <= applied {
			return true
		}
	}
	return false
}

// release removes the segments the database has every record of, except
// the one appended to.
func (l *batchLog) release(applied uint64) error {
	l.mu.Lock()
	var gone []segment
	keep := l.segs[:0]
	for i, s := range l.segs {
		active := l.f != nil && i == len(l.segs)-1
		if !active && s.last <= applied {
			gone = append(gone, s)
			continue
		}
		keep = append(keep, s)
	}
	l.segs = keep
	l.mu.Unlock()
	// Removing a big file takes a while: not while appends wait.
	var errs []error
	for _, s := range gone {
		if err := os.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// err is why the log takes no more records (nil: it does).
func (l *batchLog) err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.broken
}

// close closes the log; with everything applied, its files are removed.
func (l *batchLog) close(applied uint64) error {
	l.mu.Lock()
	var err error
	if l.f != nil {
		err = l.f.Close()
		l.f = nil
	}
	l.mu.Unlock()
	err = errors.Join(err, l.release(applied))
	if l.lock != nil {
		err = errors.Join(err, l.lock.Close()) // closing it unlocks
	}
	return err
}
