package vrrp

import (
	"encoding/binary"
	"net/netip"
)

// ChecksumForm says whether, and how, a received checksum matched.
type ChecksumForm uint8

// Checksum verification results.
const (
	ChecksumUnchecked ChecksumForm = iota
	// ChecksumValid: version 2 over the message, or version 3 including the
	// pseudo-header (keepalived, FRR; the only form over IPv6).
	ChecksumValid
	// ChecksumValidWithoutPseudoHeader: version 3 over IPv4 computed over
	// the message alone (RFC 9568, Cisco, Juniper).
	ChecksumValidWithoutPseudoHeader
	// ChecksumInvalid: no accepted form matches.
	ChecksumInvalid
)

// String returns "valid", "valid_without_pseudo_header", "invalid" or
// "unchecked".
func (c ChecksumForm) String() string {
	switch c {
	case ChecksumValid:
		return "valid"
	case ChecksumValidWithoutPseudoHeader:
		return "valid_without_pseudo_header"
	case ChecksumInvalid:
		return "invalid"
	}
	return "unchecked"
}

// OK reports whether the checksum matched in an accepted form.
func (c ChecksumForm) OK() bool {
	return c == ChecksumValid || c == ChecksumValidWithoutPseudoHeader
}

// VerifyChecksum checks the checksum of msg, a whole VRRP message as carried
// in the IP payload, sent from src to dst. Version 2 is checked over the
// message. Version 3 over IPv6 must include the pseudo-header; version 3 over
// IPv4 is accepted with or without it, and the form is reported.
func VerifyChecksum(msg []byte, src, dst netip.Addr) ChecksumForm {
	if len(msg) < HeaderLen {
		return ChecksumInvalid
	}
	switch msg[0] >> 4 {
	case 2:
		if checksum(msg, 0) == 0 {
			return ChecksumValid
		}
		return ChecksumInvalid
	case 3:
		fam := FamilyOf(src)
		if fam == FamilyUnknown || FamilyOf(dst) != fam {
			return ChecksumInvalid
		}
		if checksum(msg, pseudoSum(fam, src, dst, len(msg))) == 0 {
			return ChecksumValid
		}
		if fam == IPv4 && checksum(msg, 0) == 0 {
			return ChecksumValidWithoutPseudoHeader
		}
	}
	return ChecksumInvalid
}

// pseudoSum is the one's-complement sum, folded to 32 bits, of the IPv4
// (RFC 791) or IPv6 (RFC 8200 section 8.1) pseudo-header for protocol 112.
func pseudoSum(fam Family, src, dst netip.Addr, length int) uint32 {
	var s uint64
	if fam == IPv4 {
		a, b := src.As4(), dst.As4()
		s = uint64(binary.BigEndian.Uint32(a[:])) + uint64(binary.BigEndian.Uint32(b[:]))
		s += IPProtocol + uint64(length&0xffff)
		return fold32(s)
	}
	a, b := src.As16(), dst.As16()
	for i := 0; i < 16; i += 8 {
		x, y := binary.BigEndian.Uint64(a[i:]), binary.BigEndian.Uint64(b[i:])
		s += x>>32 + x&0xffffffff + y>>32 + y&0xffffffff
	}
	s += uint64(length>>16) + uint64(length&0xffff) + IPProtocol
	return fold32(s)
}

// fold32 folds a one's-complement sum to 32 bits (end-around carry); it is
// 0 only for 0.
func fold32(s uint64) uint32 {
	s = s>>32 + s&0xffffffff
	s = s>>32 + s&0xffffffff
	return uint32(s)
}

// checksum returns the Internet checksum (RFC 1071) of b with an initial
// sum. Over a message whose checksum field is correct it returns 0. It adds
// 32-bit words (RFC 1071 section 2 (B): the sum of 16-bit words and of
// 32-bit words fold to the same value).
func checksum(b []byte, initial uint32) uint16 {
	s := uint64(initial)
	for len(b) >= 8 {
		x := binary.BigEndian.Uint64(b)
		s += x>>32 + x&0xffffffff
		b = b[8:]
	}
	if len(b) >= 4 {
		s += uint64(binary.BigEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		s += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	s = uint64(fold32(s))
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}
