// Outbound network policy: the URL rules for endpoints, and the transport
// that checks again every address it dials.

package nahook

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"code.dny.dev/ssrf"
	"golang.org/x/net/idna"

	"github.com/nahook/nahook/store"
)

// Outbound network policy: which URLs an endpoint may have, and the
// transport that sends to them, checking again the address it dials.

// checkURL enforces the endpoint URL rules. The host is checked as written:
// a name that resolves to a private address can only be caught when a
// delivery connects, so the delivery client must check the address it dials
// as well.
func checkURL(raw string, allowPrivate bool) error {
	const field = "url"
	if raw == "" {
		return store.Invalid(field, "url is required")
	}
	if len(raw) > MaxURLChars {
		return store.Invalid(field, "url must be at most %d characters", MaxURLChars)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return store.Invalid(field, "url %s is not a valid URL", quote(raw))
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return store.Invalid(field, "url must start with https:// or http://")
	}
	if u.Opaque != "" || u.Host == "" {
		return store.Invalid(field, "url must name a host, as in https://example.com/webhooks")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return store.Invalid(field, "url port must be 1 to 65535")
		}
	}
	host, ok := asciiHost(u.Hostname())
	if !ok {
		return store.Invalid(field, "url host %s is not a valid host name or IP address", quote(u.Hostname()))
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		if !allowPrivate && !publicAddr(addr) {
			return store.Invalid(field, "url host %s is not a public address; set Config.AllowPrivateURLs to allow it for local testing", host)
		}
		return nil
	}
	if !validHostname(host) {
		return store.Invalid(field, "url host %s is not a valid host name or IP address", quote(u.Hostname()))
	}
	if !allowPrivate && (host == "localhost" || strings.HasSuffix(host, ".localhost")) {
		return store.Invalid(field, "url host %s is a loopback address; set Config.AllowPrivateURLs to allow it for local testing", quote(u.Hostname()))
	}
	return nil
}

// asciiHost returns the host as an HTTP client will look it up: lower case,
// without a trailing dot, and with an internationalised name mapped to its
// ASCII form by IDNA, exactly as net/http does. Checking that form, not the
// one written, is what keeps "ｌｏｃａｌｈｏｓｔ" and "１２７.０.０.１" from
// passing for public names.
func asciiHost(host string) (string, bool) {
	for i := 0; i < len(host); i++ {
		if host[i] >= utf8.RuneSelf {
			a, err := idna.Lookup.ToASCII(host)
			if err != nil {
				return "", false
			}
			host = a
			break
		}
	}
	return strings.TrimSuffix(strings.ToLower(host), "."), true
}

// validHostname accepts ASCII DNS names. A name whose last label is numeric
// is refused: it is either an IP address in a legacy form ("2130706433",
// "0x7f.1") that some resolvers read as 127.0.0.1, or no name at all.
func validHostname(host string) bool {
	if host == "" || len(host) > 253 {
		return false
	}
	labels := strings.Split(host, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			switch c := l[i]; {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			default:
				return false
			}
		}
	}
	return !numeric(labels[len(labels)-1])
}

// numeric reports whether a label is a decimal or 0x-hexadecimal number.
func numeric(label string) bool {
	if h, ok := strings.CutPrefix(label, "0x"); ok {
		return strings.Trim(h, "0123456789abcdef") == ""
	}
	return strings.Trim(label, "0123456789") == ""
}

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

// maxResponseHeaderBytes bounds the status line and headers of an answer
// the default transport reads: far more than any real receiver sends.
const maxResponseHeaderBytes = 64 << 10

// newTransport makes the default transport: the guardian checks every
// address dialed, after DNS resolution, so a name that resolves to a
// private address is refused as the address itself would be.
func newTransport(allowPrivate bool, workers int) *http.Transport {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = guardian.Safe
	}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4 * workers,
		MaxIdleConnsPerHost:   workers,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		// The status line and headers of an answer are the receiver's to
		// make as long as it likes; net/http's default allows 10 MB.
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
	}
}
