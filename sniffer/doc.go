// Package sniffer turns captured frames into observations (package obs):
// VRRP advertisements (RFC 3768, RFC 5798) decoded by its gopacket layer
// VRRPLayer, ARP announcements and replies (RFC 826, RFC 5227), IPv6
// neighbour advertisements (RFC 4861), and VRRP packets that failed
// validation. Frames come from live AF_PACKET capture with a BPF filter and
// no cgo — a memory-mapped TPACKET_V3 receive ring (packet(7)), or one
// recvmsg per packet through pcapgo.EthernetHandle — or from pcap and
// pcapng files; Prober sends the ARP probes and neighbour solicitations
// that make holders of an address answer.
package sniffer
