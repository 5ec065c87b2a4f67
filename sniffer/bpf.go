package sniffer

import (
	"golang.org/x/net/bpf"
)

// snapLen is what the filter keeps of an accepted packet; adverts, ARP and
// NAs are far smaller, and invalid packets are still reported.
const snapLen = 65535

// Filter returns the classic BPF program used for live capture: IPv4 and
// IPv6 protocol 112 (VRRP), IPv4 protocol 51 (VRRP behind an IPsec
// authentication header, keepalived's auth_type AH), ARP, and ICMPv6
// neighbour advertisements (type 136) — untagged and, in case the driver
// did not strip it, with one 802.1Q tag.
func Filter() []bpf.Instruction { return FilterExcept(Own{}) }

// Own names the VRRP advertisements that a local participant (`vrrpguard
// run`) sends on one interface, by family and VRID. They reach the watcher
// from the participant, which hands over each advert it sent; the capture
// filter leaves them out, so the node's own adverts do not wake the
// capture. Only frames the kernel marks as sent by this host
// (PACKET_OUTGOING), from the interface's MAC, without a VLAN tag,
// carrying IP protocol 112 (not AH) with one of these VRIDs are left out.
type Own struct {
	// MAC is the interface's: only frames from it are left out (a
	// macvlan child's frames, or frames the host forwards, have another
	// source and are captured).
	MAC    [6]byte
	V4, V6 []uint8
}

// MaxOwnVRIDs is the most VRIDs (both families) an Own may name; the
// filter tests them one by one.
const MaxOwnVRIDs = 64

// Empty reports whether o names no advert.
func (o Own) Empty() bool { return len(o.V4) == 0 && len(o.V6) == 0 }

// Valid reports whether the filter can leave out what o names: a MAC and
// at most MaxOwnVRIDs.
func (o Own) Valid() bool { return o.MAC != [6]byte{} && len(o.V4)+len(o.V6) <= MaxOwnVRIDs }

// FilterExcept is Filter, leaving out the node's own adverts named by own
// (see Own). An own that is not Valid leaves out nothing.
func FilterExcept(own Own) []bpf.Instruction {
	var p prog
	if !own.Empty() && own.Valid() {
		p.own(own)
	}
	p.label("main")
	p.add(bpf.LoadAbsolute{Off: 12, Size: 2})
	p.jeq(0x8100, "vlan", "")
	p.block(0, "")
	p.label("vlan")
	p.add(bpf.LoadAbsolute{Off: 16, Size: 2})
	p.block(4, "v")
	p.label("accept")
	p.add(bpf.RetConstant{Val: snapLen})
	p.label("reject")
	p.add(bpf.RetConstant{Val: 0})
	return p.resolve()
}

// PACKET_OUTGOING, the packet type of a frame sent by this host
// (linux/if_packet.h).
const packetOutgoing = 4

// own rejects the outgoing adverts named by o and jumps to "main" for
// every other frame.
func (p *prog) own(o Own) {
	p.add(bpf.LoadExtension{Num: bpf.ExtType})
	p.jeq(packetOutgoing, "", "main")
	p.add(bpf.LoadExtension{Num: bpf.ExtVLANTagPresent})
	p.jeq(0, "", "main")
	p.add(bpf.LoadAbsolute{Off: 6, Size: 4})
	p.jeq(uint32(o.MAC[0])<<24|uint32(o.MAC[1])<<16|uint32(o.MAC[2])<<8|uint32(o.MAC[3]), "", "main")
	p.add(bpf.LoadAbsolute{Off: 10, Size: 2})
	p.jeq(uint32(o.MAC[4])<<8|uint32(o.MAC[5]), "", "main")
	p.add(bpf.LoadAbsolute{Off: 12, Size: 2})
	p.jeq(0x0800, "", "own6")
	p.add(bpf.LoadAbsolute{Off: 23, Size: 1})
	p.jeq(112, "", "main")
	p.add(bpf.LoadMemShift{Off: 14}) // X = the IPv4 header's length
	p.add(bpf.LoadIndirect{Off: 15, Size: 1})
	for _, v := range o.V4 {
		p.jeq(uint32(v), "drop", "")
	}
	p.ja("main")
	p.label("own6")
	p.jeq(0x86dd, "", "main")
	p.add(bpf.LoadAbsolute{Off: 20, Size: 1})
	p.jeq(112, "", "main")
	p.add(bpf.LoadAbsolute{Off: 55, Size: 1})
	for _, v := range o.V6 {
		p.jeq(uint32(v), "drop", "")
	}
	p.ja("main")
	p.label("drop")
	p.add(bpf.RetConstant{Val: 0})
}

// block matches the EtherType in A for frames whose Ethernet header is
// extended by off bytes.
func (p *prog) block(off uint32, tag string) {
	p.jeq(0x0806, "accept", "")
	p.jeq(0x0800, "ip4"+tag, "")
	p.jeq(0x86dd, "ip6"+tag, "reject")
	p.label("ip4" + tag)
	p.add(bpf.LoadAbsolute{Off: 23 + off, Size: 1})
	p.jeq(112, "accept", "")
	p.jeq(51, "accept", "reject")
	p.label("ip6" + tag)
	p.add(bpf.LoadAbsolute{Off: 20 + off, Size: 1})
	p.jeq(112, "accept", "")
	p.jeq(58, "", "reject")
	p.add(bpf.LoadAbsolute{Off: 54 + off, Size: 1})
	p.jeq(136, "accept", "reject")
}

// prog is a tiny assembler with labels for forward conditional jumps.
type prog struct {
	ins    []bpf.Instruction
	jumps  map[int][2]string
	labels map[string]int
}

func (p *prog) add(i bpf.Instruction) { p.ins = append(p.ins, i) }

func (p *prog) label(name string) {
	if p.labels == nil {
		p.labels = map[string]int{}
	}
	p.labels[name] = len(p.ins)
}

// jeq jumps to labels t or f ("" = next instruction) on A == v.
func (p *prog) jeq(v uint32, t, f string) {
	if p.jumps == nil {
		p.jumps = map[int][2]string{}
	}
	p.jumps[len(p.ins)] = [2]string{t, f}
	p.add(bpf.JumpIf{Cond: bpf.JumpEqual, Val: v})
}

// ja jumps to label l.
func (p *prog) ja(l string) {
	if p.jumps == nil {
		p.jumps = map[int][2]string{}
	}
	p.jumps[len(p.ins)] = [2]string{l, ""}
	p.add(bpf.Jump{})
}

func (p *prog) resolve() []bpf.Instruction {
	skip := func(at int, l string) uint8 {
		if l == "" {
			return 0
		}
		target, ok := p.labels[l]
		if !ok || target <= at || target-at-1 > 255 {
			panic("bpf: bad label " + l) // programming error in this file
		}
		return uint8(target - at - 1)
	}
	for at, j := range p.jumps {
		if _, ok := p.ins[at].(bpf.Jump); ok {
			p.ins[at] = bpf.Jump{Skip: uint32(skip(at, j[0]))}
			continue
		}
		ji := p.ins[at].(bpf.JumpIf)
		ji.SkipTrue, ji.SkipFalse = skip(at, j[0]), skip(at, j[1])
		p.ins[at] = ji
	}
	return p.ins
}
