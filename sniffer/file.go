package sniffer

import (
	"bufio"
	"bytes"
	"container/heap"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// FileError is a capture file that cannot be read at all: missing,
// unreadable, not a pcap/pcapng file, or of an unsupported link type.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// ErrNotCapture: the file is neither pcap nor pcapng.
var ErrNotCapture = errors.New("not a pcap or pcapng capture file")

// FileStats counts what was read from one file.
type FileStats struct {
	Path    string
	Packets uint64
	// Truncated is set when the file ended in the middle of a record (or
	// another read error stopped it); packets before the break were used.
	Truncated error
	Decode    DecodeStats
}

// captureFile is one open capture being merged.
type captureFile struct {
	path    string
	f       *os.File
	pcap    *pcapgo.Reader
	fast    *pcapReader // plain pcap: records read without pcapgo
	ng      *pcapgo.NgReader
	name    string // interface name used for pcap files
	ngNames []string
	decs    map[int]*Decoder
	dec0    *Decoder // a pcap file's decoder, once made
	plain   bool     // pcapgo and gopacket's layers only (ReadOptions.Plain)
	stats   FileStats

	// head is the next packet, owned by the reader until advance.
	data []byte
	ci   gopacket.CaptureInfo
	eof  bool
}

func openCapture(path string, plain bool) (*captureFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &FileError{Path: path, Err: unwrapPathError(err)}
	}
	c := &captureFile{path: path, f: f, decs: map[int]*Decoder{}, stats: FileStats{Path: path}, plain: plain}
	br := bufio.NewReaderSize(f, 1<<16)
	magic, err := br.Peek(4)
	if err != nil {
		f.Close()
		if errors.Is(err, io.EOF) {
			return nil, &FileError{Path: path, Err: fmt.Errorf("%w (file is %d bytes)", ErrNotCapture, len(magic))}
		}
		return nil, &FileError{Path: path, Err: err}
	}
	base := filepath.Base(path)
	if bytes.Equal(magic, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		ng, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{})
		if err != nil {
			f.Close()
			return nil, &FileError{Path: path, Err: fmt.Errorf("%w: %v", ErrNotCapture, err)}
		}
		c.ng = ng
		for i := 0; i < ng.NInterfaces(); i++ {
			in, _ := ng.Interface(i)
			name := in.Name
			if name == "" {
				name = base + "#" + strconv.Itoa(i)
			}
			c.ngNames = append(c.ngNames, name)
		}
	} else {
		var r *pcapgo.Reader
		var err error
		hdr, _ := br.Peek(24)
		if fast, ok := plainPcapHeader(hdr, br); ok && !plain {
			// pcapgo checks the header (same errors); the records are read
			// by the zero-copy reader.
			r, err = pcapgo.NewReader(bytes.NewReader(hdr))
			if err == nil {
				br.Discard(24)
				c.fast = fast
			}
		} else {
			r, err = pcapgo.NewReader(br)
		}
		if err != nil {
			f.Close()
			if strings.Contains(err.Error(), "magic") {
				return nil, &FileError{Path: path, Err: fmt.Errorf("%w (starts with %q)", ErrNotCapture, magic)}
			}
			return nil, &FileError{Path: path, Err: fmt.Errorf("%w: %v", ErrNotCapture, err)}
		}
		if !Supported(r.LinkType()) {
			f.Close()
			return nil, &FileError{Path: path, Err: fmt.Errorf("unsupported link type %v", r.LinkType())}
		}
		c.pcap = r
		c.name = base
	}
	return c, nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// advance reads the next packet into the head.
func (c *captureFile) advance() {
	var err error
	switch {
	case c.fast != nil:
		c.data, c.ci.Timestamp, _, _, err = c.fast.record()
	case c.ng != nil:
		c.data, c.ci, err = c.ng.ZeroCopyReadPacketData()
	default:
		c.data, c.ci, err = c.pcap.ZeroCopyReadPacketData()
	}
	if err != nil {
		c.eof = true
		if !errors.Is(err, io.EOF) {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = errors.New("file ends in the middle of a packet record")
			}
			c.stats.Truncated = err
		}
		return
	}
	c.stats.Packets++
}

// decodeTo decodes the head into o and reports whether it carries an
// observation.
func (c *captureFile) decodeTo(o *obs.Observation) bool {
	if c.dec0 != nil { // pcap: one link type, no per-packet metadata
		return c.dec0.decodeTo(o, c.data, c.ci.Timestamp, c.name, 0)
	}
	idx := 0
	link := layers.LinkTypeEthernet
	name := c.name
	if c.ng != nil {
		idx = c.ci.InterfaceIndex
		if in, err := c.ng.Interface(idx); err == nil {
			link = in.LinkType
		}
		if idx >= 0 && idx < len(c.ngNames) {
			name = c.ngNames[idx]
		}
	} else {
		link = c.pcap.LinkType()
	}
	d := c.decs[idx]
	if d == nil {
		d = NewDecoder(link)
		d.slowOnly = c.plain
		c.decs[idx] = d
		if c.ng == nil {
			c.dec0 = d
		}
	}
	var vlan uint16
	if len(c.ci.AncillaryData) > 0 {
		if v, ok := c.ci.AncillaryData[0].(int); ok {
			vlan = uint16(v)
		}
	}
	return d.decodeTo(o, c.data, c.ci.Timestamp, name, vlan)
}

