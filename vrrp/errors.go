package vrrp

// Reason is a typed validation error: why a packet is not a valid VRRP
// advertisement. Reason values are comparable and implement error, so
// errors.Is works and returning one never allocates.
type Reason uint8

// Validation errors returned by the decoder and the encoder.
const (
	// ErrTruncated: the packet is shorter than the fixed header, or a
	// version 2 packet ends before its authentication data.
	ErrTruncated Reason = iota + 1
	// ErrBadVersion: the version nibble is neither 2 nor 3.
	ErrBadVersion
	// ErrBadType: the type nibble is not 1 (Advertisement).
	ErrBadType
	// ErrAddressCount: the address count claims more addresses than the
	// packet holds.
	ErrAddressCount
	// ErrBadChecksum: the checksum does not match in any accepted form.
	ErrBadChecksum
	// ErrFamily: the address family does not fit the version (VRRPv2 is
	// IPv4 only) or the addresses mix families.
	ErrFamily
	// ErrInterval: the interval cannot be encoded in the version's field.
	ErrInterval
	// ErrTooManyAddresses: more than 255 addresses to encode.
	ErrTooManyAddresses
	// ErrPseudoHeader: a version 3 checksum needs source and destination
	// addresses of the packet's family.
	ErrPseudoHeader
)

var reasonText = [...]string{
	ErrTruncated:        "truncated packet",
	ErrBadVersion:       "bad version (not 2 or 3)",
	ErrBadType:          "bad type (not advertisement)",
	ErrAddressCount:     "address count larger than the packet",
	ErrBadChecksum:      "bad checksum",
	ErrFamily:           "address family does not fit the VRRP version or packet",
	ErrInterval:         "advertisement interval out of range for the version",
	ErrTooManyAddresses: "more than 255 addresses",
	ErrPseudoHeader:     "version 3 checksum needs source and destination addresses",
}

var reasonCode = [...]string{
	ErrTruncated:        "truncated",
	ErrBadVersion:       "bad_version",
	ErrBadType:          "bad_type",
	ErrAddressCount:     "address_count",
	ErrBadChecksum:      "bad_checksum",
	ErrFamily:           "bad_family",
	ErrInterval:         "bad_interval",
	ErrTooManyAddresses: "too_many_addresses",
	ErrPseudoHeader:     "no_pseudo_header",
}

// Error implements error with a short lowercase description.
func (r Reason) Error() string {
	if int(r) < len(reasonText) && reasonText[r] != "" {
		return "vrrp: " + reasonText[r]
	}
	return "vrrp: invalid packet"
}

// Code is a stable machine-readable name for the reason ("truncated",
// "bad_version", ...), used in JSON output and metric labels.
func (r Reason) Code() string {
	if int(r) < len(reasonCode) && reasonCode[r] != "" {
		return reasonCode[r]
	}
	return "invalid"
}

// Reasons lists every Reason, for metrics initialisation and tests.
func Reasons() []Reason {
	out := make([]Reason, 0, len(reasonCode)-1)
	for r := ErrTruncated; int(r) < len(reasonCode); r++ {
		out = append(out, r)
	}
	return out
}
