package election

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestSyncMember covers a machine in a sync group (Config.Sync): it becomes
// master only when the group says so, reports its wish with SyncWant, and
// follows the group's Fault and Backup verdicts as keepalived 2.2.7's
// vrrp_sync_fault and vrrp_sync_backup do.
func TestSyncMember(t *testing.T) {
	adv := func(src netip.Addr, prio uint8) AdvertReceived {
		return AdvertReceived{Src: src, Priority: prio, Interval: 100 * time.Millisecond}
	}
	downAt := func(d time.Duration) string { return "SetTimer master_down +" + (d + mdi100).String() }
	synced := cfg(func(c *Config) { c.Sync = true })
	backupStart := stepCase{0, Startup{}, []string{downAt(0), "Transition INIT->BACKUP prio 100 (startup)"}}
	want := stepCase{mdi100, TimerFired{MasterDownTimer}, []string{"SyncWant(true)", downAt(mdi100)}}
	mAt := mdi100 + ms(10)
	grant := stepCase{mAt, Sync{Master: true, Reason: "g: all"}, []string{"StopTimer master_down",
		"SendAdvert 100", "SetTimer adver +" + (mAt + ms(100)).String(), "Transition BACKUP->MASTER prio 100 (g: all)"}}
	tests := []struct {
		name  string
		cfg   Config
		steps []stepCase
		final State
		want  bool // WantsMaster at the end
	}{
		{"held: master down timer re-armed, wish reported once", synced, []stepCase{
			backupStart, want,
			{2 * mdi100, TimerFired{MasterDownTimer}, []string{downAt(2 * mdi100)}},
		}, Backup, true},
		{"granted after wanting: master at once", synced, []stepCase{backupStart, want, grant}, Master, false},
		{"granted before the timer: master when it fires", synced, []stepCase{
			backupStart,
			{ms(10), Sync{Master: true, Reason: "g"}, nil},
			{mdi100, TimerFired{MasterDownTimer}, []string{"SendAdvert 100", "SetTimer adver +" + (mdi100 + ms(100)).String(),
				"Transition BACKUP->MASTER prio 100 (master down timer expired (no advertisement for " + mdi100.String() + "))"}},
		}, Master, false},
		{"granted without wanting: stays backup", synced, []stepCase{
			backupStart, {ms(10), Sync{Master: true}, nil},
		}, Backup, false},
		{"a master it follows ends the wish", synced, []stepCase{
			backupStart, want,
			{mAt, adv(high, 200), []string{"SyncWant(false)", downAt(mAt)}},
			{mAt + ms(1), Sync{Master: true}, nil},
		}, Backup, false},
		{"a lower-priority master keeps the wish (preemption)", synced, []stepCase{
			backupStart, want, {mAt, adv(low, 50), nil},
		}, Backup, true},
		{"group backup: master steps down without a priority-0 advert", synced, []stepCase{
			backupStart, want, grant,
			{mAt + ms(5), Sync{Reason: "g: member B is BACKUP"}, []string{
				"StopTimer adver", downAt(mAt + ms(5)), "Transition MASTER->BACKUP prio 100 (g: member B is BACKUP)"}},
		}, Backup, false},
		{"group fault: master resigns with priority 0 and goes FAULT", synced, []stepCase{
			backupStart, want, grant,
			{mAt + ms(5), Sync{Fault: true, Reason: "g: member B in FAULT"}, []string{
				"SendAdvert 0", "StopTimer adver", "Transition MASTER->FAULT prio 100 (g: member B in FAULT)"}},
		}, Fault, false},
		{"group fault cleared: backup again", synced, []stepCase{
			backupStart,
			{ms(5), Sync{Fault: true, Reason: "g: f"}, []string{"StopTimer master_down", "Transition BACKUP->FAULT prio 100 (g: f)"}},
			{ms(9), Sync{}, []string{downAt(ms(9)), "Transition FAULT->BACKUP prio 100 (fault cleared)"}},
		}, Backup, false},
		{"own fault outlasts the group's", cfg(func(c *Config) {
			c.Sync = true
			c.Trackers = []Tracker{{Name: "chk"}}
		}), []stepCase{
			backupStart,
			{ms(5), TrackChanged{Name: "chk"}, []string{"StopTimer master_down", "Transition BACKUP->FAULT prio 100 (tracked chk down)"}},
			{ms(6), Sync{Fault: true, Reason: "g"}, nil},
			{ms(7), Sync{}, nil},
			{ms(8), TrackChanged{Name: "chk", OK: true}, []string{downAt(ms(8)), "Transition FAULT->BACKUP prio 100 (fault cleared)"}},
		}, Backup, false},
		{"verdict before startup applies at startup", synced, []stepCase{
			{0, Sync{Fault: true, Reason: "g: f"}, nil},
			{ms(1), Startup{}, []string{"Transition INIT->FAULT prio 100 (startup: g: f)"}},
		}, Fault, false},
		{"held owner starts backup wanting master", cfg(func(c *Config) { c.Sync = true; c.Priority = 255 }), []stepCase{
			{0, Startup{}, []string{"SetTimer master_down +" + (ms(300) + ms(100)/256).String(), "Transition INIT->BACKUP prio 255 (startup)",
				"SyncWant(true)", "SetTimer master_down +" + (ms(300) + ms(100)/256).String()}},
		}, Backup, true},
		{"demote ends the wish", synced, []stepCase{
			backupStart, want, {mAt, Demote{}, []string{"SyncWant(false)"}},
			{mAt + ms(1), Sync{Master: true}, nil},
		}, Backup, false},
		{"resumed after silence: held, wants master", synced, []stepCase{
			backupStart,
			{ms(1), Demote{}, nil},
			{mdi100, TimerFired{MasterDownTimer}, nil},
			{mAt, Resume{}, []string{"SyncWant(true)", downAt(mAt)}},
		}, Backup, true},
		{"not synced: Sync ignored", cfg(nil), []stepCase{
			backupStart, {ms(1), Sync{Fault: true}, nil},
		}, Backup, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := runSteps(t, tc.cfg, tc.steps, func(as []Action) []string {
				got := fmtActionsWhy(as)
				for n, g := range got {
					if strings.HasPrefix(g, "election.SyncWant{Master:") {
						got[n] = "SyncWant(" + strings.TrimSuffix(strings.TrimPrefix(g, "election.SyncWant{Master:"), "}") + ")"
					}
				}
				return got
			})
			if m.State() != tc.final || m.WantsMaster() != tc.want {
				t.Errorf("final state %s, wants master %v; want %s, %v", m.State(), m.WantsMaster(), tc.final, tc.want)
			}
		})
	}
}

