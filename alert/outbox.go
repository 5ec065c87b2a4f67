package alert

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// On-disk layout under Options.StateDir:
//
//	alert.lock                   flock(2)ed by the running dispatcher
//	firing.json                  the firing set (stateFile)
//	outbox/<sink>/<seq>.json     one pending notification (entry)
//
// <sink> is the sink's name with every byte outside [A-Za-z0-9._-]
// replaced by '_', then '-' and 8 hex digits of the name's SHA-256. <seq>
// is a 20-digit zero-padded sequence number, increasing per sink; entries
// are delivered in sequence order. Every file is written to a temporary
// name, fsynced, renamed into place and its directory fsynced, so a crash
// leaves either the whole file or none (left-over ".*.tmp" files are
// removed at start).
//
// firing.json is {"version":1,"firing":[{"alert":{…},"lastNotified":…}]};
// an outbox file is one notification,
// {"version":1,"seq":N,"sink":NAME,"created":…,"origin":…,"alerts":[…]},
// with alerts in the Alert JSON form. Every notification is written before
// its first attempt and removed only once the sink accepted it or rejected
// it permanently, so delivery is at least once (a notification in flight
// at a crash is sent again). The firing set is saved too, so reminders and
// resolves survive restarts.
const (
	lockName   = "alert.lock"
	firingName = "firing.json"
	outboxName = "outbox"
	fileFormat = 1
)

// entry is one notification waiting in a sink's outbox.
type entry struct {
	Version int       `json:"version"`
	Seq     uint64    `json:"seq"`
	Sink    string    `json:"sink"`
	Created time.Time `json:"created"`
	// Origin is when the earliest finding in it was issued; delivery
	// latency is measured from it.
	Origin time.Time `json:"origin"`
	Alerts []Alert   `json:"alerts"`

	// In memory only.
	persisted bool
	inflight  bool
	attempts  int
	notBefore time.Time
}

func (e *entry) fileName() string { return fmt.Sprintf("%020d.json", e.Seq) }

// stateFile is firing.json.
type stateFile struct {
	Version int            `json:"version"`
	Firing  []*firingEntry `json:"firing"`
}

// sinkDirName maps a sink name to its outbox directory name.
func sinkDirName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name) && b.Len() < 64; i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' {
			b.WriteByte(c)
		} else {
			b.WriteByte('_')
		}
	}
	h := sha256.Sum256([]byte(name))
	return b.String() + "-" + hex.EncodeToString(h[:4])
}

// outbox is one sink's queue of entries, in memory and on disk.
type outbox struct {
	dir     string
	sink    string
	nextSeq uint64
	entries []*entry
}

// badRecord is an outbox file that could not be read back.
type badRecord struct {
	// File is the file's path (before it was renamed to *.corrupt).
	File string
	// Err says why; a *RecordError carries the byte offset.
	Err error
}

// RecordError is an outbox record (one notification file) that does not
// decode: Offset is the byte offset in the file where decoding failed
// (the file's length for a truncated record).
type RecordError struct {
	Offset int64
	Err    error
}

func (e *RecordError) Error() string { return fmt.Sprintf("offset %d: %v", e.Offset, e.Err) }
func (e *RecordError) Unwrap() error { return e.Err }

// maxRecordAlerts bounds the alerts of one outbox record read back from
// disk (the dispatcher never writes more than a notification holds).
const maxRecordAlerts = 100000

// decodeEntry decodes one outbox record, the file <seq>.json. A record
// that is not valid JSON, of another format version, of another sequence
// number (a file renamed by hand) or without alerts is an error, a
// *RecordError with the offset where it went wrong.
func decodeEntry(b []byte, seq uint64) (*entry, error) {
	e := &entry{}
	if err := json.Unmarshal(b, e); err != nil {
		off := int64(0)
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case strings.Contains(err.Error(), "unexpected end of JSON input"):
			off = int64(len(b)) // truncated
		case errors.As(err, &se):
			// Offset counts the bytes read, the bad one included.
			off = max(se.Offset-1, 0)
		case errors.As(err, &te):
			off = te.Offset
		}
		return nil, &RecordError{Offset: off, Err: fmt.Errorf("not a notification record: %w", err)}
	}
	switch {
	case e.Version != fileFormat:
		return nil, &RecordError{Err: fmt.Errorf("record format version %d, want %d", e.Version, fileFormat)}
	case e.Seq != seq:
		return nil, &RecordError{Err: fmt.Errorf("record holds sequence number %d, its file name %d", e.Seq, seq)}
	case len(e.Alerts) == 0:
		return nil, &RecordError{Err: errors.New("record holds no alerts")}
	case len(e.Alerts) > maxRecordAlerts:
		return nil, &RecordError{Err: fmt.Errorf("record holds %d alerts, more than %d", len(e.Alerts), maxRecordAlerts)}
	}
	for i := range e.Alerts {
		if s := e.Alerts[i].Status; s != StatusFiring && s != StatusResolved {
			return nil, &RecordError{Err: fmt.Errorf("alert %d has status %q", i, s)}
		}
	}
	return e, nil
}