func (c *captureFile) finish() FileStats {
	for _, d := range c.decs {
		s := d.Stats
		c.stats.Decode.Packets += s.Packets
		c.stats.Decode.Adverts += s.Adverts
		c.stats.Decode.ARP += s.ARP
		c.stats.Decode.ND += s.ND
		c.stats.Decode.Invalid += s.Invalid
		c.stats.Decode.Ignored += s.Ignored
	}
	c.f.Close()
	return c.stats
}

type fileHeap []*captureFile

func (h fileHeap) Len() int           { return len(h) }
func (h fileHeap) Less(i, j int) bool { return h[i].ci.Timestamp.Before(h[j].ci.Timestamp) }
func (h fileHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *fileHeap) Push(x any)        { *h = append(*h, x.(*captureFile)) }
func (h *fileHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// ReadOptions say how ReadFilesWith reads.
type ReadOptions struct {
	// Plain reads pcap records with pcapgo and decodes every frame with
	// gopacket's layers: no zero-copy reader, no fast decode path. It is
	// the reference the fast paths are tested against.
	Plain bool
	// Concurrent reads and decodes in a goroutine of its own, handing
	// batches of observations to the caller's goroutine, which calls the
	// handler: the same observations in the same order, on two cores.
	Concurrent bool
}

// ReadFiles reads pcap and pcapng files and calls h for every observation,
// merging the files by packet timestamp so that captures of one segment
// taken on several hosts form one timeline. All files are opened first: if
// any cannot be opened as a capture, nothing is read and the error is a
// *FileError naming it. A file that breaks in the middle is used up to the
// break; its FileStats.Truncated says why.
func ReadFiles(paths []string, h obs.Handler) ([]FileStats, error) {
	return ReadFilesWith(paths, h, ReadOptions{})
}

// ReadFilesWith is ReadFiles with options.
func ReadFilesWith(paths []string, h obs.Handler, opt ReadOptions) ([]FileStats, error) {
	if opt.Concurrent {
		return ReadFilesBatched(paths, func(b []obs.Observation) {
			for i := range b {
				h(&b[i])
			}
		}, opt)
	}
	files, err := openCaptures(paths, opt)
	if err != nil {
		return nil, err
	}
	readAll(files, &handlerSink{h: h})
	return finish(files), nil
}

// ReadFilesBatched is ReadFilesWith reading and decoding in a goroutine of
// its own (whatever opt.Concurrent says) and handing the observations to
// hb on the caller's goroutine a batch at a time: the same observations in
// the same order, on two cores. A batch and the address lists in it are
// valid only during the call.
func ReadFilesBatched(paths []string, hb func([]obs.Observation), opt ReadOptions) ([]FileStats, error) {
	files, err := openCaptures(paths, opt)
	if err != nil {
		return nil, err
	}
	b := newBatcher()
	go func() {
		readAll(files, b)
		b.close()
	}()
	b.run(hb)
	return finish(files), nil
}

// openCaptures opens every file, or none.
func openCaptures(paths []string, opt ReadOptions) ([]*captureFile, error) {
	files := make([]*captureFile, 0, len(paths))
	for _, p := range paths {
		c, err := openCapture(p, opt.Plain)
		if err != nil {
			for _, o := range files {
				o.f.Close()
			}
			return nil, err
		}
		files = append(files, c)
	}
	return files, nil
}

// finish closes the files and returns their counters.
func finish(files []*captureFile) []FileStats {
	stats := make([]FileStats, len(files))
	for i, c := range files {
		stats[i] = c.finish()
	}
	return stats
}

// sink receives the observations readAll decodes.
type sink interface {
	// slot is where the next frame is decoded.
	slot() *obs.Observation
	// filled says that the slot holds an observation.
	filled()
}

// handlerSink calls a handler for every observation.
type handlerSink struct {
	h obs.Handler
	o obs.Observation
}

func (s *handlerSink) slot() *obs.Observation { return &s.o }
func (s *handlerSink) filled()                { s.h(&s.o) }

// readAll merges the open files by timestamp and decodes every frame into
// the sink.
func readAll(files []*captureFile, s sink) {
	hp := make(fileHeap, 0, len(files))
	for _, c := range files {
		c.advance()
		if !c.eof {
			hp = append(hp, c)
		}
	}
	heap.Init(&hp)
	for hp.Len() > 1 {
		c := hp[0]
		if c.decodeTo(s.slot()) {
			s.filled()
		}
		c.advance()
		if c.eof {
			heap.Pop(&hp)
		} else {
			heap.Fix(&hp, 0)
		}
	}
	if len(hp) == 1 { // the last file: no merging
		for c := hp[0]; !c.eof; c.advance() {
			if c.decodeTo(s.slot()) {
				s.filled()
			}
		}
	}
}
