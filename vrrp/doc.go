// Package vrrp is the VRRP wire format: advertisements of VRRP version 2
// (RFC 3768) and version 3 (RFC 5798, as clarified by RFC 9568) over IPv4
// and IPv6, their checksums, and typed validation errors.
//
// Layout of an advertisement (both versions share the first four bytes):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version| Type  | Virtual Rtr ID|   Priority    | Count IP Addrs|
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	v2: |   Auth Type   |   Adver Int   |          Checksum             |
//	v3: |(rsvd) |     Max Adver Int     |          Checksum             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           IPvX Address(es) (4 or 16 bytes each)               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	v2 only: |              Authentication Data (8 bytes)            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Version 2 carries the advertisement interval in seconds and an 8-byte
// authentication field; its checksum covers the VRRP message only.
// Version 3 carries the interval in centiseconds (12 bits) and its checksum
// includes the IP pseudo-header. Over IPv4, keepalived and FRR include the
// pseudo-header while RFC 9568 and several vendors do not; [VerifyChecksum]
// accepts both and reports which form matched.
//
// Decoding never panics and never allocates when the Advertisement is
// reused. The package imports nothing but the standard library; the
// sniffer wraps the decoder in a gopacket DecodingLayer.
package vrrp
