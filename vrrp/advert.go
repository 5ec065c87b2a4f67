package vrrp

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"strconv"
	"time"
)

// IPProtocol is the IP protocol number (and IPv6 next header) of VRRP.
const IPProtocol = 112

// TTL is the only IPv4 TTL / IPv6 hop limit a valid advertisement carries.
const TTL = 255

// HeaderLen is the length of the fixed header shared by both versions.
const HeaderLen = 8

// AuthDataLen is the length of the version 2 authentication data field.
const AuthDataLen = 8

// TypeAdvertisement is the only VRRP packet type.
const TypeAdvertisement = 1

// Multicast destinations of advertisements.
var (
	MulticastIPv4 = netip.AddrFrom4([4]byte{224, 0, 0, 18})
	MulticastIPv6 = netip.MustParseAddr("ff02::12")
)

// Family is the address family of an advertisement's addresses.
type Family uint8

// Address families.
const (
	FamilyUnknown Family = iota
	IPv4
	IPv6
)

// String returns "ipv4", "ipv6" or "unknown".
func (f Family) String() string {
	switch f {
	case IPv4:
		return "ipv4"
	case IPv6:
		return "ipv6"
	}
	return "unknown"
}

// AddrLen is the length in bytes of one address of the family (0 if unknown).
func (f Family) AddrLen() int {
	switch f {
	case IPv4:
		return 4
	case IPv6:
		return 16
	}
	return 0
}

// FamilyOf returns the family of an address (IPv4-mapped IPv6 counts as IPv4).
func FamilyOf(a netip.Addr) Family {
	switch {
	case a.Is4() || a.Is4In6():
		return IPv4
	case a.Is6():
		return IPv6
	}
	return FamilyUnknown
}

// AuthType is the version 2 authentication type (RFC 3768 section 5.3.6;
// RFC 2338 defined 1 and 2, which keepalived still sends).
type AuthType uint8

// Version 2 authentication types.
const (
	AuthNone   AuthType = 0
	AuthSimple AuthType = 1 // simple text password (keepalived auth_type PASS)
	AuthAH     AuthType = 2 // IP Authentication Header (keepalived auth_type AH)
)

// String returns "none", "simple", "ah", or "unknown(N)".
func (t AuthType) String() string {
	switch t {
	case AuthNone:
		return "none"
	case AuthSimple:
		return "simple"
	case AuthAH:
		return "ah"
	}
	return "unknown(" + strconv.Itoa(int(t)) + ")"
}

// PasswordAuthData returns the 8-byte authentication field keepalived sends
// for auth_pass: the password truncated to 8 bytes and padded with NULs.
func PasswordAuthData(password string) [AuthDataLen]byte {
	var d [AuthDataLen]byte
	copy(d[:], password)
	return d
}

// AuthDigest is the first 8 hex characters of the SHA-256 of the 8-byte
// authentication field: comparable between routers without revealing the
// password.
func AuthDigest(data [AuthDataLen]byte) string {
	sum := sha256.Sum256(data[:])
	return hex.EncodeToString(sum[:4])
}

// Advertisement is one decoded VRRP advertisement.
type Advertisement struct {
	Version  uint8 // 2 or 3
	Type     uint8 // always TypeAdvertisement when valid
	VRID     uint8
	Priority uint8
	// AuthType and AuthData are present in version 2 only.
	AuthType AuthType
	AuthData [AuthDataLen]byte
	// Interval is the advertisement interval: whole seconds in version 2,
	// centiseconds in version 3 (Max Adver Int).
	Interval time.Duration
	// Reserved holds the 4 reserved bits of a version 3 advertisement.
	Reserved uint8
	Checksum uint16
	Family   Family
	// Addresses are the virtual addresses. After Unmarshal the slice is
	// reused by the next Unmarshal into the same Advertisement.
	Addresses []netip.Addr
}

// Unmarshal decodes b, the VRRP message (the IP payload), into a. fam is the
// family of the IP header that carried it; with FamilyUnknown it is
// inferred (version 2 is IPv4; version 3 by the length). Bytes after the
// addresses (and version 2 auth data) are ignored. The checksum is not
// verified: see VerifyChecksum. Unmarshal never panics and, when a is
// reused, does not allocate.
func (a *Advertisement) Unmarshal(b []byte, fam Family) error {
	a.Addresses = a.Addresses[:0]
	if len(b) < HeaderLen {
		return ErrTruncated
	}
	a.Version = b[0] >> 4
	a.Type = b[0] & 0x0f
	a.VRID = b[1]
	a.Priority = b[2]
	n := int(b[3])
	a.Checksum = binary.BigEndian.Uint16(b[6:8])
	a.AuthType = 0
	a.AuthData = [AuthDataLen]byte{}
	a.Reserved = 0
	switch a.Version {
	case 2:
		a.AuthType = AuthType(b[4])
		a.Interval = time.Duration(b[5]) * time.Second
	case 3:
		a.Reserved = b[4] >> 4
		a.Interval = time.Duration(binary.BigEndian.Uint16(b[4:6])&0x0fff) * 10 * time.Millisecond
	default:
		a.Interval = 0
		return ErrBadVersion
	}
	if a.Type != TypeAdvertisement {
		return ErrBadType
	}
	if fam == FamilyUnknown {
		fam = inferFamily(a.Version, n, len(b))
	}
	if a.Version == 2 && fam != IPv4 {
		return ErrFamily
	}
	a.Family = fam
	al := fam.AddrLen()
	if al == 0 {
		return ErrFamily
	}
	end := HeaderLen + n*al
	if len(b) < end {
		return ErrAddressCount
	}
	if a.Version == 2 && len(b) < end+AuthDataLen {
		return ErrTruncated
	}
	for off := HeaderLen; off < end; off += al {
		if al == 4 {
			a.Addresses = append(a.Addresses, netip.AddrFrom4([4]byte(b[off:off+4])))
		} else {
			a.Addresses = append(a.Addresses, netip.AddrFrom16([16]byte(b[off:off+16])))
		}
	}
	if a.Version == 2 {
		copy(a.AuthData[:], b[end:end+AuthDataLen])
	}
	return nil
}

