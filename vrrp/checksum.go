package vrrp

import "net/netip"

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

// pseudoSum is the unfolded one's-complement sum of the IPv4 (RFC 791) or
// IPv6 (RFC 8200 section 8.1) pseudo-header for protocol 112.
func pseudoSum(fam Family, src, dst netip.Addr, length int) uint32 {
	var s uint32
	if fam == IPv4 {
		a, b := src.As4(), dst.As4()
		s += uint32(a[0])<<8 | uint32(a[1])
		s += uint32(a[2])<<8 | uint32(a[3])
		s += uint32(b[0])<<8 | uint32(b[1])
		s += uint32(b[2])<<8 | uint32(b[3])
		s += IPProtocol
		s += uint32(length & 0xffff)
		return s
	}
	a, b := src.As16(), dst.As16()
	for i := 0; i < 16; i += 2 {
		s += uint32(a[i])<<8 | uint32(a[i+1])
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	s += uint32(length >> 16)
	s += uint32(length & 0xffff)
	s += IPProtocol
	return s
}

// checksum returns the Internet checksum (RFC 1071) of b with an initial
// sum. Over a message whose checksum field is correct it returns 0.
func checksum(b []byte, initial uint32) uint16 {
	s := initial
	n := len(b) &^ 1
	for i := 0; i < n; i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)&1 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}
