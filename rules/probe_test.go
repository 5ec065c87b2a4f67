package rules

import (
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"
)

// probeSim drives the engine interactively: adverts on a schedule, and
// answers to probes from the hosts that hold the VIP at that moment.
type probeSim struct {
	e       *Engine
	res     result
	probes  []float64
	holders func(t float64) []string // MACs that hold 10.0.0.100 at t
}

func (s *probeSim) collect(t *testing.T, now float64, outs []Output) {
	for _, o := range noteRaised(t, outs) {
		switch {
		case o.Finding != nil:
			s.res.findings = append(s.res.findings, *o.Finding)
		case o.Event != nil:
			s.res.events = append(s.res.events, *o.Event)
		case o.Probe != nil:
			s.probes = append(s.probes, now)
			if o.Probe.Addr != ip("10.0.0.100") || o.Probe.Interface != "eth0" {
				t.Errorf("probe %+v", o.Probe)
			}
			for _, m := range s.holders(now) {
				r := garp(now+0.002, "10.0.0.100", m)
				r.ARP.Op, r.ARP.Gratuitous = obs.ARPReply, false
				s.collect(t, now, s.e.Observe(&r))
			}
		}
	}
}

func runProbeSim(t *testing.T, end float64, adverts []obs.Observation, holders func(float64) []string) *probeSim {
	p := DefaultParams()
	p.ProbeInterval = 10 * time.Second
	e, err := New(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &probeSim{e: e, holders: holders}
	s.res.engine = e
	i := 0
	for now := 0.0; now <= end; now += 0.05 {
		for i < len(adverts) && !adverts[i].Time.After(at(now)) {
			s.collect(t, now, e.Observe(&adverts[i]))
			i++
		}
		s.collect(t, now, e.Tick(at(now)))
	}
	return s
}

func sortObs(parts ...[]obs.Observation) []obs.Observation {
	var all []obs.Observation
	for _, p := range parts {
		all = append(all, p...)
	}
	for i := 1; i < len(all); i++ {
		for j := i; j > 0 && all[j].Time.Before(all[j-1].Time); j-- {
			all[j], all[j-1] = all[j-1], all[j]
		}
	}
	return all
}

const macA, macB = "02:00:00:00:00:01", "02:00:00:00:00:02"

func TestProbeHealthyPairNoFinding(t *testing.T) {
	s := runProbeSim(t, 60, sortObs(every(A, 0, 60, 1)), func(float64) []string { return []string{macA} })
	s.res.noFindings(t)
	if len(s.probes) < 4 || len(s.probes) > 7 {
		t.Errorf("%d probes in 60s at a 10s interval", len(s.probes))
	}
}

func TestProbeFindsVIPLeftOnCrashedMaster(t *testing.T) {
	// keepalived on a is killed at 10: a's kernel keeps the VIP and answers
	// ARP, b takes over at 13.6. Both answer the probe.
	holders := func(t float64) []string {
		if t < 13.6 {
			return []string{macA}
		}
		return []string{macA, macB}
	}
	s := runProbeSim(t, 40, sortObs(every(A, 0, 10, 1), every(B, 13.6, 40, 1)), holders)
	f := s.res.raisedBetween(t, DuplicateMaster, 18.6, 30)
	if len(f.Sources) != 2 {
		t.Errorf("%+v", f)
	}
}

func TestProbeResolvesWhenTheClaimantLetsGo(t *testing.T) {
	// Someone adds the VIP on host 99 at 20 and removes it at 30.
	holders := func(t float64) []string {
		if t >= 20 && t < 30 {
			return []string{macA, "02:00:00:00:00:99"}
		}
		return []string{macA}
	}
	seen := sortObs(every(A, 0, 90, 1), []obs.Observation{garp(20, "10.0.0.100", "02:00:00:00:00:99")})
	s := runProbeSim(t, 90, seen, holders)
	s.res.raisedBetween(t, VIPOnBackup, 20, 20)
	// Confirmed by probes every 2s while held; after 30 the next probe
	// (within 2s) goes unanswered: resolved within probe wait + hold.
	s.res.resolvedBetween(t, VIPOnBackup, 30, 30+2+1+5.2)
}

func TestNoProbesWhenDisabled(t *testing.T) {
	e, _ := New(DefaultParams(), nil)
	for _, o := range every(A, 0, 60, 1) {
		for _, out := range e.Observe(&o) {
			if out.Probe != nil {
				t.Fatal("probe with probing disabled")
			}
		}
	}
	for _, out := range e.Tick(at(61)) {
		if out.Probe != nil {
			t.Fatal("probe with probing disabled")
		}
	}
}
