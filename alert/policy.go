package alert

import (
	"fmt"
	"slices"
	"time"

	"github.com/vrrpguard/vrrpguard/rules"
)

// policy decides what to notify: the firing set, deduplication by
// fingerprint, grouping, reminders and resolves. It is pure: no disk, no
// goroutines, no clock — the time of each step is a parameter, and its
// decisions come back as actions for the dispatcher to carry out.
//
// Findings are grouped in time. The first findings after a quiet moment
// go out at once, and findings submitted within GroupWait of a
// notification are held and go out together, as one notification, when
// that GroupWait ends (which holds the next ones for another GroupWait):
// the first notice of an incident is not delayed, and a burst of findings
// still makes at most one notification per GroupWait. With HoldFirst the
// first findings wait for GroupWait too (one notification per group). A
// raise notifies once; further raises of an
// alert already firing update it silently; a resolve of a firing alert
// notifies, one of an alert not firing is ignored; a raise and resolve
// within one group become one resolved alert. Firing alerts are notified
// again every RepeatInterval, marked as reminders. An alert of the firing
// set restored from disk is not reminded of until the detection engine
// raises it again; if it does not within RestoreGrace it is resolved (its
// problem ended while vrrpguard was not running).
//
// A policy is not safe for concurrent use.
type policy struct {
	c policyConfig

	firing        map[string]*firingEntry
	pending       []rules.Finding
	groupDeadline time.Time
	// holdUntil: findings submitted before it are held until then (the
	// GroupWait after the last notification of new findings).
	holdUntil time.Time
}

// policyConfig is the part of Options the policy needs, with defaults
// applied.
type policyConfig struct {
	Instance    string
	ExternalURL string
	// GroupWait ≤ 0: every step's findings go out at once.
	GroupWait time.Duration
	// HoldFirst: the first findings after a quiet moment wait for
	// GroupWait too, instead of going out at once.
	HoldFirst bool
	// RepeatInterval ≤ 0: never remind.
	RepeatInterval time.Duration
	// RestoreGrace < 0: restored alerts are never resolved by the policy.
	RestoreGrace time.Duration
}

// firingEntry is an alert of the firing set (and its form in firing.json).
type firingEntry struct {
	Alert Alert `json:"alert"`
	// LastNotified is when the alert was last queued for notification
	// (raise or repeat).
	LastNotified time.Time `json:"lastNotified"`
	// restoredAt is set for an entry loaded from disk and not raised again
	// since.
	restoredAt time.Time
}

func newPolicy(c policyConfig) *policy {
	return &policy{c: c, firing: map[string]*firingEntry{}}
}

// policyEvent is an input of policy.step.
type policyEvent interface{ policyEvent() }

// submitted carries the findings handed to the dispatcher since the last
// step (none: only time has passed).
type submitted struct{ findings []rules.Finding }

// stopping is the last step before the dispatcher stops: like submitted,
// and the pending group goes out without waiting for its GroupWait.
type stopping struct{ findings []rules.Finding }

// restored replaces the firing set with the one saved by a previous run
// (the policy takes the entries over).
type restored struct{ firing []*firingEntry }

func (submitted) policyEvent() {}
func (stopping) policyEvent()  {}
func (restored) policyEvent()  {}

// policyAction is an output of policy.step, to be carried out in order.
type policyAction interface{ policyAction() }

// publishFiring hands the new firing set to the re-posting workers. It
// comes before the notifications of its step, so that a resolve is never
// followed by a stale re-post.
type publishFiring struct{ alerts []Alert }

// notify is one notification, for every sink whose route lets some of its
// alerts through.
type notify struct{ alerts []Alert }

// saveFiring asks for the firing set to be saved. It comes after the
// notifications of its step, so that a crash between the two notifies
// twice, never not at all.
type saveFiring struct{ firing []*firingEntry }

// ignoredResolve reports a resolve of an alert that is not firing (for a
// debug log).
type ignoredResolve struct{ fingerprint, kind string }