// fmtGroup renders a group step's outputs one per line.
func fmtGroup(tr *GroupTransition, orders []Order) []string {
	var out []string
	if tr != nil {
		out = append(out, fmt.Sprintf("group %s->%s (%s)", tr.From, tr.To, tr.Reason))
	}
	for _, o := range orders {
		out = append(out, fmt.Sprintf("%s: fault=%v master=%v", o.Member, o.Sync.Fault, o.Sync.Master))
	}
	return out
}

// TestSyncGroup covers the decision of keepalived 2.2.7's vrrp_sync_group:
// a faulty member faults the group, members become master together only
// when all want to, and one backup holds every member back.
func TestSyncGroup(t *testing.T) {
	ch := func(name string, st State, fault, want bool) MemberChanged {
		return MemberChanged{Name: name, Member: Member{State: st, Fault: fault, WantMaster: want}}
	}
	type step struct {
		ev   MemberChanged
		want []string
	}
	start := []step{
		{ch("A", Backup, false, false), []string{"group INIT->BACKUP (sync group G: member A is BACKUP)",
			"A: fault=false master=false", "B: fault=false master=false"}},
		{ch("B", Backup, false, false), nil},
	}
	allMaster := append(append([]step(nil), start...),
		step{ch("A", Backup, false, true), nil},
		step{ch("B", Backup, false, true), []string{"group BACKUP->MASTER (sync group G: every member wants MASTER)",
			"A: fault=false master=true", "B: fault=false master=true"}},
		step{ch("A", Master, false, false), nil},
		step{ch("B", Master, false, false), nil},
	)
	tests := []struct {
		name  string
		steps []step
		final State
	}{
		{"startup: backup, nobody released", start, Backup},
		{"one wanting is held back", append(append([]step(nil), start...), step{ch("A", Backup, false, true), nil}), Backup},
		{"all wanting: released together", allMaster, Master},
		{"a member beaten to backup takes the others back", append(append([]step(nil), allMaster...),
			step{ch("B", Backup, false, false), []string{"group MASTER->BACKUP (sync group G: member B is BACKUP)",
				"A: fault=false master=false", "B: fault=false master=false"}},
			step{ch("A", Backup, false, false), nil},
		), Backup},
		{"a fault faults every member, its end backs them", append(append([]step(nil), allMaster...),
			step{ch("A", Fault, true, false), []string{"group MASTER->FAULT (sync group G: member A in FAULT)",
				"A: fault=true master=false", "B: fault=true master=false"}},
			step{ch("B", Fault, false, false), nil},
			step{ch("A", Fault, false, false), []string{"group FAULT->BACKUP (sync group G: member A is FAULT)",
				"A: fault=false master=false", "B: fault=false master=false"}},
			step{ch("A", Backup, false, false), nil},
			step{ch("B", Backup, false, false), nil},
		), Backup},
		{"a restarted member is told the verdict again", append(append([]step(nil), allMaster...),
			step{ch("B", Initialize, false, false), []string{"group MASTER->BACKUP (sync group G: member B is INIT)",
				"A: fault=false master=false", "B: fault=false master=false"}},
			step{ch("B", Backup, false, false), nil},
		), Backup},
		{"all stopped", append(append([]step(nil), start...),
			step{ch("A", Initialize, false, false), []string{"A: fault=false master=false"}},
			step{ch("B", Initialize, false, false), []string{"group BACKUP->INIT (sync group G: no member running)",
				"B: fault=false master=false"}},
		), Initialize},
		{"a member faulty before it starts faults the others", []step{
			{ch("A", Backup, false, false), []string{"group INIT->BACKUP (sync group G: member A is BACKUP)",
				"A: fault=false master=false", "B: fault=false master=false"}},
			{ch("B", Initialize, true, false), []string{"group BACKUP->FAULT (sync group G: member B in FAULT)",
				"A: fault=true master=false", "B: fault=true master=false"}},
		}, Fault},
		{"unknown member ignored", []step{{ch("X", Fault, true, false), nil}}, Initialize},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := NewSyncGroup("G", []string{"A", "B"})
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range tc.steps {
				if d := diff(s.want, fmtGroup(g.Step(s.ev))); d != "" {
					t.Fatalf("step %d (%+v): (-want +got):\n%s", i, s.ev, d)
				}
			}
			if g.State() != tc.final {
				t.Errorf("final state %s, want %s", g.State(), tc.final)
			}
		})
	}
}

func TestNewSyncGroupRejects(t *testing.T) {
	for _, members := range [][]string{nil, {"A", "A"}, {""}} {
		if _, err := NewSyncGroup("G", members); err == nil {
			t.Errorf("NewSyncGroup(%q): no error", members)
		}
	}
}
