package nahook

import "net/netip"

// nonPublic lists the IPv4 and IPv6 ranges, beyond those netip.Addr
// classifies itself, that no webhook receiver on the internet lives in.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),          // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),      // carrier-grade NAT, shared address space
	netip.MustParsePrefix("192.0.0.0/24"),       // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),      // benchmarking
	netip.MustParsePrefix("255.255.255.255/32"), // limited broadcast
	netip.MustParsePrefix("fec0::/10"),          // deprecated site-local
	netip.MustParsePrefix("64:ff9b:1::/48"),     // local-use IPv4/IPv6 translation
}

// publicAddr reports whether a is an address a webhook may be sent to
// without opting in: not loopback, private, link-local, unspecified,
// multicast, scoped to an interface, or in one of the nonPublic ranges. An IPv4 address written as
// IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it is.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	// A zone names a local network interface: only link-scoped
	// addresses have one.
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
	return true
}
