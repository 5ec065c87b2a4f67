package alert

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Notifier delivers notifications to one receiver.
type Notifier interface {
	// Name identifies the receiver in logs, metrics and the outbox; it must
	// be unique among a dispatcher's sinks and stable across restarts (the
	// outbox of a sink is found by its name). It never contains secrets.
	Name() string
	// Notify delivers one notification made of alerts. A nil error means the
	// receiver accepted it. Otherwise retry tells whether a later attempt
	// may succeed (network errors, overload) or not (the receiver rejected
	// the notification itself). An error may carry a delay the receiver
	// asked for (see RetryAfter).
	Notify(ctx context.Context, alerts []Alert) (retry bool, err error)
}

// Refresher is implemented by notifiers whose receiver forgets firing alerts
// unless they are sent again (Alertmanager resolves an alert not re-sent
// within its resolve_timeout). The dispatcher re-sends every firing alert to
// such a sink every Options.ResendInterval.
type Refresher interface {
	Notifier
	// NeedsResend reports whether firing alerts must be re-sent.
	NeedsResend() bool
}

// retryAfterError carries a delay requested by the receiver.
type retryAfterError interface {
	error
	RetryAfter() time.Duration
}

// RetryAfter returns the delay a receiver asked for before the next attempt
// (an HTTP Retry-After header), if err carries one.
func RetryAfter(err error) (time.Duration, bool) {
	var ra retryAfterError
	if errors.As(err, &ra) && ra.RetryAfter() > 0 {
		return ra.RetryAfter(), true
	}
	return 0, false
}

// HTTPError is a non-2xx reply of an HTTP receiver.
type HTTPError struct {
	// URL is the request's URL without user info and query.
	URL        string
	StatusCode int
	// Body is the start of the reply's body (at most 512 bytes).
	Body string
	// After is the Retry-After delay (0 if none).
	After time.Duration
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("%s: HTTP %d %s", e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if b := strings.TrimSpace(e.Body); b != "" {
		s += ": " + b
	}
	return s
}

// RetryAfter is the delay the receiver asked for.
func (e *HTTPError) RetryAfter() time.Duration { return e.After }

// Retryable reports whether the status is worth retrying: 408, 429 and 5xx.
func (e *HTTPError) Retryable() bool {
	return e.StatusCode == http.StatusRequestTimeout || e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// maxErrorBody is how much of a failed reply's body an error keeps.
const maxErrorBody = 512

// checkHTTPReply turns a reply into nil, or an *HTTPError and whether it is
// retryable. It consumes and closes the body.
func checkHTTPReply(resp *http.Response, url string, now time.Time) (retry bool, err error) {
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return false, nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody+1))
	he := &HTTPError{URL: url, StatusCode: resp.StatusCode, Body: truncate(string(body), maxErrorBody)}
	if he.Retryable() {
		he.After = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	}
	return he.Retryable(), he
}

// parseRetryAfter reads a Retry-After value: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// truncate shortens s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// redactURL makes a URL safe for messages, metric labels and sink names:
// it drops user info, query and fragment and masks path segments of 16 or
// more characters (webhook URLs of chat services carry their token in the
// path). When it hid anything it appends "#" and 8 hex digits of the full
// URL's SHA-256, so that different URLs keep different names.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(invalid URL)"
	}
	hidden := p.User != nil || p.RawQuery != "" || p.ForceQuery || p.Fragment != ""
	p.User = nil
	p.RawQuery = ""
	p.ForceQuery = false
	p.Fragment = ""
	p.RawFragment = ""
	segs := strings.Split(p.EscapedPath(), "/")
	for i, s := range segs {
		if len(s) >= 16 {
			segs[i] = "…"
			hidden = true
		}
	}
	if hidden {
		p.RawPath = ""
		p.Path = ""
		h := sha256.Sum256([]byte(u))
		return p.String() + strings.Join(segs, "/") + "#" + hex.EncodeToString(h[:4])
	}
	return p.String()
}
