package sniffer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
)

// pcapReader reads the records of an uncompressed pcap file (the file
// header already consumed and checked by pcapgo) out of one large buffer:
// the data it returns points into that buffer and is valid until the next
// call, so reading costs no copy and no allocation per packet. Its results,
// errors included, are those of pcapgo.Reader.ZeroCopyReadPacketData.
type pcapReader struct {
	src        io.Reader
	be         bool // big-endian file
	nanoFactor uint32
	snaplen    uint32
	buf        []byte
	r, w       int
	srcErr     error
}

// pcapBufSize is the read buffer: large reads, few system calls.
const pcapBufSize = 1 << 20

// eagerReadMax is pcapgo's limit on record lengths read without checking
// that the file holds that many bytes.
const eagerReadMax = 262144

// plainPcapHeader checks whether hdr starts a plain (uncompressed) pcap
// file and returns a reader for the records that follow it.
func plainPcapHeader(hdr []byte, src io.Reader) (*pcapReader, bool) {
	if len(hdr) < 24 {
		return nil, false
	}
	p := &pcapReader{src: src}
	switch binary.LittleEndian.Uint32(hdr[0:4]) {
	case 0xa1b23c4d:
		p.nanoFactor = 1
	case 0x4d3cb2a1:
		p.be, p.nanoFactor = true, 1
	case 0xa1b2c3d4:
		p.nanoFactor = 1000
	case 0xd4c3b2a1:
		p.be, p.nanoFactor = true, 1000
	default:
		return nil, false
	}
	p.snaplen = p.u32(hdr[16:20])
	p.buf = make([]byte, pcapBufSize)
	return p, true
}

// fill makes n bytes available at p.r (n ≤ len(p.buf)); it returns how
// many there are when the source ends first.
func (p *pcapReader) fill(n int) int {
	if p.w-p.r >= n {
		return n
	}
	if p.r+n > len(p.buf) {
		p.w = copy(p.buf, p.buf[p.r:p.w])
		p.r = 0
	}
	for p.w-p.r < n && p.srcErr == nil {
		m, err := p.src.Read(p.buf[p.w:])
		p.w += m
		if err != nil {
			p.srcErr = err
		}
	}
	return min(n, p.w-p.r)
}

// readErr is io.ReadFull's error for a read of n bytes of which got arrived.
func (p *pcapReader) readErr(got int) error {
	if got == 0 {
		if p.srcErr != nil && !errors.Is(p.srcErr, io.EOF) {
			return p.srcErr
		}
		return io.EOF
	}
	if p.srcErr != nil && !errors.Is(p.srcErr, io.EOF) {
		return p.srcErr
	}
	return io.ErrUnexpectedEOF
}

func (p *pcapReader) maxCaptureLength() int {
	if p.snaplen > eagerReadMax {
		return int(p.snaplen)
	}
	return eagerReadMax
}

// u32 reads a 32-bit field of the file's byte order.
func (p *pcapReader) u32(b []byte) uint32 {
	if p.be {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// next returns the next record.
func (p *pcapReader) next() (data []byte, ci gopacket.CaptureInfo, err error) {
	data, ci.Timestamp, ci.CaptureLength, ci.Length, err = p.record()
	return data, ci, err
}

// record returns the next record's data, timestamp, captured and original
// length. A whole, well-formed record in the buffer is the short way.
func (p *pcapReader) record() (data []byte, ts time.Time, capLen, length int, err error) {
	if p.w-p.r >= 16 {
		h := p.buf[p.r : p.r+16 : p.r+16]
		n, l := int(p.u32(h[8:12])), int(p.u32(h[12:16]))
		if n <= eagerReadMax && n <= l && p.w-p.r-16 >= n {
			ts = time.Unix(int64(p.u32(h[0:4])), int64(p.u32(h[4:8])*p.nanoFactor)).UTC()
			data = p.buf[p.r+16 : p.r+16+n]
			p.r += 16 + n
			return data, ts, n, l, nil
		}
	}
	var ci gopacket.CaptureInfo
	data, ci, err = p.slowNext()
	return data, ci.Timestamp, ci.CaptureLength, ci.Length, err
}

// slowNext returns the next record, refilling the buffer, reporting
// errors, and reading records larger than eagerReadMax.
func (p *pcapReader) slowNext() (data []byte, ci gopacket.CaptureInfo, err error) {
	if got := p.fill(16); got < 16 {
		p.r += got
		return nil, ci, p.readErr(got)
	}
	h := p.buf[p.r : p.r+16]
	p.r += 16
	ci.Timestamp = time.Unix(int64(p.u32(h[0:4])), int64(p.u32(h[4:8])*p.nanoFactor)).UTC()
	ci.CaptureLength = int(p.u32(h[8:12]))
	ci.Length = int(p.u32(h[12:16]))
	if ci.CaptureLength > p.maxCaptureLength() {
		return nil, ci, fmt.Errorf("capture length exceeds snap length: %d > %d", ci.CaptureLength, p.snaplen)
	}
	if ci.CaptureLength > ci.Length {
		return nil, ci, fmt.Errorf("capture length exceeds original packet length: %d > %d", ci.CaptureLength, ci.Length)
	}
	n := ci.CaptureLength
	if n < 0 {
		return nil, ci, errors.New("pcap: length overflows int")
	}
	if n > eagerReadMax {
		// Rare: grow with the bytes actually there, as pcapgo does.
		var b bytes.Buffer
		b.Grow(eagerReadMax)
		for b.Len() < n {
			avail := p.fill(min(len(p.buf), n-b.Len()))
			if avail == 0 {
				break
			}
			b.Write(p.buf[p.r : p.r+avail])
			p.r += avail
		}
		if b.Len() < n {
			return b.Bytes(), ci, p.readErr(b.Len())
		}
		return b.Bytes(), ci, nil
	}
	got := p.fill(n)
	data = p.buf[p.r : p.r+got]
	p.r += got
	if got < n {
		return data, ci, p.readErr(got)
	}
	return data, ci, nil
}
