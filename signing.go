// Webhook signatures: endpoint signing secrets, and Sign and Verify as the
// Standard Webhooks specification defines them.

package nahook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Signing follows the Standard Webhooks specification
// (https://www.standardwebhooks.com): every delivery carries
//
//	webhook-id: the event's ID (msg_…), the same on every retry
//	webhook-timestamp: the attempt's time, in Unix seconds
//	webhook-signature: v1,<base64 of HMAC-SHA256(key, id + "." + timestamp + "." + body)>
//
// where key is the endpoint's secret ("whsec_" + base64 of 32 random
// bytes) decoded. After a rotation the header carries a signature by the
// new key and one by the old, space-separated, until the old one's grace
// period ends, so receivers can switch keys without dropping a delivery.

// SecretPrefix starts every endpoint signing secret.
const SecretPrefix = "whsec_"

// secretBytes is the length of a new signing key: within the
// specification's 24 to 64.
const secretBytes = 32

// newSigningKey returns a fresh random signing key.
func newSigningKey() []byte {
	key := make([]byte, secretBytes)
	rand.Read(key)
	return key
}

// formatSecret writes a key as the specification's secret string.
func formatSecret(key []byte) string {
	return SecretPrefix + base64.StdEncoding.EncodeToString(key)
}

// Sign returns the webhook-signature header value for a message: the
// Standard Webhooks "v1," signature of msgID, timestamp and payload by the
// secret ("whsec_…", or the base64 key alone).
func Sign(secret, msgID string, timestamp time.Time, payload []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil {
		return "", &Error{Kind: ErrInvalid, Field: "secret", Message: "secret is not whsec_ and base64"}
	}
	return signature([][]byte{key}, msgID, timestamp.Unix(), payload), nil
}

// signature signs with every key and joins the signatures as the header
// value.
func signature(keys [][]byte, msgID string, unix int64, payload []byte) string {
	var b strings.Builder
	ts := strconv.FormatInt(unix, 10)
	for i, key := range keys {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(msgID))
		mac.Write([]byte{'.'})
		mac.Write([]byte(ts))
		mac.Write([]byte{'.'})
		mac.Write(payload)
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("v1,")
		b.WriteString(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return b.String()
}

// Verify checks a webhook a receiver got, per Standard Webhooks: one of
// the webhook-signature header's v1 signatures must be the secret's
// signature of the webhook-id, webhook-timestamp and body, and the
// timestamp within tolerance of now (5 minutes when tolerance is 0), which
// stops a captured request being replayed later. It is what a Go receiver
// of nahook's webhooks calls first.
func Verify(secret string, header http.Header, body []byte, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = 5 * time.Minute
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil {
		return &Error{Kind: ErrInvalid, Field: "secret", Message: "secret is not whsec_ and base64"}
	}
	id, ts, sigs := header.Get("webhook-id"), header.Get("webhook-timestamp"), header.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return &Error{Kind: ErrSignature, Message: "webhook-id, webhook-timestamp and webhook-signature are required"}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return &Error{Kind: ErrSignature, Message: "webhook-timestamp is not a Unix time"}
	}
	if d := time.Since(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return &Error{Kind: ErrSignature, Message: "webhook-timestamp is too far from now"}
	}
	want := signature([][]byte{key}, id, unix, body)
	for _, sig := range strings.Fields(sigs) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return &Error{Kind: ErrSignature, Message: "no signature matches the secret"}
}
