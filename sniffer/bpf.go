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
func Filter() []bpf.Instruction {
	var p prog
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
		ji := p.ins[at].(bpf.JumpIf)
		ji.SkipTrue, ji.SkipFalse = skip(at, j[0]), skip(at, j[1])
		p.ins[at] = ji
	}
	return p.ins
}