func (publishFiring) policyAction()  {}
func (notify) policyAction()         {}
func (saveFiring) policyAction()     {}
func (ignoredResolve) policyAction() {}

// step advances the policy to now with ev.
func (p *policy) step(now time.Time, ev policyEvent) []policyAction {
	switch e := ev.(type) {
	case restored:
		p.restore(now, e.firing)
		return []policyAction{publishFiring{p.firingAlerts()}}
	case submitted:
		p.receive(now, e.findings)
		return p.due(now, false)
	case stopping:
		p.receive(now, e.findings)
		return p.due(now, true)
	}
	return nil
}

// restore replaces the firing set; its entries wait for a raise.
func (p *policy) restore(now time.Time, firing []*firingEntry) {
	p.firing = map[string]*firingEntry{}
	for _, fe := range firing {
		if fe == nil || fe.Alert.Fingerprint == "" {
			continue
		}
		fe.restoredAt = now
		p.firing[fe.Alert.Fingerprint] = fe
	}
}

// receive adds findings to the pending group, opening one if there is
// none: due at once after a quiet moment, else when the GroupWait after
// the last notification ends (with HoldFirst: GroupWait from now).
func (p *policy) receive(now time.Time, findings []rules.Finding) {
	if len(findings) == 0 {
		return
	}
	if len(p.pending) == 0 {
		switch {
		case p.c.HoldFirst:
			p.groupDeadline = now.Add(max(p.c.GroupWait, 0))
		case now.Before(p.holdUntil):
			p.groupDeadline = p.holdUntil
		default:
			p.groupDeadline = now
		}
	}
	p.pending = append(p.pending, findings...)
}

// due returns what is due at now: the pending group once its wait is over
// (or at once if final), reminders and expired restored alerts.
func (p *policy) due(now time.Time, final bool) []policyAction {
	var out []policyAction
	var batches [][]Alert
	changed := false
	if len(p.pending) > 0 && (final || !now.Before(p.groupDeadline)) {
		b, ignored := p.flush(now)
		out = append(out, ignored...)
		if len(b) > 0 {
			batches = append(batches, b)
			p.holdUntil = now.Add(max(p.c.GroupWait, 0))
		}
		p.pending = nil
		changed = true
	}
	if b := p.dueRepeats(now); len(b) > 0 {
		batches = append(batches, b)
		changed = true
	}
	if b := p.expireRestored(now); len(b) > 0 {
		batches = append(batches, b)
		changed = true
	}
	if !changed {
		return out
	}
	out = append(out, publishFiring{p.firingAlerts()})
	for _, b := range batches {
		out = append(out, notify{b})
	}
	saved := make([]*firingEntry, 0, len(p.firing))
	for _, fe := range p.firingList() {
		c := *fe
		c.Alert = fe.Alert.clone()
		saved = append(saved, &c)
	}
	return append(out, saveFiring{saved})
}

// flush applies the pending findings to the firing set and returns the
// alerts to notify: new ones, resolved ones (a raise and resolve within one
// group become one resolved alert); a raise of an alert already firing
// updates it silently.
func (p *policy) flush(now time.Time) (batch []Alert, ignored []policyAction) {
	index := map[string]int{}
	put := func(a Alert) {
		if i, ok := index[a.Fingerprint]; ok {
			batch[i] = a
			return
		}
		index[a.Fingerprint] = len(batch)
		batch = append(batch, a)
	}
	for _, f := range p.pending {
		a := FromFinding(f, p.c.Instance)
		a.GeneratorURL = p.c.ExternalURL
		if a.At.IsZero() {
			a.At = now.UTC()
		}
		fe := p.firing[a.Fingerprint]
		switch f.State {
		case rules.Resolved:
			if fe == nil {
				ignored = append(ignored, ignoredResolve{a.Fingerprint, a.Kind})
				continue
			}
			a.StartsAt = earliest(fe.Alert.StartsAt, a.StartsAt)
			if a.EndsAt.IsZero() {
				a.EndsAt = a.At
			}
			delete(p.firing, a.Fingerprint)
			put(a)
		default:
			if fe != nil {
				a.StartsAt = earliest(fe.Alert.StartsAt, a.StartsAt)
				if a.FirstSeen.After(fe.Alert.FirstSeen) && !fe.Alert.FirstSeen.IsZero() {
					a.FirstSeen = fe.Alert.FirstSeen
				}
				fe.Alert = a
				fe.restoredAt = time.Time{}
				if _, ok := index[a.Fingerprint]; ok {
					put(a)
				}
				continue
			}
			p.firing[a.Fingerprint] = &firingEntry{Alert: a, LastNotified: now}
			put(a)
		}
	}
	return batch, ignored
}

