package nahook

import "net/netip"

// nonPublic lists the IPv4 and IPv6 ranges, beyond those netip.Addr
// classifies itself, that no webhook receiver on the internet lives in.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT, shared address space
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation (TEST-NET-1)
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation (TEST-NET-2)
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation (TEST-NET-3)
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and the limited broadcast address
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments, Teredo among them
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use IPv4/IPv6 translation
}

// IPv6 ranges that carry an IPv4 address, which a router or the host's
// stack may turn into a connection to that IPv4 address.
var (
	ipv4Compatible = netip.MustParsePrefix("::/96")           // deprecated IPv4-compatible, ::a.b.c.d
	ipv4Translated = netip.MustParsePrefix("::ffff:0:0:0/96") // SIIT, ::ffff:0:a.b.c.d
	nat64          = netip.MustParsePrefix("64:ff9b::/96")    // NAT64 well-known prefix
	sixToFour      = netip.MustParsePrefix("2002::/16")       // 6to4: 2002:aabb:ccdd::
)

// publicAddr reports whether a is an address a webhook may be sent to
// without opting in: not loopback, private, link-local, unspecified,
// multicast, scoped to an interface, in one of the nonPublic ranges, nor an
// IPv6 address embedding an IPv4 address that is any of those. An IPv4
// address written as IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address
// it is.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	// A zone names a local network interface: only link-scoped addresses
	// have one.
	if a.Zone() != "" || a.IsLoopback() || a.IsPrivate() || a.IsUnspecified() ||
		a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	if v4, ok := embeddedIPv4(a); ok {
		return publicAddr(v4)
	}
	return true
}

// embeddedIPv4 returns the IPv4 address an IPv6 address carries, if it is
// in one of the ranges that carry one.
func embeddedIPv4(a netip.Addr) (netip.Addr, bool) {
	if !a.Is6() {
		return netip.Addr{}, false
	}
	b := a.As16()
	switch {
	case ipv4Compatible.Contains(a), ipv4Translated.Contains(a), nat64.Contains(a):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}
