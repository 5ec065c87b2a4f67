package participant

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/election"
	"github.com/vrrpguard/vrrpguard/track"
)

const (
	processTrackPrefix = "process:"
	fileTrackPrefix    = "file:"
)

// trackSources opens what track_process and track_file read: the kernel's
// process connector and /proc, inotify; tests replace it.
type trackSources interface {
	openProcs() (track.ProcSource, track.Procfs, error)
	watchFile(path string) (fileWatcher, error)
}

// fileWatcher follows one tracked file (see track.FileWatcher).
type fileWatcher interface {
	Run(ctx context.Context, report func(path string, value int64)) error
	Close() error
}

// systemTracking is the system's trackSources.
type systemTracking struct{}

func (systemTracking) openProcs() (track.ProcSource, track.Procfs, error) {
	c, err := track.OpenConnector()
	if err != nil {
		return nil, nil, err
	}
	return c, track.SystemProcfs(""), nil
}

// warnHiddenProcesses warns if /proc hides other users' processes, which
// track_process then cannot count.
func warnHiddenProcesses(log *slog.Logger) {
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	if hidden, opt := track.HiddenProcesses(mi); hidden {
		log.Warn("track_process: /proc hides other users' processes ("+opt+", e.g. systemd's ProtectProc=invisible); "+
			"those processes count as absent (set ProtectProc=default)", "mount", "/proc")
	}
}

func (systemTracking) watchFile(path string) (fileWatcher, error) {
	return track.WatchFiles([]string{path})
}

// processTracker returns the election tracker of a track_process entry.
func processTracker(t keepalived.Track) election.Tracker {
	return weightedTracker(processTrackPrefix, t)
}

// weightedTracker returns the election tracker of a track_interface,
// track_script or track_process entry named prefix+t.Name. keepalived's
// reverse negates the weight's effect (weight w reverse: -w while the
// tracked thing is up, nothing while it is down; the sign still says when
// it applies — measured: a track_script of weight 7 reverse that succeeds
// takes priority 150 to 143), which is election's Reverse with the weight
// negated. Weight 0 reverse is a fault while the thing is up.
func weightedTracker(prefix string, t keepalived.Track) election.Tracker {
	w := t.Weight
	if t.Reverse && w != 0 {
		w = -w
	}
	return election.Tracker{Name: prefix + t.Name, Weight: w, Reverse: t.Reverse}
}

// fileTracker returns the election tracker of a track_file entry.
func fileTracker(t keepalived.Track) election.Tracker {
	return election.Tracker{Name: fileTrackPrefix + t.Name, Valued: true}
}

// unweightFiles applies keepalived 2.2.7's rule for the track_file entries
// of a sync group member without sync_group_tracking_weight or of the
// address owner: an entry with the default weight 1 is tracked with weight
// 0 (a non-zero value is a fault), one with another weight is not tracked.
func unweightFiles(list []keepalived.Track, why string, in *keepalived.Instance, log *slog.Logger) []keepalived.Track {
	var out []keepalived.Track
	for _, t := range list {
		switch t.Weight {
		case 0:
		case 1:
			log.Warn("track_file weight ignored ("+why+"); tracked with weight 0, as keepalived does: specify weight 0",
				"file", t.Name, "at", in.Pos())
			t.Weight = 0
		default:
			log.Warn("weighted track_file ignored ("+why+"), as keepalived does", "file", t.Name, "weight", t.Weight, "at", in.Pos())
			continue
		}
		out = append(out, t)
	}
	return out
}

