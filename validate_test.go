package nahook

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestSubscriptionPatterns(t *testing.T) {
	for _, c := range []struct {
		pattern string
		valid   bool
	}{
		{"order.created", true},
		{"*", true},
		{"order.*", true},
		{"billing.invoice.*", true},
		{"order", true},
		{"order.**", false},
		{"*.created", false},
		{"order*", false},
		{".*", false},
		{"order.*.created", false},
		{"", false},
	} {
		_, err := checkSubscriptions([]string{c.pattern})
		if (err == nil) != c.valid {
			t.Errorf("checkSubscriptions(%q) error = %v, want valid %v", c.pattern, err, c.valid)
		}
	}
	if _, err := checkSubscriptions(make([]string, MaxSubscriptions+1)); !errors.Is(err, ErrInvalid) {
		t.Errorf("%d subscriptions: error = %v, want ErrInvalid", MaxSubscriptions+1, err)
	}
}

// FuzzCheckURL checks that URL validation never panics and that whatever it
// accepts is a URL a delivery client can use: http or https, with a host.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{
		"https://acme.com/webhooks", "http://127.0.0.1:8080/", "http://[fe80::1%25eth0]/",
		"http://2130706433/", "https://bücher.example/", "ftp://x", "", "http://a..b/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, allow := range []bool{false, true} {
			if checkURL(raw, allow) != nil {
				continue
			}
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatalf("accepted %q, which does not parse: %v", raw, err)
			}
			if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
				t.Fatalf("accepted %q: scheme %q, host %q", raw, u.Scheme, u.Hostname())
			}
			if !allow && strings.EqualFold(strings.TrimSuffix(u.Hostname(), "."), "localhost") {
				t.Fatalf("accepted %q without opting in", raw)
			}
		}
	})
}