// loadOutbox opens (creating) dir and loads its entries in order. Files
// that do not decode are renamed to *.corrupt and reported in bad; the
// others are loaded.
func loadOutbox(dir, sink string) (box *outbox, bad []badRecord, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, err
	}
	box = &outbox{dir: dir, sink: sink, nextSeq: 1}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, de := range des {
		name := de.Name()
		if strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp") {
			_ = os.Remove(filepath.Join(dir, name))
			continue
		}
		num, ok := strings.CutSuffix(name, ".json")
		if !ok || len(num) != 20 {
			continue
		}
		seq, err := strconv.ParseUint(num, 10, 64)
		if err != nil {
			continue
		}
		path := filepath.Join(dir, name)
		b, err := os.ReadFile(path)
		var e *entry
		if err == nil {
			e, err = decodeEntry(b, seq)
		}
		if err != nil {
			_ = os.Rename(path, path+".corrupt")
			bad = append(bad, badRecord{File: path, Err: err})
			continue
		}
		e.persisted = true
		box.entries = append(box.entries, e)
		box.nextSeq = max(box.nextSeq, seq+1)
	}
	slices.SortFunc(box.entries, func(a, b *entry) int {
		switch {
		case a.Seq < b.Seq:
			return -1
		case a.Seq > b.Seq:
			return 1
		}
		return 0
	})
	return box, bad, nil
}

// add gives e the next sequence number, writes it durably and appends it.
// When writing fails e is still queued (in memory only) and the error
// returned.
func (o *outbox) add(e *entry) error {
	e.Version = fileFormat
	e.Seq = o.nextSeq
	e.Sink = o.sink
	o.nextSeq++
	o.entries = append(o.entries, e)
	return o.persist(e)
}

// persist writes e durably (again, for an entry whose first write failed).
func (o *outbox) persist(e *entry) error {
	b, err := json.Marshal(e)
	if err == nil {
		err = writeFileSync(o.dir, e.fileName(), b)
	}
	e.persisted = err == nil
	return err
}

// persistAll writes the entries queued in memory only; it stops at the
// first error.
func (o *outbox) persistAll() error {
	for _, e := range o.entries {
		if !e.persisted {
			if err := o.persist(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// remove takes e out of the outbox and deletes its file.
func (o *outbox) remove(e *entry) error {
	i := slices.Index(o.entries, e)
	if i < 0 {
		return nil
	}
	o.entries = slices.Delete(o.entries, i, i+1)
	if !e.persisted {
		return nil
	}
	if err := os.Remove(filepath.Join(o.dir, e.fileName())); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return syncDir(o.dir)
}

// trim drops the oldest entries not in flight until at most max remain and
// returns how many it dropped.
func (o *outbox) trim(max int) (dropped int, err error) {
	for len(o.entries) > max {
		i := slices.IndexFunc(o.entries, func(e *entry) bool { return !e.inflight })
		if i < 0 {
			break
		}
		e := o.entries[i]
		o.entries = slices.Delete(o.entries, i, i+1)
		dropped++
		if e.persisted {
			if rerr := os.Remove(filepath.Join(o.dir, e.fileName())); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
				err = rerr
			}
		}
	}
	if dropped > 0 {
		err = errors.Join(err, syncDir(o.dir))
	}
	return dropped, err
}

// writeFileSync writes data to dir/name atomically and durably: temporary
// file, fsync, rename, fsync of the directory.
func writeFileSync(dir, name string, data []byte) error {
	tmp := filepath.Join(dir, "."+name+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// loadState reads firing.json (a missing file is an empty set).
func loadState(dir string) ([]*firingEntry, error) {
	b, err := os.ReadFile(filepath.Join(dir, firingName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s stateFile
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, firingName), err)
	}
	return s.Firing, nil
}

// saveState writes firing.json durably.
func saveState(dir string, firing []*firingEntry) error {
	b, err := json.MarshalIndent(stateFile{Version: fileFormat, Firing: firing}, "", "  ")
	if err != nil {
		return err
	}
	return writeFileSync(dir, firingName, b)
}

// lockDir takes an exclusive flock on dir/lock so that two processes never
// share a state directory. The lock dies with the process.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("alert state directory %s is in use by another vrrpguard", dir)
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return f, nil
}