// dueRepeats returns reminders of alerts firing for RepeatInterval since
// their last notification.
func (p *policy) dueRepeats(now time.Time) []Alert {
	if p.c.RepeatInterval <= 0 {
		return nil
	}
	var out []Alert
	for _, fe := range p.firingList() {
		if !fe.restoredAt.IsZero() || now.Before(fe.LastNotified.Add(p.c.RepeatInterval)) {
			continue
		}
		fe.LastNotified = now
		a := fe.Alert.clone()
		a.Repeat = true
		a.At = now.UTC()
		out = append(out, a)
	}
	return out
}

// expireRestored resolves restored alerts not raised again within
// RestoreGrace.
func (p *policy) expireRestored(now time.Time) []Alert {
	if p.c.RestoreGrace < 0 {
		return nil
	}
	var out []Alert
	for _, fe := range p.firingList() {
		if fe.restoredAt.IsZero() || now.Before(fe.restoredAt.Add(p.c.RestoreGrace)) {
			continue
		}
		a := fe.Alert.clone()
		a.Status = StatusResolved
		a.Repeat = false
		if a.Annotations == nil {
			a.Annotations = map[string]string{}
		}
		a.At = now.UTC()
		a.EndsAt = now.UTC()
		a.Annotations[AnnotationDescription] += fmt.Sprintf("\nresolved by vrrpguard: not detected again within %s after a restart", p.c.RestoreGrace)
		delete(p.firing, a.Fingerprint)
		out = append(out, a)
	}
	return out
}

// next is when step has something to do next without a new finding (zero:
// nothing).
func (p *policy) next() time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	if len(p.pending) > 0 {
		consider(p.groupDeadline)
	}
	for _, fe := range p.firing {
		if fe.restoredAt.IsZero() {
			if p.c.RepeatInterval > 0 {
				consider(fe.LastNotified.Add(p.c.RepeatInterval))
			}
		} else if p.c.RestoreGrace >= 0 {
			consider(fe.restoredAt.Add(p.c.RestoreGrace))
		}
	}
	return next
}

// firingList is the firing set in a stable order (by start, then
// fingerprint).
func (p *policy) firingList() []*firingEntry {
	out := make([]*firingEntry, 0, len(p.firing))
	for _, fe := range p.firing {
		out = append(out, fe)
	}
	slices.SortFunc(out, func(a, b *firingEntry) int {
		if c := a.Alert.StartsAt.Compare(b.Alert.StartsAt); c != 0 {
			return c
		}
		switch {
		case a.Alert.Fingerprint < b.Alert.Fingerprint:
			return -1
		case a.Alert.Fingerprint > b.Alert.Fingerprint:
			return 1
		}
		return 0
	})
	return out
}

// firingAlerts is a copy of the firing set's alerts, in firingList order.
func (p *policy) firingAlerts() []Alert {
	list := p.firingList()
	alerts := make([]Alert, 0, len(list))
	for _, fe := range list {
		alerts = append(alerts, fe.Alert.clone())
	}
	return alerts
}

// earliest is the earlier of two times, a zero time counting as unknown.
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}