// startTracking takes the initial state of the tracked processes and files
// (before Startup) and follows them in goroutines that report changes to
// the loop; the returned function stops them and waits for them. Without
// the kernel's process events the instance cannot run: that is an error.
func (d *driver) startTracking() (stop func(), err error) {
	i := d.i
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var closers []func() error
	stopAll := func() {
		cancel()
		for _, c := range closers {
			_ = c()
		}
		wg.Wait()
	}
	defer func() {
		if err != nil {
			stopAll()
		}
	}()
	report := func(ev election.Event) {
		select {
		case d.tracks <- ev:
		case <-ctx.Done():
		}
	}
	if specs := d.processSpecs(); len(specs) > 0 {
		src, procfs, err := i.srcs.openProcs()
		if err != nil {
			return nil, fmt.Errorf("track_process: %w", err)
		}
		if _, system := i.srcs.(systemTracking); system {
			warnHiddenProcesses(i.log)
		}
		closers = append(closers, src.Close)
		mon, err := track.NewMonitor(specs, src, procfs)
		if err != nil {
			return nil, fmt.Errorf("track_process: %w", err)
		}
		for _, s := range specs {
			up := mon.Up(s.Name)
			i.log.Info("tracked process", "process", s.Name, "running", mon.Count(s.Name), "up", up)
			d.exec(d.m.Step(time.Now(), election.TrackChanged{Name: processTrackPrefix + s.Name, OK: up}))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := mon.Run(ctx, func(name string, up bool) {
				i.log.Info("quorum "+map[bool]string{true: "gained", false: "lost"}[up]+" for tracked process", "process", name)
				report(election.TrackChanged{Name: processTrackPrefix + name, OK: up})
			})
			if err != nil && ctx.Err() == nil {
				i.log.Error("track_process: no more process events; tracked processes keep their last state", "err", err)
			}
		}()
	}
	for _, t := range i.cfg.TrackFiles {
		tf := i.files[t.Name]
		if tf == nil {
			continue
		}
		w, err := i.srcs.watchFile(tf.Path)
		if err != nil {
			i.log.Warn("track_file not tracked (keepalived ignores it)", "file", t.Name, "err", err, "at", tf.File+":"+strconv.Itoa(tf.Line))
			continue
		}
		closers = append(closers, w.Close)
		v, err := track.ReadValue(tf.Path)
		if err != nil {
			i.log.Warn("track_file: value ignored", "file", t.Name, "err", err)
			v = 0
		}
		d.exec(d.m.Step(time.Now(), d.fileDelta(t, tf, v)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := w.Run(ctx, func(_ string, v int64) { report(d.fileDelta(t, tf, v)) })
			if err != nil && ctx.Err() == nil {
				i.log.Error("track_file: watch ended; the file keeps its last value", "file", t.Name, "err", err)
			}
		}()
	}
	return stopAll, nil
}

// processSpecs returns the tracked processes of the instance.
func (d *driver) processSpecs() []track.ProcessSpec {
	var specs []track.ProcessSpec
	for _, t := range d.i.cfg.TrackProcesses {
		p := d.i.procs[t.Name]
		if p == nil {
			continue
		}
		specs = append(specs, track.ProcessSpec{
			Name:   p.Name,
			Match:  track.Matcher{Name: p.Process, FullCommand: p.FullCommand, Params: p.Params, ParamMatch: p.ParamMatch},
			Quorum: track.ProcessConfig{Quorum: p.Quorum, QuorumMax: p.QuorumMax, ForkDelay: p.ForkDelay, TerminateDelay: p.TerminateDelay},
		})
	}
	return specs
}

// fileDelta returns the election event of a tracked file's value v.
func (d *driver) fileDelta(t keepalived.Track, tf *keepalived.TrackFile, v int64) election.TrackDelta {
	delta, fault := track.FileStatus(v, t.Weight, t.Reverse)
	d.i.log.Info("tracked file", "file", t.Name, "path", tf.Path, "value", v, "priority_change", delta, "fault", fault)
	return election.TrackDelta{Name: fileTrackPrefix + t.Name, Delta: delta, Fault: fault}
}

// initTrackFiles carries out the init_file of every track_file block as
// keepalived does when it reads its configuration: write the value if the
// file does not exist, or always with overwrite (but not on a reload).
func initTrackFiles(k *keepalived.Config, reload bool, log *slog.Logger) {
	for _, tf := range k.TrackFiles {
		if !tf.InitFile {
			continue
		}
		at := tf.File + ":" + strconv.Itoa(tf.Line)
		st, err := os.Stat(tf.Path)
		switch {
		case err == nil && (!tf.InitOverwrite || reload):
			continue
		case err == nil && !st.Mode().IsRegular():
			log.Warn("track_file: cannot initialise, not a regular file", "file", tf.Name, "path", tf.Path, "at", at)
			continue
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			log.Warn("track_file: cannot initialise", "file", tf.Name, "err", err, "at", at)
			continue
		}
		if err := os.WriteFile(tf.Path, []byte(strconv.Itoa(tf.InitValue)+"\n"), 0o644); err != nil {
			log.Warn("track_file: cannot initialise", "file", tf.Name, "err", err, "at", at)
		}
	}
}
