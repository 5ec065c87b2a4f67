package track

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// FileWatcher follows tracked files with inotify, as keepalived does: it
// watches each file's directory for a file closed after writing or moved
// in (the file is read again) and deleted or moved away (its value is 0).
type FileWatcher struct {
	f     *os.File
	once  sync.Once
	dirs  map[int32]string               // watch descriptor → directory
	names map[string]map[string][]string // directory → base name → paths as given
}

// WatchFiles watches paths (symbolic links resolved; a file need not
// exist, its directory must).
func WatchFiles(paths []string) (*FileWatcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	w := &FileWatcher{f: os.NewFile(uintptr(fd), "inotify"), dirs: map[int32]string{}, names: map[string]map[string][]string{}}
	watched := map[string]bool{}
	for _, p := range paths {
		dir, base, err := resolve(p)
		if err != nil {
			w.Close()
			return nil, err
		}
		if !watched[dir] {
			wd, err := unix.InotifyAddWatch(fd, dir, unix.IN_CLOSE_WRITE|unix.IN_DELETE|unix.IN_MOVE)
			if err != nil {
				w.Close()
				return nil, fmt.Errorf("track file %s: watch %s: %w", p, dir, err)
			}
			watched[dir] = true
			w.dirs[int32(wd)] = dir
			w.names[dir] = map[string][]string{}
		}
		w.names[dir][base] = append(w.names[dir][base], p)
	}
	return w, nil
}

// resolve returns the directory (symbolic links resolved) and base name of
// a tracked file, resolving the file itself if it exists.
func resolve(p string) (dir, base string, err error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", "", fmt.Errorf("track file %s: %w", p, err)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", "", fmt.Errorf("track file %s: %w", p, err)
	}
	dir, base = filepath.Split(abs)
	rd, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", "", fmt.Errorf("track file %s: directory %s does not exist: %w", p, dir, err)
	}
	if st, err := os.Stat(rd); err != nil || !st.IsDir() {
		return "", "", fmt.Errorf("track file %s: %s is not a directory", p, dir)
	}
	return rd, base, nil
}

// ReadValue reads a tracked file's number (see [ParseValue]); a missing
// or unreadable file is 0, as in keepalived.
func ReadValue(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, nil
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileBytes))
	if err != nil {
		return 0, nil
	}
	return ParseValue(b)
}

// Close stops the watcher.
func (w *FileWatcher) Close() error {
	var err error
	w.once.Do(func() { err = w.f.Close() })
	return err
}

// Run reports the value of each watched file that changes (by the path as
// given to WatchFiles) until ctx is cancelled (nil) or inotify fails. A
// number keepalived ignores is ignored (the previous value stands).
func (w *FileWatcher) Run(ctx context.Context, report func(path string, value int64)) error {
	stop := context.AfterFunc(ctx, func() { w.Close() })
	defer stop()
	rc, err := w.f.SyscallConn()
	if err != nil {
		return err
	}
	buf := make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
	for {
		var n int
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			n, rerr = unix.Read(int(fd), buf)
			return !errors.Is(rerr, unix.EAGAIN)
		})
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("inotify: %w", err)
		}
		if errors.Is(rerr, unix.EINTR) {
			continue
		}
		if rerr != nil {
			return fmt.Errorf("inotify: %w", rerr)
		}
		w.events(buf[:n], report)
	}
}

// events decodes inotify events and reports the files they concern.
func (w *FileWatcher) events(b []byte, report func(string, int64)) {
	ne := binary.NativeEndian
	for len(b) >= unix.SizeofInotifyEvent {
		wd := int32(ne.Uint32(b[0:]))
		mask := ne.Uint32(b[4:])
		l := int(ne.Uint32(b[12:]))
		if unix.SizeofInotifyEvent+l > len(b) {
			return
		}
		name := b[unix.SizeofInotifyEvent : unix.SizeofInotifyEvent+l]
		b = b[unix.SizeofInotifyEvent+l:]
		if i := indexNUL(name); i >= 0 {
			name = name[:i]
		}
		if mask&unix.IN_Q_OVERFLOW != 0 {
			// Events were lost: read every watched file again.
			w.rereadAll(report)
			continue
		}
		if mask&unix.IN_ISDIR != 0 {
			continue
		}
		dir, ok := w.dirs[wd]
		if !ok {
			continue
		}
		for _, p := range w.names[dir][string(name)] {
			switch {
			case mask&(unix.IN_DELETE|unix.IN_MOVED_FROM) != 0:
				report(p, 0)
			case mask&(unix.IN_CLOSE_WRITE|unix.IN_MOVED_TO) != 0:
				if v, err := ReadValue(p); err == nil {
					report(p, v)
				}
			}
		}
	}
}

// rereadAll reports the value of every watched file (ReadValue: 0 for one
// that is gone, as a deletion reports).
func (w *FileWatcher) rereadAll(report func(string, int64)) {
	for _, byName := range w.names {
		for _, paths := range byName {
			for _, p := range paths {
				if v, err := ReadValue(p); err == nil {
					report(p, v)
				}
			}
		}
	}
}

func indexNUL(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}