// inferFamily guesses the address family of a version 3 message from its
// length when the carrying IP header is not known.
func inferFamily(version uint8, n, length int) Family {
	if version == 2 || n == 0 {
		return IPv4
	}
	rest := length - HeaderLen
	switch {
	case rest == 4*n:
		return IPv4
	case rest == 16*n:
		return IPv6
	case rest >= 16*n:
		return IPv6
	}
	return IPv4
}

// Len returns the encoded length of the advertisement.
func (a *Advertisement) Len() int {
	l := HeaderLen + len(a.Addresses)*a.addrLen()
	if a.Version == 2 {
		l += AuthDataLen
	}
	return l
}

func (a *Advertisement) addrLen() int {
	if a.Family != FamilyUnknown {
		return a.Family.AddrLen()
	}
	if len(a.Addresses) > 0 {
		return FamilyOf(a.Addresses[0]).AddrLen()
	}
	return 4
}

// EncodeOptions say how to compute the checksum of an encoded
// advertisement. Src and Dst are the IP source and destination; version 3
// needs them for the pseudo-header unless OmitPseudoHeader is set over IPv4.
type EncodeOptions struct {
	Src, Dst netip.Addr
	// OmitPseudoHeader computes a version 3 IPv4 checksum without the
	// pseudo-header (RFC 9568, Cisco, Juniper). The default includes it,
	// as keepalived and FRR do. IPv6 always includes it.
	OmitPseudoHeader bool
}

// AppendMarshal appends the encoded advertisement, with its checksum, to b.
// The Type field is always written as TypeAdvertisement; Family is taken
// from the addresses when unset.
func (a *Advertisement) AppendMarshal(b []byte, o EncodeOptions) ([]byte, error) {
	fam := a.Family
	if fam == FamilyUnknown {
		fam = IPv4
		if len(a.Addresses) > 0 {
			fam = FamilyOf(a.Addresses[0])
		}
	}
	if len(a.Addresses) > 255 {
		return b, ErrTooManyAddresses
	}
	for _, ad := range a.Addresses {
		if FamilyOf(ad) != fam {
			return b, ErrFamily
		}
	}
	var b45 [2]byte
	switch a.Version {
	case 2:
		if fam != IPv4 {
			return b, ErrFamily
		}
		if a.Interval < time.Second || a.Interval > 255*time.Second || a.Interval%time.Second != 0 {
			return b, ErrInterval
		}
		b45[0] = byte(a.AuthType)
		b45[1] = byte(a.Interval / time.Second)
	case 3:
		cs := a.Interval / (10 * time.Millisecond)
		if cs < 1 || cs > 0x0fff || a.Interval%(10*time.Millisecond) != 0 {
			return b, ErrInterval
		}
		binary.BigEndian.PutUint16(b45[:], uint16(a.Reserved&0x0f)<<12|uint16(cs))
	default:
		return b, ErrBadVersion
	}
	pseudo := a.Version == 3 && !(fam == IPv4 && o.OmitPseudoHeader)
	if pseudo && (FamilyOf(o.Src) != fam || FamilyOf(o.Dst) != fam) {
		return b, ErrPseudoHeader
	}
	start := len(b)
	b = append(b, a.Version<<4|TypeAdvertisement, a.VRID, a.Priority, byte(len(a.Addresses)), b45[0], b45[1], 0, 0)
	for _, ad := range a.Addresses {
		if fam == IPv4 {
			v := ad.As4()
			b = append(b, v[:]...)
		} else {
			v := ad.As16()
			b = append(b, v[:]...)
		}
	}
	if a.Version == 2 {
		b = append(b, a.AuthData[:]...)
	}
	msg := b[start:]
	var sum uint16
	if pseudo {
		sum = checksum(msg, pseudoSum(fam, o.Src, o.Dst, len(msg)))
	} else {
		sum = checksum(msg, 0)
	}
	binary.BigEndian.PutUint16(msg[6:8], sum)
	return b, nil
}

// Marshal returns the encoded advertisement; see AppendMarshal.
func (a *Advertisement) Marshal(o EncodeOptions) ([]byte, error) {
	return a.AppendMarshal(make([]byte, 0, a.Len()), o)
}
