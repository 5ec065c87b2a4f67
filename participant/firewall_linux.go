package participant

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
)

// firewall drops traffic to and from the virtual addresses of masters
// without accept mode (RFC 5798 section 6.1: a non-owner master in that
// mode does not accept packets for its addresses). Like keepalived 2.2.7
// (measured: table ip/ip6 keepalived, set vips, chains in and out at
// priority -1), it keeps them in nftables sets; vrrpguard's table is
// "inet vrrpguard":
//
//	table inet vrrpguard {
//		set vips4 { type ipv4_addr }
//		set vips6 { type ipv6_addr }
//		chain in  { type filter hook input priority -1; policy accept;
//			icmpv6 type nd-neighbor-solicit accept; icmpv6 type nd-neighbor-advert accept
//			ip daddr @vips4 drop; ip6 daddr @vips6 drop }
//		chain out { type filter hook output priority -1; policy accept;
//			(the same neighbour discovery exceptions)
//			ip saddr @vips4 drop; ip6 saddr @vips6 drop }
//	}
//
// An address is in a set while at least one master that drops it holds
// it. The table is created when the router starts (a table left by a
// crashed run is deleted first) and deleted when it stops.
type firewall struct {
	mu    sync.Mutex
	conn  *nftables.Conn
	table *nftables.Table
	set4  *nftables.Set
	set6  *nftables.Set
	refs  map[netip.Addr]int
}

// openFirewall deletes a stale table and creates the table, its sets and
// chains.
func openFirewall(g *keepalived.Global) (*firewall, error) {
	c, err := nftables.New()
	if err != nil {
		return nil, fmt.Errorf("nftables: %w", err)
	}
	f := &firewall{conn: c, refs: map[netip.Addr]int{},
		table: &nftables.Table{Family: nftables.TableFamilyINet, Name: keepalived.NFTTable}}
	if err := deleteStaleTable(c, f.table); err != nil {
		return nil, err
	}
	c.AddTable(f.table)
	f.set4 = &nftables.Set{Table: f.table, Name: "vips4", KeyType: nftables.TypeIPAddr}
	f.set6 = &nftables.Set{Table: f.table, Name: "vips6", KeyType: nftables.TypeIP6Addr}
	for _, s := range []*nftables.Set{f.set4, f.set6} {
		if err := c.AddSet(s, nil); err != nil {
			return nil, fmt.Errorf("nftables set %s: %w", s.Name, err)
		}
	}
	prio := nftables.ChainPriority(g.NFTPriority)
	policy := nftables.ChainPolicyAccept
	for _, ch := range []struct {
		name string
		hook *nftables.ChainHook
		off4 uint32 // daddr (in) or saddr (out)
		off6 uint32
	}{
		{"in", nftables.ChainHookInput, 16, 24},
		{"out", nftables.ChainHookOutput, 12, 8},
	} {
		chain := c.AddChain(&nftables.Chain{Name: ch.name, Table: f.table, Type: nftables.ChainTypeFilter,
			Hooknum: ch.hook, Priority: &prio, Policy: &policy})
		for _, t := range []byte{135, 136} { // ICMPv6 neighbour solicitation, advertisement
			c.AddRule(&nftables.Rule{Table: f.table, Chain: chain, Exprs: []expr.Any{
				&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.NFPROTO_IPV6}},
				&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_ICMPV6}},
				&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 1},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{t}},
				&expr.Verdict{Kind: expr.VerdictAccept},
			}})
		}
		for _, m := range []struct {
			proto byte
			set   *nftables.Set
			off   uint32
			n     uint32
		}{{unix.NFPROTO_IPV4, f.set4, ch.off4, 4}, {unix.NFPROTO_IPV6, f.set6, ch.off6, 16}} {
			ex := []expr.Any{
				&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{m.proto}},
				&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: m.off, Len: m.n},
				&expr.Lookup{SourceRegister: 1, SetName: m.set.Name, SetID: m.set.ID},
			}
			if g.NFTCounters {
				ex = append(ex, &expr.Counter{})
			}
			ex = append(ex, &expr.Verdict{Kind: expr.VerdictDrop})
			c.AddRule(&nftables.Rule{Table: f.table, Chain: chain, Exprs: ex})
		}
	}
	if err := c.Flush(); err != nil {
		return nil, fmt.Errorf("nftables: create table inet %s: %w", f.table.Name, err)
	}
	return f, nil
}

// deleteStaleTable deletes the table if it exists (left by a crashed run).
func deleteStaleTable(c *nftables.Conn, t *nftables.Table) error {
	tables, err := c.ListTablesOfFamily(t.Family)
	if err != nil {
		return fmt.Errorf("nftables: list tables: %w", err)
	}
	for _, x := range tables {
		if x.Name == t.Name {
			c.DelTable(t)
			if err := c.Flush(); err != nil {
				return fmt.Errorf("nftables: delete stale table inet %s: %w", t.Name, err)
			}
		}
	}
	return nil
}

// update adds (n = 1) or removes (n = -1) one holder of each address, and
// changes the sets for addresses that gain their first or lose their last.
func (f *firewall) update(addrs []netip.Addr, n int) error {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var el4, el6 []nftables.SetElement
	for _, a := range addrs {
		before := f.refs[a]
		after := max(before+n, 0)
		if after == 0 {
			delete(f.refs, a)
		} else {
			f.refs[a] = after
		}
		if (before == 0) == (after == 0) {
			continue
		}
		if a.Is4() {
			el4 = append(el4, nftables.SetElement{Key: a.AsSlice()})
		} else {
			el6 = append(el6, nftables.SetElement{Key: a.AsSlice()})
		}
	}
	op := f.conn.SetAddElements
	if n < 0 {
		op = f.conn.SetDeleteElements
	}
	var errs []error
	for _, x := range []struct {
		s  *nftables.Set
		el []nftables.SetElement
	}{{f.set4, el4}, {f.set6, el6}} {
		if len(x.el) > 0 {
			errs = append(errs, op(x.s, x.el))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	if err := f.conn.Flush(); err != nil {
		return fmt.Errorf("nftables: update set of virtual addresses: %w", err)
	}
	return nil
}

// close deletes the table.
func (f *firewall) close() error {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.conn.DelTable(f.table)
	if err := f.conn.Flush(); err != nil {
		return fmt.Errorf("nftables: delete table inet %s: %w", f.table.Name, err)
	}
	return nil
}

// removeStaleFirewall deletes vrrpguard's nftables table if a crashed run
// left it.
func removeStaleFirewall() error {
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	return deleteStaleTable(c, &nftables.Table{Family: nftables.TableFamilyINet, Name: keepalived.NFTTable})
}
