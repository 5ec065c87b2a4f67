package rules

import (
	"time"

	"github.com/vrrpguard/vrrpguard/vrrp"
)

// keyMemo remembers the authentication, version and interval keys (and
// their hashes) made last, and what they were made from.
type keyMemo struct {
	ok       bool
	version  uint8
	interval time.Duration
	authType vrrp.AuthType
	authData [vrrp.AuthDataLen]byte
	keys     [3]string
	hashes   [3]uint64
}

// same gives r the remembered keys if they were made from r's values.
func (m *keyMemo) same(r *router) bool {
	if !m.ok || m.version != r.version || m.interval != r.interval || m.authType != r.authType || m.authData != r.authData {
		return false
	}
	r.authKey, r.versionKey, r.intervalKey = m.keys[0], m.keys[1], m.keys[2]
	copy(r.keyHash[:3], m.hashes[:])
	return true
}

// keep remembers r's keys.
func (m *keyMemo) keep(r *router) {
	*m = keyMemo{ok: true, version: r.version, interval: r.interval, authType: r.authType, authData: r.authData,
		keys: [3]string{r.authKey, r.versionKey, r.intervalKey}}
	copy(m.hashes[:], r.keyHash[:3])
}
