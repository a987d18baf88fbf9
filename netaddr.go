package nahook

import (
	"net/netip"

	"code.dny.dev/ssrf"
)

// guardian tells the addresses a webhook may be sent to from those it may
// not: every IPv4 range of the IANA special-purpose registry (loopback,
// private, link-local with the cloud metadata address, shared, reserved,
// documentation, multicast…) and, in IPv6, anything outside global
// unicast (so loopback, link-local, unique-local, mapped and translated
// IPv4) and the special-purpose ranges inside it (6to4, Teredo,
// documentation). It is code.dny.dev/ssrf, whose lists are generated from
// the IANA registries: better kept than a list of our own. Any port is
// allowed: receivers listen where they like.
var guardian = ssrf.New(ssrf.WithAnyPort())

// publicAddr reports whether a is an address a webhook may be sent to
// without Config.AllowPrivateURLs. An address with a zone names a local
// interface, so it is not.
func publicAddr(a netip.Addr) bool {
	return a.Zone() == "" && guardian.SafeAddr(a) == nil
}
